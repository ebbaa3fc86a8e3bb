"""The WordNet 3.0 reader and graph source: a fixture dict folder, plus the real one (data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.errors import DataMissingError, ParseError
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.sources import parse_source
from kgnlu.kg.sources.wordnet import WordNetSource, kind_lexname, kind_pos
from kgnlu.kg.sources.wordnet_format import (
    LEXNAMES,
    POINTER_NAMES,
    Lemma,
    Pointer,
    Synset,
    parse_data_line,
    read_exceptions,
    read_sense_counts,
    read_synsets,
    sense_key,
    split_gloss,
)

REAL = Path("/usr/share/wordnet")

DATA = {
    "noun": [
        "  1 This software and database is being provided to you, the LICENSEE, by",
        "  2 Princeton University under the following license.",
        "00001740 03 n 01 entity 0 001 ~ 00002000 n 0000 | that which is perceived or known",
        "00002000 05 n 02 dog 0 domestic_dog 0 003 @ 00001740 n 0000 + 00003000 v 0101 "
        '%p 00002100 n 0000 | a domesticated canid; "the dog barked all night"; "a dog\'s life"',
        "00002100 08 n 01 tail 0 001 #p 00002000 n 0000 | the rear part of an animal",
    ],
    "verb": [
        "00003000 35 v 01 dog 0 002 + 00002000 n 0101 @ 00003100 v 0000 01 + 02 00 "
        '| go after with the intent to catch; "the policeman dogged the thief"',
        "00003100 38 v 01 follow 0 001 ~ 00003000 v 0000 02 + 02 00 + 08 01 | to travel behind",
    ],
    "adj": [
        "00004000 00 a 01 good 0 002 ! 00004100 a 0101 & 00004200 a 0000 "
        '| having desirable qualities; "good news"',
        "00004100 00 a 01 bad 0 001 ! 00004000 a 0101 | having undesirable qualities",
        "00004200 00 s 02 fine 1 nice(a) 0 001 & 00004000 a 0000 | pleasing",
    ],
    "adv": ["00005000 02 r 01 well 0 001 \\ 00004000 a 0101 | in a good manner"],
}
CNTLIST = "5 dog%1:05:00:: 1\n2 dog%2:35:00:: 1\n3 good%3:00:00:: 1\n1 fine%5:00:01:good:00 1\n"


def write_dict(folder: Path, data: dict[str, list[str]] = DATA, cntlist: str | None = CNTLIST) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in data.items():
        (folder / f"data.{name}").write_text("".join(line + "  \n" for line in lines))
    if cntlist is not None:
        (folder / "cntlist").write_text(cntlist)
    (folder / "noun.exc").write_text("geese goose\nmice mouse\n")
    (folder / "verb.exc").write_text("ate eat\nbetter better well\n")
    return folder


@pytest.fixture
def wn_dir(tmp_path: Path) -> Path:
    return write_dict(tmp_path / "dict")


def build(folder: Path) -> GraphBuilder:
    builder = GraphBuilder("wn")
    WordNetSource(folder).emit(builder)
    return builder


def priors(graph, surface: str) -> list[tuple[str, float]]:
    i = graph.alias_keys.index(surface)
    span = slice(graph.alias_indptr[i], graph.alias_indptr[i + 1])
    return [(graph.entity_ids[e], float(p))
            for e, p in zip(graph.alias_entities[span], graph.alias_priors[span], strict=True)]


def test_synsets_become_entities_with_lexname_kinds_and_gloss_texts(wn_dir: Path) -> None:
    graph = build(wn_dir).finalize()
    ids = graph.entity_ids
    assert len(ids) == 9
    dog = ids.index("wn:00002000-n")
    assert graph.entity_labels[dog] == "dog"
    assert graph.kinds[graph.entity_kinds[dog]] == "wordnet:noun.animal"
    assert graph.entity_texts[dog].startswith("a domesticated canid; \"the dog barked")
    # Satellites are ids with "a", kind of their adjective file.
    fine = ids.index("wn:00004200-a")
    assert graph.kinds[graph.entity_kinds[fine]] == "wordnet:adj.all"
    assert graph.kinds[graph.entity_kinds[ids.index("wn:00003100-v")]] == "wordnet:verb.motion"
    assert kind_lexname("wordnet:noun.animal") == "noun.animal" and kind_pos("wordnet:adv.all") == "r"
    assert kind_pos("geonames:city") is None


def test_pointers_become_relations_with_sense_level_ones_kept_apart(wn_dir: Path) -> None:
    builder = build(wn_dir)
    counts = builder.current
    graph = builder.finalize()
    facts = {(graph.entity_ids[h], graph.relation_ids[r], graph.entity_ids[t]) for h, r, t in graph.triples}
    assert ("wn:00002000-n", "wnrel:hypernym", "wn:00001740-n") in facts
    assert ("wn:00002000-n", "wnrel:part_meronym", "wn:00002100-n") in facts
    assert ("wn:00002000-n", "wnrel:sense/derivation", "wn:00003000-v") in facts
    assert ("wn:00004000-a", "wnrel:sense/antonym", "wn:00004100-a") in facts
    assert ("wn:00004200-a", "wnrel:similar_to", "wn:00004000-a") in facts
    # "\" on an adverb is "derived from adjective", not "pertainym".
    assert ("wn:00005000-r", "wnrel:sense/derived_from_adjective", "wn:00004000-a") in facts
    labels = dict(zip(graph.relation_ids, graph.relation_labels, strict=True))
    assert labels["wnrel:hypernym"] == "hypernym"
    assert labels["wnrel:sense/antonym"] == "antonym (word sense)"
    assert counts.extra == {"synsets": 9, "synset_pointers": 8, "sense_pointers": 5}


def test_lemma_priors_follow_sense_counts_with_smoothing(wn_dir: Path) -> None:
    graph = build(wn_dir).finalize()
    # dog: noun count 5, verb count 2, both sense 1 → weights 6 and 3.
    assert priors(graph, "dog") == [("wn:00002000-n", pytest.approx(2 / 3)),
                                    ("wn:00003000-v", pytest.approx(1 / 3))]
    assert priors(graph, "domestic dog") == [("wn:00002000-n", 1.0)]  # zero count, still named
    assert priors(graph, "nice") == [("wn:00004200-a", 1.0)]  # adjective marker stripped


def test_zero_count_senses_keep_wordnet_sense_order(tmp_path: Path) -> None:
    data = dict(DATA, noun=DATA["noun"] + [
        "00002300 05 n 01 dog 1 001 @ 00001740 n 0000 | a dull unattractive unpleasant girl or woman",
        "00002400 18 n 01 dog 2 001 @ 00001740 n 0000 | informal term for a man",
    ])
    cnt = CNTLIST + "0 dog%1:18:02:: 2\n0 dog%1:05:01:: 3\n"
    graph = build(write_dict(tmp_path / "d", data, cnt)).finalize()
    ranked = [e for e, _ in priors(graph, "dog")]
    assert ranked == ["wn:00002000-n", "wn:00003000-v", "wn:00002400-n", "wn:00002300-n"]
    assert all(p > 0 for _, p in priors(graph, "dog"))


def test_priors_without_any_count_file(tmp_path: Path) -> None:
    graph = build(write_dict(tmp_path / "d", cntlist=None)).finalize()
    assert [e for e, _ in priors(graph, "dog")] == ["wn:00002000-n", "wn:00003000-v"]
    assert priors(graph, "dog")[0][1] == pytest.approx(0.5)


def test_read_synsets_records(wn_dir: Path) -> None:
    synsets = {s.id: s for s in read_synsets(wn_dir)}
    assert len(synsets) == 9
    dog = synsets["wn:00002000-n"]
    assert dog.lexname == "noun.animal" and dog.pos == "n"
    assert dog.lemmas == (Lemma("dog", 0, ""), Lemma("domestic_dog", 0, ""))
    assert dog.definition == "a domesticated canid"
    assert dog.examples == ["the dog barked all night", "a dog's life"]
    assert dog.pointers[1] == Pointer("+", 3000, "v", 1, 1) and dog.pointers[1].is_lexical
    assert synsets["wn:00003100-v"].frames == ((2, 0), (8, 1))
    fine = synsets["wn:00004200-a"]
    assert fine.ss_type == "s" and fine.lemmas[1] == Lemma("nice", 0, "a")
    assert sense_key(fine.lemmas[0], fine, synsets["wn:00004000-a"].lemmas[0]) == "fine%5:00:01:good:00"
    assert sense_key(dog.lemmas[0], dog) == "dog%1:05:00::"


def test_sense_counts_and_exceptions(wn_dir: Path) -> None:
    assert read_sense_counts(wn_dir)["dog%1:05:00::"] == (5, 1)
    exc = read_exceptions(wn_dir)
    assert exc["n"]["geese"] == ["goose"]
    assert exc["v"]["better"] == ["better", "well"]
    assert exc["a"] == {} and exc["r"] == {}


def test_malformed_data_line_names_file_line_and_column(tmp_path: Path) -> None:
    bad = dict(DATA, noun=DATA["noun"][:3] + ["00002000 05 n 01 dog 0 0x3 @ 00001740 n 0000 | bad"])
    folder = write_dict(tmp_path / "d", bad)
    with pytest.raises(ParseError) as err:
        build(folder)
    assert err.value.file.endswith("data.noun")
    assert err.value.line == 4
    assert err.value.column == len("00002000 05 n 01 dog 0 ") + 1
    assert "pointer count" in err.value.expected


@pytest.mark.parametrize(("line", "expected"), [
    ("0000174 03 n 01 entity 0 000 | x", "8-digit synset offset"),
    ("00001740 99 n 01 entity 0 000 | x", "lexicographer file number"),
    ("00001740 03 q 01 entity 0 000 | x", "synset type"),
    ("00001740 03 v 01 entity 0 000 | x", "verb lexicographer file"),
    ("00001740 03 n 01 entity 0 001 ?? 00002000 n 0000 | x", "pointer symbol"),
    ("00001740 03 n 01 entity 0 001 ~ 00002000 n 0300 | x", "source word number"),
    ("00001740 03 n 01 entity 0 001 ~ 00002000 n | x", "source/target word number"),
    ("00001740 03 n 02 entity 0 | x", "a word"),
    ("00001740 03 n 01 entity 0 000 extra | x", "' | ' and the gloss"),
])
def test_each_bad_field_is_named(line: str, expected: str) -> None:
    with pytest.raises(ParseError, match="expected") as err:
        parse_data_line(line, "data.noun", 7)
    assert expected in err.value.expected and err.value.line == 7


def test_missing_folder_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(DataMissingError, match="apt-get install --no-install-recommends wordnet-base"):
        build(tmp_path / "nowhere")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "data.noun").write_text("")
    with pytest.raises(DataMissingError, match="data.verb"):
        build(tmp_path / "half")


def test_spec_round_trip_and_checksum_tracks_counts(wn_dir: Path) -> None:
    (source,) = parse_source(f"wordnet:{wn_dir}")
    assert isinstance(source, WordNetSource) and source.spec == f"wordnet:{wn_dir}"
    assert parse_source("wordnet")[0].spec == "wordnet"
    before = source.checksum()
    (wn_dir / "cntlist").write_text(CNTLIST + "1 tail%1:08:00:: 1\n")
    assert source.checksum() != before and before.startswith("sha256:")


def test_split_gloss() -> None:
    assert split_gloss('a b; c; "x y"; "z"') == ("a b; c", ["x y", "z"])
    assert split_gloss('"only an example"') == ("", ["only an example"])
    assert split_gloss("plain definition") == ("plain definition", [])


# -- property tests: any line we format parses back; any corruption is a ParseError --------------
_word = st.from_regex(r"[A-Za-z][A-Za-z0-9_.'-]{0,12}", fullmatch=True)
_lemma = st.builds(Lemma, _word, st.integers(0, 15), st.sampled_from(["", "a", "p", "ip"]))


@st.composite
def synsets(draw) -> Synset:
    ss_type = draw(st.sampled_from("nvasr"))
    coarse = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}[ss_type]
    lexfile = draw(st.sampled_from([i for i, n in enumerate(LEXNAMES) if n.startswith(coarse + ".")]))
    lemmas = tuple(draw(st.lists(_lemma, min_size=1, max_size=4)))
    if ss_type not in "as":
        lemmas = tuple(Lemma(w.name, w.lex_id, "") for w in lemmas)
    pointers = tuple(draw(st.lists(st.builds(
        Pointer, st.sampled_from(sorted(POINTER_NAMES)), st.integers(0, 99_999_999),
        st.sampled_from("nvar"), st.integers(0, len(lemmas)), st.integers(0, 255)), max_size=6)))
    frames = tuple(draw(st.lists(st.tuples(st.integers(1, 35), st.integers(0, len(lemmas))), max_size=3))
                   ) if ss_type == "v" else ()
    gloss = draw(st.from_regex(r'[a-z]([a-z ;"]{0,30}[a-z])?', fullmatch=True))
    return Synset(draw(st.integers(0, 99_999_999)), ss_type, lexfile, lemmas, pointers, gloss, frames)


def format_line(s: Synset) -> str:
    words = " ".join(f"{w.name}{f'({w.marker})' if w.marker else ''} {w.lex_id:x}" for w in s.lemmas)
    ptrs = " ".join(f"{p.symbol} {p.offset:08d} {p.pos} {p.source:02x}{p.target:02x}" for p in s.pointers)
    frames = ""
    if s.ss_type == "v" and s.frames:
        frames = f" {len(s.frames):02d} " + " ".join(f"+ {f:02d} {w:02x}" for f, w in s.frames)
    return (f"{s.offset:08d} {s.lexfile:02d} {s.ss_type} {len(s.lemmas):02x} {words} "
            f"{len(s.pointers):03d}{' ' + ptrs if ptrs else ''}{frames} | {s.gloss}  \n")


@settings(max_examples=200, deadline=None)
@given(synsets())
def test_formatted_lines_parse_back(s: Synset) -> None:
    assert parse_data_line(format_line(s)) == s


@settings(max_examples=300, deadline=None)
@given(synsets(), st.data())
def test_corrupted_lines_raise_parse_error_or_parse(s: Synset, data) -> None:
    line = format_line(s)
    head, _, gloss = line.partition("|")
    toks = head.split()
    i = data.draw(st.integers(0, len(toks) - 1))
    toks[i] = data.draw(st.sampled_from(["", "x", "-1", "zz", "0_1", "+1", "123456789", "@", "|"]))
    try:
        parse_data_line(" ".join(toks) + " |" + gloss, "data.x", 3)
    except ParseError as err:
        assert err.line == 3 and err.column is not None and err.column >= 1


# -- the real WordNet 3.0 (Debian wordnet-base + wordnet-sense-index) -------------------------------
@pytest.fixture(scope="module")
def real_graph():
    if not REAL.is_dir():
        pytest.skip("WordNet 3.0 not installed at /usr/share/wordnet")
    builder = GraphBuilder("wordnet")
    WordNetSource().emit(builder)
    return builder.current, builder.finalize()


@pytest.mark.data
def test_real_wordnet_counts(real_graph) -> None:
    counts, graph = real_graph
    assert counts.extra == {"synsets": 117_659, "synset_pointers": 285_348, "sense_pointers": 92_244}
    assert len(graph.entity_ids) == 117_659
    assert len({k for k in graph.kinds if k.startswith("wordnet:")}) == 45


@pytest.mark.data
def test_real_wordnet_dog_and_bank(real_graph) -> None:
    _, graph = real_graph
    ids = graph.entity_ids
    dog, canine = ids.index("wn:02084071-n"), ids.index("wn:02083346-n")
    hyper = graph.relation_ids.index("wnrel:hypernym")
    assert any((h, r, t) == (dog, hyper, canine) for h, r, t in graph.triples.tolist())
    assert graph.entity_labels[canine] == "canine"
    assert graph.kinds[graph.entity_kinds[dog]] == "wordnet:noun.animal"
    # cntlist: bank%1:17:01:: (sloping land, 09213565) has 25 tags, the depository 20.
    ranked = priors(graph, "bank")
    assert ranked[0][0] == "wn:09213565-n" and ranked[1][0] == "wn:08420278-n"
    assert len(ranked) == 18 and all(p > 0 for _, p in ranked)


@pytest.mark.data
def test_real_wordnet_exceptions() -> None:
    if not REAL.is_dir():
        pytest.skip("WordNet 3.0 not installed")
    exc = read_exceptions(REAL)
    assert exc["n"]["geese"] == ["goose"] and "went" in exc["v"] and exc["a"]["better"] == ["good", "well"]
