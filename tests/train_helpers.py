"""Trainer test helpers: a tiny model and data (a two-layer MLP regression), a KGE run on a toy
graph, and the script entry points the kill -9 resume tests start and kill:

    python -m tests.train_helpers OUT_DIR MAX_STEPS [SLEEP_S]        # the MLP on the shared Trainer
    python -m tests.train_helpers kge OUT_DIR EPOCHS [SLEEP_S]       # KGE (kgnlu.kge.train) on it
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch import nn

from kgnlu.training.trainer import Trainer, TrainerConfig

REPO = Path(__file__).resolve().parents[1]


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


# ---------------------------------------------------------------------- KGE on the shared trainer
KGE_STEPS_PER_EPOCH = 5  # 76 training triples of the 40-entity ring, batches of 16


def run_kge(out_dir: str, epochs: int, sleep: float = 0.0) -> None:
    """RotatE with self-adversarial negatives on a 40-entity ring, validated and checkpointed every
    epoch. ``sleep`` slows every entity lookup (3 a step) so a test can kill the run mid-way."""
    from kgnlu.kge import LossConfig, ModelConfig, SamplingConfig, TrainConfig, train
    from kgnlu.kge.models.base import EmbeddingTable
    from tests.kge.conftest import ring_data

    class SlowTable(EmbeddingTable):
        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            time.sleep(sleep)
            return super().forward(ids)

    torch.set_num_threads(1)
    data = ring_data(num_entities=40)
    config = TrainConfig(model=ModelConfig("rotate", dim=8), loss=LossConfig("nssa", margin=4.0),
                         sampling=SamplingConfig(num_negatives=8, weighting="self_adversarial"), epochs=epochs,
                         batch_size=16, lr=0.05, seed=5, eval_every=1, checkpoint_every=1, plot=False)
    train(data, config, out_dir=out_dir, resume=(Path(out_dir) / "checkpoints").is_dir(),
          entities=SlowTable(data.num_entities, 16))


# ---------------------------------------------------------------------- kill -9 helpers
def script(*args: object) -> list[str]:
    """The command line that runs this module's entry point with ``args``."""
    return [sys.executable, "-m", "tests.train_helpers", *map(str, args)]


def script_env() -> dict[str, str]:
    return {**os.environ, "KGNLU_PROGRESS": "0", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}


def kill_after(command: list[str], marker: Path, timeout: float = 60.0) -> None:
    """Start ``command``, SIGKILL it as soon as ``marker`` (e.g. a checkpoint folder) exists."""
    proc = subprocess.Popen(command, cwd=REPO, env=script_env())
    deadline = time.time() + timeout
    while not marker.exists():
        assert proc.poll() is None and time.time() < deadline, f"the run ended before {marker} appeared"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL


def run_script(command: list[str]) -> None:
    done = subprocess.run(command, cwd=REPO, env=script_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def logged(out: Path, split: str = "train", key: str = "loss") -> list[tuple[int, float]]:
    """(step, value) of ``key`` in the run's metrics.jsonl, for records of ``split``."""
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [(r["step"], r[key]) for r in records if r["split"] == split]


if __name__ == "__main__":
    if sys.argv[1] == "kge":
        run_kge(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.0)
    else:
        run(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 0.0)
