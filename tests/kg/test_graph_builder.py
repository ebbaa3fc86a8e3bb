import numpy as np
import pytest

from kgnlu.errors import ConfigError
from kgnlu.kg.graph_builder import GraphBuilder, alias_key


def test_interning_is_first_seen_order_and_bulk_matches_single():
    b = GraphBuilder()
    assert b.entity("a") == 0
    ids = b.entity_ids(["x", "a", "y", "x"])
    assert ids.tolist() == [1, 0, 2, 1]
    assert b.entity("y") == 2
    assert list(b.iter_entity_ids()) == ["a", "x", "y"]


def test_first_label_and_kind_win_texts_accumulate():
    b = GraphBuilder()
    b.entity("e", label="first", kind="k1", text="one")
    b.entity("e", label="second", kind="k2", text="two")
    data = b.finalize()
    assert data.entity_labels == ["first"]
    assert data.kinds[int(data.entity_kinds[0])] == "k1"
    assert data.entity_texts == ["one two"]


def test_duplicate_triples_merge_and_train_split_wins():
    b = GraphBuilder()
    b.triple("a", "r", "b", split="test")
    b.triple("a", "r", "b", split="train")
    b.triple("b", "r", "a")
    data = b.finalize()
    assert data.triples.tolist() == [[0, 0, 1], [1, 0, 0]]
    assert data.triple_split.tolist() == [0, 0]
    assert data.has_splits


def test_alias_priors_normalise_per_surface_and_rank():
    b = GraphBuilder()
    b.alias("Paris", "paris_fr", 2_000_000)
    b.alias("paris ", "paris_tx", 25_000)
    b.alias("PARIS", "paris_fr", 100_000)
    data = b.finalize()
    assert data.alias_keys == ["paris"]
    ents = [data.entity_ids[e] for e in data.alias_entities]
    assert ents == ["paris_fr", "paris_tx"]
    assert data.alias_priors.sum() == pytest.approx(1.0)
    assert data.alias_priors[0] == pytest.approx(2_100_000 / 2_125_000)


def test_alias_key_folds_case_width_and_space():
    assert alias_key("  New\tYORK ") == "new york"
    assert alias_key("ＡＢＣ") == "abc"  # full-width letters (NFKC)
    assert alias_key("Straße") == "strasse"  # casefold, not lower


def test_bad_split_and_negative_weight_are_refused():
    b = GraphBuilder()
    with pytest.raises(ConfigError, match="split"):
        b.triple("a", "r", "b", split="dev")
    with pytest.raises(ConfigError, match=">= 0"):
        b.alias("a", "a", -1)


def test_source_counts_track_contributions():
    b = GraphBuilder()
    s1 = b.begin_source("one", "tsv")
    b.triple("a", "r", "b")
    s2 = b.begin_source("two", "tsv")
    b.triple("a", "r", "c")
    b.triples_by_id(np.array([0]), np.array([0]), np.array([2]))
    assert (s1.entities, s1.triples, s1.relations) == (2, 1, 1)
    assert (s2.entities, s2.triples, s2.relations) == (1, 2, 0)
