"""DistMult: a diagonal bilinear form, score(h, r, t) = sum_i h_i r_i t_i."""

from __future__ import annotations

import torch

from kgnlu.kge.models.base import BilinearModel, unit_rows_, xavier_normal_, xavier_uniform_
from kgnlu.kge.models.registry import MODELS


@MODELS.register("distmult")
class DistMult(BilinearModel):
    citation = "Yang et al. 2015, Embedding Entities and Relations for Learning and Inference in KBs (ICLR)"
    normalize_entities_default = True  # PyKEEN's default entity constrainer

    def reset_parameters(self) -> None:
        with torch.no_grad():
            if hasattr(self.entities, "weight"):
                xavier_uniform_(self.entities.weight)
            unit_rows_(xavier_normal_(self.relations.weight))

    def query_t(self, h: torch.Tensor, r: torch.Tensor) -> torch.Tensor:  # [..., D]
        return h * r

    def query_h(self, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # symmetric: [..., D]
        return r * t
