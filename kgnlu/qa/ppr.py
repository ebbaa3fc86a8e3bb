"""Personalised PageRank on a retrieved subgraph (sparse power iteration, numpy only).

Walks restart at the topic entities with probability ``restart``; edges are walked both ways,
weighted by how relevant their relation is to the question, so mass flows along the relations
the question asks about. The score ranks answers the scored paths cannot tell apart.
"""

from __future__ import annotations

import numpy as np


def personalized_pagerank(num_nodes: int, edges: np.ndarray, edge_weight: np.ndarray,
                          seeds: np.ndarray, seed_weight: np.ndarray | None = None,
                          restart: float = 0.15, iterations: int = 30, tol: float = 1e-8) -> np.ndarray:
    """float64 [num_nodes], summing to 1.

    ``edges`` int [m, 2] (either orientation: walked both ways), ``edge_weight`` float [m] ≥ 0,
    ``seeds`` int [s] local node ids the walk restarts from (weighted by ``seed_weight``).
    Dangling nodes send their mass back to the seeds (the usual fix, so mass is conserved).
    """
    personal = np.zeros(num_nodes)
    np.add.at(personal, seeds, 1.0 if seed_weight is None else seed_weight)
    if personal.sum() <= 0:
        return np.full(num_nodes, 1.0 / max(num_nodes, 1))
    personal /= personal.sum()
    if len(edges) == 0:
        return personal
    src = np.concatenate([edges[:, 0], edges[:, 1]])
    dst = np.concatenate([edges[:, 1], edges[:, 0]])
    w = np.concatenate([edge_weight, edge_weight]).astype(np.float64)
    out_weight = np.bincount(src, weights=w, minlength=num_nodes)
    norm = np.where(out_weight[src] > 0, w / np.maximum(out_weight[src], 1e-300), 0.0)
    dangling = out_weight <= 0
    rank = personal.copy()
    for _ in range(iterations):
        spread = np.bincount(dst, weights=rank[src] * norm, minlength=num_nodes)
        new = (1 - restart) * (spread + rank[dangling].sum() * personal) + restart * personal
        if np.abs(new - rank).sum() < tol:
            rank = new
            break
        rank = new
    return rank
