"""A pretraining run's config and the pieces every run builds from it: the tokenizer and the
encoder config (see :mod:`kgnlu.pretrain.run` for the run itself, :mod:`kgnlu.pretrain.fused` for
KG-fused runs).

    config = PretrainConfig.load("configs/bert-mini.yaml", ["model.hidden_size=128"])
    tokenizer = build_tokenizer(config.tokenizer, corpus, run_dir / "tokenizer")
    encoder_config = build_encoder_config(config.model, tokenizer, config.data.instances.max_length)
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from kgnlu.config import load_run_config
from kgnlu.data.corpora import Corpus, Document
from kgnlu.data.instances import InstanceConfig
from kgnlu.data.tokenizer import (
    Tokenizer,
    load_minilm_tokenizer,
    train_byte_level_bpe,
    train_wordpiece,
)
from kgnlu.encoders.config import EncoderConfig
from kgnlu.errors import ConfigError
from kgnlu.training import distributed as dist
from kgnlu.training.trainer import TrainerConfig

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
    # KG-linked continued pretraining, fused or its control: kgnlu.pretrain.fused.FusionSpec
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
