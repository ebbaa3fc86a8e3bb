import gzip

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgnlu.errors import DataMissingError, ParseError, SourceError
from kgnlu.kg import KnowledgeGraph
from kgnlu.kg.build import build_graph
from kgnlu.kg.export import export_graph
from kgnlu.kg.sources import parse_source
from kgnlu.kg.sources.pykeen import pykeen_dataset_dir

# Plain names a TSV cell can hold: no tabs/newlines, not blank, not a comment start, and no
# ':' or '<' (those make a cell an IRI or CURIE, tested separately).
cell = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters=":<"),
               min_size=1, max_size=12).map(str.strip).filter(lambda s: s and not s.startswith("#"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(cell, cell, cell), min_size=1, max_size=20))
def test_tsv_round_trip_through_graph_and_export(tmp_path_factory, rows):
    d = tmp_path_factory.mktemp("tsv")
    src = d / "rt.tsv"
    src.write_text("head\trelation\ttail\n" + "".join(f"{h}\t{r}\t{t}\n" for h, r, t in rows),
                   encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(src)], d / "g", store=False))
    labels = {(kg.entity_label(h), kg.relation_label(r), kg.entity_label(t))
              for h, r, t in kg.triples.tolist()}
    assert labels == set(rows)
    # export to TSV and rebuild: the same external-id triples
    export_graph(kg, "tsv", d / "out.tsv")
    again = KnowledgeGraph.load(build_graph([str(d / "out.tsv")], d / "g2", store=False))
    assert again.external_triples() == kg.external_triples()


def test_tsv_gzip_header_comments_and_iris(tmp_path):
    path = tmp_path / "mix.tsv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("# a comment\nsubject\tpredicate\tobject\n")
        f.write("<http://ex.org/a>\trdfs:seeAlso\twn:02084071-n\n\nb\tlikes\tc\n")
    kg = KnowledgeGraph.load(build_graph([str(path)], tmp_path / "g"))
    assert kg.external_triples() == {("http://ex.org/a", "rdfs:seeAlso", "wn:02084071-n"),
                                     ("mix:b", "mix:likes", "mix:c")}


def test_tsv_errors_name_file_line_column(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("a\tr\tb\na\tr\tb\textra\n", encoding="utf-8")
    with pytest.raises(ParseError) as err:
        build_graph([str(path)], tmp_path / "g")
    assert (err.value.line, err.value.column) == (2, 7)
    assert str(path) in str(err.value)
    path.write_bytes(b"a\tr\tb\n\xff\xfe\tr\tb\n")
    with pytest.raises(ParseError, match="UTF-8"):
        build_graph([str(path)], tmp_path / "g")


def test_spec_parsing():
    assert parse_source("pykeen:nations")[0].spec == "pykeen:nations"
    with pytest.raises(SourceError, match="kinships"):
        parse_source("pykeen:fb15k")
    with pytest.raises(SourceError, match="matches no file"):
        parse_source("no/such/*.nt")


def test_pykeen_kinships_keeps_splits(tmp_path):
    try:
        pykeen_dataset_dir("kinships")
    except DataMissingError as err:
        pytest.skip(str(err))
    kg = KnowledgeGraph.load(build_graph(["pykeen:kinships"], tmp_path / "k"))
    counts = kg.manifest["counts"]
    # PyKEEN's published sizes for Kinships (DATA.md): 8544 / 1068 / 1074, 104 entities, 25 relations.
    assert (counts["train_triples"], counts["valid_triples"], counts["test_triples"]) == (8544, 1068, 1074)
    assert (kg.num_entities, kg.num_relations) == (104, 25)
    assert kg.triple_split.tolist().count(2) == 1074
