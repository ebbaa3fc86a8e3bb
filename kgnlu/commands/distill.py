"""``kgnlu distill``: distil an encoder into a smaller one from a YAML config (configs/distill-*.yaml)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def distill(
    config: Annotated[Path, typer.Option("--config", "-c", help="A YAML distillation config "
                                         "(configs/distill-mlm-head.yaml, distill-3layer.yaml, distill-2layer.yaml).")],
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides (student.num_layers=2 "
                                                          "trainer.lr=3e-4 out_dir=runs/x ...).")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Optimizer steps (trainer.max_steps).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Fit the teacher's MLM head (method mlm_head), or distil a student DistilBERT- or TinyBERT-style
    and save it into OUT_DIR/student (an encoder folder with its tokenizer). Rerunning with the same
    out_dir resumes from its last checkpoint."""
    from kgnlu.distill.config import DistillConfig
    from kgnlu.distill.run import run_distillation
    from kgnlu.training import distributed as dist

    summary = run_distillation(DistillConfig.load(config, overrides or [], max_steps))
    if not dist.is_main():
        return
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    metrics = summary["metrics"]
    shown = "  ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items())
                      if k == "loss" or k.endswith(("_loss", "accuracy", "agreement", "cosine")))
    saved = summary.get("student") or summary.get("mlm_head")
    size = f", {summary['student_parameters']:,} parameters" if "student_parameters" in summary else ""
    typer.echo(f"saved {saved} ({summary['steps']} steps{size}, {summary['train_seconds']:.1f} s)")
    if shown:
        typer.echo(f"  {shown}")
    if "task" in summary:
        typer.echo(f"  task: {json.dumps(summary['task'])}")
