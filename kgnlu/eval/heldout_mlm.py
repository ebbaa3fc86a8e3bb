"""Held-out masked-token accuracy of a pretraining run (issue 22): the run's own instances and
masking, built from documents it never trained on, scored by its own heads in eval mode.

Training logs report accuracy on the batch just trained on; this is the number to set beside
held-out baselines (the commonest token's share of the held-out tokens). For an ELECTRA run it
scores the generator's MLM and the discriminator on the same held-out instances: its loss against
the base-rate entropy H(p) of the replaced share p (what always predicting p would score) and its
recall on replaced tokens.

    model, tokenizer, config = load_pretraining_run(run_dir)
    heldout_masked_lm(model, tokenizer, config, Path("runs/evidence/_data/wordnet/heldout.jsonl"))
"""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any

import torch

from kgnlu.data.corpora import open_corpus
from kgnlu.data.instances import IGNORE, PretrainingCollator, PretrainingDataset
from kgnlu.errors import ConfigError


def base_rate_entropy(p: float) -> float:
    """Binary cross-entropy (nats) of always predicting probability ``p`` for labels with mean ``p``."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -(p * math.log(p) + (1.0 - p) * math.log(1.0 - p))


@torch.no_grad()
def heldout_masked_lm(model: Any, tokenizer: Any, config: Any, heldout: Path, max_instances: int = 1000,
                      batch_size: int = 32, seed: int = 0) -> dict[str, Any]:
    """Masked-token accuracy (and ELECTRA's discriminator metrics) on up to ``max_instances`` instances
    built from ``heldout`` with the run's InstanceConfig (same kind, length and masking), seeded.

    ``model`` is a PretrainingModel with an ``mlm`` or ``rtd`` objective; accuracies are token-weighted
    over the whole held-out sample, not averages of batch averages.
    """
    objectives = set(model.objectives)
    if not objectives & {"mlm", "rtd"}:
        raise ConfigError(f"held-out MLM accuracy needs an mlm or rtd objective; the run trains {sorted(objectives)}")
    instances = replace(config.data.instances, seed=seed, shuffle_buffer=1)  # the same masking, a fixed draw
    dataset = PretrainingDataset(open_corpus("text", paths=[heldout]), tokenizer, instances)
    collate = PretrainingCollator(dataset.special.pad, config.data.pad_to_multiple_of)
    stream = dataset.unshuffled()
    torch.manual_seed(seed)  # ELECTRA's generator samples (Gumbel noise) follow the seed
    was_training = model.training
    model.eval()
    totals = {"masked": 0.0, "correct": 0.0, "real": 0.0, "replaced": 0.0, "disc_loss": 0.0, "recalled": 0.0,
              "disc_correct": 0.0, "instances": 0}
    while True:
        chunk = list(islice(stream, min(batch_size, max_instances - totals["instances"])))
        if not chunk:
            break
        batch = collate(chunk)
        out = model(**batch)
        masked = float((batch["labels"] != IGNORE).sum())  # (B, S) labels: originals at chosen positions
        totals["masked"] += masked
        totals["instances"] += len(chunk)
        if "mlm" in objectives:
            totals["correct"] += float(out["mlm_accuracy"]) * masked
        else:
            totals["correct"] += float(out["rtd_generator_accuracy"]) * masked
            real = float(batch["attention_mask"].sum()) if "attention_mask" in batch else float(batch["input_ids"].numel())
            replaced = float(out["rtd_replaced_fraction"]) * real
            totals["real"] += real
            totals["replaced"] += replaced
            totals["disc_loss"] += float(out["rtd_discriminator_loss"]) * real
            totals["disc_correct"] += float(out["rtd_accuracy"]) * real
            totals["recalled"] += float(out["rtd_replaced_recall"]) * replaced
    model.train(was_training)
    if totals["masked"] == 0:
        raise ConfigError(f"{heldout} gave no masked tokens; is the held-out split empty?")
    result: dict[str, Any] = {"heldout": str(heldout), "instances": totals["instances"],
                              "masked_tokens": int(totals["masked"]),
                              "accuracy": totals["correct"] / totals["masked"],
                              "scored_by": "mlm head" if "mlm" in objectives else "ELECTRA generator",
                              "masking": {"strategy": instances.effective_masking().strategy,
                                          "rate": instances.masking.rate,
                                          "mask_prob": instances.effective_masking().mask_prob,
                                          "random_prob": instances.effective_masking().random_prob}}
    if "rtd" in objectives and totals["real"]:
        p = totals["replaced"] / totals["real"]
        loss = totals["disc_loss"] / totals["real"]
        result["discriminator"] = {
            "loss": loss, "replaced_fraction": p, "base_rate_entropy": base_rate_entropy(p),
            "loss_over_base_rate": loss / base_rate_entropy(p) if base_rate_entropy(p) else None,
            "accuracy": totals["disc_correct"] / totals["real"], "majority_accuracy": 1.0 - p,
            "replaced_recall": totals["recalled"] / totals["replaced"] if totals["replaced"] else None,
            "tokens": int(totals["real"])}
    return result


def discriminator_trace(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """ELECTRA's discriminator over a run's training log (metrics.jsonl rows): its loss over the
    base-rate entropy of that batch's replaced share at each logged step (below 1 = it beats the base
    rate), and its replaced-token recall. Training batches, so a trace, not a held-out score."""
    rows = [r for r in metrics if r.get("split", "train") == "train" and "rtd_discriminator_loss" in r]
    if not rows:
        raise ConfigError("the metrics hold no rtd_discriminator_loss rows; is this an ELECTRA run?")
    ratio = [r["rtd_discriminator_loss"] / max(base_rate_entropy(r["rtd_replaced_fraction"]), 1e-12) for r in rows]
    steps = [r["step"] for r in rows]
    best = min(range(len(ratio)), key=ratio.__getitem__)
    tail = ratio[-max(1, len(ratio) // 10):]  # the last tenth of the logged steps, less noisy than one batch
    return {"steps": steps, "loss_over_base_rate": ratio, "replaced_recall": [r["rtd_replaced_recall"] for r in rows],
            "logged_steps": len(rows), "share_of_steps_below_base_rate": sum(x < 1.0 for x in ratio) / len(ratio),
            "first_step_at_or_above_base_rate": next((s for s, x in zip(steps, ratio, strict=True) if x >= 1.0), None),
            "min_ratio": ratio[best], "min_ratio_step": steps[best], "final_tenth_mean_ratio": sum(tail) / len(tail),
            "final_tenth_mean_recall": sum(r["rtd_replaced_recall"] for r in rows[-len(tail):]) / len(tail)}
