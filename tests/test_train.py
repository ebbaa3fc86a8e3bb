"""The shared Trainer: accumulation and DDP equivalence, LAMB, schedules, exact resume after kill -9,
checkpoint safety, early stopping, metrics outputs."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from kgnlu.errors import ConfigError, TrainingError
from kgnlu.training.lamb import Lamb
from kgnlu.training.optim import SCHEDULES
from kgnlu.training.trainer import Trainer, TrainerConfig
from tests.train_helpers import (
    Batches,
    TinyRegressor,
    dataset,
    kill_after,
    logged,
    run_script,
    script,
)

REPO = Path(__file__).resolve().parents[1]


def quiet(tmp_path, **kwargs) -> TrainerConfig:
    base = dict(out_dir=str(tmp_path), lr=0.01, log_every=1, checkpoint_every=0, tensorboard=False, plot=False)
    return TrainerConfig(**{**base, **kwargs})


def params(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 1e-6) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=atol, rtol=0, msg=key)


@pytest.mark.parametrize("optimizer", ["adamw", "lamb"])
def test_accumulation_two_half_batches_equal_one_full_batch(tmp_path, optimizer):
    x, y = dataset(64)
    full = TinyRegressor()
    Trainer(full, quiet(tmp_path / "full", max_steps=6, optimizer=optimizer),
            Batches(x, y, 16, shuffle=False)).fit()
    accumulated = TinyRegressor()
    Trainer(accumulated, quiet(tmp_path / "acc", max_steps=6, optimizer=optimizer, grad_accum=2),
            Batches(x, y, 8, shuffle=False)).fit()
    assert_close(params(full), params(accumulated))


def test_lamb_matches_a_hand_computed_step():
    torch.manual_seed(0)
    w = torch.randn(3, 4)
    g = torch.randn(3, 4)
    p = nn.Parameter(w.clone())
    opt = Lamb([p], lr=0.1, betas=(0.9, 0.99), eps=1e-6, weight_decay=0.05)
    for step in (1, 2):  # two steps, so the moment and bias-correction arithmetic is exercised
        p.grad = g.clone() * step
        opt.step()
    m = v = torch.zeros_like(w)
    ref = w.clone()
    for t in (1, 2):
        grad = g * t
        m = 0.9 * m + 0.1 * grad
        v = 0.99 * v + 0.01 * grad * grad
        update = (m / (1 - 0.9 ** t)) / ((v / (1 - 0.99 ** t)).sqrt() + 1e-6) + 0.05 * ref
        trust = min(ref.norm() / update.norm(), 10.0)
        ref = ref - 0.1 * trust * update
    torch.testing.assert_close(p.detach(), ref, atol=1e-6, rtol=0)


def test_schedules():
    linear, cosine, constant = (SCHEDULES.get(n) for n in ("linear", "cosine", "constant"))
    assert [round(linear(s, 4, 12, 0.0), 4) for s in (0, 3, 4, 8, 12)] == [0.25, 1.0, 1.0, 0.5, 0.0]
    assert cosine(4, 4, 12, 0.1) == pytest.approx(1.0) and cosine(12, 4, 12, 0.1) == pytest.approx(0.1)
    assert cosine(8, 4, 12, 0.0) == pytest.approx(0.5)
    assert constant(0, 2, 10, 0.0) == 0.5 and constant(9, 2, 10, 0.0) == 1.0


# ---------------------------------------------------------------------- DDP
def _ddp_worker(rank: int, world: int, rendezvous: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=world)
    try:
        x, y = dataset(64)
        # rank r takes rows [4r, 4r+4) of each 8-row batch: together, exactly the single process's batches
        order = torch.arange(64).reshape(8, 8)[:, 4 * rank:4 * rank + 4].reshape(-1)
        model = TinyRegressor()
        config = TrainerConfig(out_dir=out_dir, max_steps=5, lr=0.01, optimizer="lamb", log_every=1,
                               checkpoint_every=0, tensorboard=False, plot=False, device="cpu")
        Trainer(model, config, Batches(x[order], y[order], 4, shuffle=False)).fit()
        save_file(params(model), os.path.join(out_dir, f"params-{rank}.safetensors"))
    finally:
        torch.distributed.destroy_process_group()


def test_ddp_two_gloo_processes_equal_one_process_with_the_doubled_batch(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_ddp_worker, args=(2, str(tmp_path / "rdzv"), str(tmp_path / "ddp")), nprocs=2, join=True)
    x, y = dataset(64)
    single = TinyRegressor()
    Trainer(single, quiet(tmp_path / "one", max_steps=5, optimizer="lamb"), Batches(x, y, 8, shuffle=False)).fit()
    for rank in (0, 1):
        assert_close(load_file(tmp_path / "ddp" / f"params-{rank}.safetensors"), params(single))
    # the logged loss is the mean over ranks, i.e. the single process's loss
    ddp_log = [json.loads(line) for line in (tmp_path / "ddp" / "metrics.jsonl").read_text().splitlines()]
    one_log = [json.loads(line) for line in (tmp_path / "one" / "metrics.jsonl").read_text().splitlines()]
    assert [r["loss"] for r in ddp_log] == pytest.approx([r["loss"] for r in one_log], abs=1e-6)


# ---------------------------------------------------------------------- kill -9 and exact resume
def test_kill_minus_9_then_resume_gives_the_uninterrupted_losses(tmp_path):
    steps = 25
    kill_after(script(tmp_path / "run", steps, 0.1), tmp_path / "run" / "checkpoints" / "step-00000010")
    partial = logged(tmp_path / "run")
    assert partial[-1][0] < steps  # really interrupted
    run_script(script(tmp_path / "run", steps))
    run_script(script(tmp_path / "ref", steps))
    expected = logged(tmp_path / "ref")
    assert [s for s, _ in expected] == list(range(1, steps + 1))
    assert logged(tmp_path / "run") == expected  # exactly: bit-for-bit the same floats
    assert load_file(tmp_path / "run" / "checkpoints" / f"step-{steps:08d}" / "model.safetensors").keys()
    assert not list((tmp_path / "run" / "checkpoints").glob(".*"))  # no partial directories left


def test_checkpoint_files_are_safetensors_and_json_only(tmp_path):
    x, y = dataset()
    Trainer(TinyRegressor(dropout=0.1), quiet(tmp_path, max_steps=4, checkpoint_every=2), Batches(x, y, 8)).fit()
    folders = sorted((tmp_path / "checkpoints").iterdir())
    assert [f.name for f in folders] == ["step-00000002", "step-00000004"]
    for path in folders[-1].iterdir():
        assert path.suffix in (".safetensors", ".json"), path
        data = path.read_bytes()
        assert not data.startswith(b"\x80"), f"{path} looks like a pickle"
        if path.suffix == ".json":
            json.loads(data)
        else:
            assert load_file(path)
    state = json.loads((folders[-1] / "trainer.json").read_text())
    assert state["step"] == 4 and state["world_size"] == 1


def test_resume_continues_and_refuses_a_different_model(tmp_path):
    x, y = dataset()
    Trainer(TinyRegressor(), quiet(tmp_path, max_steps=4, checkpoint_every=2), Batches(x, y, 8)).fit()
    result = Trainer(TinyRegressor(), quiet(tmp_path, max_steps=6, checkpoint_every=2), Batches(x, y, 8)).fit()
    assert result.step == 6 and [s for s, _ in logged(tmp_path)] == list(range(1, 7))

    class Other(TinyRegressor):
        def __init__(self):
            super().__init__()
            self.extra = nn.Linear(2, 2)

    from kgnlu.errors import CheckpointError

    with pytest.raises(CheckpointError, match="does not match"):
        Trainer(Other(), quiet(tmp_path, max_steps=8), Batches(x, y, 8)).fit()


# ---------------------------------------------------------------------- evaluation, outputs, errors
def test_after_step_hook_sees_gradients_and_its_changes_persist(tmp_path):
    # a constraint hook (as KGE's unit-norm rows): runs once per optimizer step, not per micro-batch,
    # after the update and before the gradients are cleared
    x, y = dataset()
    calls = []

    def unit_rows(model, step):
        calls.append((step, model.net[0].weight.grad is not None))
        model.net[0].weight.div_(model.net[0].weight.norm(dim=1, keepdim=True))

    model = TinyRegressor()
    Trainer(model, quiet(tmp_path, max_steps=4, grad_accum=2), Batches(x, y, 8), after_step=unit_rows).fit()
    assert calls == [(1, True), (2, True), (3, True), (4, True)]
    torch.testing.assert_close(model.net[0].weight.norm(dim=1), torch.ones(model.net[0].weight.shape[0]))


def test_early_stopping_with_patience_keeps_the_best(tmp_path):
    x, y = dataset()
    scores = iter([0.5, 0.7, 0.6, 0.65, 0.69, 0.9])

    def evaluate(model, step):
        return {"mrr": next(scores)}

    config = quiet(tmp_path, max_steps=100, eval_every=2, early_stopping_metric="mrr", patience=3)
    result = Trainer(TinyRegressor(), config, Batches(x, y, 8), eval_fn=evaluate).fit()
    assert result.stopped_early and result.step == 10
    assert result.best_metric == 0.7 and result.best_step == 4
    best = json.loads((tmp_path / "best" / "trainer.json").read_text())
    assert best["step"] == 4 and (tmp_path / "best" / "model.safetensors").is_file()


def test_metrics_tensorboard_and_plot(tmp_path):
    x, y = dataset()
    config = TrainerConfig(out_dir=str(tmp_path), max_steps=6, lr=0.01, log_every=2, checkpoint_every=3,
                           eval_every=3)
    Trainer(TinyRegressor(), config, Batches(x, y, 8), eval_fn=lambda m, s: {"mae": 0.5}).fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(r["step"], r["split"]) for r in records] == [(2, "train"), (3, "eval"), (4, "train"), (6, "train"),
                                                          (6, "eval")]
    assert {"loss", "mae", "lr", "grad_norm", "epoch"} <= records[0].keys()
    assert all(math.isfinite(r["loss"]) for r in records if r["split"] == "train")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    assert (tmp_path / "trainer_config.yaml").is_file()


def test_training_errors_say_what_to_do(tmp_path):
    class NoLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Linear(8, 1)

        def forward(self, x, y):
            return self.w(x)

    x, y = dataset()
    with pytest.raises(TrainingError, match="mapping with a 'loss'"):
        Trainer(NoLoss(), quiet(tmp_path / "a", max_steps=2), Batches(x, y, 8)).fit()
    with pytest.raises(TrainingError, match="no batches"):
        Trainer(TinyRegressor(), quiet(tmp_path / "b", max_steps=2), []).fit()

    class Diverges(TinyRegressor):
        def forward(self, x, y):
            return {"loss": super().forward(x, y)["loss"] * float("nan")}

    with pytest.raises(TrainingError, match="lower trainer.lr"):
        Trainer(Diverges(), quiet(tmp_path / "c", max_steps=2), Batches(x, y, 8)).fit()
    with pytest.raises(ConfigError, match="eval_fn"):
        Trainer(TinyRegressor(), quiet(tmp_path / "d", max_steps=2, eval_every=1), Batches(x, y, 8))
