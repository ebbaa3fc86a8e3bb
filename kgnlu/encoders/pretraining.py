"""A pretraining run from one config: tokenizer → instances → PretrainingModel → Trainer → encoder.

    config = PretrainConfig.load("configs/bert-mini.yaml", ["model.hidden_size=128"])
    result = run_pretraining(config)   # run folder: tokenizer/, encoder/, checkpoints/, metrics.jsonl, ...

The run folder (``out_dir``) holds everything needed to use or resume the run: ``tokenizer/``
(trained on the corpus first, or the packaged MiniLM one, and reused when present so a resumed run
tokenizes the same way), ``pretrain_config.yaml`` (the resolved config), the Trainer's
checkpoints and metrics, and at the end ``encoder/`` (``Encoder.save_pretrained``) and
``summary.json``.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import DataLoader

from kgnlu.config import load_run_config, save_config, to_dict
from kgnlu.data.corpora import Corpus, Document, open_corpus
from kgnlu.data.instances import InstanceConfig, PretrainingCollator, PretrainingDataset
from kgnlu.data.tokenizer import (
    Tokenizer,
    load_minilm_tokenizer,
    train_byte_level_bpe,
    train_wordpiece,
)
from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.model import PretrainingModel
from kgnlu.errors import ConfigError
from kgnlu.train import Trainer, TrainerConfig
from kgnlu.training import distributed as dist

SHAPES = ("bert", "albert", "electra", "gpt2")
#: sections whose YAML value replaces the default instead of merging into it
REPLACED = ("model", "objectives", "objective_options")


@dataclass
class TokenizerSpec:
    kind: Literal["minilm", "wordpiece", "byte_bpe"] = "wordpiece"  # minilm: the packaged 30,522 WordPiece
    vocab_size: int = 8192  # small models: a 30k vocabulary would be most of a 5M-parameter model
    min_frequency: int = 2
    lowercase: bool = True  # wordpiece only
    train_documents: int | None = None  # train on the corpus's first N documents (None = all of it)


@dataclass
class DataSpec:
    corpus: str = "wordnet"  # a CORPORA name: wordnet, linux_doc, text
    corpus_options: dict[str, Any] = field(default_factory=dict)  # the corpus constructor's keywords
    max_documents: int | None = None  # read only the first N documents (quick runs, tests)
    batch_size: int = 32  # per rank and micro-batch
    num_workers: int = 0  # DataLoader workers (each reads its own shard of the documents)
    pad_to_multiple_of: int | None = 8
    instances: InstanceConfig = field(default_factory=InstanceConfig)


@dataclass
class PretrainConfig:
    name: str = "pretrain"
    out_dir: str = "runs/pretrain"
    # EncoderConfig fields plus ``shape`` (bert, albert, electra, gpt2: the preset they override);
    # vocab_size (and pad_token_id for padded shapes) come from the tokenizer
    model: dict[str, Any] = field(default_factory=dict)
    objectives: dict[str, float] = field(default_factory=dict)  # name → weight, e.g. {mlm: 1, nsp: 1}
    objective_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # e.g. {rtd: {rtd_weight: 50}}
    tokenizer: TokenizerSpec = field(default_factory=TokenizerSpec)
    data: DataSpec = field(default_factory=DataSpec)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)  # its out_dir is set to ``out_dir``
    # KG-linked continued pretraining, fused or its control: kgnlu.fusion.pretrain.FusionSpec
    # (a linked corpus replaces data.corpus/instances); empty = a plain run
    fusion: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = self.model.get("shape", "bert")
        if shape not in SHAPES:
            raise ConfigError(f"model.shape must be one of {', '.join(SHAPES)}, got {shape!r}")
        self.trainer = dataclasses.replace(self.trainer, out_dir=self.out_dir)

    @classmethod
    def load(cls, path: str | Path | None, overrides: Sequence[str] = (), max_steps: int | None = None
             ) -> PretrainConfig:
        """The YAML file over the dataclass defaults, then ``key=value`` overrides, then ``max_steps``."""
        return load_run_config(cls, path, [*overrides, {"trainer": {"max_steps": max_steps}}], replace=REPLACED)


class LimitedCorpus(Corpus):
    """The first ``limit`` documents of ``corpus`` (all of them when ``limit`` is None)."""

    def __init__(self, corpus: Corpus, limit: int | None):
        self.corpus, self.limit = corpus, limit
        self.name = getattr(corpus, "name", "corpus")

    def __iter__(self) -> Iterator[Document]:
        return itertools.islice(iter(self.corpus), self.limit)


def build_tokenizer(spec: TokenizerSpec, corpus: Corpus, folder: Path) -> Tokenizer:
    """The run's tokenizer: reloaded from ``folder`` when a previous attempt saved it, else made and saved."""
    if (folder / "tokenizer.json").is_file():
        return Tokenizer.load(folder)
    if spec.kind == "minilm":
        tokenizer = load_minilm_tokenizer()
    else:
        texts = LimitedCorpus(corpus, spec.train_documents).sentences()
        if spec.kind == "wordpiece":
            tokenizer = train_wordpiece(texts, spec.vocab_size, spec.lowercase, spec.min_frequency)
        else:
            tokenizer = train_byte_level_bpe(texts, spec.vocab_size, spec.min_frequency)
    if dist.is_main():
        tokenizer.save(folder)
    return tokenizer


def build_encoder_config(model: dict[str, Any], tokenizer: Tokenizer, max_length: int) -> EncoderConfig:
    values = dict(model)
    shape = values.pop("shape", "bert")
    values["vocab_size"] = tokenizer.vocab_size
    if shape != "gpt2":
        values.setdefault("pad_token_id", tokenizer.pad_id)
    try:
        config = getattr(EncoderConfig, shape)(**values)
    except TypeError as err:
        raise ConfigError(f"model: {err}") from None
    if config.max_positions < max_length:
        raise ConfigError(f"model.max_positions {config.max_positions} is below data.instances.max_length "
                          f"{max_length}; raise max_positions or shorten the instances")
    return config


def run_pretraining(config: PretrainConfig) -> dict[str, Any]:
    """Train, save the encoder into ``out_dir/encoder``, and return the run summary."""
    if not config.objectives:
        raise ConfigError("the config names no objectives; add e.g. `objectives: {mlm: 1.0}`")
    start = time.perf_counter()
    run_dir = Path(config.out_dir)
    if config.fusion:
        from kgnlu.fusion.pretrain import build_fusion_run

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
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary
