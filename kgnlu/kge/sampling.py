"""Negative sampling for sLCWA training.

Each positive gets ``num_negatives`` corruptions, half with a new tail and half with a new head
(the tail half takes the odd one), drawn uniformly from all entities, as PyKEEN's basic sampler.
With ``shared=True`` one set of candidates is drawn per batch and every positive is scored
against it (Ruffinelli et al.'s "shared negatives", also DGL-KE's "chunked" sampling): the same
number of negatives per positive, but one embedding gather of k rows instead of B·k and a
[B, k] score matrix from one ``compare_all``. Self-adversarial weighting (Sun et al. 2019) is
applied to the resulting scores by :mod:`kgnlu.kge.losses`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from kgnlu.errors import ConfigError


@dataclass
class SamplingConfig:
    num_negatives: int = 32  # per positive, heads and tails together
    shared: bool = True  # candidates shared by groups of positives (faster); False = independent per positive
    chunk_size: int = 32  # positives per shared candidate set (DGL-KE's "chunks"); 0 = the whole batch
    weighting: str = "uniform"  # "uniform" or "self_adversarial" (softmax over negative scores)
    adversarial_temperature: float = 1.0  # α of the self-adversarial softmax

    def __post_init__(self) -> None:
        if self.num_negatives < 1:
            raise ConfigError(f"sampling.num_negatives must be ≥ 1, got {self.num_negatives}")
        if self.chunk_size < 0:
            raise ConfigError(f"sampling.chunk_size must be ≥ 0, got {self.chunk_size}")
        if self.weighting not in ("uniform", "self_adversarial"):
            raise ConfigError(f"sampling.weighting must be 'uniform' or 'self_adversarial', got {self.weighting!r}")

    @property
    def num_tail(self) -> int:
        return (self.num_negatives + 1) // 2

    @property
    def num_head(self) -> int:
        return self.num_negatives // 2


MASKED_SCORE = -1e4


def negative_scores(model, batch: torch.Tensor, config: SamplingConfig,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """batch [B, 3] → (positive scores [B], negative scores [B, k]); candidates drawn on the CPU
    from ``generator`` (None: torch's global RNG)."""
    n, device = model.num_entities, batch.device
    h_ids, r_ids, t_ids = batch[:, 0], batch[:, 1], batch[:, 2]
    h, r, t = model.entities(h_ids), model.relations(r_ids), model.entities(t_ids)  # [B, D]
    q_t = model.query_t(h, r)  # [B, D]
    positive = model.compare(q_t, t)  # [B]
    parts, drawn = [], []  # scores [B, k_*] and the candidate ids behind them [B or G, k_*]
    if config.shared:
        chunk = config.chunk_size or len(batch)
        groups = -(-len(batch) // chunk)
        cand = torch.randint(n, (groups, config.num_negatives), generator=generator).to(device)  # [G, k]
        group = torch.arange(len(batch), device=device) // chunk  # [B]
        if config.num_tail:
            parts.append(_grouped_scores(model, q_t, cand[:, :config.num_tail], chunk))  # [B, k_t]
            drawn.append(cand[group, :config.num_tail] == t_ids.unsqueeze(1))
        if config.num_head:
            parts.append(_grouped_scores(model, model.query_h(r, t), cand[:, config.num_tail:], chunk))  # [B, k_h]
            drawn.append(cand[group, config.num_tail:] == h_ids.unsqueeze(1))
    else:
        cand = torch.randint(n, (len(batch), config.num_negatives), generator=generator).to(device)  # [B, k]
        if config.num_tail:
            e = model.entities(cand[:, :config.num_tail])  # [B, k_t, D]
            parts.append(model.compare(q_t.unsqueeze(1), e))
            drawn.append(cand[:, :config.num_tail] == t_ids.unsqueeze(1))
        if config.num_head:
            e = model.entities(cand[:, config.num_tail:])  # [B, k_h, D]
            parts.append(model.compare(model.query_h(r, t).unsqueeze(1), e))
            drawn.append(cand[:, config.num_tail:] == h_ids.unsqueeze(1))
    # A candidate equal to the positive's own entity is the positive itself, not a negative (PyKEEN
    # never draws it; on a 14-entity graph it would be 1 in 14). Its score becomes a large negative
    # number, which every loss maps to ~0 and the self-adversarial softmax to weight ~0.
    negative = torch.cat(parts, dim=1).masked_fill(torch.cat(drawn, dim=1), MASKED_SCORE)
    return positive, negative


def _grouped_scores(model, q: torch.Tensor, cand: torch.Tensor, chunk: int) -> torch.Tensor:
    """q [B, D], cand [G, k] (G = ceil(B / chunk)) → [B, k]: rows of group g meet candidates g."""
    groups, size = cand.shape[0], q.shape[0]
    if groups == 1:
        return model.compare_all(q, model.entities(cand[0]))
    pad = groups * chunk - size
    if pad:
        q = torch.cat([q, q.new_zeros(pad, q.shape[1])])
    scores = model.compare_all(q.view(groups, chunk, -1), model.entities(cand))  # [G, chunk, k]
    return scores.reshape(groups * chunk, -1)[:size]


def adversarial_weights(negative: torch.Tensor, config: SamplingConfig) -> torch.Tensor | None:
    """negative [B, k] → weights [B, k] summing to 1 per row (no gradient), or None if uniform."""
    if config.weighting == "uniform":
        return None
    return torch.softmax(negative.detach() * config.adversarial_temperature, dim=-1)
