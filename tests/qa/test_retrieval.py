"""Retrieval pieces: relation-path walks with evidence, the retrieved subgraph, personalised
PageRank, question cleaning. Expected answers come from the fixture's own triple list."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.errors import QAError
from kgnlu.qa.paths import RelationPath
from kgnlu.qa.ppr import personalized_pagerank
from kgnlu.qa.question import clean_question, mask_span
from kgnlu.qa.retrieval import execute, retrieved_subgraph
from tests.qa.qa_graph import ext, walk

CASES = [
    ("Lyon", ["gnrel:country"]),
    ("France", ["gnrel:country^-1"]),
    ("Kyoto", ["gnrel:country", "gnrel:continent"]),
    ("Munich", ["gnrel:country", "gnrel:neighbour", "gnrel:capital"]),
]


@pytest.mark.parametrize(("topic", "relations"), CASES)
def test_walk_answers_and_evidence_chain(qa_graph, topic, relations):
    kg = qa_graph
    path = RelationPath.parse(relations, kg)
    e = kg.index_of(ext(topic))
    ex = execute(kg.walker, e, path)
    got = {kg.entity_id(a) for a in ex.answers} - {ext(topic)}
    assert got == walk(ext(topic), relations)
    stored = kg.external_triples()
    for a in ex.answers.tolist():
        chain = ex.evidence(a, kg.triples)
        assert len(chain) == len(relations)
        assert chain[0].source == e and chain[-1].target == a
        for prev, nxt in zip(chain, chain[1:], strict=False):
            assert prev.target == nxt.source  # the steps chain
        for step, rel in zip(chain, relations, strict=True):
            triple = (kg.entity_id(step.head), kg.relation_id(step.relation), kg.entity_id(step.tail))
            assert triple in stored
            assert step.forward == (not rel.endswith("^-1"))


def test_evidence_for_an_entity_the_walk_did_not_reach_is_empty(qa_graph):
    kg = qa_graph
    ex = execute(kg.walker, kg.index_of(ext("Lyon")), RelationPath.parse(["gnrel:country"], kg))
    assert ex.evidence(kg.index_of(ext("Japan")), kg.triples) == []


def test_frontier_cap_marks_the_walk_truncated(qa_graph):
    kg = qa_graph
    path = RelationPath.parse(["gnrel:continent^-1", "gnrel:country^-1"], kg)  # Europe → countries → cities
    full = execute(kg.walker, kg.index_of(ext("Europe")), path)
    cut = execute(kg.walker, kg.index_of(ext("Europe")), path, max_frontier=2)
    assert not full.truncated and len(full.answers) == 12
    assert cut.truncated and len(cut.answers) == 2


def test_retrieved_subgraph_holds_the_walked_edges(qa_graph):
    kg = qa_graph
    walks = [execute(kg.walker, kg.index_of(ext(t)), RelationPath.parse(r, kg)) for t, r in CASES]
    sub = retrieved_subgraph(walks, kg.triples)
    assert np.all(np.diff(sub.nodes) > 0)
    for h, r, t in sub.edges.tolist():
        assert (kg.entity_id(sub.nodes[h]), kg.relation_id(r), kg.entity_id(sub.nodes[t])) in kg.external_triples()
    topics = sub.local(np.array([kg.index_of(ext(t)) for t, _ in CASES]))
    assert set(sub.depth[topics].tolist()) == {0}
    assert kg.index_of(ext("Asia")) in sub.nodes  # Kyoto → Japan → Asia
    assert kg.index_of(ext("Europe")) not in sub.nodes  # no walk went there


def test_relation_path_parse_round_trip_and_errors(qa_graph):
    kg = qa_graph
    path = RelationPath.parse(["gnrel:country", "gnrel:capital^-1"], kg)
    assert path.external(kg) == ["gnrel:country", "gnrel:capital^-1"]
    assert RelationPath.from_symbols(path.symbols()) == path
    with pytest.raises(QAError, match="make-qa"):
        RelationPath.parse(["gnrel:nope"], kg)
    with pytest.raises(QAError):
        RelationPath.parse(["gnrel:country"] * 4, kg)


def test_ppr_restarts_at_the_seed_and_follows_relevant_edges():
    # a star: 0 is the seed; 0-1 relevant (weight 1), 0-2 irrelevant (0.01); 1-3, 2-4 chains
    edges = np.array([[0, 1], [0, 2], [1, 3], [2, 4]])
    weight = np.array([1.0, 0.01, 1.0, 1.0])
    rank = personalized_pagerank(5, edges, weight, np.array([0]))
    assert rank.sum() == pytest.approx(1.0)
    assert rank[1] > rank[2] and rank[3] > rank[4]
    even = personalized_pagerank(5, edges, np.ones(4), np.array([0]))
    assert even[1] == pytest.approx(even[2]) and even[3] == pytest.approx(even[4])


def test_ppr_without_edges_is_the_restart_distribution():
    rank = personalized_pagerank(3, np.zeros((0, 2), dtype=int), np.zeros(0), np.array([2, 2, 1]))
    assert rank.tolist() == pytest.approx([0.0, 1 / 3, 2 / 3])


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.integers(min_value=16, max_value=200))
def test_clean_question_keeps_the_text_or_refuses_it(text, limit):
    if len(text) > limit:  # refused with the limit, never silently cut into another question
        with pytest.raises(QAError, match=f"limit of {limit}"):
            clean_question(text, limit)
        return
    out = clean_question(text, limit)
    assert len(out) == len(text) and (out == text or "\ufffd" in out)
    out.encode("utf-8")  # lone surrogates are gone


def test_clean_question_rejects_non_text():
    with pytest.raises(QAError):
        clean_question(b"bytes", 100)


def test_mask_span_replaces_only_the_mention():
    q = "What is the capital of New  Zealand?"
    assert mask_span(q, 23, 35, "something") == "What is the capital of something?"


def test_path_descriptions_nest_steps_from_the_topic_outwards(qa_graph):
    from kgnlu.qa.path_text import FRAMES, describe_path

    path = RelationPath.parse(["gnrel:country", "gnrel:capital"], qa_graph)
    texts = describe_path(qa_graph, path, limit=100)
    assert texts[0] == "What is the capital of the country of something?"
    assert "Name the capital city of the country containing something." in texts
    assert len(texts) == len(set(texts)) == 3 * 3 * len(FRAMES)  # every phrase pair in every frame
    assert all(t.count("something") == 1 for t in texts)
    assert len(describe_path(qa_graph, path, limit=5)) == 5
    inverse = describe_path(qa_graph, RelationPath.parse(["gnrel:capital^-1"], qa_graph), topic="X")
    assert inverse[0] == "What is the country whose capital is X?"


class _OneRelationGraph:
    """A graph of one relation no phrase table knows: its label (or IRI) is all there is."""

    def __init__(self, relation_id, label):
        self.rid, self.label = relation_id, label

    def relation_id(self, r):
        return self.rid

    def relation_label(self, r):
        return self.label


def test_path_descriptions_read_a_relation_label_by_its_grammar():
    from kgnlu.qa.path_text import describe_path

    orbits = _OneRelationGraph("ex:orbits", "orbits around")  # a verb: "x orbits around y"
    assert describe_path(orbits, RelationPath(((0, True),)), limit=1) == ["What is the thing something orbits around?"]
    assert describe_path(orbits, RelationPath(((0, False),)), limit=1) == \
        ["What is the thing that orbits around something?"]
    capital = _OneRelationGraph("ex:hasCapital", "ex:hasCapital")  # no label: the local name, a has-noun
    forward = describe_path(capital, RelationPath(((0, True),)), limit=30)
    assert forward[0] == "What is the capital of something?"
    assert "has capital" not in " ".join(forward)  # "has" is grammar, not part of the noun
    inverse = describe_path(capital, RelationPath(((0, False),)), limit=30)
    assert inverse[0] == "What is the thing whose capital is something?"
    for texts in (forward, inverse):
        assert len(texts) == len(set(texts)) and all(t.count("something") == 1 for t in texts)


def _template_relations() -> set[str]:
    from kgnlu.qa.data.templates import TEMPLATES

    return {step.removesuffix("^-1") for p in TEMPLATES for step in p.relations}


def test_every_template_relation_has_curated_phrases_both_ways():
    """The zero-shot expert and make-qa read kgnlu's own vocabularies (WordNet pointers, GeoNames)
    through curated phrases, not their labels ("part holonym"): each relation the templates ask
    about is worded in both directions."""
    from kgnlu.qa.curated_phrases import PHRASES

    missing = sorted((r, forward) for r in _template_relations() for forward in (True, False)
                     if not PHRASES.get((r, forward)))
    assert not missing


def test_curated_phrases_and_questions_hold_the_topic_once():
    from kgnlu.qa.curated_phrases import CUE_WORDS, PHRASES, QUESTIONS

    for (relation, _), phrases in [*PHRASES.items(), *QUESTIONS.items()]:
        assert relation.partition(":")[0] in ("gnrel", "wnrel", "rdf", "rdfs", "owl", "skos")
        assert phrases and len(set(phrases)) == len(phrases), relation
        for text in phrases:
            assert text.count("{x}") == 1 and "{topic}" not in text, text
    for phrases in PHRASES.values():  # noun phrases nest: "the capital of the country of {x}"
        assert all(p == p.strip() and not p.endswith(("?", ".")) for p in phrases)
    for questions in QUESTIONS.values():
        assert all(q[0].isupper() or q.startswith("{x}") for q in questions)
        assert all(q.endswith(("?", ".")) for q in questions)
    assert set(QUESTIONS) <= set(PHRASES)  # a question frame only for a relation with phrases
    assert all(w == w.lower() and " " not in w for words in CUE_WORDS.values() for w in words)


def test_holdout_split_keeps_a_template_for_every_path():
    from kgnlu.qa.dataset import QAExample
    from kgnlu.qa.train import Resolved, holdout_split

    def ex(i, tid):
        e = QAExample(f"q{i}", "What is x?", "t", (8, 9), ("r",), ("a",), 1, tid)
        return Resolved(e, 0, RelationPath(((0, True),)), np.array([1]))

    rows = [ex(0, "a/t0"), ex(1, "a/t1"), ex(2, "a/t2"), ex(3, "a/t2"), ex(4, "b/t0"), ex(5, "c/p0")]
    kept, held = holdout_split(rows)
    assert [r.example.id for r in held] == ["q2", "q3"]  # the last template of path a
    assert [r.example.id for r in kept] == ["q0", "q1", "q4", "q5"]  # b has one template only


def test_zero_shot_expert_ranks_the_path_whose_description_matches():
    from kgnlu.qa.config import QAConfig
    from kgnlu.qa.relation_scorer import RelationPathScorer, ScorerEnsemble

    torch.manual_seed(0)
    cfg = QAConfig(hidden=8, kind_dim=2, ensemble=1)
    table = torch.tensor([[0, 4, 4], [1, 4, 4], [0, 2, 4]])  # 3 paths over 4 symbols, 4 = pad
    member = RelationPathScorer(6, 4, table, torch.randn(4, 6), 2, cfg).eval()
    prototypes = torch.nn.functional.normalize(torch.randn(3, 6), dim=-1)
    question = prototypes[[2, 0]]  # questions worded exactly like paths 2 and 0
    kinds = torch.tensor([2, 2])
    learned = ScorerEnsemble([member]).path_log_probs(question, kinds)
    mixed = ScorerEnsemble([member], prototypes, 200.0).path_log_probs(question, kinds)
    assert mixed.argmax(-1).tolist() == [2, 0]
    assert torch.allclose(mixed.exp().sum(-1), torch.ones(2))
    off = ScorerEnsemble([member], prototypes, 0.0).path_log_probs(question, kinds)
    assert torch.equal(off, learned)


def test_path_loss_is_smoothed_only_while_training_and_smoothing_is_validated():
    from kgnlu.errors import ConfigError
    from kgnlu.qa.config import QAConfig
    from kgnlu.qa.objectives import PathObjective
    from kgnlu.qa.relation_scorer import RelationPathScorer

    with pytest.raises(ConfigError, match="label_smoothing"):
        QAConfig(label_smoothing=1.0)
    torch.manual_seed(0)
    cfg = QAConfig(hidden=8, kind_dim=2, ensemble=1, dropout=0.0)
    table = torch.tensor([[0, 4, 4], [1, 4, 4], [0, 2, 4]])
    scorer = RelationPathScorer(6, 4, table, torch.randn(4, 6), 2, cfg)
    batch = {"question": torch.nn.functional.normalize(torch.randn(5, 6), dim=-1), "topic_kind": torch.zeros(5).long(),
             "path": torch.tensor([0, 1, 2, 0, 1]), "answer_kinds": torch.full((5, 2), 0.5)}
    plain, smoothed = PathObjective(scorer), PathObjective(scorer, label_smoothing=0.3)
    logits = scorer.path_logits(scorer.question_features(batch["question"], batch["topic_kind"]))
    uniform = -torch.log_softmax(logits, -1).mean(-1).mean()  # cross-entropy against the uniform target
    ce = torch.nn.functional.cross_entropy(logits, batch["path"])
    assert torch.allclose(plain(**batch)["path_loss"], ce)
    assert torch.allclose(smoothed(**batch)["path_loss"], 0.7 * ce + 0.3 * uniform, atol=1e-6)
    smoothed.eval()
    assert torch.allclose(smoothed(**batch)["path_loss"], ce)  # reported losses stay comparable


def test_backward_step_at_a_hub_keeps_every_edge_of_its_relation(tmp_path):
    """In-edges are not sorted by relation, so the frontier cap must not sample a hub's in-slice
    before filtering it: the 3 'capital_of' edges into a hub with 60 'visited' in-edges all count,
    however small max_frontier is (they are fewer than the cap)."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    rows = [f"person{i}\tvisited\thub" for i in range(60)]
    rows += [f"town{i}\tcapital_of\thub" for i in range(3)]
    rows.insert(30, "town9\tcapital_of\thub")  # a fourth one, between the others in file order
    (tmp_path / "hub.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    kg = KnowledgeGraph.load(build_graph([str(tmp_path / "hub.tsv")], tmp_path / "g"))
    path = RelationPath(((kg.relation_index("capital_of"), False),))
    ex = execute(kg.walker, kg.index_of("hub:hub"), path, max_frontier=5)  # a TSV file's ids: "FILE:name"
    assert {kg.entity_id(a) for a in ex.answers} == {"hub:town0", "hub:town1", "hub:town2", "hub:town9"}
    assert not ex.truncated
