"""Sparse (lazy) row updates for the embedding tables.

A dense Adam step reads and writes every row of every table, though a batch touches only a few
hundred of them: on WN-KGE (38k entities) that dominates a step. With sparse updates the lookups
produce row gradients (``EmbeddingTable.sparse``) and the optimiser touches only those rows:

- ``adam`` → ``catchup_adam`` (:class:`~kgnlu.training.catchup_adam.CatchUpAdam`): lazy Adam that
  applies the momentum steps a row missed when it is next looked up (:func:`bind_lookups`) and for
  all rows at ``catch_up()`` (each epoch's end, :func:`catch_up`), so it follows dense Adam's
  trajectory. Plain lazy Adam (``torch.optim.SparseAdam``) does not: rare rows move ~10× less, and
  RotatE on WN-KGE learned far less with it.
- ``adagrad`` → ``torch.optim.Adagrad``, which takes sparse gradients itself; with zero gradients
  a dense Adagrad step changes nothing, so this one is the same trajectory, only faster.

Constraints then only need the touched entity rows (``KGEModel.post_step(entity_rows)``), and all
rows after the epoch's catch-up (TransE's dense run renormalises every step, so the catch-up's
one projection per epoch for idle rows is the one place the two differ).
Sparse updates need lookups only: 1-N training scores ``entities.all()`` (dense gradients) and a
text-initialised entity module is not a table, so ``sparse=None`` (auto) leaves those dense, and
so does DDP (sparse gradients do not go through NCCL all-reduce). Auto also leaves small tables
dense, where a dense step is already cheap and sparse bookkeeping costs more than it saves.
"""

from __future__ import annotations

import torch

from kgnlu.errors import ConfigError
from kgnlu.kge.models.base import EmbeddingTable, KGEModel
from kgnlu.training.catchup_adam import CatchUpAdam

AUTO_MIN_ENTITIES = 5000  # auto turns sparse on from here (measured: see docs/kge.md, Results)


def resolve_sparse(requested: bool | None, mode: str, model: KGEModel, world: int) -> bool:
    """Whether this run uses sparse updates; ``requested`` True where they cannot apply raises."""
    blockers = []
    if mode != "slcwa":
        blockers.append("1-N training scores every entity (dense gradients)")
    if not isinstance(model.entities, EmbeddingTable):
        blockers.append("the entity representation is not a plain table (text-initialised)")
    if world > 1:
        blockers.append("DDP all-reduces dense gradients")
    if requested is None:
        return not blockers and model.num_entities >= AUTO_MIN_ENTITIES
    if requested and blockers:
        raise ConfigError(f"sparse=true cannot apply here: {'; '.join(blockers)}. Use sparse=false or leave it unset")
    return requested


def make_sparse(model: KGEModel) -> None:
    """Switch the model's tables to sparse-gradient lookups."""
    for table in (model.entities, model.relations):
        table.sparse = True


def optimizer_name(name: str, sparse: bool) -> str:
    """The trainer's optimizer (kgnlu.training.optim.OPTIMIZERS) for KGE's ``adam``/``adagrad``."""
    return "catchup_adam" if sparse and name == "adam" else name


def bind_lookups(optimizer: torch.optim.Optimizer, model: KGEModel) -> None:
    """Let catch-up Adam bring rows up to date just before a training lookup reads them, so their
    gradient is taken where dense Adam's would be."""
    if not isinstance(optimizer, CatchUpAdam):
        return
    for table in (model.entities, model.relations):
        # default argument: bind this table's weight, not the loop variable
        table.before_lookup = lambda ids, w=table.weight: optimizer.catch_up_rows(w, ids)


def touched_rows(table: EmbeddingTable) -> torch.Tensor | None:
    """Row ids the last backward gave a gradient to (unique), or None if there is no sparse gradient."""
    grad = table.weight.grad
    if grad is None or not grad.is_sparse:
        return None
    return torch.unique(grad._indices()[0])


def catch_up(optimizer: torch.optim.Optimizer, model: KGEModel) -> None:
    """Bring idle rows up to date (before validation and checkpoints), then constrain every row."""
    if isinstance(optimizer, CatchUpAdam):
        optimizer.catch_up()
        model.post_step()
