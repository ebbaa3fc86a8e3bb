"""DescriptionBank (kgnlu.qa.path_matching): a path scores as its best description, the question's
sides of the topic tell word order apart, save/load round-trips, and stored arrays are validated.
Vectors come from a bag-of-words encoder, so expected scores are word overlaps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kgnlu.errors import QAError
from kgnlu.qa.path_matching import EMPTY_SIDE, DescriptionBank, placeholder_sides, sides
from tests.qa.bag_of_words import Vocabulary

X = "something"
DEPEND = [["What does something depend on?", "Name the thing something depends on."],  # path 0: x depends on ?
          ["What depends on something?"],  # path 1: ? depends on x
          ["What is the capital of something?", "Which city is the capital of something?"]]  # path 2


@pytest.fixture
def vocab():
    return Vocabulary()


def question(vocab, text):
    left, right = placeholder_sides(text, X)
    return vocab.encode([text]), vocab.encode([left]), vocab.encode([right])


def test_sides_and_empty_sides():
    assert sides("What depends on curl?", 16, 20) == ("What depends on", "?")
    assert sides("curl depends on what", 0, 4) == (EMPTY_SIDE, "depends on what")
    assert placeholder_sides("What is something?", X) == ("What is", "?")
    assert placeholder_sides("no topic here", X) == ("no topic here", EMPTY_SIDE)


@given(st.text(max_size=30), st.text(max_size=30))
def test_sides_are_what_surrounds_the_span(before, after):
    text = before + X + after
    left, right = sides(text, len(before), len(before) + len(X))
    assert left == (before.strip() or EMPTY_SIDE) and right == (after.strip() or EMPTY_SIDE)


def test_build_embeds_each_distinct_text_once_and_groups_by_path(vocab):
    seen = []

    def encode(texts):
        seen.append(list(texts))
        return vocab.encode(texts)

    bank = DescriptionBank.build(DEPEND, encode, X)
    assert len(seen) == 1 and len(seen[0]) == len(set(seen[0]))  # "?" right sides are embedded once
    assert bank.owner.tolist() == [0, 0, 1, 2, 2] and bank.starts.tolist() == [0, 2, 3] and bank.num_paths == 3
    for rows in (bank.whole, bank.left, bank.right):
        assert rows.shape == (5, vocab.encode(["x"]).shape[1]) and rows.dtype == np.float32
        assert np.allclose(np.linalg.norm(rows, axis=1), 1.0)
    assert np.allclose(bank.left[2], vocab.encode(["What depends on"])[0])
    with pytest.raises(ValueError, match="path 1"):
        DescriptionBank.build([["a something"], []], encode, X)


def test_a_path_scores_as_its_best_description(vocab):
    bank = DescriptionBank.build(DEPEND, vocab.encode, X)
    q = vocab.encode(["Which city is the capital of something?", "Name the thing something depends on."])
    scores = bank.scores(q, None, None, side_weight=0.0)
    assert scores.shape == (2, 3)
    assert scores[0, 2] == pytest.approx(1.0) and scores[1, 0] == pytest.approx(1.0)  # worded exactly as one of them
    whole = q @ bank.whole.T
    assert np.allclose(scores, np.maximum.reduceat(whole, [0, 2, 3], axis=1))


def test_the_sides_of_the_topic_tell_the_direction(vocab):
    bank = DescriptionBank.build(DEPEND[:2], vocab.encode, X)
    q, left, right = question(vocab, "Which packages depend on something?")
    plain = bank.scores(q, left, right, side_weight=0.0)[0]
    assert plain.argmax() == 0  # more words shared with "What does something depend on?"
    ordered = bank.scores(q, left, right, side_weight=0.5)[0]
    assert ordered.argmax() == 1  # "... depend on | something | ?" is "What depends on | something | ?"
    assert ordered[1] == pytest.approx(plain[1] + 0.5 * (float(left[0] @ bank.left[2]) + 1.0))


def test_save_and_load_round_trip_in_float16(vocab, tmp_path):
    bank = DescriptionBank.build(DEPEND, vocab.encode, X)
    bank.save(tmp_path)
    loaded = DescriptionBank.load(tmp_path, 3)
    assert np.array_equal(loaded.owner, bank.owner) and np.array_equal(loaded.starts, bank.starts)
    for name in ("whole", "left", "right"):
        assert np.abs(getattr(loaded, name) - getattr(bank, name)).max() < 1e-3
    with pytest.raises(ValueError):
        DescriptionBank.load(tmp_path, 4)  # the cache holds 3 paths, not 4
    np.save(tmp_path / "description_left.npy", bank.left[:-1].astype(np.float16))
    with pytest.raises(ValueError, match="line up"):
        DescriptionBank.load(tmp_path, 3)
    np.save(tmp_path / "description_left.npy", np.full_like(bank.left, np.nan, dtype=np.float16))
    with pytest.raises(ValueError, match="finite"):
        DescriptionBank.load(tmp_path, 3)


def test_from_arrays_keeps_whole_texts_only_and_validates(vocab):
    bank = DescriptionBank.build(DEPEND, vocab.encode, X)
    stored = DescriptionBank.from_arrays(bank.owner, bank.whole, 3, where="model.safetensors")
    assert stored.left is None and stored.right is None and stored.starts.tolist() == [0, 2, 3]
    q, left, right = question(vocab, "What depends on something?")
    assert np.allclose(stored.scores(q, left, right, side_weight=0.5), bank.scores(q, None, None, 0.0))
    bad = [(bank.owner[::-1], bank.whole), (bank.owner, bank.whole[:-1]), (np.array([0, 0, 1, 1, 1]), bank.whole),
           (bank.owner, np.where(np.eye(5, bank.whole.shape[1], dtype=bool), np.nan, bank.whole)),
           (bank.owner, bank.whole[:, 0])]
    for owner, whole in bad:
        with pytest.raises(QAError, match="model.safetensors.*retrain"):
            DescriptionBank.from_arrays(owner, whole, 3, where="model.safetensors")
