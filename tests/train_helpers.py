"""A tiny model and data for trainer tests (a two-layer MLP regression), and a script entry point
used by the kill -9 resume test: ``python -m tests.train_helpers OUT_DIR MAX_STEPS [SLEEP_S]``."""

from __future__ import annotations

import sys
import time

import torch
from torch import nn

from kgnlu.train import Trainer, TrainerConfig


class TinyRegressor(nn.Module):
    """x (B, 8) → MSE against y (B, 1); dropout so RNG restore matters; optional sleep to be killable."""

    def __init__(self, dropout: float = 0.0, sleep: float = 0.0):
        super().__init__()
        torch.manual_seed(1234)
        self.net = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Dropout(dropout), nn.Linear(16, 1))
        self.sleep = sleep

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.sleep:
            time.sleep(self.sleep)
        pred = self.net(x)
        return {"loss": nn.functional.mse_loss(pred, y), "mae": (pred - y).abs().mean()}


def dataset(n: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(7)
    x = torch.randn(n, 8, generator=g)
    y = (x[:, :3].sum(1, keepdim=True) + 0.1 * torch.randn(n, 1, generator=g)).tanh()
    return x, y


class Batches:
    """Fixed batches of a tensor data set, reshuffled per epoch by the global torch RNG (which the
    trainer keeps as the data RNG), so resume has to replay that RNG to be exact."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool = True):
        self.x, self.y, self.batch_size, self.shuffle = x, y, batch_size, shuffle

    def __iter__(self):
        order = torch.randperm(len(self.x)) if self.shuffle else torch.arange(len(self.x))
        for start in range(0, len(order) - self.batch_size + 1, self.batch_size):
            index = order[start:start + self.batch_size]
            yield {"x": self.x[index], "y": self.y[index]}


def run(out_dir: str, max_steps: int, sleep: float = 0.0) -> None:
    torch.set_num_threads(1)
    x, y = dataset()
    config = TrainerConfig(out_dir=out_dir, max_steps=max_steps, lr=0.01, log_every=1, checkpoint_every=5,
                           warmup_steps=3, schedule="cosine", tensorboard=False, plot=False)
    Trainer(TinyRegressor(dropout=0.1, sleep=sleep), config, Batches(x, y, 8)).fit()


if __name__ == "__main__":
    run(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
