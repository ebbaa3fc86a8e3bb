"""Random-access WordNet (kgnlu.kg.sources.wordnet_lookup): binary search over index files, one seek
into data files, morphology, senses, hypernym closure, participles. A dict folder the test writes
(offsets are the byte positions the format promises), any sorted index (Hypothesis), and the real
WordNet 3.0 (data)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgnlu.kg.sources.wordnet_lookup import POS_NAMES, WordNetLookup
from tests.conftest import require_wordnet
from tests.kg.wordnet_dict import LICENCE, SYNSETS, write_dict


@pytest.fixture(scope="module")
def wn(tmp_path_factory) -> WordNetLookup:
    lookup = WordNetLookup.open(write_dict(tmp_path_factory.mktemp("dict")))
    assert lookup is not None
    return lookup


def test_open_needs_every_index_and_data_file(tmp_path):
    folder = write_dict(tmp_path / "dict")
    assert WordNetLookup.open(folder) is not None
    (folder / "data.adv").unlink()
    assert WordNetLookup.open(folder) is None
    assert WordNetLookup.open(tmp_path / "nowhere") is None


def test_lemmas_follow_wordnet_morphology(wn):
    assert wn.lemmas("dogs", "noun") == ["dog"]
    assert wn.lemmas("geese", "noun") == ["goose"]  # noun.exc
    assert wn.lemmas("cities", "noun") == ["city"]
    assert wn.lemmas("teaches", "verb") == ["teach"]
    assert wn.lemmas("taught", "verb") == ["teach"]  # verb.exc
    assert wn.lemmas("depended", "verb") == ["depend"]
    assert wn.lemmas("glasses", "noun") == ["glasses", "glass"]  # a lemma itself first
    assert wn.lemmas("Domestic Dog", "noun") == ["domestic_dog"]  # case and spaces do not matter
    assert wn.lemmas("cats", "noun") == [] and wn.lemmas("", "noun") == []
    assert wn.is_lemma("dog", "noun") and not wn.is_lemma("dogs", "noun")
    assert not wn.is_lemma("do", "noun")  # a prefix of a lemma is not one


def test_parts_of_speech(wn):
    assert wn.parts_of_speech("dog") == {"noun"}
    assert wn.parts_of_speech("teaches") == {"noun", "verb"}  # the verb, and Edward Teach
    assert wn.parts_of_speech("quickly") == {"adv"}
    assert wn.parts_of_speech("bigger") == {"adj"}  # adj.exc
    assert wn.parts_of_speech("larger") == {"adj"}  # the -er rule
    assert wn.parts_of_speech("zzzq") == set()


def test_senses_in_wordnet_order_and_synsets_read_by_seek(wn):
    dog = wn.senses("dog")
    assert len(dog) == 3 and wn.senses("dog", limit=1) == dog[:1]
    assert wn.senses("dogs") == dog  # through morphology
    lemmas, hypernyms = wn.synset(dog[0])
    assert lemmas == ["dog", "domestic dog"]
    assert [wn.synset(h)[0][0] for h in hypernyms] == ["animal"]
    paris_lemmas, paris_up = wn.synset(wn.senses("paris")[0])
    assert paris_lemmas == ["paris", "city of light"]  # lowercase, spaces
    assert [wn.synset(h)[0][0] for h in paris_up] == ["city"]  # an instance hypernym counts
    assert wn.senses("nothing here") == []


def test_ancestors_close_over_the_commonest_senses(wn):
    assert {"educator", "person", "organism", "entity", "professor", "prof"} <= wn.ancestors("professor")
    assert "person" in wn.ancestors("professors")
    dog = wn.ancestors("dog")  # senses: the animal, the frump (a person); not the hotdog
    assert {"animal", "organism", "person", "frump"} <= dog and "hotdog" not in dog
    assert "hotdog" in wn.ancestors("dog", senses=3)
    assert "location" in wn.ancestors("paris")
    assert wn.ancestors("zzzq") == frozenset()
    for key, lemmas, _ in SYNSETS["noun"]:  # every synset is read back from its offset
        offset = next(o for o in wn.senses(lemmas[0]) if wn.synset(o)[0][0] == lemmas[0].replace("_", " ").lower())
        assert wn.synset(offset)[0] == [w.replace("_", " ").lower() for w in lemmas], key


def test_participles_come_from_the_exception_list(wn):
    assert wn.participles("write") == ["written", "wrote"]  # participle-looking first, "writes" dropped
    assert wn.participles("teach") == ["taught"]
    assert wn.participles("depend") == []  # regular: the rules make it


@st.composite
def sorted_index(draw):
    """A set of lemmas (WordNet's characters), written as a sorted index after the licence header."""
    lemma = st.text(alphabet="abz_-'.0", min_size=1, max_size=6).filter(lambda w: w[0] not in " ")
    words = sorted(draw(st.sets(lemma, min_size=1, max_size=40)), key=lambda w: (w + " ").encode())
    probes = draw(st.lists(lemma, max_size=10))
    return words, probes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sorted_index())
def test_binary_search_finds_exactly_the_lemmas_of_any_sorted_index(tmp_path, case):
    words, probes = case
    folder = tmp_path  # only index.noun is read: rewritten for each example
    lines = [f"{w} n 1 0 1 0 {i:08d}" for i, w in enumerate(words)]
    (folder / "index.noun").write_text("\n".join(LICENCE + lines) + "\n", encoding="ascii")
    wn = WordNetLookup(folder)
    for i, w in enumerate(words):
        assert wn._index_line("noun", w) == [w, "n", "1", "0", "1", "0", f"{i:08d}"]
    for p in probes:
        assert (wn._index_line("noun", p) is not None) == (p in words)


# ---------------------------------------------------------------------- the real WordNet 3.0
@pytest.fixture(scope="module")
def real():
    directory = require_wordnet()
    lookup = WordNetLookup.open(directory)
    assert lookup is not None
    return lookup


def _index_lemmas(directory: Path, pos: str) -> list[str]:
    with open(directory / f"index.{pos}", encoding="utf-8", errors="replace") as f:
        return [line.split(" ", 1)[0] for line in f if not line.startswith("  ")]


@pytest.mark.data
@pytest.mark.parametrize("pos", POS_NAMES)
def test_real_index_lookup_finds_sampled_lemmas_and_both_ends(real, pos):
    lemmas = _index_lemmas(real.directory, pos)
    sample = [lemmas[0], lemmas[-1], *lemmas[:: max(1, len(lemmas) // 400)]]
    for lemma in sample:
        assert real.is_lemma(lemma, pos), lemma
    assert not real.is_lemma(lemmas[-1] + "q", pos) and not real.is_lemma("zzzzqq", pos)


@pytest.mark.data
def test_real_synsets_agree_with_the_full_parser(real):
    from kgnlu.kg.sources.wordnet_format import parse_data_line

    rng = random.Random(0)
    data = (real.directory / "data.noun").read_bytes()
    starts = [i + 1 for i in range(len(data) - 1) if data[i] == 0x0A and data[i + 1] != 0x20]
    for offset in rng.sample(starts, 200):
        line = data[offset: data.index(b"\n", offset)].decode()
        full = parse_data_line(line)
        lemmas, hypernyms = real.synset(offset)
        assert full.offset == offset
        assert lemmas == [w.name.replace("_", " ").lower() for w in full.lemmas]
        assert hypernyms == [p.offset for p in full.pointers if p.symbol in ("@", "@i")]


@pytest.mark.data
def test_real_words(real):
    assert "person" in real.ancestors("professor") and "location" in real.ancestors("city")
    assert "animal" in real.ancestors("dog") and "person" not in real.ancestors("country")
    assert real.lemmas("geese", "noun") == ["goose"] and real.lemmas("went", "verb") == ["go"]
    assert real.parts_of_speech("quickly") == {"adv"}
    assert real.participles("write")[0] == "written" and real.participles("build") == ["built"]
    dog = real.senses("dog")
    assert "dog" in real.synset(dog[0])[0] and real.senses("dog", limit=2) == dog[:2]
