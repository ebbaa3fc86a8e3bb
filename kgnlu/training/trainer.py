"""One trainer for every training job in kgnlu (pretraining, distillation, fusion, KG embeddings).

Model-agnostic: it trains any ``nn.Module`` whose ``forward(**batch)`` (or ``forward(batch)`` when a
batch is not a mapping) returns a mapping with a scalar ``"loss"`` tensor; other scalar tensors in
that mapping are logged as metrics. Write a small wrapper module when a model's own forward
does not look like that.

    trainer = Trainer(model, TrainerConfig(out_dir="runs/bert", max_steps=10_000), loader,
                      eval_fn=lambda model, step: {"mrr": evaluate(model)})
    result = trainer.fit()   # resumes from runs/bert/checkpoints/ when a checkpoint is there

What it does each optimizer step: ``grad_accum`` micro-batches forward/backward (under bf16
autocast when enabled; DDP gradient sync only on the last one), gradient clipping (unless
``clip_grad_norm`` is None), learning rate from the schedule, optimizer step (any optimizer in
:data:`~kgnlu.training.optim.OPTIMIZERS`, e.g. sparse-row Adam for embedding tables), then
``after_step`` (constraints such as unit-norm rows). Every ``log_every`` steps: metrics averaged over the steps and
ranks to ``metrics.jsonl`` and TensorBoard; every ``eval_every`` steps: ``eval_fn`` and early
stopping; every ``checkpoint_every`` steps: an atomic checkpoint (see
:mod:`kgnlu.training.checkpoint`) and the ``curves.png`` plot.

Exact resume: model, optimizer, every RNG and the data position are restored; the data stream is
replayed from the start of the interrupted epoch up to the saved batch, with the data RNG it had
then, so a run killed with ``kill -9`` continues with the same losses as one never stopped. This
needs data whose order is a function of the epoch (``set_epoch`` on the loader, its sampler or its
dataset — :class:`~kgnlu.data.instances.PretrainingDataset` and ``DistributedSampler`` have it).

Distributed: launch with ``torchrun``; the trainer joins the process group from the environment and
wraps the model in DistributedDataParallel. Each rank must feed its own shard of the data.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from kgnlu.config import from_dict, save_config, to_dict
from kgnlu.errors import CheckpointError, ConfigError, TrainingError, UnknownNameError
from kgnlu.io import read_json
from kgnlu.progress import progress_bar
from kgnlu.training import checkpoint as ckpt
from kgnlu.training import distributed as dist
from kgnlu.training.metrics import MetricsLogger
from kgnlu.training.optim import OPTIMIZERS, SCHEDULES, build_optimizer

EvalFn = Callable[[nn.Module, int], Mapping[str, float]]
# after_step(model, step): runs after each optimizer step, before the gradients are cleared (so it
# can read them, e.g. which embedding rows changed). For constraints such as unit-norm embedding
# rows, which must hold after every update and which no optimizer knows about.
AfterStepFn = Callable[[nn.Module, int], None]


@dataclass
class TrainerConfig:
    out_dir: str = "runs/default"  # checkpoints/, metrics.jsonl, tensorboard/, curves.png, best/
    max_steps: int = 1000  # optimizer steps (not micro-batches): the unit of every schedule below
    optimizer: str = "adamw"  # a key of OPTIMIZERS: "adamw", "lamb" (very large batches); "adam", "adagrad",
    #                          "catchup_adam" (embedding tables with sparse row gradients, e.g. KGE)
    lr: float = 1e-4  # BERT-base's peak learning rate
    weight_decay: float = 0.01  # BERT; not applied to biases and norm weights
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-6  # BERT's; 1e-8 underflows more easily in low precision
    schedule: str = "linear"  # "linear" (BERT), "cosine" (GPT), "constant"
    warmup_steps: int = 0  # BERT warmed up for 1% of its steps; 0 = start at the peak
    min_lr_ratio: float = 0.0  # the schedule's floor, as a fraction of lr
    grad_accum: int = 1  # micro-batches per optimizer step: effective batch = batch × grad_accum × ranks
    clip_grad_norm: float | None = 1.0  # BERT clips at 1.0; None turns clipping off
    precision: Literal["auto", "fp32", "bf16"] = "auto"  # auto: bf16 autocast on GPUs that support it
    device: str = "auto"  # auto: this rank's GPU, else the CPU
    seed: int = 0  # RNG seed for dropout etc. (rank r uses seed + r, so dropout masks differ by rank)
    log_every: int = 10  # steps between metric lines (each costs a device sync and an all-reduce)
    checkpoint_every: int = 1000  # steps between checkpoints; 0 = only at the end
    keep_checkpoints: int = 2  # newest checkpoints kept; older ones deleted
    resume: bool = True  # continue from the newest checkpoint in out_dir when there is one
    eval_every: int = 0  # steps between eval_fn calls; 0 = never
    early_stopping_metric: str | None = None  # a key of eval_fn's result, e.g. "mrr"
    early_stopping_mode: Literal["max", "min"] = "max"  # max for MRR/accuracy, min for losses
    patience: int = 0  # evaluations without improvement before stopping; 0 = never stop early
    min_delta: float = 0.0  # smallest change that counts as an improvement
    save_best: bool = True  # keep out_dir/best/ with the weights of the best evaluation
    ddp_find_unused_parameters: bool = False  # True for models whose heads skip some parameters
    tensorboard: bool = True
    plot: bool = True

    def __post_init__(self) -> None:
        for registry, name in ((OPTIMIZERS, self.optimizer), (SCHEDULES, self.schedule)):
            try:
                registry.get(name)
            except UnknownNameError as err:
                raise ConfigError(f"trainer: {err}") from None
        positive = ("max_steps", "grad_accum", "log_every", "keep_checkpoints")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"trainer.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("warmup_steps", "checkpoint_every", "eval_every", "patience"):
            if getattr(self, name) < 0:
                raise ConfigError(f"trainer.{name} must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0 or self.weight_decay < 0 or self.eps <= 0:
            raise ConfigError(f"trainer needs lr > 0, weight_decay >= 0, eps > 0 (got {self.lr}, "
                              f"{self.weight_decay}, {self.eps})")
        if not all(0.0 <= b < 1.0 for b in self.betas):
            raise ConfigError(f"trainer.betas must be in [0, 1), got {self.betas}")
        if not 0.0 <= self.min_lr_ratio <= 1.0:
            raise ConfigError(f"trainer.min_lr_ratio must be in [0, 1], got {self.min_lr_ratio}")
        if self.clip_grad_norm is not None and self.clip_grad_norm <= 0:
            raise ConfigError("trainer.clip_grad_norm must be > 0 (or null to turn clipping off)")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"trainer.precision must be auto, fp32 or bf16, got {self.precision!r}")
        if self.early_stopping_mode not in ("max", "min"):
            raise ConfigError(f"trainer.early_stopping_mode must be max or min, got {self.early_stopping_mode!r}")
        if self.patience and not (self.early_stopping_metric and self.eval_every):
            raise ConfigError("trainer.patience needs early_stopping_metric and eval_every > 0")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TrainerConfig:
        return from_dict(cls, data, "trainer")


@dataclass
class TrainResult:
    step: int
    epoch: int
    stopped_early: bool
    best_metric: float | None
    best_step: int | None
    train_metrics: dict[str, float] = field(default_factory=dict)  # the last logged window
    eval_metrics: dict[str, float] = field(default_factory=dict)  # the last evaluation
    steps_run: int = 0  # optimizer steps this fit() took (fewer than ``step`` after a resume)
    train_seconds: float = 0.0  # wall time of those steps and their logging; evaluation and checkpoints left out


class Trainer:
    def __init__(self, model: nn.Module, config: TrainerConfig, train_data: Iterable[Any],
                 eval_fn: EvalFn | None = None, after_step: AfterStepFn | None = None):
        self.config = config
        self.after_step = after_step
        self.out_dir = Path(config.out_dir)
        self.checkpoint_root = self.out_dir / "checkpoints"
        self.distributed = dist.init_from_env()
        self.rank, self.world_size = dist.rank(), dist.world_size()
        self.device = _device(config.device)
        self.model = model.to(self.device)
        self.wrapped: nn.Module = self.model
        if self.distributed:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.wrapped = nn.parallel.DistributedDataParallel(
                self.model, device_ids=ids, find_unused_parameters=config.ddp_find_unused_parameters)
        self.optimizer = build_optimizer(config.optimizer, self.model, config.lr, config.weight_decay,
                                         config.betas, config.eps)
        self.schedule = SCHEDULES.get(config.schedule)
        self.autocast_dtype = _autocast_dtype(config.precision, self.device)
        self.train_data, self.eval_fn = train_data, eval_fn
        if config.eval_every and eval_fn is None:
            raise ConfigError("trainer.eval_every is set but no eval_fn was given")
        # state saved in checkpoints
        self.step = 0
        self.epoch = 0
        self.batches_in_epoch = 0
        self.best: float | None = None
        self.best_step: int | None = None
        self.bad_evals = 0
        self.stopped_early = False
        self.lr_now = config.lr  # the learning rate of the step being taken
        self.last_train: dict[str, float] = {}
        self.last_eval: dict[str, float] = {}
        # data RNG: the torch RNG the data pipeline sees, kept apart from the model's (dropout), and
        # its state when the current epoch's iterator was made, to replay the epoch on resume
        self.data_rng = torch.Generator().manual_seed(config.seed * 1_000_003 + self.rank + 1).get_state()
        self.data_rng_epoch_start = self.data_rng.clone()

    # ------------------------------------------------------------------ the loop
    def fit(self) -> TrainResult:
        cfg = self.config
        resumed = self._maybe_resume()
        if resumed is None:
            _seed_everything(cfg.seed + self.rank)
        self.logger = MetricsLogger(self.out_dir, enabled=dist.is_main(), tensorboard=cfg.tensorboard,
                                    plot=cfg.plot, resume_step=self.step if resumed is not None else None)
        if dist.is_main():
            save_config(to_dict(cfg), self.out_dir / "trainer_config.yaml")
        batches = self._batches()
        window: dict[str, torch.Tensor] = {}
        window_steps, window_lr, window_start = 0, 0.0, time.perf_counter()
        saved_at = first_step = self.step
        set_aside = 0.0  # seconds spent evaluating and checkpointing, which train_seconds leaves out
        started = time.perf_counter()
        with progress_bar(total=cfg.max_steps, desc="train", unit="step") as bar:
            bar.update(self.step)
            while self.step < cfg.max_steps and not self.stopped_early:
                metrics = self._optimizer_step(batches)
                for key, value in metrics.items():
                    total = window.get(key)
                    window[key] = value if total is None else total + value
                window_steps += 1
                window_lr += self.lr_now
                self.step += 1
                bar.update(1)
                if self.step % cfg.log_every == 0 or self.step == cfg.max_steps:
                    self._log(window, window_steps, window_lr, time.perf_counter() - window_start, bar)
                    window, window_steps, window_lr, window_start = {}, 0, 0.0, time.perf_counter()
                aside = time.perf_counter()
                if cfg.eval_every and self.step % cfg.eval_every == 0:
                    self._evaluate()
                if cfg.checkpoint_every and self.step % cfg.checkpoint_every == 0:
                    self.save_checkpoint()
                    saved_at = self.step
                set_aside += time.perf_counter() - aside
        if window_steps:
            self._log(window, window_steps, window_lr, time.perf_counter() - window_start, None)
        train_seconds = time.perf_counter() - started - set_aside  # the last _log synchronised the device
        if saved_at != self.step or not ckpt.list_checkpoints(self.checkpoint_root):
            self.save_checkpoint()
        self.logger.plot()
        self.logger.close()
        return TrainResult(self.step, self.epoch, self.stopped_early, self.best, self.best_step,
                           dict(self.last_train), dict(self.last_eval), self.step - first_step, train_seconds)

    def _optimizer_step(self, batches: Iterator[Any]) -> dict[str, torch.Tensor]:
        cfg = self.config
        self.model.train()
        self.lr_now = cfg.lr * self.schedule(self.step, cfg.warmup_steps, cfg.max_steps, cfg.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr_now
        # (the small-tensor bookkeeping below is kept minimal: on KG-embedding batches a step is
        # ~1 ms, and every extra tensor op per step costs a few percent)
        totals: dict[str, torch.Tensor] = {}
        for micro in range(cfg.grad_accum):
            batch = next(batches)
            last = micro == cfg.grad_accum - 1
            sync = contextlib.nullcontext() if last or not self.distributed else self.wrapped.no_sync()
            with sync:
                autocast = contextlib.nullcontext() if self.autocast_dtype is None else torch.autocast(
                    self.device.type, dtype=self.autocast_dtype)
                with autocast:
                    output = self.wrapped(**batch) if isinstance(batch, Mapping) else self.wrapped(batch)
                if not isinstance(output, Mapping) or "loss" not in output:
                    raise TrainingError(f"{type(self.model).__name__}.forward must return a mapping with a 'loss' "
                                        f"tensor; got {type(output).__name__}. Wrap the model in a module that does")
                (output["loss"] if cfg.grad_accum == 1 else output["loss"] / cfg.grad_accum).backward()
            for key, value in output.items():
                if isinstance(value, torch.Tensor) and value.numel() == 1:
                    value = value.detach().float().reshape(())
                    if cfg.grad_accum > 1:
                        value = value / cfg.grad_accum
                    total = totals.get(key)
                    totals[key] = value if total is None else total + value
        if cfg.clip_grad_norm is not None:
            totals["grad_norm"] = torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip_grad_norm).float()
        self.optimizer.step()
        if self.after_step is not None:
            with torch.no_grad():
                self.after_step(self.model, self.step + 1)  # the step just taken, counted from 1
        self.optimizer.zero_grad(set_to_none=True)
        return totals

    def _log(self, window: dict[str, torch.Tensor], steps: int, lr_sum: float, seconds: float, bar: Any) -> None:
        keys = sorted(window)
        stacked = torch.stack([window[k] for k in keys]) / steps  # (K,) means over the window
        stacked = dist.all_reduce_mean(stacked)
        values = dict(zip(keys, stacked.tolist(), strict=True))
        if not math.isfinite(values.get("loss", 0.0)):
            raise TrainingError(f"the loss became {values['loss']} by step {self.step}; lower trainer.lr, "
                                "keep clip_grad_norm on, or use precision=fp32, then resume from the last checkpoint")
        values["lr"] = lr_sum / steps  # the same on every rank
        values["epoch"] = self.epoch
        values["steps_per_s"] = steps / max(seconds, 1e-9)
        self.last_train = values
        self.logger.log(self.step, "train", values)
        if bar is not None and "loss" in values:
            bar.set_postfix(loss=f"{values['loss']:.4g}", refresh=False)

    # ------------------------------------------------------------------ evaluation and early stopping
    def _evaluate(self) -> None:
        cfg = self.config
        self.model.eval()
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad(), torch.autocast(
                self.device.type, dtype=self.autocast_dtype or torch.float32, enabled=self.autocast_dtype is not None):
            metrics = {k: float(v) for k, v in self.eval_fn(self.model, self.step).items()}
        self.model.train()
        metrics = dist.broadcast_object(metrics)  # rank 0's numbers decide, so every rank stops together
        self.last_eval = metrics
        self.logger.log(self.step, "eval", metrics)
        name = cfg.early_stopping_metric
        if name is None:
            return
        if name not in metrics:
            raise TrainingError(f"early_stopping_metric {name!r} is not among eval_fn's metrics "
                                f"({', '.join(sorted(metrics))}); fix trainer.early_stopping_metric")
        value = metrics[name]
        better = self.best is None or (value > self.best + cfg.min_delta if cfg.early_stopping_mode == "max"
                                       else value < self.best - cfg.min_delta)
        if better:
            self.best, self.best_step, self.bad_evals = value, self.step, 0
            if cfg.save_best:
                ckpt.save_checkpoint(self.out_dir / "best", self.model, None, self._trainer_state(), self._rank_state())
        else:
            self.bad_evals += 1
            if cfg.patience and self.bad_evals >= cfg.patience:
                self.stopped_early = True

    # ------------------------------------------------------------------ data
    def _batches(self) -> Iterator[Any]:
        """Batches forever, epoch after epoch, moved to the device; fast-forwards after a resume."""
        while True:
            _set_epoch(self.train_data, self.epoch)
            self.data_rng = self.data_rng_epoch_start.clone()
            iterator = self._with_data_rng(iter, self.train_data)
            for skipped in range(self.batches_in_epoch):
                if self._with_data_rng(next, iterator, None) is None:
                    raise TrainingError(f"resuming needs {self.batches_in_epoch} batches of epoch {self.epoch} but the "
                                        f"data gave {skipped}; resume with the same data and batch size")
            produced = 0
            while True:
                batch = self._with_data_rng(next, iterator, None)
                if batch is None:
                    break
                produced += 1
                self.batches_in_epoch += 1
                yield _to_device(batch, self.device)
            if produced == 0 and self.batches_in_epoch == 0:
                raise TrainingError(f"the training data yielded no batches in epoch {self.epoch} (rank {self.rank}); "
                                    "check the corpus path and that every rank's shard has data")
            self.epoch += 1
            self.batches_in_epoch = 0
            self.data_rng_epoch_start = self.data_rng.clone()

    def _with_data_rng(self, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` with torch's global CPU RNG set to the data stream's own state."""
        model_state = torch.get_rng_state()
        torch.set_rng_state(self.data_rng)
        try:
            return fn(*args)
        finally:
            self.data_rng = torch.get_rng_state()
            torch.set_rng_state(model_state)

    # ------------------------------------------------------------------ checkpoints
    def _trainer_state(self) -> dict[str, Any]:
        return {"format": "kgnlu-trainer", "version": 1, "step": self.step, "world_size": self.world_size,
                "best": self.best, "best_step": self.best_step, "bad_evals": self.bad_evals,
                "stopped_early": self.stopped_early, "last_eval": self.last_eval, "config": to_dict(self.config)}

    def _rank_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        info, tensors = ckpt.capture_rng()
        info.update(epoch=self.epoch, batches_in_epoch=self.batches_in_epoch)
        tensors.update(data_rng=self.data_rng, data_rng_epoch_start=self.data_rng_epoch_start)
        return info, tensors

    def save_checkpoint(self) -> Path:
        path = ckpt.save_checkpoint(ckpt.step_dir(self.checkpoint_root, self.step), self.model, self.optimizer,
                                    self._trainer_state(), self._rank_state())
        ckpt.prune_checkpoints(self.checkpoint_root, self.config.keep_checkpoints)
        self.logger.plot()
        self.logger.flush()
        return path

    def _maybe_resume(self) -> Path | None:
        if not self.config.resume:
            return None
        folder = ckpt.latest_checkpoint(self.checkpoint_root)
        if folder is None:
            return None
        self.load_checkpoint(folder)
        return folder

    def load_checkpoint(self, folder: str | Path) -> None:
        """Restore everything a checkpoint holds (all ranks call this)."""
        folder = Path(folder)
        state = read_json(folder / "trainer.json", ckpt.FALLBACK_HINT)
        if state.get("world_size", 1) != self.world_size:
            raise CheckpointError(
                f"{folder} was written by {state['world_size']} ranks but this run has {self.world_size}; "
                "resume with the same number of processes (data positions are per rank)")
        ckpt.load_weights(folder, self.model)
        ckpt.load_optimizer(folder, self.optimizer)
        info, tensors = ckpt.load_rank_state(folder, self.rank)
        ckpt.restore_rng(info, tensors)
        self.step = int(state["step"])
        self.best, self.best_step = state.get("best"), state.get("best_step")
        self.bad_evals, self.stopped_early = int(state.get("bad_evals", 0)), bool(state.get("stopped_early", False))
        self.last_eval = dict(state.get("last_eval") or {})
        self.epoch, self.batches_in_epoch = int(info["epoch"]), int(info["batches_in_epoch"])
        self.data_rng, self.data_rng_epoch_start = tensors["data_rng"], tensors["data_rng_epoch_start"]


# ---------------------------------------------------------------------- helpers
def _device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda", dist.local_rank() % torch.cuda.device_count())
    return torch.device("cpu")


def _autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "bf16":
        return torch.bfloat16
    if precision == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None  # fp32, or auto on CPU (bf16 matmuls are slow on most CPUs)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _set_epoch(data: Any, epoch: int) -> None:
    """Tell the loader (or its sampler, or its dataset) which epoch starts, for epoch-seeded order."""
    for obj in (data, getattr(data, "sampler", None), getattr(data, "batch_sampler", None),
                getattr(data, "dataset", None)):
        if obj is not None and callable(getattr(obj, "set_epoch", None)):
            obj.set_epoch(epoch)
            return


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, list | tuple):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch
