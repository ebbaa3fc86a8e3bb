"""PretrainingModel: one Encoder trained with any weighted mix of objectives, ready for the Trainer.

    model = PretrainingModel(Encoder(EncoderConfig.albert(...)), {"mlm": 1.0, "sop": 1.0})
    out = model(**batch)      # {"loss", "mlm_loss", "mlm_accuracy", "sop_loss", "sop_accuracy"}
    model.save_pretrained("runs/albert/encoder")      # the encoder alone, HF layout where it has one

``loss`` is Σ weight · objective loss. Every other key is ``<objective>_<name>`` of what the
objective returned (its ``loss`` becomes ``<objective>_loss``); losses stay differentiable,
metrics are detached. The encoder runs once per batch on ``input_ids`` and its output is shared by
every objective that reads it; ELECTRA's ``rtd`` runs generator and discriminator itself.

Fusion: ``encoder`` may be a :class:`kgnlu.fusion.KGEncoder`; the batch's ``entity_*`` tensors
(:meth:`kgnlu.fusion.EntityInputs.to_batch`) then go to it as ``entities=``, and the KG objectives
``dea``, ``ke``, ``el`` (kgnlu.fusion.objectives, registered when kgnlu.fusion is imported, as it is
by whoever built the KGEncoder) mix with the others by weight. An objective with a
``prepare_batch(batch) -> batch`` method (``dea``'s entity corruption) changes the batch before the
encoder runs; the others then see the changed batch too.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.base import OBJECTIVES
from kgnlu.errors import ConfigError

ENCODER_INPUTS = ("attention_mask", "token_type_ids", "position_ids")


class PretrainingModel(nn.Module):
    def __init__(self, encoder: Encoder, objectives: Mapping[str, float],
                 options: Mapping[str, Mapping[str, Any]] | None = None):
        super().__init__()
        if not objectives:
            raise ConfigError("PretrainingModel needs at least one objective, e.g. {'mlm': 1.0}")
        options = dict(options or {})
        stray = sorted(set(options) - set(objectives))
        if stray:
            raise ConfigError(f"options given for objectives {stray} that are not trained ({', '.join(objectives)})")
        self.encoder = encoder
        self.weights: dict[str, float] = {}
        self.objectives = nn.ModuleDict()
        for name, weight in objectives.items():
            if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
                raise ConfigError(f"objective {name!r} weight must be a number >= 0, got {weight!r}")
            try:
                self.objectives[name] = OBJECTIVES.get(name)(encoder, **dict(options.get(name) or {}))
            except TypeError as err:
                raise ConfigError(f"objective {name!r}: bad options {dict(options.get(name) or {})}: {err}") from None
            self.weights[name] = float(weight)
        self._checked = False

    @property
    def config(self):
        return self.encoder.config

    def forward(self, input_ids: torch.Tensor, **batch: torch.Tensor) -> dict[str, torch.Tensor]:
        batch = {"input_ids": input_ids, **batch}
        if not self._checked:
            for name, objective in self.objectives.items():
                objective.check_batch(batch, name)
            self._checked = True
        for objective in self.objectives.values():
            prepare = getattr(objective, "prepare_batch", None)
            if prepare is not None:
                batch = prepare(batch)
        output = None
        if any(objective.uses_output for objective in self.objectives.values()):
            inputs = {k: batch[k] for k in ENCODER_INPUTS if k in batch}
            if getattr(self.encoder, "accepts_entities", False) and "entity_ids" in batch:
                # the fused encoder reads its own inputs, so this layer never imports kgnlu.fusion
                inputs["entities"] = self.encoder.entities_from_batch(batch)
            output = self.encoder(batch["input_ids"], **inputs)
        result: dict[str, torch.Tensor] = {}
        total = None
        for name, objective in self.objectives.items():
            parts = objective(batch, output if objective.uses_output else None)
            term = self.weights[name] * parts["loss"]
            total = term if total is None else total + term
            result.update({f"{name}_{key}": value for key, value in parts.items()})
        return {"loss": total, **result}

    def save_pretrained(self, path: str | Path, hf_format: bool | None = None) -> Path:
        """Save the encoder alone (heads and ELECTRA's generator are pretraining scaffolding)."""
        return self.encoder.save_pretrained(path, hf_format)
