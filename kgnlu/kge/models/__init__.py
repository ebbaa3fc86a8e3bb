"""KGE models, one per file, registered by name in :data:`MODELS`."""

from __future__ import annotations

from torch import nn

from kgnlu.kge.models import complex, distmult, rotate, transe  # noqa: F401  (registers the models)
from kgnlu.kge.models.base import KGEModel, ModelConfig
from kgnlu.kge.models.registry import MODELS

__all__ = ["MODELS", "KGEModel", "ModelConfig", "build_model"]


def build_model(config: ModelConfig, num_entities: int, num_relations: int,
                entities: nn.Module | None = None) -> KGEModel:
    """The registered model ``config.name`` with fresh parameters (seed torch first)."""
    return MODELS.get(config.name)(config, num_entities, num_relations, entities)
