"""``kgnlu pretrain``: pretrain an encoder from a YAML run config (configs/*.yaml)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def pretrain(
    config: Annotated[Path, typer.Option("--config", "-c", help="A YAML run config (configs/bert-mini.yaml ...).")],
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides (model.hidden_size=128 "
                                                          "trainer.lr=3e-4 out_dir=runs/x ...).")] = None,
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Optimizer steps (trainer.max_steps).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Train the tokenizer (if the config asks), pretrain with the config's objectives, save the encoder
    into OUT_DIR/encoder. Rerunning with the same out_dir resumes from its last checkpoint."""
    from kgnlu.pretrain import PretrainConfig, run_pretraining
    from kgnlu.training import distributed as dist

    summary = run_pretraining(PretrainConfig.load(config, overrides or [], max_steps))
    if not dist.is_main():
        return
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    metrics = summary["metrics"]
    shown = "  ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items())
                      if k == "loss" or k.endswith(("_loss", "_accuracy")) or k == "steps_per_s")
    typer.echo(f"saved {summary['encoder']} ({summary['parameters']:,} parameters, {summary['steps']} steps, "
               f"{summary['train_seconds']:.1f} s)")
    if shown:
        typer.echo(f"  {shown}")
