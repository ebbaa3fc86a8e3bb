"""KGEModel: an interaction function over an entity and a relation representation.

Every model is written as a *query* and a *comparison*, which is what makes scoring against all
entities fast:

- ``query_t(h, r)`` turns a head and a relation into a vector ``q`` that is compared with every
  candidate tail; ``query_h(r, t)`` does the same for candidate heads;
- ``compare(q, e)`` scores aligned pairs (broadcasting), ``compare_all(q, E)`` scores every row of
  ``q`` against every row of ``E`` (a matrix product for the bilinear models, ``cdist`` for the
  distance models).

So ``score(h, r, t) = compare(query_t(h, r), t) = compare(query_h(r, t), h)``, and ranking a
query against all entities is one ``compare_all`` over an entity chunk. Vectors are real tensors;
the complex models (ComplEx, RotatE) store ``[re | im]`` halves, so a complex dimension ``d`` is
``2d`` real numbers (PyKEEN's convention for ``embedding_dim``: ``dim`` is the complex dimension).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from kgnlu.errors import ConfigError


@dataclass
class ModelConfig:
    name: str = "rotate"  # a key of kgnlu.kge.models.MODELS
    dim: int = 200  # embedding dimension (complex dimension for ComplEx and RotatE)
    p: int = 2  # norm of the distance models: TransE L1 (PyKEEN's default is 1) or L2; RotatE uses 2
    normalize_entities: bool | None = None  # unit-norm entity rows after each step; None = the model's default
    init_scale: float = 1.0  # multiplies the initial tables; 1-N ComplEx wants ~1e-3 (Lacroix et al. 2018)
    # A second relation row r⁻¹ per relation (PyKEEN's create_inverse_triples): a head query (?, r, t)
    # is asked as the tail query (t, r⁻¹, ?) instead of through query_h, so the head side gets its
    # own parameters. Off: the models' query_h is already the exact inverse of query_t.
    inverse_relations: bool = False
    # RotatE's distance: "l2" = L2 norm over the 2d real coordinates (PyKEEN; kgnlu's default, so saved
    # models keep their scores), "modulus" = the paper's Σ_i |(h∘r - t)_i|, an L1 norm over the d complex
    # moduli, under which the paper's margins γ carry over. Other models must leave it at "l2".
    distance: str = "l2"

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ConfigError(f"model.dim must be positive, got {self.dim}")
        if self.p not in (1, 2):
            raise ConfigError(f"model.p must be 1 or 2, got {self.p}")
        if self.distance not in ("l2", "modulus") or (self.distance == "modulus" and self.name != "rotate"):
            raise ConfigError(f"model.distance must be l2, or modulus for rotate (got {self.distance!r} for "
                              f"{self.name}); modulus is RotatE's sum of complex moduli")


class EmbeddingTable(nn.Module):
    """A plain lookup table: ``weight`` [N, D].

    ``sparse = True`` makes lookups produce sparse (row) gradients, for the lazy optimisers of
    :mod:`kgnlu.kge.sparse`; ``all()`` still gives dense ones, so 1-N training keeps it off.
    """

    def __init__(self, num: int, dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num, dim))
        self.sparse = False
        # called with the ids before a training lookup: a lazy optimiser brings them up to date
        self.before_lookup: Callable[[torch.Tensor], None] | None = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:  # ids [...] → [..., D]
        if self.sparse:
            if self.before_lookup is not None and torch.is_grad_enabled():
                self.before_lookup(ids)
            return nn.functional.embedding(ids, self.weight, sparse=True)
        return self.weight[ids]

    def all(self) -> torch.Tensor:  # [N, D]
        return self.weight

    @property
    def num(self) -> int:
        return self.weight.shape[0]


def xavier_uniform_(w: torch.Tensor) -> torch.Tensor:
    """PyKEEN's ``xavier_uniform_``: U(-b, b) with b = sqrt(6 / D) (fan-in 0, fan-out D)."""
    bound = math.sqrt(6.0 / w.shape[-1])
    return nn.init.uniform_(w, -bound, bound)


def xavier_normal_(w: torch.Tensor) -> torch.Tensor:
    return nn.init.normal_(w, std=math.sqrt(2.0 / w.shape[-1]))


def unit_rows_(w: torch.Tensor) -> torch.Tensor:
    """Rows scaled to unit L2 norm, in place."""
    return w.div_(w.norm(dim=-1, keepdim=True).clamp_min(1e-12))


def split_complex(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[..., 2d] → (re [..., d], im [..., d])."""
    return x.chunk(2, dim=-1)


def join_complex(re: torch.Tensor, im: torch.Tensor) -> torch.Tensor:
    return torch.cat([re, im], dim=-1)


class KGEModel(nn.Module):
    """Base class. Subclasses set ``entity_width``/``relation_width`` multipliers, ``citation``,
    and implement ``query_t``, ``query_h``, ``compare``, ``compare_all`` and ``reset_parameters``."""

    citation: str = ""
    complex_valued: bool = False  # stores [re | im] halves
    bilinear: bool = False  # compare is a dot product (1-N training and matmul ranking)
    normalize_entities_default: bool = False  # PyKEEN's entity constrainer (TransE, DistMult)

    def __init__(self, config: ModelConfig, num_entities: int, num_relations: int,
                 entities: nn.Module | None = None):
        super().__init__()
        self.config = config
        self.num_entities, self.num_relations = num_entities, num_relations
        width = 2 * config.dim if self.complex_valued else config.dim
        self.width = width
        # ``entities`` may be a text-derived representation (kgnlu.kge.text_init); it must map
        # ids [...] → [..., width] and offer .all() → [N, width].
        self.entities = entities if entities is not None else EmbeddingTable(num_entities, width)
        # [R, D], or [2R, D] with inverse relations (rows R..2R-1 are r⁻¹)
        self.relations = EmbeddingTable(num_relations * (2 if config.inverse_relations else 1), width)
        norm = config.normalize_entities
        self.normalize_entities = self.normalize_entities_default if norm is None else norm
        self.reset_parameters()
        if config.init_scale != 1.0:
            with torch.no_grad():
                for p in self.parameters():
                    p.mul_(config.init_scale)

    # -- to implement ----------------------------------------------------------------------
    def reset_parameters(self) -> None:
        raise NotImplementedError

    def query_t(self, h: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """h, r [..., D] → q [..., D] to compare with candidate tails."""
        raise NotImplementedError

    def query_h(self, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """r, t [..., D] → q [..., D] to compare with candidate heads."""
        raise NotImplementedError

    def compare(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """q, e [..., D] (broadcasting) → scores [...]; higher is more plausible."""
        raise NotImplementedError

    def compare_all(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """q [B, D], e [N, D] → scores [B, N]; or batched q [G, B, D], e [G, N, D] → [G, B, N]."""
        raise NotImplementedError

    # -- shared --------------------------------------------------------------------------------
    def head_query(self, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Relation ids r [B], tail vectors t [B, D] → q [B, D] to compare with candidate heads:
        ``query_h(r, t)``, or with inverse relations ``query_t(t, r⁻¹)``. Training and ranking both
        go through here, so they score heads the same way."""
        if self.config.inverse_relations:
            return self.query_t(t, self.relations(r + self.num_relations))
        return self.query_h(self.relations(r), t)

    def score_hrt(self, h: torch.Tensor, r: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Index tensors h, r, t [B] → scores [B]."""
        return self.compare(self.query_t(self.entities(h), self.relations(r)), self.entities(t))

    def score_t(self, h: torch.Tensor, r: torch.Tensor, tails: torch.Tensor | None = None) -> torch.Tensor:
        """h, r [B] → scores [B, N] against ``tails`` [N] (default: every entity)."""
        e = self.entities.all() if tails is None else self.entities(tails)
        return self.compare_all(self.query_t(self.entities(h), self.relations(r)), e)

    def score_h(self, r: torch.Tensor, t: torch.Tensor, heads: torch.Tensor | None = None) -> torch.Tensor:
        """r, t [B] → scores [B, N] against ``heads`` [N] (default: every entity)."""
        e = self.entities.all() if heads is None else self.entities(heads)
        return self.compare_all(self.head_query(r, self.entities(t)), e)

    @torch.no_grad()
    def post_step(self, entity_rows: torch.Tensor | None = None) -> None:
        """Constraints applied after each optimiser step (PyKEEN's constrainers).

        ``entity_rows`` limits them to the entity rows the step changed (lazy optimisers leave the
        others untouched, and those already satisfy the constraint); None = every row.
        """
        if self.normalize_entities and isinstance(self.entities, EmbeddingTable):
            w = self.entities.weight
            if entity_rows is None:
                unit_rows_(w)
            else:
                w.index_copy_(0, entity_rows, unit_rows_(w.index_select(0, entity_rows)))

    def entity_matrix(self) -> torch.Tensor:
        """All entity vectors [N, D] (real view), detached, for export and similarity."""
        return self.entities.all().detach()

    def relation_matrix(self) -> torch.Tensor:
        return self.relations.all().detach()


class DistanceModel(KGEModel):
    """score = -||q - e||_p."""

    def compare(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return -torch.linalg.vector_norm(q - e, ord=self.config.p, dim=-1)

    def compare_all(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or self.config.p == 1:
            # exact (no |q|²+|e|²-2qe expansion), so gradients near zero distance stay finite
            return -torch.cdist(q, e, p=self.config.p, compute_mode="donot_use_mm_for_euclid_dist")
        # ranking: ||q-e||² = |q|² + |e|² - 2 q·e is one matrix product (≈40× cdist on CPU)
        squared = ((q * q).sum(dim=-1, keepdim=True) + (e * e).sum(dim=-1).unsqueeze(-2)
                   - 2.0 * (q @ e.transpose(-1, -2)))  # [B, N]
        return -squared.clamp_min_(0.0).sqrt_()


class BilinearModel(KGEModel):
    """score = <q, e>."""

    bilinear = True

    def compare(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return (q * e).sum(dim=-1)

    def compare_all(self, q: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return q @ e.transpose(-1, -2)
