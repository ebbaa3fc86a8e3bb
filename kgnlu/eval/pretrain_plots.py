"""The PNG figures of the pretraining evidence report (matplotlib, Agg); each returns a Figure or None.

Each function takes the report dict of :func:`kgnlu.eval.pretrain_report.write_report` (and the
runs folder, for the training curves in each run's ``metrics.jsonl``) and returns None when the
report lacks what the figure shows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: run-metric pairs drawn on the curves figure: (loss key, accuracy key, label suffix)
CURVE_KEYS = (("mlm_loss", "mlm_accuracy", "MLM"), ("rtd_generator_loss", "rtd_generator_accuracy", "generator MLM"),
              ("clm_loss", "clm_accuracy", "CLM"))


def close(figure: Any) -> None:
    plt.close(figure)


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short by a kill
    return [r for r in rows if r.get("split") == "train"]


def mlm_curves(report: dict[str, Any], runs_root: Path):
    series = []
    for name in report["runs"]:
        rows = read_metrics(runs_root / name)
        for loss_key, acc_key, label in CURVE_KEYS:
            if rows and loss_key in rows[0]:
                series.append((f"{name} ({label})", [r["step"] for r in rows], [r[loss_key] for r in rows],
                               [r[acc_key] for r in rows]))
    if not series:
        return None
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(12, 4.2))
    for label, steps, losses, accuracies in series:
        loss_ax.plot(steps, losses, label=label)
        acc_ax.plot(steps, accuracies, label=label)
    loss_ax.set(title="training loss (masked / next-token prediction)", xlabel="optimizer step", ylabel="loss")
    acc_ax.set(title="training accuracy at predicted positions", xlabel="optimizer step", ylabel="accuracy")
    acc_ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def sentence_pairs(report: dict[str, Any], runs_root: Path):
    pairs = report["comparisons"].get("sentence_pairs")
    if not pairs:
        return None
    names = list(pairs)
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(names)), 4))
    width = 0.38
    for offset, kind in ((-width / 2, "nsp"), (width / 2, "sop")):
        values = [pairs[n][f"{kind}_accuracy"] for n in names]
        bars = ax.bar([i + offset for i in range(len(names))], values, width, label=f"{kind.upper()} pairs")
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set_xticks(range(len(names)), [f"{n}\n(trained {pairs[n]['trained_with'].upper()})" for n in names], fontsize=7)
    ax.set(ylim=(0, 1), ylabel="accuracy on held-out pairs", title="NSP vs SOP (ALBERT Table 5's check)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def electra_vs_bert(report: dict[str, Any], runs_root: Path):
    data = report["comparisons"].get("electra_vs_bert")
    if not data:
        return None
    names = ["electra-small", "bert-mini"]
    fig, (acc_ax, flop_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    width = 0.38
    for offset, key, label in ((-width / 2, "probe_accuracy", "frozen probe"),
                               (width / 2, "finetune_accuracy", "fine-tuned")):
        values = [data[n].get(key) for n in names]
        if all(v is not None for v in values):
            bars = acc_ax.bar([i + offset for i in range(len(names))], values, width, label=label)
            acc_ax.bar_label(bars, fmt="%.3f", fontsize=8)
    baselines = report["comparisons"].get("supersense_baselines", {})
    if baselines.get("majority_class") is not None:
        acc_ax.axhline(baselines["majority_class"], color="grey", linestyle="--", linewidth=1, label="majority class")
    acc_ax.set_xticks(range(len(names)), names)
    acc_ax.set(ylabel="supersense test accuracy", title="downstream, same recipe for both")
    acc_ax.legend(fontsize=8)
    bars = flop_ax.bar(names, [data[n]["train_flops"] / 1e12 for n in names], color=["tab:orange", "tab:blue"])
    flop_ax.bar_label(bars, fmt="%.2f")
    flop_ax.set(ylabel="training TFLOPs", title="pretraining compute (6·N·T)")
    fig.tight_layout()
    return fig


def albert_sharing(report: dict[str, Any], runs_root: Path):
    data = report["comparisons"].get("albert_sharing")
    if not data:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, marker, label in (("probe_accuracy", "o", "frozen probe"), ("finetune_accuracy", "s", "fine-tuned")):
        points = [(mode, row["parameters"] / 1e6, row.get(key)) for mode, row in data.items()]
        points = [p for p in points if p[2] is not None]
        if not points:
            continue
        ax.scatter([p[1] for p in points], [p[2] for p in points], s=40, marker=marker, label=label)
        for mode, x, y in points:
            ax.annotate(mode, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=9)
    ax.set(xlabel="encoder parameters (M)", ylabel="supersense test accuracy",
           title="ALBERT cross-layer sharing (Table 4's shape)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def gpt2_fewshot(report: dict[str, Any], runs_root: Path):
    data = report["comparisons"].get("gpt2")
    if not data:
        return None
    shots = sorted(data["fewshot"], key=int)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot([int(k) for k in shots], [data["fewshot"][k]["accuracy"] for k in shots], marker="o", label="gpt2-mini")
    ax.axhline(data["fewshot"][shots[0]]["chance"], color="grey", linestyle="--", linewidth=1, label="chance")
    ax.set(xlabel="demonstrations in the prompt (shots)", ylabel="accuracy", ylim=(0, 1),
           title=f"country → capital; held-out perplexity {data['heldout_perplexity']:.1f}")
    ax.set_xticks([int(k) for k in shots])
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def electra_discriminator(report: dict[str, Any], runs_root: Path):
    """ELECTRA's discriminator loss over the base-rate entropy of each logged batch (below 1 = it
    beats always predicting the replaced share), and its replaced-token recall, over the run."""
    trace = report["runs"].get("electra-small", {}).get("discriminator_trace")
    if not trace:
        return None
    fig, (ratio_ax, recall_ax) = plt.subplots(1, 2, figsize=(11, 3.8))
    ratio_ax.plot(trace["steps"], trace["loss_over_base_rate"], color="tab:red")
    ratio_ax.axhline(1.0, color="grey", linestyle="--", linewidth=1, label="base rate H(p)")
    ratio_ax.set(title="discriminator loss / base-rate entropy (training batches)", xlabel="optimizer step",
                 ylabel="ratio")
    ratio_ax.legend(fontsize=8)
    recall_ax.plot(trace["steps"], trace["replaced_recall"], color="tab:blue")
    recall_ax.set(title="replaced-token recall (training batches)", xlabel="optimizer step", ylabel="recall",
                  ylim=(0, 1))
    fig.tight_layout()
    return fig
