"""Retrieval: walk scored relation paths from a topic entity over the graph's CSR arrays.

Each :class:`Execution` keeps, per step, every edge it walked (capped) and, for every node it
reached, the first edge that reached it — so the answers' evidence (the triples from the topic to
the answer) is read back without another search. The union of a question's executions is its
retrieved subgraph (:func:`retrieved_subgraph`): relevance-pruned, because only relation paths the
scorer ranks high are walked, unlike a blind k-hop ball that reaches thousands of WordNet nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kgnlu.kg.traversal import Step
from kgnlu.qa.paths import RelationPath


@dataclass
class StepTrace:
    """One step of an execution: ``nodes`` reached (sorted, unique) and how each was reached."""

    nodes: np.ndarray  # int64 [n] sorted
    first_row: np.ndarray  # int64 [n] triple row that first reached nodes[i]
    first_prev: np.ndarray  # int64 [n] the node it came from
    rows: np.ndarray  # int64 [m] every triple row walked at this step (capped)
    twin: np.ndarray | None = None  # bool [n] reached through owl:sameAs from a node of this same step

    def __post_init__(self) -> None:
        if self.twin is None:
            self.twin = np.zeros(len(self.nodes), dtype=bool)


@dataclass
class Execution:
    topic: int
    path: RelationPath
    trace: list[StepTrace] = field(default_factory=list)
    truncated: bool = False  # a frontier was cut at max_frontier

    @property
    def answers(self) -> np.ndarray:
        """int64 [a]: entities at the end of the path (sorted)."""
        return self.trace[-1].nodes if self.trace else np.zeros(0, dtype=np.int64)

    def evidence(self, answer: int, triples: np.ndarray) -> list[Step]:
        """The chain of steps topic → ``answer`` (empty if the path does not reach it); a twin that
        joined a frontier adds its ``owl:sameAs`` edge to the chain."""
        chain: list[Step] = []
        node = int(answer)
        for trace in reversed(self.trace):
            for _ in range(2):  # at most one sameAs hop inside a step: twin → the node it twins
                i = int(np.searchsorted(trace.nodes, node))
                if i >= len(trace.nodes) or trace.nodes[i] != node:
                    return []
                row, prev = int(trace.first_row[i]), int(trace.first_prev[i])
                h, r, t = (int(x) for x in triples[row])
                chain.append(Step(h, r, t, forward=(h == prev and t == node)))
                node = prev
                if not trace.twin[i]:
                    break
        return chain[::-1] if node == self.topic else []


def execute(walker, topic: int, path: RelationPath, max_frontier: int = 2000,
            max_edges: int = 4000, same_as: int | None = None) -> Execution:
    """Walk ``path`` from ``topic``: each step follows its relation forwards (head → tail) or
    backwards. Frontiers above ``max_frontier`` nodes are cut (WordNet hubs such as "person").
    With ``same_as`` (the graph's owl:sameAs relation) an intermediate frontier is joined by its
    nodes' twins, so a path crosses sources: Mount Fuji → part of → Japan (WordNet) = Japan
    (GeoNames) → capital → Tokyo. The last step's answers are not twinned (one answer, not two)."""
    out = Execution(topic, path)
    frontier = np.array([topic], dtype=np.int64)
    for step, (relation, forward) in enumerate(path.steps):
        # forward: the relation's rows only (binary search: out-rows are sorted by relation), at
        # most max_frontier + 1 per node: a node with more edges of one relation truncates the
        # frontier anyway, so the cap changes only walks that are cut already, and a hub's slice is
        # never read whole (issue 22). Backward: in-rows are not sorted by relation, so a sample
        # would be drawn before the filter and could drop the relation's few edges at a hub; they
        # are read whole and filtered, as before.
        rows, _ = walker.edge_rows(frontier, "out" if forward else "in", relations=[relation],
                                   fanout=max_frontier + 1 if forward else None)
        trip = np.asarray(walker.triples[rows]).reshape(-1, 3)
        prev = trip[:, 0] if forward else trip[:, 2]
        other = (trip[:, 2] if forward else trip[:, 0]).astype(np.int64)
        nodes, first = np.unique(other, return_index=True)
        if len(nodes) > max_frontier:
            nodes, first = nodes[:max_frontier], first[:max_frontier]
            out.truncated = True
        trace = StepTrace(nodes, rows[first], prev[first].astype(np.int64), rows[:max_edges])
        if same_as is not None and step < len(path) - 1 and len(nodes):
            trace = _with_twins(walker, trace, same_as, max_frontier)
        out.trace.append(trace)
        frontier = trace.nodes
        if len(frontier) == 0:
            break
    return out


def _with_twins(walker, trace: StepTrace, same_as: int, max_frontier: int) -> StepTrace:
    """``trace`` plus the owl:sameAs twins of its nodes (reached through the sameAs edge)."""
    rows, forward = walker.edge_rows(trace.nodes, "both", relations=[same_as])
    trip = np.asarray(walker.triples[rows]).reshape(-1, 3)
    if not len(rows):
        return trace
    prev = np.where(forward, trip[:, 0], trip[:, 2]).astype(np.int64)
    twin = np.where(forward, trip[:, 2], trip[:, 0]).astype(np.int64)
    new = ~np.isin(twin, trace.nodes)
    twin, rows, prev = twin[new], rows[new], prev[new]
    twin, first = np.unique(twin, return_index=True)
    room = max(0, max_frontier - len(trace.nodes))
    twin, first = twin[:room], first[:room]
    nodes = np.concatenate([trace.nodes, twin])
    order = np.argsort(nodes, kind="stable")
    cat = lambda a, b: np.concatenate([a, b])[order]  # noqa: E731
    return StepTrace(nodes[order], cat(trace.first_row, rows[first]), cat(trace.first_prev, prev[first]),
                     np.concatenate([trace.rows, rows[first]]),
                     cat(trace.twin, np.ones(len(twin), dtype=bool)))


@dataclass
class RetrievedSubgraph:
    """Nodes and walked edges of a question's executions, in local ids for PPR and the GNN."""

    nodes: np.ndarray  # int64 [n] graph ids, sorted
    edges: np.ndarray  # int64 [m, 3] (local head, relation, local tail), graph orientation
    depth: np.ndarray  # int64 [n] fewest steps from a topic (0 = topic)

    def local(self, entities: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.nodes, entities)


def retrieved_subgraph(executions: list[Execution], triples: np.ndarray,
                       max_nodes: int = 512) -> RetrievedSubgraph:
    """Union of the executions' nodes and edges; nodes beyond ``max_nodes`` (by depth, then by
    execution rank) are dropped with their edges."""
    order: dict[int, int] = {ex.topic: 0 for ex in executions}
    rows: list[np.ndarray] = []
    for ex in executions:
        for depth, trace in enumerate(ex.trace, start=1):
            for n in trace.nodes[: max_nodes].tolist():
                if n not in order and len(order) < max_nodes:
                    order[n] = depth
            rows.append(trace.rows)
    nodes = np.array(sorted(order), dtype=np.int64)
    depth = np.array([order[n] for n in nodes.tolist()], dtype=np.int64)
    if rows:
        trip = np.asarray(triples[np.unique(np.concatenate(rows))], dtype=np.int64).reshape(-1, 3)
    else:
        trip = np.zeros((0, 3), dtype=np.int64)
    h, t = np.searchsorted(nodes, trip[:, 0]), np.searchsorted(nodes, trip[:, 2])
    h, t = np.minimum(h, len(nodes) - 1), np.minimum(t, len(nodes) - 1)
    inside = (nodes[h] == trip[:, 0]) & (nodes[t] == trip[:, 2])
    edges = np.stack([h, trip[:, 1], t], axis=1)[inside]
    return RetrievedSubgraph(nodes, edges, depth)
