"""The one KGE evaluator: filtered MRR and Hits@1/3/10 (both sides, realistic ranks) of stored embeddings.

    report = evaluate_embeddings(graph, names=None, split="test")   # every stored model
    report["embeddings"][0]["mrr"]

``kgnlu eval kge`` writes the report (kge.json, kge.md, kge.png); ``kgnlu kge eval`` prints one
embedding's row of it. Both call :func:`evaluate_embeddings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kgnlu.errors import ConfigError


def evaluate_embeddings(graph, names: Sequence[str] | None = None, split: str = "test", filtered: bool = True,
                        batch_size: int = 256, verify: bool = False) -> dict:
    """``{"graph", "split", "embeddings": [{"name", "model", "path", "mrr", "hits@1", "hits@3", "hits@10",
    "mean_rank", "ranks", "seconds", "side"}]}`` for ``names`` (default: every stored embedding).
    ``graph``: a graph folder or a loaded :class:`~kgnlu.kg.KnowledgeGraph`."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge import KGEData, evaluate
    from kgnlu.kge.storage import list_embeddings, load_embeddings

    kg = graph if isinstance(graph, KnowledgeGraph) else KnowledgeGraph.load(graph, verify=verify)
    names = list(names or list_embeddings(kg.path))
    if not names:
        raise ConfigError(f"{kg.path} has no stored embeddings; run `kgnlu kge train {kg.path} --model rotate` first")
    data = KGEData.from_graph(kg)
    if len(data.split(split)) == 0:
        raise ConfigError(f"{kg.path} has no {split} triples to rank: its sources carry no split. Evaluate on a "
                          "graph that has one (pykeen:nations|kinships|umls, or a `kgnlu kge wordnet-benchmark` "
                          "folder built as TSV splits)")
    rows = []
    for n in names:
        stored = load_embeddings(kg.path, n)
        result = evaluate(stored.to_model(), data, split, batch_size=batch_size, filtered=filtered)
        rows.append({"name": n, "model": stored.model_name, "path": str(stored.path), **result.to_dict(),
                     "ranks": result.num_ranks, "seconds": round(result.seconds, 3)})
    return {"graph": str(kg.path), "split": split, "filtered": filtered, "embeddings": rows}


def markdown_report(report: dict) -> str:
    md = ["| embeddings | model | MRR | Hits@1 | Hits@3 | Hits@10 |", "|---|---|---|---|---|---|"]
    md += [f"| {r['name']} | {r['model']} | {r['mrr']:.3f} | {r['hits@1']:.3f} | {r['hits@3']:.3f} | "
           f"{r['hits@10']:.3f} |" for r in report["embeddings"]]
    return f"# Graph embeddings on {Path(report['graph']).name} ({report['split']})\n\n" + "\n".join(md) + "\n"


def plot_kge(rows: list[dict], path: Path) -> Path:
    """MRR and Hits@10 bars, one pair per stored embedding."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kgnlu.io import save_png

    fig, ax = plt.subplots(figsize=(1.6 * len(rows) + 2.5, 3.2))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [r["mrr"] for r in rows], width=0.4, label="MRR")
    ax.bar([x + 0.2 for x in xs], [r["hits@10"] for r in rows], width=0.4, label="Hits@10")
    ax.set_xticks(list(xs), [r["name"] for r in rows])
    ax.set_ylim(0, 1)
    ax.legend()
    fig.tight_layout()
    save_png(fig, path, dpi=110)
    return path
