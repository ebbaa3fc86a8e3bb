"""RotatE: a relation is a rotation in the complex plane, score(h, r, t) = -||h∘r - t||.

Relations are kept at unit modulus (|r_i| = 1) after every step, so rotating the tail back,
t∘conj(r), gives the same distance: ||h∘r - t|| = ||h - t∘conj(r)||. Two norms (``model.distance``):

- ``modulus`` (the paper, and Sun et al.'s code): Σ_i |h_i r_i - t_i|, the modulus of each complex
  coordinate summed (an L1 norm over complex moduli); the paper's margins γ are on this scale;
- ``l2`` (PyKEEN's definition, kgnlu's default so saved models keep their scores): the L2 norm over
  the 2d real coordinates, which makes ranking one ``cdist`` per chunk. For d > 1 it is smaller
  (between 1/√d of the modulus sum and the sum itself), so γ tuned on one does not carry over.
"""

from __future__ import annotations

import math

import torch

from kgnlu.kge.models.base import DistanceModel, join_complex, split_complex, xavier_uniform_
from kgnlu.kge.models.registry import MODELS

BLOCK_ELEMENTS = 1 << 24  # floats in one block of the modulus ranking (64 MiB)


def complex_moduli(x: torch.Tensor) -> torch.Tensor:
    """[..., 2d] as [re | im] → [..., d] moduli sqrt(re² + im²) (vector_norm: a zero gradient at 0, not nan)."""
    re, im = split_complex(x)
    return torch.linalg.vector_norm(torch.stack([re, im], dim=-1), dim=-1)


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

    def compare(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        if self.config.distance == "l2":
            return super().compare(q, e)
        return -complex_moduli(q - e).sum(dim=-1)  # [..., 2d] → [...]

    def compare_all(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        if self.config.distance == "l2":
            return super().compare_all(q, e)
        # q [..., B, 2d] against e [..., N, 2d] → [..., B, N], a block of queries at a time so the
        # [block, N, d] difference stays near BLOCK_ELEMENTS floats
        block = max(1, BLOCK_ELEMENTS // max(1, e.shape[-2] * e.shape[-1]))
        parts = [self.compare(q[..., i:i + block, None, :], e.unsqueeze(-3)) for i in range(0, q.shape[-2], block)]
        return torch.cat(parts, dim=-2)

    @torch.no_grad()
    def post_step(self, entity_rows: torch.Tensor | None = None) -> None:
        super().post_step(entity_rows)
        # relations: all rows every step (a few hundred at most, so cheaper than finding the touched ones)
        re, im = split_complex(self.relations.weight)  # views: normalised in place
        modulus = torch.sqrt(re * re + im * im).clamp_min(1e-12)
        re.div_(modulus)
        im.div_(modulus)
