"""KG-linked pretraining batches: linked records → packed sequences → tokens + MLM masks + ``entity_*`` tensors.

    dataset = LinkedDataset("data/linked", tokenizer, FusionDataConfig())
    collate = FusionCollator(tokenizer, entity_row=kg.index_of, config=FusionDataConfig())
    loader = DataLoader(dataset, batch_size=16, collate_fn=collate)
    batch = next(iter(loader))   # input_ids, attention_mask, token_type_ids, labels (B, S); entity_* (B, M, ...)

The dataset streams records of a linked corpus (:mod:`kgnlu.fusion.corpus`), shards them over DDP
ranks and DataLoader workers like :class:`~kgnlu.data.instances.PretrainingDataset` (record i →
shard i mod shards), packs consecutive records into one sequence up to ``max_length`` tokens
(a gloss is ~20 tokens: one per sequence would waste most of a 128-token row) with their links
shifted to the joined text, and shuffles through a bounded buffer.

The collator aligns each batch with :class:`kgnlu.fusion.Aligner` — the one place character
spans become wordpiece spans — then masks with the pretraining :class:`~kgnlu.data.instances.Masker`
(``entity`` strategy by default: mention spans first, ERNIE 1.0's entity-level masking, so the
model must recover names from their context and the linked neighbours). Masking depends only on
the sequence's own seed, so a fused run and its control see the same tokens and the same masks.

``drop_masked_entities``: a mention whose tokens are masked loses its entity input. Otherwise MLM on
mentions is solved by reading the mention's own entity embedding — a shortcut the cloze probe
never offers (its answer slot is never linked) — instead of inferring the name from the context
entities, which is the knowledge the probe measures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset

from kgnlu.data.instances.masking import IGNORE, Masker, MaskingConfig
from kgnlu.data.instances.stream import data_shard, shuffle_buffer
from kgnlu.errors import ConfigError
from kgnlu.fusion.alignment import Aligner
from kgnlu.fusion.corpus import corpus_file, read_linked
from kgnlu.fusion.slots import masked_mentions

_SHUFFLE_STREAM = 0xF05E  # separates the shuffle generator's seed from the per-sequence ones


@dataclass
class FusionDataConfig:
    max_length: int = 128  # BERT's phase-1 length; packed records fill it
    max_entities: int = 24  # per sequence; a packed 128-token row of glosses links ~15-25 mentions
    max_candidates: int = 8  # per mention, for KAR's candidate attention and the el objective
    masking: MaskingConfig = field(default_factory=lambda: MaskingConfig(strategy="entity"))
    drop_masked_entities: bool = True  # see the module docstring
    # > 0: a masked mention becomes a graph slot (kgnlu.fusion.slots) with up to this many candidates,
    # the graph neighbours of the row's other entities, instead of being dropped; 0 = off
    graph_slots: int = 0
    # > 0 (with graph_slots): batches carry each slot candidate's label wordpieces, up to this many
    # (entity_candidate_pieces), for the MLM's copy mixture (objective_options: {mlm: {copy: true}})
    slot_pieces: int = 0
    entities: bool = True  # False: the control run — same tokens and masks, no entity_* tensors
    pack: bool = True  # several records per sequence, up to max_length tokens
    shuffle_buffer: int = 2000  # packed sequences held for shuffling
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_length < 8 or self.max_entities < 1 or self.max_candidates < 1:
            raise ConfigError("fusion data needs max_length >= 8, max_entities >= 1, max_candidates >= 1")
        if self.graph_slots < 0 or self.slot_pieces < 0:
            raise ConfigError(f"graph_slots and slot_pieces must be >= 0 (0 = off), got {self.graph_slots}, "
                              f"{self.slot_pieces}")
        if self.slot_pieces and not self.graph_slots:
            raise ConfigError("slot_pieces copies names into graph slots: set graph_slots too")
        if self.shuffle_buffer < 1:
            raise ConfigError(f"shuffle_buffer must be >= 1, got {self.shuffle_buffer}")


def pack_records(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Records → one text (joined by a space) with every link's offsets shifted into it."""
    texts, links, offset = [], [], 0
    for record in records:
        for link in record.get("links", ()):
            links.append({**link, "start": link["start"] + offset, "end": link["end"] + offset})
        texts.append(record["text"])
        offset += len(record["text"]) + 1
    return {"text": " ".join(texts), "links": links}


class LinkedDataset(IterableDataset):
    """Packed linked sequences ``{"text", "links", "seed"}`` for this rank and DataLoader worker."""

    def __init__(self, path, tokenizer, config: FusionDataConfig | None = None,
                 rank: int | None = None, world_size: int | None = None, limit: int | None = None):
        self.path = corpus_file(path)
        self.tokenizer, self.config = tokenizer, config or FusionDataConfig()
        self.rank, self.world_size, self.limit = rank, world_size, limit
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def shard(self) -> tuple[int, int]:
        return data_shard(self.rank, self.world_size)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        shard, shards = self.shard()
        rng = np.random.default_rng((self.config.seed, self.epoch, shard, _SHUFFLE_STREAM))
        yield from shuffle_buffer(self.packed(shard, shards), self.config.shuffle_buffer, rng)

    def packed(self, shard: int = 0, shards: int = 1) -> Iterator[dict[str, Any]]:
        """This shard's sequences in corpus order; ``seed`` = (seed, epoch, index of its first record)."""
        room = self.config.max_length - 2  # [CLS] and [SEP]
        current: list[dict] = []
        length, first = 0, 0
        for index, record in enumerate(read_linked(self.path)):
            if self.limit is not None and index >= self.limit:
                break
            if index % shards != shard:
                continue
            size = len(self.tokenizer.encode(record["text"], add_special_tokens=False)) + 1
            if current and (not self.config.pack or length + size > room):
                yield {**pack_records(current), "seed": (self.config.seed, self.epoch, first)}
                current, length = [], 0
            if not current:
                first = index
            current.append(record)
            length += size
        if current:
            yield {**pack_records(current), "seed": (self.config.seed, self.epoch, first)}


def continuation_mask(tokenizer) -> np.ndarray:
    """(V,) bool: WordPiece continuation pieces ("##ing"), which never start a word."""
    backend = getattr(tokenizer, "backend", tokenizer)
    size = backend.get_vocab_size(with_added_tokens=True)
    return np.array([(backend.id_to_token(i) or "").startswith("##") for i in range(size)], dtype=bool)


class FusionCollator:
    """Packed sequences → the batch a :class:`PretrainingModel` with a KGEncoder trains on."""

    def __init__(self, tokenizer, entity_row: Mapping[str, int] | Callable[[str], int | None],
                 config: FusionDataConfig | None = None, neighbourhood=None, label_pieces=None):
        """``neighbourhood``: a :class:`kgnlu.fusion.slots.GraphNeighbourhood`, needed when
        ``config.graph_slots`` > 0 (entity rows must be the graph's indices); ``label_pieces``: a
        :class:`kgnlu.fusion.slot_copy.LabelPieces`, needed when ``config.slot_pieces`` > 0."""
        self.config = config or FusionDataConfig()
        if self.config.graph_slots and self.config.entities and neighbourhood is None:
            raise ConfigError("fusion.data.graph_slots needs the graph: pass neighbourhood=GraphNeighbourhood(graph)")
        if self.config.slot_pieces and self.config.entities and label_pieces is None:
            raise ConfigError("fusion.data.slot_pieces needs label_pieces=LabelPieces(graph, tokenizer)")
        self.neighbourhood, self.label_pieces = neighbourhood, label_pieces
        self.aligner = Aligner(tokenizer, entity_row, self.config.max_length, self.config.max_entities,
                               self.config.max_candidates)
        mask_id = tokenizer.mask_id
        if mask_id is None:
            raise ConfigError("fusion pretraining masks tokens; use a tokenizer with a [MASK] token (WordPiece)")
        self.continuation = continuation_mask(tokenizer)
        self.masker = Masker(self.config.masking, mask_id, len(self.continuation), frozenset(tokenizer.special_ids()))

    def __call__(self, items: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
        if not items:
            raise ConfigError("cannot collate an empty batch")
        tokens, entities = self.aligner([it["text"] for it in items], [it["links"] for it in items])
        input_ids = tokens.input_ids.clone()  # (B, S)
        labels = torch.full_like(input_ids, IGNORE)
        lengths = tokens.attention_mask.sum(1).tolist()
        for b, item in enumerate(items):
            ids = tokens.input_ids[b, :lengths[b]].numpy()
            spans = [tuple(s) for s in entities.spans[b][entities.entity_mask[b]].tolist()]
            rng = np.random.default_rng(tuple(item["seed"]))
            corrupted, row_labels = self.masker(ids, ~self.continuation[ids], spans, rng)
            input_ids[b, :lengths[b]] = torch.from_numpy(corrupted)
            labels[b, :lengths[b]] = torch.from_numpy(row_labels)
        batch = {"input_ids": input_ids, "attention_mask": tokens.attention_mask,
                 "token_type_ids": tokens.token_type_ids, "labels": labels}
        if not self.config.entities:
            return batch
        if self.config.graph_slots and entities.num_entities:
            from kgnlu.fusion.slots import masked_mentions_to_slots

            entities, originals = masked_mentions_to_slots(entities, labels, self.neighbourhood)
            if self.config.slot_pieces:
                from kgnlu.fusion.slot_copy import candidate_pieces

                originals["entity_candidate_pieces"] = candidate_pieces(
                    entities.candidate_ids, entities.candidate_mask, originals["entity_slot_mask"],
                    self.label_pieces, self.config.slot_pieces)
            return {**batch, **entities.to_batch(), **originals}
        if self.config.drop_masked_entities and entities.num_entities:
            entities = drop_masked(entities, labels)
        return {**batch, **entities.to_batch()}


def drop_masked(entities, labels: torch.Tensor):
    """EntityInputs without the mentions any of whose tokens carry an MLM label (B, S)."""
    m = entities.num_entities
    masked = masked_mentions(entities, labels)  # (B, M)
    if m == 0 or not bool(masked.any()):
        return entities
    keep = entities.entity_mask & ~masked
    return entities.replace(entity_mask=keep, entity_ids=entities.entity_ids * keep,
                            weights=entities.weights * keep, candidate_mask=entities.candidate_mask & keep[..., None],
                            candidate_ids=entities.candidate_ids * keep[..., None],
                            candidate_scores=entities.candidate_scores * keep[..., None])
