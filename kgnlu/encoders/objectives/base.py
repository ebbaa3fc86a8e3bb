"""What every pretraining objective shares: the ``OBJECTIVES`` registry, the base class and metrics.

An objective is an ``nn.Module`` built as ``OBJECTIVES.get(name)(encoder, **options)``. Called as
``objective(batch, output)`` — ``batch`` the collated tensors of
:class:`~kgnlu.data.instances.PretrainingCollator`, ``output`` the encoder's
:class:`~kgnlu.encoders.EncoderOutput` on ``batch["input_ids"]`` (None for objectives that run the
encoder themselves, ``uses_output = False``: ELECTRA's discriminator reads the generator's
corrupted copy) — it returns named scalars: always ``"loss"`` (differentiable, the objective's
total) and ``"accuracy"``, plus any parts. Losses stay attached to the graph; metrics are detached.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.heads import HEADS
from kgnlu.encoders.outputs import EncoderOutput
from kgnlu.errors import ConfigError
from kgnlu.registry import Registry

IGNORE = -100
#: objective name → class; ``OBJECTIVES.get("mlm")(encoder)``
OBJECTIVES: Registry[type[nn.Module]] = Registry("pretraining objective")


class Objective(nn.Module):
    """Base class: ``forward(batch, output) -> {"loss": ..., "accuracy": ..., ...}``."""

    #: False when the objective runs the encoder itself (it then gets ``output=None``)
    uses_output = True
    #: batch keys the objective reads (checked before the first forward, with a clear message)
    requires: tuple[str, ...] = ()

    def check_batch(self, batch: Mapping[str, torch.Tensor], name: str) -> None:
        missing = [key for key in self.requires if key not in batch]
        if missing:
            raise ConfigError(f"objective {name!r} needs batch fields {missing}, but the batch has "
                              f"{sorted(batch)}; build instances of a kind that provides them")

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None) -> dict[str, torch.Tensor]:
        raise NotImplementedError


def build_head(name: str, encoder: Encoder) -> nn.Module:
    """``HEADS.get(name)(encoder.config, encoder)``: heads never re-initialise encoder weights."""
    return HEADS.get(name)(encoder.config, encoder)


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Share of rows (M, C) whose argmax is the label (M,); labels -100 are skipped; 0 when none count."""
    keep = labels != IGNORE
    total = keep.sum()
    correct = ((logits.detach().argmax(-1) == labels) & keep).sum()
    return (correct.float() / total.clamp(min=1)).detach()


def safe_loss(loss: torch.Tensor | None, rows: torch.Tensor) -> torch.Tensor:
    """The head's loss, or an attached zero when no row was labelled (a mean over 0 rows is NaN)."""
    if loss is None or rows.shape[0] == 0:
        return rows.float().sum() * 0.0
    return loss
