"""The streaming pretraining dataset: corpus → shard → tokenize → build → shuffle buffer → instances.

``PretrainingDataset`` is a ``torch.utils.data.IterableDataset``. The corpus is read as a stream
and never held whole; at most ``shuffle_buffer`` instances (and, for NSP, a bounded window of
recent documents) are in memory.

Sharding happens on documents: with ``world_size`` DDP ranks and ``W`` DataLoader workers per
rank there are ``world_size × W`` shards, and document ``i`` (in the corpus's fixed order) goes to
shard ``i % (world_size × W)`` — rank ``i % world_size``, whatever ``W`` is. Every process reads the corpus but tokenizes only its own
documents, so the shards partition the stream. Ranks may end an epoch a few instances apart;
the trainer is step-based, so no rank waits on another at an epoch's end.

Determinism: document ``i`` in epoch ``e`` is built with ``numpy.random.default_rng((seed, e, i))``,
so its instances (masking included) are the same whichever shard reads it; the shuffle buffer
of a shard uses ``(seed, e, shard)``. Call :meth:`set_epoch` before each epoch (the Trainer
does) for a fresh masking and order.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from kgnlu.data.corpora.base import Corpus
from kgnlu.data.instances.builders import INSTANCE_BUILDERS, Instance
from kgnlu.data.instances.config import InstanceConfig
from kgnlu.data.instances.tokens import DocumentEncoder, SpecialIds

_SHUFFLE_STREAM = 0x5EED  # separates the shuffle generator's seed from the per-document ones


def rank_and_world(rank: int | None = None, world_size: int | None = None) -> tuple[int, int]:
    """Explicit values, else the initialised process group, else torchrun's RANK/WORLD_SIZE, else (0, 1)."""
    if rank is not None and world_size is not None:
        return rank, world_size
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def data_shard(rank: int | None = None, world_size: int | None = None) -> tuple[int, int]:
    """(this shard's index, number of shards) over DDP ranks × DataLoader workers, for streams that
    read every ``shards``-th document from ``index``."""
    rank, world = rank_and_world(rank, world_size)
    worker = get_worker_info()
    workers, worker_id = (worker.num_workers, worker.id) if worker is not None else (1, 0)
    # worker w of rank r reads shard r + w·world: document i goes to rank i % world whatever the
    # worker count, so a rank sees the same documents with or without DataLoader workers
    return rank + worker_id * world, world * workers


def shuffle_buffer(items: Iterator[Any], size: int, rng: np.random.Generator) -> Iterator[Any]:
    """A bounded shuffle: hold ``size`` items, emit a random one as each new item arrives."""
    buffer: list[Any] = []
    for item in items:
        if len(buffer) < size:
            buffer.append(item)
            continue
        index = int(rng.integers(0, size))
        yield buffer[index]
        buffer[index] = item
    for index in rng.permutation(len(buffer)):
        yield buffer[index]


class PretrainingDataset(IterableDataset):
    """Instances of ``config.kind`` from ``corpus`` for this rank and DataLoader worker."""

    def __init__(self, corpus: Corpus, tokenizer: Any, config: InstanceConfig | None = None,
                 special: SpecialIds | None = None, rank: int | None = None, world_size: int | None = None):
        self.corpus = corpus
        self.config = config or InstanceConfig()
        self.encoder = DocumentEncoder(tokenizer, special)
        self.special = self.encoder.special
        self.rank, self.world_size = rank, world_size
        self.epoch = 0
        self.builder_class = INSTANCE_BUILDERS.get(self.config.kind)
        self.builder_class(self.config, self.special, self.encoder.vocab_size)  # fail now on a bad tokenizer

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard(self) -> tuple[int, int]:
        return data_shard(self.rank, self.world_size)

    def __iter__(self) -> Iterator[Instance]:
        shard, shards = self.shard()
        rng = np.random.default_rng((self.config.seed, self.epoch, shard, _SHUFFLE_STREAM))
        yield from shuffle_buffer(self.unshuffled(shard, shards), self.config.shuffle_buffer, rng)

    def unshuffled(self, shard: int = 0, shards: int = 1) -> Iterator[Instance]:
        """This shard's instances in build order (before the shuffle buffer)."""
        builder = self.builder_class(self.config, self.special, self.encoder.vocab_size)
        rng = None
        for index, document in enumerate(self.corpus):
            if index % shards != shard:
                continue
            rng = np.random.default_rng((self.config.seed, self.epoch, index))
            sentences = self.encoder.encode(document)
            if sentences:
                yield from builder.feed(sentences, rng)
        if rng is not None:
            yield from builder.finish(rng)
