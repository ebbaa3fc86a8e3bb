"""Graph walks on CSR arrays: neighbours, k-hop subgraphs, relation paths. No networkx here.

Edges are triple rows. ``out_indptr[e]:out_indptr[e+1]`` are the rows whose head is e (triples
are sorted by (head, relation, tail), so one head's rows are sorted by relation);
``in_index[in_indptr[e]:in_indptr[e+1]]`` are the rows whose tail is e (in head order, not by
relation). Walks are undirected unless a direction is given: a path may follow an edge
backwards, and each step records which way it went.

Bounded walks (issue 22): on a power-law graph every 2-hop walk meets a hub, so a walk must cost
what it returns, not the hubs' degrees. Three bounds, each read straight off the CSR:

* ``relations``: a head's out-rows are sorted by relation, so each relation's rows are found by
  binary search (O(log degree) reads); in-rows are filtered as read.
* ``fanout``: at most ``fanout`` edges per node, direction (and relation, out-side) — an evenly
  strided sample of the CSR slice, deterministic, the slice itself never read whole. In-side with
  ``relations``: the sample is taken first, then filtered (in-rows are not sorted by relation).
* ``max_nodes``: the walk reads edges in rounds, node by node, and stops once it has the nodes
  (then ``truncated``); kept nodes are those reached first (frontier in id order, each node's
  edges in CSR order). At most ``max(64·max_nodes, 65536)`` edges are read per walk.

``CSRWalker.edges_read`` counts the CSR entries a walk read (edge rows plus binary-search probes),
so tests bound the cost by counting, not by timing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from kgnlu.errors import ConfigError

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
    sampled: bool = False  # the fan-out cap sampled some node's edges (not every edge was walked)


class _Segments:
    """Edge positions as arithmetic runs: ``start + step·k`` for ``k < count``, one run per
    (node, direction[, relation]); ``inward`` runs index ``in_index``, the others triple rows.
    All arrays int64 [s] (``inward`` bool [s])."""

    def __init__(self, start, step, count, inward, node):
        self.start, self.step, self.count, self.inward, self.node = start, step, count, inward, node
        self.end = np.cumsum(count)  # virtual position where each run ends
        self.begin = self.end - count

    @property
    def total(self) -> int:
        return int(self.end[-1]) if len(self.end) else 0

    def expand(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, run index) of virtual positions ``lo:hi``: int64 [m], int64 [m]."""
        s0 = int(np.searchsorted(self.end, lo, side="right"))
        s1 = int(np.searchsorted(self.begin, hi, side="left"))
        k0 = np.maximum(lo - self.begin[s0:s1], 0)
        n = np.minimum(hi - self.begin[s0:s1], self.count[s0:s1]) - k0
        total = int(n.sum())
        if total <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        local = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        step = self.step[s0:s1]
        pos = np.repeat(self.start[s0:s1] + step * k0, n) + np.repeat(step, n) * local
        return pos, np.repeat(np.arange(s0, s1, dtype=np.int64), n)


def _runs(lo: np.ndarray, length: np.ndarray, fanout: int | None) -> tuple[np.ndarray, np.ndarray]:
    """(step, count) sampling ``length`` edges down to at most ``fanout`` with an even stride."""
    step = np.ones(len(length), dtype=np.int64)
    if fanout is not None:
        big = length > fanout
        step[big] = -(-length[big] // max(int(fanout), 1))  # ceil(length / fanout)
    return step, -(-length // step)


def _as_relations(relations) -> np.ndarray | None:
    if relations is None:
        return None
    if isinstance(relations, np.ndarray):
        return np.unique(relations.astype(np.int64))
    return np.unique(np.fromiter(relations, dtype=np.int64))


def _unique(x: np.ndarray) -> np.ndarray:
    """Sorted unique values by sort (np.unique's hash path measured ~20x slower on 10^5 ints)."""
    x = np.sort(x)
    return x[np.concatenate([[True], x[1:] != x[:-1]])] if len(x) else x


def _unique_first(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique values, index of each value's first occurrence in ``x``)."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    head = np.concatenate([[True], xs[1:] != xs[:-1]]) if len(xs) else np.zeros(0, dtype=bool)
    return xs[head], order[head]


def _member(sorted_set: np.ndarray, x: np.ndarray) -> np.ndarray:
    """bool [len(x)]: x in ``sorted_set`` (sorted, unique), by binary search."""
    if not len(sorted_set):
        return np.zeros(len(x), dtype=bool)
    i = np.minimum(np.searchsorted(sorted_set, x), len(sorted_set) - 1)
    return sorted_set[i] == x


class CSRWalker:
    # out-side relation filter: slices up to this long are read and filtered, longer ones are
    # binary-searched per relation (~2·log2(degree) probes each)
    SCAN_SLICE = 32

    def __init__(self, triples: np.ndarray, out_indptr: np.ndarray, in_indptr: np.ndarray,
                 in_index: np.ndarray):
        self.triples = triples  # int32 [T, 3]
        self.out_indptr, self.in_indptr, self.in_index = out_indptr, in_indptr, in_index
        self.num_entities = len(out_indptr) - 1
        self.edges_read = 0  # CSR entries read by walks so far (a cost counter for tests and benches)

    # -- edge runs -----------------------------------------------------------------------------
    def _lower_bound(self, lo: np.ndarray, hi: np.ndarray, rel: np.ndarray) -> np.ndarray:
        """int64 [n]: first row in ``lo:hi`` whose relation is >= ``rel`` (rows sorted by relation
        within one head); vectorised binary search, ~log2(hi - lo) probes per entry."""
        lo, hi = lo.copy(), hi.copy()
        col = self.triples
        while True:
            active = lo < hi
            if not active.any():
                return lo
            mid = (lo + hi) // 2
            idx = np.flatnonzero(active)
            self.edges_read += len(idx)
            right = np.zeros(len(lo), dtype=bool)
            right[idx] = np.asarray(col[mid[idx], 1]) < rel[idx]
            lo = np.where(active & right, mid + 1, lo)
            hi = np.where(active & ~right, mid, hi)

    def _out_runs(self, nodes: np.ndarray, rels: np.ndarray | None, fanout: int | None):
        lo = np.asarray(self.out_indptr[nodes], dtype=np.int64)
        length = np.asarray(self.out_indptr[nodes + 1], dtype=np.int64) - lo
        node = np.arange(len(nodes), dtype=np.int64)
        if rels is not None and len(nodes):
            # short slices are read whole and filtered later; long ones binary-searched per relation
            scan = length <= (self.SCAN_SLICE if fanout is None else min(self.SCAN_SLICE, fanout))
            big = np.flatnonzero(~scan)
            if len(big):
                # (node, relation) pairs, node-major then ascending relation: rows stay in CSR order
                b_node = np.repeat(big, len(rels))
                b_rel = np.tile(rels, len(big))
                b_lo, b_hi = lo[b_node], lo[b_node] + length[b_node]
                first = self._lower_bound(b_lo, b_hi, b_rel)
                last = self._lower_bound(first, b_hi, b_rel + 1)
                keep = last > first
                s_node = np.concatenate([np.flatnonzero(scan), b_node[keep]])
                s_lo = np.concatenate([lo[scan], first[keep]])
                s_len = np.concatenate([length[scan], (last - first)[keep]])
                order = np.argsort(s_node, kind="stable")
                node, lo, length = s_node[order], s_lo[order], s_len[order]
        step, count = _runs(lo, length, fanout)
        return lo, step, count, np.zeros(len(lo), dtype=bool), node

    def _in_runs(self, nodes: np.ndarray, fanout: int | None):
        lo = np.asarray(self.in_indptr[nodes], dtype=np.int64)
        length = np.asarray(self.in_indptr[nodes + 1], dtype=np.int64) - lo
        step, count = _runs(lo, length, fanout)
        return lo, step, count, np.ones(len(lo), dtype=bool), np.arange(len(nodes), dtype=np.int64)

    def _segments(self, nodes: np.ndarray, direction: str, rels: np.ndarray | None,
                  fanout: int | None, node_major: bool) -> _Segments:
        """Runs of ``nodes``' edges: direction-major (all out-runs, then in-runs: the order
        ``edge_rows`` always had) or node-major (each node's out-runs then in-runs)."""
        if direction not in DIRECTIONS:
            raise ConfigError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
        if fanout is not None and int(fanout) < 1:
            raise ConfigError(f"fanout must be at least 1 (edges sampled per node), got {fanout}; "
                              "pass None for every edge")
        parts = []
        if direction in ("out", "both"):
            parts.append(self._out_runs(nodes, rels, fanout))
        if direction in ("in", "both"):
            parts.append(self._in_runs(nodes, fanout))
        cols = [np.concatenate([p[i] for p in parts]) for i in range(5)]
        if node_major and len(parts) > 1:
            order = np.argsort(cols[4], kind="stable")
            cols = [c[order] for c in cols]
        return _Segments(*cols)

    def _read(self, segs: _Segments, lo: int, hi: int, rels: np.ndarray | None):
        """(rows, forward, triples) of virtual positions ``lo:hi``, relation-filtered:
        int64 [m], bool [m], int32 [m, 3]."""
        pos, run = segs.expand(lo, hi)
        self.edges_read += len(pos)
        inward = segs.inward[run]
        rows = pos.copy()
        if inward.any():
            rows[inward] = np.asarray(self.in_index[pos[inward]], dtype=np.int64)
        trip = np.asarray(self.triples[rows]).reshape(-1, 3)
        forward = ~inward
        if rels is not None:
            keep = np.isin(trip[:, 1], rels)
            rows, forward, trip = rows[keep], forward[keep], trip[keep]
        return rows, forward, trip

    # -- public walks --------------------------------------------------------------------------
    def edge_rows(self, nodes: np.ndarray, direction: str = "both", *, relations=None,
                  fanout: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, forward) of the edges touching ``nodes``: int64 [m], bool [m] (True = out-edge);
        out-edges first, then in-edges, each in node order. ``relations`` keeps only those
        relations; ``fanout`` samples at most that many edges per node and direction (module doc)."""
        nodes = np.asarray(nodes, dtype=np.int64).reshape(-1)
        rels = _as_relations(relations)
        segs = self._segments(nodes, direction, rels, fanout, node_major=False)
        rows, forward, _ = self._read(segs, 0, segs.total, rels)
        return rows, forward

    def relations_at(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """(out, in): the distinct relations of ``node``'s out- and in-edges, sorted int64 arrays.
        Out-side by galloping over the relation-sorted slice (one binary search per distinct
        relation, not a read of a hub's slice); in-side by reading the in-edges."""
        lo, hi = int(self.out_indptr[node]), int(self.out_indptr[node + 1])
        out = []
        while lo < hi:
            r = int(self.triples[lo, 1])
            out.append(r)
            self.edges_read += 1
            lo = int(self._lower_bound(np.array([lo]), np.array([hi]), np.array([r + 1]))[0])
        a, b = int(self.in_indptr[node]), int(self.in_indptr[node + 1])
        self.edges_read += b - a
        inward = np.unique(np.asarray(self.triples[np.asarray(self.in_index[a:b], dtype=np.int64), 1]))
        return np.asarray(out, dtype=np.int64), inward.astype(np.int64)

    def neighbors(self, node: int, direction: str = "both", relations: Iterable[int] | None = None,
                  fanout: int | None = None) -> list[Step]:
        rels = _as_relations(relations)
        segs = self._segments(np.array([node], dtype=np.int64), direction, rels, fanout, node_major=False)
        _, forward, trip = self._read(segs, 0, segs.total, rels)
        return [Step(int(h), int(r), int(t), bool(f))
                for (h, r, t), f in zip(trip.tolist(), forward.tolist(), strict=True)]

    def subgraph(self, seeds: Iterable[int], hops: int = 1, *, direction: str = "both",
                 relations: Iterable[int] | None = None, max_nodes: int | None = None,
                 fanout: int | None = None) -> Subgraph:
        """Breadth-first ``hops`` steps from ``seeds``; ``max_nodes`` caps the node count and stops
        reading once reached, ``fanout`` samples each node's edges (module doc). Cost: the edges
        read, at most ``max(64·max_nodes, 65536)`` with ``max_nodes``, never a hub's whole slice
        with ``fanout``. Without bounds, or when they are not hit, every edge is walked."""
        seeds_arr = _unique(np.fromiter(seeds, dtype=np.int64))
        rels = _as_relations(relations)
        if max_nodes is None:
            return self._full_subgraph(seeds_arr, hops, direction, rels, fanout)
        visited = seeds_arr  # sorted, unique: a bounded walk allocates nothing per graph entity
        frontier, seen_rows, truncated, sampled = seeds_arr, [], False, False
        budget, read = max(64 * int(max_nodes), 65536), 0
        for _ in range(hops):
            if len(frontier) == 0 or truncated:
                break
            segs = self._segments(frontier, direction, rels, fanout, node_major=True)
            sampled = sampled or bool((segs.step > 1).any())
            total, cursor, found = segs.total, 0, []
            while cursor < total:
                need = int(max_nodes) - len(visited)
                if need <= 0 or read >= budget:
                    truncated = True  # edges left unread
                    break
                # read in rounds a few times what is still needed, so a hub is not read whole
                limit = min(total - cursor, max(4 * need, 256), budget - read)
                rows, forward, trip = self._read(segs, cursor, cursor + limit, rels)
                cursor += limit
                read += limit
                other = np.where(forward, trip[:, 2], trip[:, 0]).astype(np.int64)
                uniq, first = _unique_first(other)
                fresh = ~_member(visited, uniq)
                new, first = uniq[fresh], first[fresh]
                if len(new) > need:  # keep the nodes reached first (in reading order)
                    new = np.sort(new[np.argsort(first, kind="stable")[:need]])
                    truncated = True
                visited = np.sort(np.concatenate([visited, new]))
                found.append(new)
                seen_rows.append(rows[_member(visited, other)])  # keep edges inside the cut
                if truncated:
                    break
            frontier = np.sort(np.concatenate(found)) if found else np.zeros(0, np.int64)
        return self._result(seeds_arr, visited, seen_rows, hops, truncated, sampled)

    def _full_subgraph(self, seeds: np.ndarray, hops: int, direction: str, rels: np.ndarray | None,
                       fanout: int | None) -> Subgraph:
        """Unbounded in nodes: every (sampled, filtered) edge of each hop, one read per hop. A bool
        mask over all entities (E bytes) beats sorted sets when the walk may reach most of them."""
        visited = np.zeros(self.num_entities, dtype=bool)
        visited[seeds] = True
        frontier, seen_rows, sampled, reached = seeds, [], False, [seeds]
        for _ in range(hops):
            if len(frontier) == 0:
                break
            segs = self._segments(frontier, direction, rels, fanout, node_major=True)
            sampled = sampled or bool((segs.step > 1).any())
            rows, forward, trip = self._read(segs, 0, segs.total, rels)
            other = np.where(forward, trip[:, 2], trip[:, 0]).astype(np.int64)
            # sort only what this hop found: a scan of the E-long mask (or a bincount up to the
            # largest id) would cost the graph's size on every walk, however small the walk
            frontier = _unique(other[~visited[other]])
            visited[frontier] = True
            reached.append(frontier)
            seen_rows.append(rows)
        return self._result(seeds, _unique(np.concatenate(reached)), seen_rows, hops, False, sampled)

    def _result(self, seeds, nodes, seen_rows, hops, truncated, sampled) -> Subgraph:
        rows = _unique(np.concatenate(seen_rows)) if seen_rows else np.zeros(0, dtype=np.int64)
        return Subgraph(seeds=seeds, nodes=nodes,
                        triples=np.asarray(self.triples[rows], dtype=np.int32).reshape(-1, 3),
                        hops=hops, truncated=truncated, sampled=sampled)

    def paths(self, source: int, target: int, max_hops: int = 3, limit: int = 100,
              fanout: int | None = None) -> list[list[Step]]:
        """Shortest paths (up to ``limit``, each ≤ ``max_hops`` edges) between two entities.

        Bidirectional breadth-first search: each side keeps, for every node it reached, the
        edges that first reached it; when the sides meet, paths are joined at the meeting nodes.
        ``fanout`` samples each expanded node's edges (module doc): bounded, but a path through
        an unsampled edge of a hub is then missed.
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
            frontiers[side] = self._expand(frontiers[side], parents[side], fanout)
            depth[side] += 1
            meet = [n for n in frontiers[side].tolist() if n in parents[1 - side]]
            if meet:
                return self._join(meet, parents, limit)
        return []

    def _expand(self, frontier: np.ndarray, parents: dict, fanout: int | None = None) -> np.ndarray:
        rows, forward = self.edge_rows(frontier, fanout=fanout)
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
