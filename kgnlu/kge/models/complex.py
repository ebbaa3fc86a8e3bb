"""ComplEx: score(h, r, t) = Re(sum_i h_i r_i conj(t_i)) over complex vectors.

With q = h∘r the tail score is Re(<q, conj(t)>) = q_re·t_re + q_im·t_im, a real dot product of the
[re | im] halves; for heads, Re(h r conj(t)) = Re(conj(h) conj(r) t) = h_re·p_re + h_im·p_im with
p = conj(r)∘t. Both sides are therefore one matrix product against all entities.
"""

from __future__ import annotations

import torch
from torch import nn

from kgnlu.kge.models.base import BilinearModel, join_complex, split_complex
from kgnlu.kge.models.registry import MODELS


@MODELS.register("complex")
class ComplEx(BilinearModel):
    citation = "Trouillon et al. 2016, Complex Embeddings for Simple Link Prediction (ICML)"
    complex_valued = True

    def reset_parameters(self) -> None:
        with torch.no_grad():  # PyKEEN: normal_ for both tables
            if hasattr(self.entities, "weight"):
                nn.init.normal_(self.entities.weight)
            nn.init.normal_(self.relations.weight)

    def query_t(self, h: torch.Tensor, r: torch.Tensor) -> torch.Tensor:  # h∘r, [..., 2d]
        (hr, hi), (rr, ri) = split_complex(h), split_complex(r)
        return join_complex(hr * rr - hi * ri, hr * ri + hi * rr)

    def query_h(self, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:  # conj(r)∘t, [..., 2d]
        (rr, ri), (tr, ti) = split_complex(r), split_complex(t)
        return join_complex(rr * tr + ri * ti, rr * ti - ri * tr)
