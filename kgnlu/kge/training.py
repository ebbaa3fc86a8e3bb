"""KGE training: sLCWA with negative sampling, or 1-N scoring, with early stopping on valid MRR.

>>> result = train(KGEData.from_graph(kg), TrainConfig(model=ModelConfig("rotate", dim=200)))
>>> result.model, result.history[-1]

A lean loop, because on the graphs KGE runs on a step is microseconds of arithmetic and Python
overhead decides the speed: the training triples live on the device, each epoch is one
permutation, negatives are drawn as one index tensor per batch, and nothing leaves the device
until the epoch ends. Under ``torchrun`` (WORLD_SIZE > 1) every rank takes a strided share of
the same permutation and gradients are averaged by DistributedDataParallel (gloo on CPU, nccl on
CUDA); rank 0 evaluates, writes checkpoints, and broadcasts the early-stopping decision.
"""

from __future__ import annotations

import contextlib
import copy
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from kgnlu.errors import ConfigError
from kgnlu.kge.checkpoint import has_checkpoint, load_checkpoint, save_checkpoint
from kgnlu.kge.data import KGEData
from kgnlu.kge.evaluation import evaluate
from kgnlu.kge.losses import (
    ONE_N_LOSSES,
    SLCWA_LOSSES,
    LossConfig,
    one_n_loss,
    regularization,
    slcwa_loss,
)
from kgnlu.kge.models import KGEModel, ModelConfig, build_model
from kgnlu.kge.sampling import SamplingConfig, adversarial_weights, negative_scores
from kgnlu.kge.sparse import (
    catch_up,
    make_sparse,
    resolve_sparse,
    sparse_optimizer,
    touched_rows,
)
from kgnlu.progress import progress_bar


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    mode: str = "slcwa"  # "slcwa" (negative sampling) or "1-n" (score every entity; bilinear models)
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
    checkpoint_every: int = 0  # epochs between checkpoints (needs a checkpoint folder); 0 = none
    sparse: bool | None = None  # lazy row updates of the tables (kgnlu.kge.sparse); None = on for sLCWA
    #                             on big graphs (≥ 5,000 entities), where dense Adam over the table dominates
    threads: int = 0  # torch intra-op threads while training; 0 = leave torch's setting. KGE batches
    #                   are small: on a busy CPU one thread avoids workers spinning on each tiny op

    def __post_init__(self) -> None:
        if self.mode not in ("slcwa", "1-n"):
            raise ConfigError(f"mode must be 'slcwa' or '1-n', got {self.mode!r}")
        allowed = SLCWA_LOSSES if self.mode == "slcwa" else ONE_N_LOSSES
        if self.loss.name not in allowed:
            raise ConfigError(f"loss {self.loss.name!r} does not fit mode {self.mode!r}; use one of {', '.join(allowed)}")
        if self.optimizer not in ("adam", "adagrad"):
            raise ConfigError(f"optimizer must be 'adam' or 'adagrad', got {self.optimizer!r}")
        if self.regularizer not in ("none", "lp", "n3"):
            raise ConfigError(f"regularizer must be 'none', 'lp' or 'n3', got {self.regularizer!r}")
        for name in ("epochs", "batch_size", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be ≥ 1, got {getattr(self, name)}")

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("device cuda was asked for but torch sees no GPU; use --device cpu")
        return torch.device(self.device)


@dataclass
class TrainResult:
    model: KGEModel
    history: list[dict]  # one entry per epoch: epoch, loss, seconds, (valid metrics)
    best_epoch: int | None
    best_valid_mrr: float | None
    train_seconds: float  # optimisation only (no evaluation)
    triples_per_second: float  # positive training triples per second of optimisation, all ranks
    world_size: int = 1


class _Objective(nn.Module):
    """The loss of one batch as a module, so DistributedDataParallel can wrap it."""

    def __init__(self, model: KGEModel, config: TrainConfig, generator: torch.Generator):
        super().__init__()
        self.model, self.config, self.generator = model, config, generator

    def forward(self, batch: torch.Tensor) -> torch.Tensor:  # batch [B, 3] → scalar
        m, c = self.model, self.config
        if c.mode == "slcwa":
            positive, negative = negative_scores(m, batch, c.sampling, self.generator)  # [B], [B, k]
            loss = slcwa_loss(positive, negative, c.loss, adversarial_weights(negative, c.sampling))
        else:
            entities = m.entities.all()  # [N, D]
            h, r, t = entities[batch[:, 0]], m.relations(batch[:, 1]), entities[batch[:, 2]]
            loss = 0.5 * (one_n_loss(m.compare_all(m.query_t(h, r), entities), batch[:, 2], c.loss)
                          + one_n_loss(m.compare_all(m.query_h(r, t), entities), batch[:, 0], c.loss))
        if c.regularizer != "none" and c.reg_weight > 0:
            h, r, t = m.entities(batch[:, 0]), m.relations(batch[:, 1]), m.entities(batch[:, 2])
            loss = loss + c.reg_weight * regularization([h, r, t], c.regularizer, c.reg_p, m.complex_valued)
        return loss


def _distributed() -> tuple[int, int]:
    """(rank, world size); initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() and os.environ.get("KGNLU_DIST_BACKEND") != "gloo" else "gloo"
        dist.init_process_group(backend)
    return dist.get_rank(), dist.get_world_size()


def make_optimizer(model: nn.Module, config: TrainConfig, sparse: bool = False) -> torch.optim.Optimizer:
    if sparse:
        return sparse_optimizer(model, config.optimizer, config.lr)
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=config.lr)
    return torch.optim.Adam(params, lr=config.lr)


def train(data: KGEData, config: TrainConfig, *, checkpoint_dir: str | Path | None = None,
          resume: bool = False, entities: nn.Module | None = None,
          on_epoch_end: Callable[[int, dict], None] | None = None, progress: bool = True) -> TrainResult:
    """Train a model on ``data.train``; validate on ``data.valid`` every ``eval_every`` epochs.

    ``checkpoint_dir`` with ``checkpoint_every`` > 0 saves an exact-resume checkpoint (model,
    optimiser, random generators, counters); ``resume=True`` continues from it, giving the same
    parameters as an uninterrupted run. ``entities`` replaces the entity table (text-initialised
    entities, :mod:`kgnlu.kge.text_init`). ``on_epoch_end(epoch, record)`` runs after each epoch
    (and its checkpoint).
    """
    rank, world = _distributed()
    if config.threads:
        torch.set_num_threads(config.threads)
    device = config.resolved_device()
    if device.type == "cuda" and world > 1:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if config.mode == "1-n" and not _is_bilinear(config.model.name):
        raise ConfigError(f"1-N training scores every entity with a matrix product; {config.model.name} is not "
                          "bilinear. Use mode slcwa, or model distmult/complex.")
    torch.manual_seed(config.seed)
    model = build_model(config.model, data.num_entities, data.num_relations, entities).to(device)
    model.post_step()  # constraints hold from the start, as in PyKEEN
    sparse = resolve_sparse(config.sparse, config.mode, model, world)
    if sparse:
        make_sparse(model)
    order_gen = torch.Generator().manual_seed(config.seed)  # same on every rank
    neg_gen = torch.Generator().manual_seed(config.seed * 7919 + 1 + rank)
    generators = {"order": order_gen, "negatives": neg_gen}
    objective: nn.Module = _Objective(model, config, neg_gen)
    if world > 1:
        objective = nn.parallel.DistributedDataParallel(
            objective, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = make_optimizer(model, config, sparse)

    folder = Path(checkpoint_dir) if checkpoint_dir is not None else None
    state = {"epoch": 0, "best_mrr": None, "best_epoch": None, "bad_evals": 0, "history": [],
             "train_seconds": 0.0, "stopped_early": False}
    best: dict[str, torch.Tensor] | None = None
    if resume:
        if folder is None or not has_checkpoint(folder):
            raise ConfigError(f"--resume needs a checkpoint, and {folder} has none; train without --resume")
        state, best = load_checkpoint(folder, model, optimizer, generators)

    train_triples = data.train.to(device)
    num_train = len(train_triples)
    bar = progress_bar(total=config.epochs, desc=f"kge {config.model.name}", unit="epoch") if progress and rank == 0 \
        else contextlib.nullcontext()
    with bar:
        if hasattr(bar, "update"):
            bar.update(state["epoch"])
        while state["epoch"] < config.epochs and not state["stopped_early"]:
            epoch = state["epoch"] + 1
            start = time.perf_counter()
            order = torch.randperm(num_train, generator=order_gen)
            if world > 1:  # equal shares, so every rank runs the same number of steps
                order = order[: num_train - num_train % world][rank::world]
            order = order.to(device)
            total = torch.zeros((), device=device)
            steps = 0
            for lo in range(0, len(order), config.batch_size):
                batch = train_triples[order[lo:lo + config.batch_size]]  # [B, 3]
                loss = objective(batch)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                # sparse: only the rows this step changed can have left the constraint
                model.post_step(touched_rows(model.entities) if sparse else None)
                total += loss.detach()
                steps += 1
            if sparse:
                catch_up(optimizer, model)  # part of the epoch's cost, so timed
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds = time.perf_counter() - start
            state["train_seconds"] += seconds
            record = {"epoch": epoch, "loss": float(total) / max(steps, 1), "seconds": seconds}
            if config.eval_every and epoch % config.eval_every == 0:
                best = _validate(model, data, config, state, record, best, rank, world, device)
            state["epoch"] = epoch
            state["history"].append(record)
            if folder is not None and config.checkpoint_every and epoch % config.checkpoint_every == 0 and rank == 0:
                save_checkpoint(folder, model, optimizer, generators, state, best)
            if hasattr(bar, "update"):
                bar.update(1)
                bar.set_postfix({k: round(v, 4) for k, v in record.items() if k in ("loss", "valid_mrr")})
            if on_epoch_end is not None:
                on_epoch_end(epoch, record)
    if config.keep_best and best is not None:
        model.load_state_dict(best)
    seconds = state["train_seconds"]
    done = sum(1 for _ in state["history"])
    return TrainResult(model=model, history=state["history"], best_epoch=state["best_epoch"],
                       best_valid_mrr=state["best_mrr"], train_seconds=seconds,
                       triples_per_second=(num_train - num_train % world if world > 1 else num_train) * done
                       / max(seconds, 1e-9), world_size=world)


def _validate(model, data, config, state, record, best, rank, world, device):
    """Validation MRR on rank 0; updates the early-stopping state on every rank."""
    mrr = torch.zeros(1, dtype=torch.float64, device=device)
    if rank == 0:
        result = evaluate(model, data, "valid", batch_size=config.eval_batch_size,
                          max_triples=config.eval_max_triples)
        mrr[0] = result.mrr
        record["valid_hits@10"] = result.hits[10]
    if world > 1:
        dist.broadcast(mrr, src=0)
    record["valid_mrr"] = float(mrr[0])
    if state["best_mrr"] is None or record["valid_mrr"] > state["best_mrr"]:
        state.update(best_mrr=record["valid_mrr"], best_epoch=record["epoch"], bad_evals=0)
        best = {k: v.detach().clone() for k, v in model.state_dict().items()} if config.keep_best else None
    else:
        state["bad_evals"] += 1
        if config.patience and state["bad_evals"] >= config.patience:
            state["stopped_early"] = True
    return best


def _is_bilinear(name: str) -> bool:
    from kgnlu.kge.models import MODELS

    return MODELS.get(name).bilinear


def clone_config(config: TrainConfig, **changes) -> TrainConfig:
    """A copy with top-level fields changed (configs are plain dataclasses)."""
    out = copy.deepcopy(config)
    for key, value in changes.items():
        setattr(out, key, value)
    out.__post_init__()
    return out
