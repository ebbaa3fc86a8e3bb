"""A pretraining run from one config (:mod:`kgnlu.pretrain.config`): tokenizer → instances → PretrainingModel → Trainer → encoder.

    config = PretrainConfig.load("configs/bert-mini.yaml", ["model.hidden_size=128"])
    result = run_pretraining(config)   # run folder: tokenizer/, encoder/, checkpoints/, metrics.jsonl, ...

The run folder (``out_dir``) holds everything needed to use or resume the run: ``tokenizer/``
(trained on the corpus first, or the packaged MiniLM one, and reused when present so a resumed run
tokenizes the same way), ``pretrain_config.yaml`` (the resolved config), the Trainer's
checkpoints and metrics, and at the end ``encoder/`` (``Encoder.save_pretrained``) and
``summary.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from kgnlu.config import save_config, to_dict
from kgnlu.data.corpora import open_corpus
from kgnlu.data.instances import PretrainingCollator, PretrainingDataset
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.model import PretrainingModel
from kgnlu.errors import ConfigError
from kgnlu.io import atomic_write
from kgnlu.pretrain.config import (
    LimitedCorpus,
    PretrainConfig,
    build_encoder_config,
    build_tokenizer,
)
from kgnlu.training import distributed as dist
from kgnlu.training.trainer import Trainer


def run_pretraining(config: PretrainConfig) -> dict[str, Any]:
    """Train, save the encoder into ``out_dir/encoder``, and return the run summary."""
    if not config.objectives:
        raise ConfigError("the config names no objectives; add e.g. `objectives: {mlm: 1.0}`")
    start = time.perf_counter()
    run_dir = Path(config.out_dir)
    if config.fusion:
        from kgnlu.pretrain.fused import build_fusion_run

        model, loader, tokenizer = build_fusion_run(config, run_dir)
    else:
        corpus = LimitedCorpus(open_corpus(config.data.corpus, **config.data.corpus_options), config.data.max_documents)
        tokenizer = build_tokenizer(config.tokenizer, corpus, run_dir / "tokenizer")
        encoder_config = build_encoder_config(config.model, tokenizer, config.data.instances.max_length)
        torch.manual_seed(config.trainer.seed)  # the initial weights follow the seed
        model = PretrainingModel(Encoder(encoder_config), config.objectives, config.objective_options)
        dataset = PretrainingDataset(corpus, tokenizer, config.data.instances)
        loader = DataLoader(dataset, batch_size=config.data.batch_size, num_workers=config.data.num_workers,
                            collate_fn=PretrainingCollator(dataset.special.pad, config.data.pad_to_multiple_of))
    if dist.is_main():
        save_config(to_dict(config), run_dir / "pretrain_config.yaml")
    trainer = Trainer(model, config.trainer, loader)
    train_start = time.perf_counter()
    result = trainer.fit()
    train_seconds = time.perf_counter() - train_start
    summary = {"name": config.name, "out_dir": str(run_dir), "encoder": str(run_dir / "encoder"),
               "tokenizer": str(run_dir / "tokenizer"), "parameters": model.encoder.num_parameters(),
               "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad), "steps": result.step,
               "train_seconds": round(train_seconds, 3), "total_seconds": None,
               "metrics": result.train_metrics}
    if dist.is_main():
        model.encoder.save_pretrained(run_dir / "encoder")
        summary["total_seconds"] = round(time.perf_counter() - start, 3)
        with atomic_write(run_dir / "summary.json") as f:
            f.write(json.dumps(summary, indent=2) + "\n")
    return summary
