"""Charts for the evaluations that had only JSON and markdown (`kgnlu eval link`, `eval supersense`):
every task writes a PNG beside its report.

    plot_linking(report, out / "linking.png")            # run_linking_eval's report
    plot_natural_linking(report, out / "natural-dev.png")  # evaluate_natural_sets' report
    plot_supersense(result, out / "supersense.png")      # the supersense command's result
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def plot_bar_groups(groups: Mapping[str, Mapping[str, float]], path: str | Path, title: str,
                    ylabel: str = "score") -> Path:
    """A grouped bar chart in [0, 1]: one group of bars per key of ``groups``, one bar per series
    (the inner keys, in first-seen order), each labelled with its value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kgnlu.io import save_png

    series = list(dict.fromkeys(s for bars in groups.values() for s in bars))
    names = list(groups)
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * len(names) * max(1, len(series)) ** 0.5 + 2), 3.8))
    for i, s in enumerate(series):
        xs = [j + i * width for j, name in enumerate(names) if s in groups[name]]
        ys = [float(groups[name][s]) for name in names if s in groups[name]]
        bars = ax.bar(xs, ys, width, label=s)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(names))])
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if len(series) > 1:
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return save_png(fig, Path(path), dpi=120)


def plot_linking(report: Mapping, path: str | Path) -> Path:
    """WordNet sense accuracy per mode and setting against the most frequent sense; GeoNames
    link F1 and ambiguous-city accuracy per linker (the max-prior baseline included)."""
    groups: dict[str, dict[str, float]] = {}
    wn = report["tasks"].get("wordnet") or {}
    for mode in ("fast", "neural"):
        for setting in ("open", "pos_given"):
            r = wn.get(mode, {}).get(setting)
            if r:
                groups[f"WordNet {mode}\n{setting}"] = {"accuracy": r["accuracy"],
                                                         "most frequent sense": r["mfs_accuracy"]}
    geo = report["tasks"].get("geonames") or {}
    for mode in ("fast", "neural", "prior"):
        r = geo.get(mode)
        if r:
            groups[f"GeoNames\n{'max prior' if mode == 'prior' else mode}"] = {
                "link F1": r["linking"]["f1"], "ambiguous-city acc": r["ambiguous_city_accuracy"]}
    return plot_bar_groups(groups, path, f"Entity linking ({report.get('split', '')} split)")


def plot_natural_linking(report: Mapping, path: str | Path) -> Path:
    """Accuracy per hand-written set and linker mode."""
    groups = {name: {mode: r["accuracy"] or 0.0 for mode, r in res["modes"].items()}
              for name, res in report["sets"].items()}
    return plot_bar_groups(groups, path, f"Entity linking on the hand-written sets ({report['split']})", "accuracy")


def plot_supersense(result: Mapping, path: str | Path) -> Path:
    """Accuracy and macro-F1 of each mode (fine-tuned, probed) against the majority class."""
    groups = {name: {"accuracy": result[name]["accuracy"], "macro-F1": result[name]["macro_f1"],
                     "majority class": result[name]["majority_baseline"]}
              for name in ("finetune", "probe") if name in result}
    return plot_bar_groups(groups, path, "WordNet supersenses (45 classes)")
