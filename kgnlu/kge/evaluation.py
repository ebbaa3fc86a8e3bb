"""Filtered rank-based evaluation: MRR and Hits@k on both sides, realistic ranks for ties.

For each test triple (h, r, t) the tail side scores (h, r, e) for every entity e and the head side
(e, r, t). Other known answers (train + valid + test) are removed ("filtered"). With s the true
score, the optimistic rank is 1 + #{e: s_e > s} and the pessimistic rank #{e: s_e ≥ s} (the true
entity counts itself); the realistic rank is their mean, the expected rank under a random order
of ties (Berrendorf et al. 2020, PyKEEN's default). Work is vectorised over all entities, in
chunks of ``batch_size`` queries so memory stays at O(batch_size · N).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from kgnlu.kge.data import KGEData

HITS_AT = (1, 3, 10)


@dataclass
class EvalResult:
    mrr: float
    hits: dict[int, float]  # k → Hits@k
    mean_rank: float
    num_ranks: int  # 2 × triples
    seconds: float
    side: dict[str, dict[str, float]]  # "head"/"tail" → {"mrr": ..., "hits@10": ...}

    def to_dict(self) -> dict:
        return {"mrr": self.mrr, **{f"hits@{k}": v for k, v in self.hits.items()},
                "mean_rank": self.mean_rank, "num_ranks": self.num_ranks, "seconds": self.seconds,
                "side": self.side}


def realistic_ranks(scores: torch.Tensor, targets: torch.Tensor,
                    filter_rows: torch.Tensor | None = None,
                    filter_cols: torch.Tensor | None = None) -> torch.Tensor:
    """scores [B, N] (modified in place), targets [B], filtered positions (rows [K], cols [K]) →
    realistic ranks [B] (float; x.5 where the true entity ties with others)."""
    rows = torch.arange(len(targets), device=scores.device)
    true = scores[rows, targets].clone()  # [B]
    if filter_rows is not None and len(filter_rows):
        scores[filter_rows, filter_cols] = float("-inf")
    scores[rows, targets] = true  # the true answer itself is never filtered
    true = true.unsqueeze(1)
    optimistic = (scores > true).sum(dim=1) + 1  # [B]
    pessimistic = (scores >= true).sum(dim=1)  # [B], ≥ 1
    return 0.5 * (optimistic + pessimistic).to(torch.float64)


@torch.no_grad()
def rank_triples(model, triples: torch.Tensor, data: KGEData | None, batch_size: int = 256,
                 filtered: bool = True) -> dict[str, torch.Tensor]:
    """triples [T, 3] → {"head": ranks [T], "tail": ranks [T]} (float64, on CPU)."""
    device = next(model.parameters()).device
    triples = triples.to(device)
    was_training = model.training
    model.eval()
    entities = model.entities.all()  # [N, D], computed once (text-derived tables included)
    out: dict[str, list[torch.Tensor]] = {"head": [], "tail": []}
    filters = {side: data.filter_index(side, device) for side in out} if filtered and data is not None else {}
    for start in range(0, len(triples), batch_size):
        batch = triples[start:start + batch_size]  # [B, 3]
        h, r, t = entities[batch[:, 0]], batch[:, 1], entities[batch[:, 2]]
        for side in ("tail", "head"):
            if side == "tail":
                scores = model.compare_all(model.query_t(h, model.relations(r)), entities)  # [B, N]
                target = batch[:, 2]
            else:
                scores = model.compare_all(model.head_query(r, t), entities)  # [B, N]
                target = batch[:, 0]
            rows = cols = None
            if side in filters:
                rows, cols = filters[side].mask_positions(batch)
            out[side].append(realistic_ranks(scores, target, rows, cols).cpu())
    model.train(was_training)
    return {side: torch.cat(v) if v else torch.zeros(0, dtype=torch.float64) for side, v in out.items()}


def metrics_from_ranks(ranks: torch.Tensor) -> dict[str, float]:
    if len(ranks) == 0:
        return {"mrr": 0.0, **{f"hits@{k}": 0.0 for k in HITS_AT}, "mean_rank": 0.0}
    return {"mrr": float((1.0 / ranks).mean()),
            **{f"hits@{k}": float((ranks <= k).to(torch.float64).mean()) for k in HITS_AT},
            "mean_rank": float(ranks.mean())}


def evaluate(model, data: KGEData, split: str = "test", batch_size: int = 256,
             filtered: bool = True, max_triples: int | None = None) -> EvalResult:
    """Filtered MRR / Hits@1,3,10 of ``model`` on ``data``'s ``split``, both sides together."""
    start = time.perf_counter()
    triples = data.split(split)
    if max_triples is not None:
        triples = triples[:max_triples]
    ranks = rank_triples(model, triples, data, batch_size=batch_size, filtered=filtered)
    both = torch.cat([ranks["head"], ranks["tail"]])
    overall = metrics_from_ranks(both)
    return EvalResult(mrr=overall["mrr"], hits={k: overall[f"hits@{k}"] for k in HITS_AT},
                      mean_rank=overall["mean_rank"], num_ranks=len(both),
                      seconds=time.perf_counter() - start,
                      side={s: metrics_from_ranks(v) for s, v in ranks.items()})
