"""Tokenizers: the packaged MiniLM WordPiece, and WordPiece / byte-level BPE trained on real text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kgnlu.data.tokenizer import (
    Tokenizer,
    load_minilm_tokenizer,
    train_byte_level_bpe,
    train_wordpiece,
)
from kgnlu.errors import CheckpointError

os.environ["HF_HUB_OFFLINE"] = "1"

# Real prose, shipped in the test itself so the test needs no data package.
CORPUS = """The quick brown fox jumps over the lazy dog. A dog is a domesticated carnivorous mammal.
Paris is the capital of France; Lyon is a city in France. The river Seine flows through Paris.
A knowledge graph stores entities and the relations between them as triples.
Encoders read text; tokenizers split it into subword units before the encoder sees it.
The cat sat on the mat while the dog slept by the door of the old house.""".splitlines() * 20


def test_wordpiece_trains_encodes_pairs_and_round_trips(tmp_path):
    tokenizer = train_wordpiece(CORPUS, vocab_size=300, min_frequency=1)
    assert tokenizer.vocab_size <= 300 and tokenizer.kind == "wordpiece"
    assert [tokenizer.token_id(r) for r in ("pad", "unk", "cls", "sep", "mask")] == [0, 1, 2, 3, 4]
    ids = tokenizer.encode("The dog sat.")
    assert ids[0] == tokenizer.token_id("cls") and ids[-1] == tokenizer.token_id("sep")
    assert tokenizer.decode(ids) == "the dog sat."
    batch = tokenizer.encode_batch(["The dog.", "A knowledge graph stores entities and the relations"],
                                   pairs=["It slept.", "between them as triples"])
    assert batch.input_ids.shape == batch.attention_mask.shape == batch.token_type_ids.shape
    assert batch.attention_mask[0].sum() < batch.attention_mask[1].sum()  # the first is padded
    first = batch.input_ids[0][batch.attention_mask[0].bool()].tolist()
    sep = first.index(tokenizer.token_id("sep"))
    assert batch.token_type_ids[0, sep + 1].item() == 1  # segment B after the first [SEP]
    tokenizer.save(tmp_path / "wp")
    again = Tokenizer.load(tmp_path / "wp")
    assert again.encode("Paris flows through the city") == tokenizer.encode("Paris flows through the city")
    assert again.special == tokenizer.special


def test_byte_level_bpe_never_needs_unknown_tokens(tmp_path):
    tokenizer = train_byte_level_bpe(CORPUS, vocab_size=400, min_frequency=1)
    assert tokenizer.kind == "byte_bpe" and tokenizer.vocab_size <= 400
    text = "Zürich → 東京 ☃ never seen"
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text  # every byte is in the alphabet: lossless
    assert len(tokenizer.encode("the dog")) < len("the dog")  # merges were learned
    tokenizer.save(tmp_path / "bpe")
    assert Tokenizer.load(tmp_path / "bpe").encode(text) == ids
    truncated = tokenizer.encode_batch([text, "the"], max_length=4)
    assert truncated.input_ids.shape == (2, 4) and truncated.attention_mask[1].sum() < 4


def test_saved_tokenizer_opens_in_transformers(tmp_path):
    transformers = pytest.importorskip("transformers")
    tokenizer = train_wordpiece(CORPUS, vocab_size=300, min_frequency=1)
    tokenizer.save(tmp_path / "wp")
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path / "wp")
    assert theirs("The dog sat.")["input_ids"] == tokenizer.encode("The dog sat.")


def test_loading_a_folder_without_tokenizer_json_fails_clearly(tmp_path):
    with pytest.raises(CheckpointError, match="tokenizer.json"):
        Tokenizer.load(tmp_path)


@pytest.mark.data
def test_minilm_tokenizer_matches_automodel_tokenizer():
    transformers = pytest.importorskip("transformers")
    from kgnlu.encoders import minilm_path

    ours = load_minilm_tokenizer()
    theirs = transformers.AutoTokenizer.from_pretrained(minilm_path())
    assert ours.vocab_size == 30_522 and ours.mask_id == 103
    texts = ["Héllo, World! It's 3.14 p.m.", "an unbelievably long hyphenated-compound word", "a"]
    if Path("/usr/share/wordnet/data.noun").is_file():
        with open("/usr/share/wordnet/data.noun", encoding="utf-8") as f:
            texts += [line.split(" | ", 1)[1].strip() for line in f if " | " in line][:200]
    batch = ours.encode_batch(texts, max_length=128)
    expected = theirs(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    assert batch.input_ids.tolist() == expected["input_ids"].tolist()
    assert batch.attention_mask.tolist() == expected["attention_mask"].tolist()
