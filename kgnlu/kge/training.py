"""KGE training on the project trainer: sLCWA with negative sampling, or 1-N scoring.

>>> result = train(KGEData.from_graph(kg), TrainConfig(model=ModelConfig("rotate", dim=200)), out_dir="runs/rotate")
>>> result.model, result.history[-1]

This module only builds the pieces — the model with its loss (:class:`~kgnlu.kge.objective.KGEObjective`),
the batches (:class:`~kgnlu.kge.batches.TripleBatches`), the constraints after each step and the
validation MRR — and hands them to :class:`kgnlu.training.trainer.Trainer`, which runs the loop: progress bar,
``metrics.jsonl`` and ``curves.png``, exact-resume checkpoints (``out_dir/checkpoints/``), early
stopping on validation MRR with the best weights in ``out_dir/best/``, and DDP under ``torchrun``
(each rank a strided share of the same permutation; gradients averaged; rank 0 validates).
KGE's epochs become trainer steps (``epochs × batches per epoch``); the trainer logs once an epoch.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from kgnlu.errors import ConfigError
from kgnlu.kge.batches import TripleBatches
from kgnlu.kge.data import KGEData
from kgnlu.kge.evaluation import evaluate
from kgnlu.kge.losses import ONE_N_LOSSES, SLCWA_LOSSES, LossConfig
from kgnlu.kge.models import KGEModel, ModelConfig, build_model
from kgnlu.kge.objective import KGEObjective
from kgnlu.kge.sampling import SamplingConfig
from kgnlu.kge.sparse import (
    bind_lookups,
    catch_up,
    make_sparse,
    optimizer_name,
    resolve_sparse,
    touched_rows,
)
from kgnlu.training import checkpoint as ckpt
from kgnlu.training import distributed as dist
from kgnlu.training.trainer import Trainer, TrainerConfig

# The optimisers' ε: torch's defaults, which PyKEEN (Adam) and Lacroix et al. (Adagrad) train with.
EPS = {"adam": 1e-8, "adagrad": 1e-10}


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    mode: str = "slcwa"  # "slcwa" (negative sampling) or "1-n" (score every entity with the model's
    #                      compare_all: a matrix product for the bilinear models, cdist for the distance ones)
    epochs: int = 100
    batch_size: int = 512
    lr: float = 1e-3
    optimizer: str = "adam"  # "adam" or "adagrad" (ComplEx-N3's choice)
    regularizer: str = "none"  # "none", "lp" (p = reg_p) or "n3"
    reg_weight: float = 0.0
    reg_p: float = 2.0
    seed: int = 0
    device: str = "auto"  # "auto" = cuda when available
    eval_every: int = 0  # epochs between validation runs; 0 = none
    eval_batch_size: int = 256
    eval_max_triples: int | None = None  # validate on a prefix only (big graphs)
    patience: int = 0  # validation runs without a better MRR before stopping; 0 = never stop early
    keep_best: bool = True  # end with the parameters of the best validation MRR
    checkpoint_every: int = 0  # epochs between checkpoints; 0 = only at the end (needs out_dir to be kept)
    sparse: bool | None = None  # lazy row updates of the tables (kgnlu.kge.sparse); None = on for sLCWA
    #                             on big graphs (≥ 5,000 entities), where dense Adam over the table dominates
    threads: int = 0  # torch intra-op threads while training; 0 = leave torch's setting. KGE batches
    #                   are small: on a busy CPU one thread avoids workers spinning on each tiny op
    plot: bool = True  # out_dir/curves.png at each checkpoint (off without an out_dir)
    tensorboard: bool = False  # off: KGE runs take seconds to minutes; metrics.jsonl has every epoch

    def __post_init__(self) -> None:
        if self.mode not in ("slcwa", "1-n"):
            raise ConfigError(f"mode must be 'slcwa' or '1-n', got {self.mode!r}")
        allowed = SLCWA_LOSSES if self.mode == "slcwa" else ONE_N_LOSSES
        if self.loss.name not in allowed:
            raise ConfigError(f"loss {self.loss.name!r} does not fit mode {self.mode!r}; use one of {', '.join(allowed)}")
        if self.model.inverse_relations and self.mode != "1-n":
            raise ConfigError("model.inverse_relations needs mode 1-n (sLCWA scores both sides against one "
                              "forward positive); set mode=1-n or model.inverse_relations=false")
        if self.optimizer not in EPS:
            raise ConfigError(f"optimizer must be 'adam' or 'adagrad', got {self.optimizer!r}")
        if self.regularizer not in ("none", "lp", "n3"):
            raise ConfigError(f"regularizer must be 'none', 'lp' or 'n3', got {self.regularizer!r}")
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be ≥ 1, got {getattr(self, name)}")
        for name in ("eval_every", "patience", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be ≥ 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ConfigError(f"lr must be > 0, got {self.lr}")

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("device cuda was asked for but torch sees no GPU; use --device cpu")
        return torch.device(self.device)


@dataclass
class KGETrainResult:
    model: KGEModel
    history: list[dict]  # one entry per epoch: epoch, loss, seconds, (valid_mrr, valid_hits@10); rank 0 only
    best_epoch: int | None
    best_valid_mrr: float | None
    train_seconds: float  # optimisation of this call (no evaluation, no checkpoints)
    triples_per_second: float  # positive training triples per second of optimisation, all ranks
    world_size: int = 1
    epochs: int = 0  # epochs done, counting those before a resume
    stopped_early: bool = False


def train(data: KGEData, config: TrainConfig, *, out_dir: str | Path | None = None, resume: bool = False,
          entities: nn.Module | None = None) -> KGETrainResult:
    """Train a model on ``data.train``; validate on ``data.valid`` every ``eval_every`` epochs.

    ``out_dir`` is the trainer's run folder (checkpoints, metrics, best weights); None trains in a
    temporary folder that is deleted afterwards. ``resume=True`` continues from the newest
    checkpoint there, bit for bit the run that was interrupted; without it, a previous run's
    checkpoints in ``out_dir`` are removed first. ``entities`` replaces the entity table
    (text-initialised entities, :mod:`kgnlu.kge.text_init`).
    """
    dist.init_from_env()  # under torchrun: join the group now, to shard the data and pick the device
    rank, world = dist.rank(), dist.world_size()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = config.resolved_device()
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", dist.local_rank())
    torch.manual_seed(config.seed)  # the initial tables follow the seed
    model = build_model(config.model, data.num_entities, data.num_relations, entities)
    model.post_step()  # constraints hold from the start, as in PyKEEN
    sparse = resolve_sparse(config.sparse, config.mode, model, world)
    if sparse:
        make_sparse(model)
    batches = TripleBatches(data.train, config.batch_size, config.seed, rank, world, device)
    per_epoch = len(batches)
    if per_epoch == 0:
        raise ConfigError(f"{len(data.train)} training triples are too few for {world} processes")

    keep = out_dir is not None
    with nullcontext(Path(out_dir)) if keep else _temporary_run_folder() as folder:
        _prepare_run_folder(folder, resume, rank)
        trainer_config = TrainerConfig(
            out_dir=str(folder), max_steps=config.epochs * per_epoch, optimizer=optimizer_name(config.optimizer, sparse),
            lr=config.lr, weight_decay=0.0, eps=EPS[config.optimizer], schedule="constant", clip_grad_norm=None,
            precision="fp32", device=str(device), seed=config.seed, log_every=per_epoch,
            checkpoint_every=config.checkpoint_every * per_epoch, resume=resume,
            eval_every=config.eval_every * per_epoch, early_stopping_metric="mrr" if config.eval_every else None,
            patience=config.patience if config.eval_every else 0, save_best=config.keep_best,
            tensorboard=config.tensorboard and keep, plot=config.plot and keep)
        objective = KGEObjective(model, config)
        holder: dict[str, torch.optim.Optimizer] = {}

        def after_step(module: nn.Module, step: int) -> None:
            # PyKEEN's constrainers after every update; sparse: only the rows this step changed
            # moved, and once an epoch every idle row catches up (and is constrained)
            model.post_step(touched_rows(model.entities) if sparse else None)
            if sparse and step % per_epoch == 0:
                catch_up(holder["optimizer"], model)

        def validate(module: nn.Module, step: int) -> dict[str, float]:
            if rank != 0:
                return {}  # the trainer broadcasts rank 0's numbers
            result = evaluate(model, data, "valid", batch_size=config.eval_batch_size,
                              max_triples=config.eval_max_triples)
            return {"mrr": result.mrr, "hits@10": result.hits[10]}

        trainer = Trainer(objective, trainer_config, batches, eval_fn=validate if config.eval_every else None,
                          after_step=after_step)
        holder["optimizer"] = trainer.optimizer
        bind_lookups(trainer.optimizer, model)
        result = trainer.fit()
        if config.keep_best and result.best_step is not None:
            ckpt.load_weights(folder / "best", objective)
        history = _history(trainer.logger.history, per_epoch)
    for table in (model.entities, model.relations):  # the trained model no longer follows an optimizer
        if hasattr(table, "before_lookup"):
            table.before_lookup = None
    triples = result.steps_run / per_epoch * batches.triples_per_epoch
    return KGETrainResult(model=model, history=history,
                       best_epoch=result.best_step // per_epoch if result.best_step is not None else None,
                       best_valid_mrr=result.best_metric, train_seconds=result.train_seconds,
                       triples_per_second=triples / max(result.train_seconds, 1e-9), world_size=world,
                       epochs=result.step // per_epoch, stopped_early=result.stopped_early)


@contextmanager
def _temporary_run_folder() -> Iterator[Path]:
    """One temporary run folder for all ranks (the trainer's checkpoints are written by every rank)."""
    path = Path(tempfile.mkdtemp(prefix="kgnlu-kge-")) if dist.is_main() else None
    path = Path(dist.broadcast_object(str(path) if path else None))
    try:
        yield path
    finally:
        dist.barrier()
        if dist.is_main():
            shutil.rmtree(path, ignore_errors=True)


def _prepare_run_folder(folder: Path, resume: bool, rank: int) -> None:
    """Resume needs a checkpoint; a fresh run clears the trainer's outputs of an earlier one."""
    if resume:
        if ckpt.latest_checkpoint(folder / "checkpoints") is None:
            raise ConfigError(f"resuming needs a checkpoint, and {folder / 'checkpoints'} has none; "
                              "train without --resume to start fresh")
        return
    if rank == 0:
        for name in ("checkpoints", "best"):
            shutil.rmtree(folder / name, ignore_errors=True)
        (folder / "metrics.jsonl").unlink(missing_ok=True)
    dist.barrier()


def _history(logged: dict[tuple[str, str], list[tuple[int, float]]], per_epoch: int) -> list[dict]:
    """The trainer's logged points (one train window per epoch) → one record per epoch."""
    records: dict[int, dict] = {}
    for step, loss in logged.get(("train", "loss"), []):
        records[step] = {"epoch": step // per_epoch, "loss": loss}
    for step, rate in logged.get(("train", "steps_per_s"), []):
        records.setdefault(step, {"epoch": step // per_epoch})["seconds"] = per_epoch / max(rate, 1e-12)
    for key, name in (("mrr", "valid_mrr"), ("hits@10", "valid_hits@10")):
        for step, value in logged.get(("eval", key), []):
            records.setdefault(step, {"epoch": step // per_epoch})[name] = value
    return [records[step] for step in sorted(records)]
