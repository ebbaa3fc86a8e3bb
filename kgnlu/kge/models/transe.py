"""TransE: a relation is a translation, score(h, r, t) = -||h + r - t||_p."""

from __future__ import annotations

import torch

from kgnlu.kge.models.base import DistanceModel, unit_rows_, xavier_uniform_
from kgnlu.kge.models.registry import MODELS


@MODELS.register("transe")
class TransE(DistanceModel):
    citation = "Bordes et al. 2013, Translating Embeddings for Modeling Multi-relational Data (NeurIPS)"
    normalize_entities_default = True  # the paper (and PyKEEN) keep entities on the unit sphere

    def reset_parameters(self) -> None:
        with torch.no_grad():
            if hasattr(self.entities, "weight"):
                xavier_uniform_(self.entities.weight)
            unit_rows_(xavier_uniform_(self.relations.weight))

    def query_t(self, h: torch.Tensor, r: torch.Tensor) -> torch.Tensor:  # [..., D]
        return h + r

    def query_h(self, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # [..., D]
        return t - r
