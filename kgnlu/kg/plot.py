"""Draw a small subgraph to PNG (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kgnlu.io import save_png

if TYPE_CHECKING:
    from kgnlu.kg.graph import KnowledgeGraph
    from kgnlu.kg.traversal import Subgraph

MAX_PLOT_NODES = 150  # past this a drawing is unreadable; the caller should narrow the walk


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
    for h, r, t in sub.triples.tolist():
        g.add_edge(h, t, label=kg.relation_label(r))
    pos = nx.spring_layout(nx.Graph(g), seed=0, k=1.2 / max(1, len(g)) ** 0.5)
    fig, ax = plt.subplots(figsize=(12, 9))
    seeds = set(sub.seeds.tolist())
    nx.draw_networkx_nodes(g, pos, ax=ax, node_size=[500 if n in seeds else 160 for n in g],
                           node_color=["#d62728" if n in seeds else "#1f77b4" for n in g], alpha=0.85)
    nx.draw_networkx_edges(g, pos, ax=ax, alpha=0.35, arrows=True, arrowsize=8)
    labels = {n: (kg.entity_label(n) or kg.entity_id(n))[:28] for n in g}
    nx.draw_networkx_labels(g, pos, labels, ax=ax, font_size=7)
    if g.number_of_edges() <= 60:
        edge_labels = {(h, t): d["label"] for h, t, d in g.edges(data=True)}
        nx.draw_networkx_edge_labels(g, pos, edge_labels, ax=ax, font_size=6, alpha=0.7)
    ax.set_title(title or f"{kg.name}: {len(sub.nodes)} entities, {len(sub.triples)} triples")
    ax.axis("off")
    fig.tight_layout()
    save_png(fig, path, dpi=120)
    return Path(path)
