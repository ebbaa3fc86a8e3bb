"""Pretraining instances: masking invariants (hypothesis), packing, pairs, determinism, sharding, collation."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
from torch.utils.data import DataLoader

from kgnlu.data.corpora import open_corpus
from kgnlu.data.instances import (
    IGNORE,
    InstanceConfig,
    Masker,
    MaskingConfig,
    PretrainingCollator,
    PretrainingDataset,
    special_ids,
)
from kgnlu.errors import ConfigError

WORDS = ("the quick brown fox jumps over lazy dogs while seven wizards quietly judge boxing matches near "
         "paris and berlin where scientists study unbelievably complicated phenomena").split()


def make_documents(n: int = 24, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    docs = []
    for d in range(n):
        sentences = []
        for _ in range(int(rng.integers(1, 9))):
            words = list(rng.choice(WORDS, size=int(rng.integers(3, 25))))
            sentences.append(" ".join(words).capitalize() + ".")
        text = " ".join(sentences)
        entities = [[i, i + len(name), f"geo:{name}"] for name in ("paris", "berlin")
                    if (i := text.lower().find(name)) >= 0]
        docs.append({"id": f"doc{d}", "text": text, "entities": entities})
    return docs


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=120, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
                                        show_progress=False)
    tok.train_from_iterator([d["text"] for d in make_documents(60, seed=1)], trainer=trainer)
    return tok


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "docs.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in make_documents()) + "\n", encoding="utf-8")
    return open_corpus("text", paths=path)


def dataset(corpus, tokenizer, **kwargs) -> PretrainingDataset:
    masking = kwargs.pop("masking", MaskingConfig())
    shard = {k: kwargs.pop(k) for k in ("rank", "world_size") if k in kwargs}
    config = InstanceConfig(**{"max_length": 32, "shuffle_buffer": 16, **kwargs}, masking=masking)
    return PretrainingDataset(corpus, tokenizer, config, **shard)


def key(instance: dict) -> tuple:
    return tuple((k, tuple(np.atleast_1d(v).tolist())) for k, v in sorted(instance.items()))


# ---------------------------------------------------------------------- masking invariants
SPECIAL = frozenset({0, 1, 2, 3})
MASK_ID = 3


@st.composite
def sequences(draw):
    length = draw(st.integers(1, 80))
    ids = np.array(draw(st.lists(st.integers(0, 49), min_size=length, max_size=length)), dtype=np.int64)
    starts = np.array(draw(st.lists(st.booleans(), min_size=length, max_size=length)), dtype=bool)
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.integers(0, length - 1))
        spans.append((a, draw(st.integers(a + 1, min(length, a + 4)))))
    return ids, starts, spans


@settings(max_examples=150, deadline=None)
@given(sequences(), st.sampled_from(["token", "whole_word", "span", "entity", "ngram"]),
       st.floats(0.05, 0.6), st.integers(0, 2**32 - 1))
def test_masking_invariants(seq, strategy, rate, seed):
    ids, starts, spans = seq
    masker = Masker(MaskingConfig(rate=rate, strategy=strategy), MASK_ID, 50, SPECIAL)
    corrupted, labels = masker(ids, starts, spans, np.random.default_rng(seed))
    chosen = labels != IGNORE
    maskable = ~np.isin(ids, list(SPECIAL))
    assert not (chosen & ~maskable).any()  # never a special token
    assert (corrupted[~maskable] == ids[~maskable]).all()
    assert (labels[chosen] == ids[chosen]).all()  # labels only at chosen positions, = the original
    assert (corrupted[~chosen] == ids[~chosen]).all()  # nothing else changes
    assert not np.isin(corrupted[chosen & (corrupted != MASK_ID)], list(SPECIAL)).any()  # random ids aren't special
    n = int(maskable.sum())
    if n:
        budget = max(1, round(rate * n))
        words = _words(maskable, starts)
        assert chosen.any() and chosen.sum() <= max(budget, min(map(len, words)))
        if strategy in ("whole_word", "span", "ngram"):  # whole words only
            for word in words:
                assert chosen[word].all() or not chosen[word].any()
    again = masker(ids, starts, spans, np.random.default_rng(seed))  # deterministic by seed
    assert (again[0] == corrupted).all() and (again[1] == labels).all()


def _words(maskable, starts):
    out, current = [], []
    for i in range(len(maskable)):
        if not maskable[i]:
            if current:
                out.append(current)
            current = []
            continue
        if starts[i] and current:
            out.append(current)
            current = []
        current.append(i)
    if current:
        out.append(current)
    return out


def test_80_10_10_proportions():
    rng = np.random.default_rng(0)
    masker = Masker(MaskingConfig(rate=0.15, strategy="token"), MASK_ID, 1000, SPECIAL)
    ids = rng.integers(4, 1000, size=400_000)
    corrupted, labels = masker(ids, np.ones(len(ids), bool), [], rng)
    chosen = labels != IGNORE
    assert chosen.mean() == pytest.approx(0.15, abs=0.002)
    as_mask = (corrupted[chosen] == MASK_ID).mean()
    kept = (corrupted[chosen] == ids[chosen]).mean()
    assert as_mask == pytest.approx(0.8, abs=0.01)
    assert kept == pytest.approx(0.1 + 0.1 / 996, abs=0.01)
    assert 1 - as_mask - kept == pytest.approx(0.1, abs=0.01)


def test_entity_masking_masks_whole_entity_spans_first():
    masker = Masker(MaskingConfig(rate=0.2, strategy="entity"), MASK_ID, 50, SPECIAL)
    ids = np.arange(10, 30)
    _, labels = masker(ids, np.ones(20, bool), [(5, 8)], np.random.default_rng(0))
    chosen = labels != IGNORE
    assert chosen[5:8].all() and chosen.sum() == 4  # the 3-token entity, then one word to reach 4


def test_masking_config_is_validated():
    with pytest.raises(ConfigError, match="rate"):
        MaskingConfig(rate=0.0)
    with pytest.raises(ConfigError, match="sum to at most 1"):
        MaskingConfig(mask_prob=0.9, random_prob=0.2)
    with pytest.raises(ConfigError, match="strategy"):
        MaskingConfig(strategy="words")


# ---------------------------------------------------------------------- builders and packing
@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["mlm", "electra", "nsp", "sop", "clm"]), st.integers(8, 64), st.booleans())
def test_packing_never_exceeds_max_length(corpus, tokenizer, kind, max_length, cross):
    ds = dataset(corpus, tokenizer, kind=kind, max_length=max_length, cross_document=cross)
    special = ds.special
    items = list(ds)
    assert items
    for item in items:
        n = len(item["input_ids"])
        assert n <= max_length and all(len(v) == n for v in item.values() if isinstance(v, np.ndarray))
        if kind == "clm":
            assert n == max_length and (item["labels"] == item["input_ids"]).all()
            continue
        ids = item["input_ids"]
        assert ids[0] == special.cls and ids[-1] == special.sep
        if kind in ("nsp", "sop"):
            types = item["token_type_ids"]
            first_b = int(np.argmax(types))
            assert types[0] == 0 and types[-1] == 1 and (types[first_b:] == 1).all() and ids[first_b - 1] == special.sep
            assert (ids == special.sep).sum() == 2 and item[f"{kind}_label"] in (0, 1)


def test_pair_labels_are_balanced(corpus, tokenizer):
    for kind in ("nsp", "sop"):
        labels = [it[f"{kind}_label"] for it in dataset(corpus, tokenizer, kind=kind, max_length=24)]
        assert len(labels) > 40 and 0.3 < np.mean(labels) < 0.7, kind


def test_sop_swapped_pairs_hold_the_same_two_segments(corpus, tokenizer):
    config = dict(kind="sop", max_length=40, mask_pairs=False, short_seq_prob=0.0)
    items = list(itertools.islice(dataset(corpus, tokenizer, **config).unshuffled(), 30))
    assert all("labels" not in it for it in items)  # mask_pairs=False: plain pairs
    text = [tokenizer.decode(it["input_ids"].tolist()) for it in items]
    assert all(t.strip() for t in text)


def test_determinism_by_seed_and_epoch(corpus, tokenizer):
    a = [key(x) for x in dataset(corpus, tokenizer, kind="nsp", seed=3)]
    b = [key(x) for x in dataset(corpus, tokenizer, kind="nsp", seed=3)]
    c = [key(x) for x in dataset(corpus, tokenizer, kind="nsp", seed=4)]
    assert a == b and a != c
    later = dataset(corpus, tokenizer, kind="nsp", seed=3)
    later.set_epoch(1)
    assert [key(x) for x in later] != a


@pytest.mark.parametrize("kind", ["mlm", "sop", "electra"])
def test_rank_sharding_partitions_the_stream(corpus, tokenizer, kind):
    whole = Counter(key(x) for x in dataset(corpus, tokenizer, kind=kind))
    shards = [Counter(key(x) for x in dataset(corpus, tokenizer, kind=kind, rank=r, world_size=3)) for r in range(3)]
    assert all(shards) and sum(shards, Counter()) == whole
    for a, b in itertools.combinations(shards, 2):
        assert not (set(a) & set(b))


def test_dataloader_workers_split_a_rank_shard(corpus, tokenizer):
    ds = dataset(corpus, tokenizer, kind="mlm", rank=1, world_size=2)
    alone = Counter(key(x) for x in ds)
    loader = DataLoader(ds, batch_size=None, num_workers=2, collate_fn=lambda x: x)
    with_workers = Counter(key(x) for x in loader)
    assert with_workers == alone


def test_special_ids_from_the_tokenizer(tokenizer):
    special = special_ids(tokenizer)
    assert (special.cls, special.sep, special.mask, special.pad) == tuple(
        tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[MASK]", "[PAD]"))
    assert {tokenizer.token_to_id("[UNK]")} <= special.all


def test_entity_spans_reach_the_tokens(corpus, tokenizer):
    ds = dataset(corpus, tokenizer)
    doc = next(d for d in corpus if any(d.entities))
    sentences = ds.encoder.encode(doc)
    spans = [(s, span) for s in sentences for span in s.entities]
    assert spans
    for sentence, (a, b) in spans:
        assert tokenizer.decode(sentence.ids[a:b].tolist()).replace(" ##", "") in ("paris", "berlin")


def test_collator_pads_and_masks(corpus, tokenizer):
    ds = dataset(corpus, tokenizer, kind="nsp", max_length=32)
    items = list(itertools.islice(iter(ds), 5))
    batch = PretrainingCollator(ds.special.pad, pad_to_multiple_of=8)(items)
    b, s = batch["input_ids"].shape
    assert b == 5 and s % 8 == 0 and s >= max(len(i["input_ids"]) for i in items)
    assert batch["nsp_label"].shape == (5,) and batch["mlm_positions"].dtype == torch.bool
    for row, item in enumerate(items):
        n = len(item["input_ids"])
        assert batch["attention_mask"][row, :n].all() and not batch["attention_mask"][row, n:].any()
        assert (batch["input_ids"][row, n:] == ds.special.pad).all() and (batch["labels"][row, n:] == IGNORE).all()
    assert torch.equal(batch["mlm_positions"], batch["labels"] != IGNORE)


def test_kinds_needing_missing_tokens_fail_early(corpus):
    tok = Tokenizer(models.WordLevel({"a": 0, "b": 1, "[PAD]": 2}, unk_token="a"))
    with pytest.raises(ConfigError, match="mask"):
        PretrainingDataset(corpus, tok, InstanceConfig(kind="mlm"))
