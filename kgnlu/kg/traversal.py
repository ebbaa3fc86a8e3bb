"""Graph walks on CSR arrays: neighbours, k-hop subgraphs, relation paths. No networkx here.

Edges are triple rows. ``out_indptr[e]:out_indptr[e+1]`` are the rows whose head is e (triples
are sorted by head); ``in_index[in_indptr[e]:in_indptr[e+1]]`` are the rows whose tail is e.
Walks are undirected unless a direction is given: a path may follow an edge backwards, and each
step records which way it went.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

DIRECTIONS = ("out", "in", "both")


def gather(indptr: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(indptr[n], indptr[n+1])`` over ``nodes``, vectorised. int64 [sum]."""
    nodes = np.asarray(nodes, dtype=np.int64)
    starts = np.asarray(indptr[nodes], dtype=np.int64)
    lens = np.asarray(indptr[nodes + 1], dtype=np.int64) - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    # Each output position i in block j is starts[j] + (i - block_start[j]).
    block_start = np.cumsum(lens) - lens
    return np.repeat(starts - block_start, lens) + np.arange(total, dtype=np.int64)


@dataclass(frozen=True)
class Step:
    """One edge of a path: the triple (head, relation, tail) and whether it was walked forwards."""

    head: int
    relation: int
    tail: int
    forward: bool

    @property
    def source(self) -> int:
        return self.head if self.forward else self.tail

    @property
    def target(self) -> int:
        return self.tail if self.forward else self.head


@dataclass
class Subgraph:
    seeds: np.ndarray  # int64 [s] internal ids
    nodes: np.ndarray  # int64 [n] sorted internal ids, seeds included
    triples: np.ndarray  # int32 [k, 3] (head, relation, tail): every edge walked
    hops: int
    truncated: bool = False  # max_nodes cut the walk short


class CSRWalker:
    def __init__(self, triples: np.ndarray, out_indptr: np.ndarray, in_indptr: np.ndarray,
                 in_index: np.ndarray):
        self.triples = triples  # int32 [T, 3]
        self.out_indptr, self.in_indptr, self.in_index = out_indptr, in_indptr, in_index
        self.num_entities = len(out_indptr) - 1

    def edge_rows(self, nodes: np.ndarray, direction: str = "both") -> tuple[np.ndarray, np.ndarray]:
        """(rows, forward) of every edge touching ``nodes``: int64 [m], bool [m] (True = out-edge)."""
        parts, fwd = [], []
        if direction in ("out", "both"):
            r = gather(self.out_indptr, nodes)
            parts.append(r)
            fwd.append(np.ones(len(r), dtype=bool))
        if direction in ("in", "both"):
            r = np.asarray(self.in_index[gather(self.in_indptr, nodes)], dtype=np.int64)
            parts.append(r)
            fwd.append(np.zeros(len(r), dtype=bool))
        return np.concatenate(parts), np.concatenate(fwd)

    def neighbors(self, node: int, direction: str = "both",
                  relations: Iterable[int] | None = None) -> list[Step]:
        rows, forward = self.edge_rows(np.array([node]), direction)
        trip = np.asarray(self.triples[rows])
        if relations is not None:
            keep = np.isin(trip[:, 1], np.fromiter(relations, dtype=np.int64))
            trip, forward = trip[keep], forward[keep]
        return [Step(int(h), int(r), int(t), bool(f)) for (h, r, t), f in zip(trip, forward, strict=True)]

    def subgraph(self, seeds: Iterable[int], hops: int = 1, *, direction: str = "both",
                 relations: Iterable[int] | None = None, max_nodes: int | None = None) -> Subgraph:
        """Breadth-first ``hops`` steps from ``seeds``; ``max_nodes`` caps the node count."""
        seeds_arr = np.unique(np.fromiter(seeds, dtype=np.int64))
        rel_filter = None if relations is None else np.fromiter(relations, dtype=np.int64)
        visited = np.zeros(self.num_entities, dtype=bool)
        visited[seeds_arr] = True
        frontier, seen_rows, n_nodes, truncated = seeds_arr, [], len(seeds_arr), False
        for _ in range(hops):
            if len(frontier) == 0:
                break
            rows, forward = self.edge_rows(frontier, direction)
            trip = np.asarray(self.triples[rows])
            if rel_filter is not None:
                keep = np.isin(trip[:, 1], rel_filter)
                rows, trip, forward = rows[keep], trip[keep], forward[keep]
            other = np.where(forward, trip[:, 2], trip[:, 0]).astype(np.int64)
            new = np.unique(other[~visited[other]])
            if max_nodes is not None and n_nodes + len(new) > max_nodes:
                new = new[: max(0, max_nodes - n_nodes)]
                truncated = True
                rows = rows[visited[other] | np.isin(other, new)]  # keep edges inside the cut
            visited[new] = True
            n_nodes += len(new)
            seen_rows.append(rows)
            frontier = new
            if truncated:
                break
        rows = np.unique(np.concatenate(seen_rows)) if seen_rows else np.zeros(0, dtype=np.int64)
        return Subgraph(seeds=seeds_arr, nodes=np.flatnonzero(visited),
                        triples=np.asarray(self.triples[rows], dtype=np.int32).reshape(-1, 3),
                        hops=hops, truncated=truncated)

    def paths(self, source: int, target: int, max_hops: int = 3, limit: int = 100) -> list[list[Step]]:
        """Shortest paths (up to ``limit``, each ≤ ``max_hops`` edges) between two entities.

        Bidirectional breadth-first search: each side keeps, for every node it reached, the
        edges that first reached it; when the sides meet, paths are joined at the meeting nodes.
        """
        if source == target:
            return [[]]
        parents = ({source: []}, {target: []})  # node -> [(row, forward, previous node)]
        frontiers = [np.array([source]), np.array([target])]
        depth = [0, 0]
        while depth[0] + depth[1] < max_hops:
            side = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
            if len(frontiers[side]) == 0:
                return []
            frontiers[side] = self._expand(frontiers[side], parents[side])
            depth[side] += 1
            meet = [n for n in frontiers[side].tolist() if n in parents[1 - side]]
            if meet:
                return self._join(meet, parents, limit)
        return []

    def _expand(self, frontier: np.ndarray, parents: dict) -> np.ndarray:
        rows, forward = self.edge_rows(frontier)
        trip = np.asarray(self.triples[rows])
        prev = np.where(forward, trip[:, 0], trip[:, 2])
        other = np.where(forward, trip[:, 2], trip[:, 0])
        new_nodes = []
        fresh: dict[int, list] = {}
        for row, f, p, o in zip(rows.tolist(), forward.tolist(), prev.tolist(), other.tolist(),
                                strict=True):
            if o in parents:
                continue
            if o not in fresh:
                fresh[o] = []
                new_nodes.append(o)
            fresh[o].append((row, f, p))
        parents.update(fresh)
        return np.asarray(new_nodes, dtype=np.int64)

    def _walk_back(self, node: int, parents: dict, limit: int) -> list[list[Step]]:
        """Paths from the side's origin to ``node`` (origin first)."""
        if not parents[node]:
            return [[]]
        out: list[list[Step]] = []
        for row, forward, prev in parents[node]:
            h, r, t = (int(x) for x in self.triples[row])
            for head_path in self._walk_back(prev, parents, limit):
                out.append(head_path + [Step(h, r, t, forward)])
                if len(out) >= limit:
                    return out
        return out

    def _join(self, meet: list[int], parents: tuple[dict, dict], limit: int) -> list[list[Step]]:
        result: list[list[Step]] = []
        for node in meet:
            for left in self._walk_back(node, parents[0], limit):
                for right in self._walk_back(node, parents[1], limit):
                    # The target side walked towards ``node``; reverse it to walk away from it.
                    back = [Step(s.head, s.relation, s.tail, not s.forward) for s in reversed(right)]
                    result.append(left + back)
                    if len(result) >= limit:
                        return result
        return result
