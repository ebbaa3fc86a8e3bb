"""The hand-tagged part-of-speech set (kgnlu/eval/natural/pos_tagged.jsonl): its shape, its
tag inventory (UD UPOS), its dev/test split and its size. No tagger runs here."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "kgnlu" / "eval" / "natural" / "pos_tagged.jsonl"
UPOS = frozenset(
    "ADJ ADP ADV AUX CCONJ DET INTJ NOUN NUM PART PRON PROPN PUNCT SCONJ SYM VERB X".split()
)
MIN_SENTENCES = 120
MIN_TOKENS = 1800
MIN_NOUN_VERB_WORDS = 25


def _split(sentence_id: str) -> str:
    return "dev" if hashlib.sha256(sentence_id.encode("utf-8")).digest()[0] < 128 else "test"


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    out = []
    for number, line in enumerate(PATH.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"line {number} is blank"
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number} is not an object"
        out.append(row)
    return out


def test_fields_and_lengths(rows: list[dict]) -> None:
    for row in rows:
        assert set(row) == {"id", "tokens", "tags", "split"}, row.get("id")
        assert isinstance(row["tokens"], list) and row["tokens"], row["id"]
        assert len(row["tokens"]) == len(row["tags"]), row["id"]
        for token in row["tokens"]:
            assert isinstance(token, str) and token, row["id"]
            assert not any(c.isspace() for c in token), row["id"]


def test_tags_are_upos(rows: list[dict]) -> None:
    for row in rows:
        bad = [t for t in row["tags"] if t not in UPOS]
        assert not bad, (row["id"], bad)


def test_ids_unique_and_split_by_hash(rows: list[dict]) -> None:
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        assert row["id"].startswith("pos-"), row["id"]
        assert row["split"] == _split(row["id"]), row["id"]
    assert {row["split"] for row in rows} == {"dev", "test"}


def test_no_sentence_duplicated(rows: list[dict]) -> None:
    texts = [" ".join(row["tokens"]).lower() for row in rows]
    assert len(texts) == len(set(texts))


def test_size(rows: list[dict]) -> None:
    assert len(rows) >= MIN_SENTENCES
    assert sum(len(row["tokens"]) for row in rows) >= MIN_TOKENS


def test_noun_verb_ambiguity(rows: list[dict]) -> None:
    tags_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for token, tag in zip(row["tokens"], row["tags"], strict=True):
            tags_of[token.lower()].add(tag)
    both = sorted(w for w, tags in tags_of.items() if {"NOUN", "VERB"} <= tags)
    assert len(both) >= MIN_NOUN_VERB_WORDS, both


def test_tokenisation_conventions(rows: list[dict]) -> None:
    """Contractions split as UD does; punctuation split off (abbreviations such as "Dr." aside)."""
    for row in rows:
        for token, tag in zip(row["tokens"], row["tags"], strict=True):
            if token.lower() == "n't":
                assert tag == "PART", row["id"]
            if token in {"'ll", "'ve", "'re", "'m", "'d"}:
                assert tag == "AUX", (row["id"], token)
            if len(token) > 1 and token[-1] in ',;:!?"':
                pytest.fail(f"{row['id']}: punctuation not split off {token!r}")
            if token.endswith("'s") and token != "'s":
                pytest.fail(f"{row['id']}: clitic not split off {token!r}")
