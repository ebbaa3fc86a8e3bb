"""``kgnlu train-senses``: train the word-sense bi-encoder (kgnlu.kg.linker.sense_model) on WordNet."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer


def train_senses(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Model folder (default "
                                             "$KGNLU_HOME/models/senses).")] = None,
    wordnet: Annotated[Path, typer.Option(help="WordNet 3.0 dict folder.")] = Path("/usr/share/wordnet"),
    examples: Annotated[int, typer.Option(min=0, help="Training examples sampled (0 = all ~31k; "
                                          "8,000 take ~25 min on 2 busy CPU cores).")] = 8_000,
    batch_size: Annotated[int, typer.Option(min=1, help="Examples per step.")] = 16,
    lr: Annotated[float, typer.Option(help="Peak learning rate (linear warm-up and decay).")] = 1e-4,
    trainable_layers: Annotated[int, typer.Option(min=0, help="Top layers of the context encoder that learn.")] = 2,
    gloss_trainable_layers: Annotated[int, typer.Option(min=0, help="Top layers of the gloss encoder that "
                                                        "learn.")] = 1,
    max_candidates: Annotated[int, typer.Option(min=2, help="Senses per example in the softmax.")] = 6,
    seed: Annotated[int, typer.Option(help="Sampling and initialisation seed.")] = 0,
    threads: Annotated[int, typer.Option(min=1, help="torch threads.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON.")] = False,
) -> None:
    """Train a BEM-style sense model: context and gloss encoders from the packaged MiniLM, trained
    on WordNet's example sentences (cross-entropy over each lemma's senses). The evaluation's
    held-out synsets (10% by hash) are left out entirely. Use it with `kgnlu link --sense-model`."""
    import torch

    from kgnlu.io import atomic_write
    from kgnlu.kg.linker.sense_model import SenseConfig, default_sense_model_path
    from kgnlu.kg.linker.sense_training import (
        SenseTrainingConfig,
        sense_training_data,
        train_sense_model,
    )
    from kgnlu.progress import progress_bar

    torch.set_num_threads(threads)
    target = out or default_sense_model_path()
    data = sense_training_data(wordnet)
    cfg = SenseTrainingConfig(examples=examples, batch_size=batch_size, learning_rate=lr,
                              max_candidates=max_candidates, seed=seed,
                              model=SenseConfig(trainable_layers=trainable_layers,
                                                gloss_trainable_layers=gloss_trainable_layers))
    start = time.perf_counter()
    bar = progress_bar(total=None, desc="train-senses", unit="step")

    def on_step(step: int, steps: int, loss: float) -> None:
        if bar.total is None:
            bar.total = steps
        bar.update(1)
        if step % 10 == 0 or step == steps:
            bar.set_postfix(loss=f"{loss:.3f}")
            if not sys.stderr.isatty():
                print(f"step {step}/{steps} loss {loss:.3f} ({time.perf_counter() - start:.0f} s)",
                      file=sys.stderr, flush=True)

    _, summary = train_sense_model(data, target, cfg, on_step=on_step)
    bar.close()
    with atomic_write(Path(target) / "training.json") as f:  # provenance beside the weights
        json.dump({k: v for k, v in summary.items() if k != "losses"}, f, indent=2)
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
        return
    typer.echo(f"saved {target} ({summary['examples']} examples, {summary['steps']} steps, "
               f"{summary['seconds']:.0f} s; loss {summary['first_loss']} → {summary['last_loss']})")
