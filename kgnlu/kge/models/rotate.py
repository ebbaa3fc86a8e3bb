"""RotatE: a relation is a rotation in the complex plane, score(h, r, t) = -||h∘r - t||.

Relations are kept at unit modulus (|r_i| = 1) after every step, so rotating the tail back,
t∘conj(r), gives the same distance: ||h∘r - t|| = ||h - t∘conj(r)||. The norm is the L2 norm over
the complex coordinates (PyKEEN's definition), which makes ranking one ``cdist`` per chunk.
"""

from __future__ import annotations

import math

import torch

from kgnlu.kge.models.base import DistanceModel, join_complex, split_complex, xavier_uniform_
from kgnlu.kge.models.registry import MODELS


@MODELS.register("rotate")
class RotatE(DistanceModel):
    citation = "Sun et al. 2019, RotatE: Knowledge Graph Embedding by Relational Rotation in Complex Space (ICLR)"
    complex_valued = True

    def reset_parameters(self) -> None:
        with torch.no_grad():
            if hasattr(self.entities, "weight"):
                xavier_uniform_(self.entities.weight)
            phases = 2 * math.pi * torch.rand(self.relations.num, self.config.dim)  # PyKEEN's init_phases
            self.relations.weight.copy_(join_complex(torch.cos(phases), torch.sin(phases)))

    def query_t(self, h: torch.Tensor, r: torch.Tensor) -> torch.Tensor:  # h∘r, [..., 2d]
        (hr, hi), (rr, ri) = split_complex(h), split_complex(r)
        return join_complex(hr * rr - hi * ri, hr * ri + hi * rr)

    def query_h(self, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # t∘conj(r), [..., 2d]
        (rr, ri), (tr, ti) = split_complex(r), split_complex(t)
        return join_complex(tr * rr + ti * ri, ti * rr - tr * ri)

    @torch.no_grad()
    def post_step(self, entity_rows: torch.Tensor | None = None) -> None:
        super().post_step(entity_rows)
        # relations: all rows every step (a few hundred at most, so cheaper than finding the touched ones)
        re, im = split_complex(self.relations.weight)  # views: normalised in place
        modulus = torch.sqrt(re * re + im * im).clamp_min(1e-12)
        re.div_(modulus)
        im.div_(modulus)
