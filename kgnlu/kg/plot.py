"""Draw a small subgraph to PNG (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kgnlu.io import save_png

if TYPE_CHECKING:
    from kgnlu.kg.graph import KnowledgeGraph
    from kgnlu.kg.traversal import Subgraph

MAX_PLOT_NODES = 150  # past this a drawing is unreadable; the caller should narrow the walk


def edge_labels(kg: KnowledgeGraph, sub: Subgraph) -> dict[tuple[int, int, int], str]:
    """The label of each drawn edge, keyed by its triple ``(head, relation, tail)``, never by its
    node pair: two relations between the same entities are two edges with their own labels."""
    return {(h, r, t): kg.relation_label(r) or kg.relation_id(r) for h, r, t in sub.triples.tolist()}


def _most_parallel(g) -> int:
    """The most edges one ordered node pair has (each needs its own arc)."""
    from collections import Counter

    return max(Counter((h, t) for h, t, _ in g.edges(keys=True)).values(), default=1)


def plot_subgraph(kg: KnowledgeGraph, sub: Subgraph, path: str | Path, title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    from kgnlu.kg.traversal import Subgraph as _Sub

    if len(sub.nodes) > MAX_PLOT_NODES:  # keep the seeds and the edges nearest to them
        keep = set(sub.seeds.tolist())
        for h, _, t in sub.triples.tolist():
            if len(keep) >= MAX_PLOT_NODES:
                break
            if h in keep or t in keep:
                keep.update((h, t))
        import numpy as np

        mask = np.isin(sub.triples[:, 0], list(keep)) & np.isin(sub.triples[:, 2], list(keep))
        sub = _Sub(sub.seeds, np.array(sorted(keep)), sub.triples[mask], sub.hops, True)
    g = nx.MultiDiGraph()
    for e in sub.nodes.tolist():
        g.add_node(e)
    labels_by_edge = edge_labels(kg, sub)
    for (h, r, t), label in labels_by_edge.items():
        g.add_edge(h, t, key=r, label=label)
    n = max(1, len(g))
    pos = nx.spring_layout(nx.Graph(g), seed=0, k=1.2 / n ** 0.5)
    # the canvas and type grow with the drawing: an answer's 2-3 nodes get a small, legible figure
    width = min(12.0, 5.0 + 0.45 * n)
    node_font = 11 if n <= 12 else 9 if n <= 40 else 7
    fig, ax = plt.subplots(figsize=(width, 0.75 * width))
    seeds = set(sub.seeds.tolist())
    big, small = (1400, 900) if n <= 12 else (500, 160)
    sizes = [big if v in seeds else small for v in g]
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=sizes,
                           node_color=["#d62728" if v in seeds else "#1f77b4" for v in g], alpha=0.85)
    # each triple its own arc (a pair's two directions bend apart), labelled with its own relation:
    # "capital of France" draws France -capital-> Paris and Paris -country-> France as two edges
    styles = [f"arc3,rad={0.18 * (1 + i)}" for i in range(max(1, _most_parallel(g)))]
    edges = list(g.edges(keys=True))
    nx.draw_networkx_edges(g, pos, ax=ax, edgelist=edges, alpha=0.5, arrows=True, arrowsize=14 if n <= 12 else 8,
                           node_size=sizes, connectionstyle=styles)
    labels = {v: (kg.entity_label(v) or kg.entity_id(v))[:28] for v in g}
    nx.draw_networkx_labels(g, pos, labels, ax=ax, font_size=node_font)
    if g.number_of_edges() <= 60:
        nx.draw_networkx_edge_labels(g, pos, {e: g.edges[e]["label"] for e in edges}, ax=ax,
                                     font_size=max(6, node_font - 2), alpha=0.8, node_size=sizes,
                                     connectionstyle=styles)
    ax.margins(0.15)
    ax.set_title(title or f"{kg.name}: {len(sub.nodes)} entities, {len(sub.triples)} triples")
    ax.axis("off")
    fig.tight_layout()
    save_png(fig, path, dpi=120)
    return Path(path)
