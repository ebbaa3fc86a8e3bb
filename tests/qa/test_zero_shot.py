"""Zero-shot QA on any graph (kgnlu.qa.zero_shot, KGQA.from_graph): the catalog's paths described
in the graph's words, a cached description bank (rebuilt when the graph or the wording changes,
a damaged cache rebuilt), answers with evidence on an RDF graph without labels, and the reasoner's
cues (frame mentions demoted, asked types, the reranker stage). The sentence encoder is a bag of
words (tests/qa/bag_of_words.py): which path a question matches is known by reading it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from kgnlu.errors import QAError
from kgnlu.qa import KGQA
from kgnlu.qa.config import QAConfig
from kgnlu.qa.path_catalog import CatalogConfig, path_catalog
from kgnlu.qa.zero_shot import (
    DESCRIPTIONS_PER_HOPS,
    build_zero_shot,
    default_cache_dir,
    path_descriptions,
    zero_shot_config,
)
from tests.qa.bag_of_words import BagOfWordsEncoder, Vocabulary, WordTokenizer
from tests.qa.people_graph import EX


class CountingEncoder:
    def __init__(self):
        self.vocab, self.calls, self.texts = Vocabulary(), 0, 0

    def __call__(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return self.vocab.encode(texts)


@pytest.fixture(scope="module")
def people_linker(people_graph):
    from kgnlu.kg.linker import EntityLinker

    return EntityLinker.from_graph(people_graph, mode="fast", save=False)


@pytest.fixture(scope="module")
def zero_shot_qa(people_graph, people_linker):
    vocab = Vocabulary()
    return KGQA.from_graph(people_graph, people_linker, encoder=BagOfWordsEncoder(), tokenizer=WordTokenizer(vocab),
                           report=lambda s: None)


def test_the_model_is_the_catalog_described_in_the_graphs_words(people_graph):
    encode = CountingEncoder()
    model = build_zero_shot(people_graph, encode)
    catalog = [s.path for s in path_catalog(people_graph, CatalogConfig(max_answers=QAConfig().zero_shot_max_answers))]
    assert model.paths == catalog and model.path_index == {p: i for i, p in enumerate(catalog)}
    assert not model.trained and model.gnn is None and model.kinds == list(people_graph.kinds)
    assert model.config.gnn_weight == 0.0 and not model.config.topic_surface
    assert model.scorer.bank.num_paths == len(catalog) and encode.calls == 1
    descriptions = path_descriptions(people_graph, catalog)
    assert all(1 <= len(d) <= DESCRIPTIONS_PER_HOPS[len(p)] for d, p in zip(descriptions, catalog, strict=True))
    assert all("something" in text for d in descriptions for text in d)


def test_every_description_holds_the_topic_placeholder_once(people_graph):
    catalog = [s.path for s in path_catalog(people_graph, CatalogConfig())]
    assert all(text.count("something") == 1 for d in path_descriptions(people_graph, catalog) for text in d)


def test_scores_are_log_probabilities_with_a_prior_for_short_paths(people_graph):
    cfg = QAConfig(hop_penalty=2.0, path_text_scale=30.0)
    model = build_zero_shot(people_graph, Vocabulary().encode, cfg)
    scorer = model.scorer
    q = torch.from_numpy(Vocabulary().encode(["What is something born in?", "Who works for something?"]))
    logp = scorer.path_log_probs(q, torch.zeros(2, dtype=torch.long))
    assert logp.shape == (2, len(model.paths))
    assert torch.allclose(torch.logsumexp(logp, dim=-1), torch.zeros(2), atol=1e-5)
    lengths = torch.tensor([len(p) for p in model.paths], dtype=torch.float32)
    assert torch.equal(scorer.length_prior, -2.0 * (lengths - 1))
    assert torch.allclose(scorer.type_probs(q, torch.zeros(2)).sum(-1), torch.ones(2))
    assert torch.equal(scorer.topic_logits(q, None), torch.zeros(2)) and not scorer.needs_sides
    assert build_zero_shot(people_graph, Vocabulary().encode, QAConfig(side_weight=0.5)).scorer.needs_sides


def test_zero_shot_config_drops_the_trained_parts():
    cfg = QAConfig(gnn_weight=0.7, topic_surface=True, side_weight=0.3)
    out = zero_shot_config(cfg)
    assert out is not cfg and (out.gnn_weight, out.topic_surface, out.side_weight) == (0.0, False, 0.3)
    assert cfg.gnn_weight == 0.7  # the caller's config is left alone


# ---------------------------------------------------------------------- the cache
def test_the_bank_is_cached_and_reused(people_graph, tmp_path):
    first, lines = CountingEncoder(), []
    built = build_zero_shot(people_graph, first, cache_dir=tmp_path / "c", report=lines.append)
    assert first.calls == 1 and len(lines) == 1 and "relation paths" in lines[0]
    meta = json.loads((tmp_path / "c" / "meta.json").read_text())
    assert meta["graph_name"] == people_graph.name and len(meta["paths"]) == len(built.paths)
    again, lines = CountingEncoder(), []
    cached = build_zero_shot(people_graph, again, cache_dir=tmp_path / "c", report=lines.append)
    assert again.calls == 0 and lines == []  # nothing embedded, nothing said
    assert cached.paths == built.paths
    assert np.abs(cached.scorer.bank.whole - built.scorer.bank.whole).max() < 1e-3  # float16 on disk
    assert not list(tmp_path.glob(".c*"))  # written atomically: no staging folder left


def test_the_cache_is_rebuilt_when_the_graph_changes(people_graph, qa_graph, tmp_path):
    build_zero_shot(people_graph, CountingEncoder(), cache_dir=tmp_path)
    other = CountingEncoder()
    model = build_zero_shot(qa_graph, other, cache_dir=tmp_path)
    assert other.calls == 1 and all(r < qa_graph.num_relations for p in model.paths for r, _ in p.steps)
    assert json.loads((tmp_path / "meta.json").read_text())["graph_name"] == qa_graph.name


def test_the_cache_is_rebuilt_when_the_wording_changes(people_graph, tmp_path, monkeypatch):
    import kgnlu.qa.zero_shot as zero_shot

    build_zero_shot(people_graph, CountingEncoder(), cache_dir=tmp_path)
    worded = zero_shot.path_descriptions
    monkeypatch.setattr(zero_shot, "path_descriptions",
                        lambda kg, paths: [[*d, "Name the new wording of something."] for d in worded(kg, paths)])
    retuned = CountingEncoder()
    model = build_zero_shot(people_graph, retuned, cache_dir=tmp_path)
    assert retuned.calls == 1 and model.scorer.bank.owner.tolist().count(0) == len(worded(people_graph, model.paths[:1])[0]) + 1


@pytest.mark.parametrize("damage", ["meta", "version", "arrays", "paths"])
def test_a_damaged_cache_is_rebuilt(people_graph, tmp_path, damage):
    build_zero_shot(people_graph, CountingEncoder(), cache_dir=tmp_path)
    meta_path = tmp_path / "meta.json"
    meta = json.loads(meta_path.read_text())
    if damage == "meta":
        meta_path.write_text("{not json")
    elif damage == "version":
        meta_path.write_text(json.dumps(meta | {"version": -1}))
    elif damage == "arrays":
        (tmp_path / "description_whole.npy").write_bytes(b"\x93NUMPY broken")
    else:
        meta_path.write_text(json.dumps(meta | {"paths": [[10_000]]}))
    rebuilt = CountingEncoder()
    model = build_zero_shot(people_graph, rebuilt, cache_dir=tmp_path)
    assert rebuilt.calls == 1 and model.scorer.bank.num_paths == len(model.paths)


def test_the_default_cache_lives_under_kgnlu_home(people_graph, tmp_path, monkeypatch):
    from kgnlu.qa.storage import graph_checksum

    monkeypatch.setenv("KGNLU_HOME", str(tmp_path))
    folder = default_cache_dir(people_graph, "minilm")
    assert folder.parent == tmp_path / "cache" / "qa"
    assert folder.name == graph_checksum(people_graph).split(":")[-1][:16] + "-minilm"
    assert not str(folder).startswith(str(people_graph.path))  # the graph directory is never written


# ---------------------------------------------------------------------- answering
@pytest.mark.parametrize(("question", "topic", "answers"), [
    ("Where was Ada Lovelace born?", "AdaLovelace", {"London"}),
    ("Who was born in Warsaw?", "Warsaw", {"MarieCurie", "FredericChopin"}),
    ("Which country is London located in?", "London", {"UnitedKingdom"}),
    ("What is the capital of Poland?", "Poland", {"Warsaw"}),
    ("Who works for Bletchley Park?", "BletchleyPark", {"AlanTuring"}),
    ("Which country has London as its capital?", "London", {"UnitedKingdom"}),
])
def test_answers_a_graph_without_labels_or_templates(zero_shot_qa, people_graph, question, topic, answers):
    result = zero_shot_qa.answer(question, k=3)
    assert result.reason is None and result.topic["entity"] == EX + topic
    top = {a.entity for a in result[: len(answers)]}
    assert top == {EX + a for a in answers}
    stored = people_graph.external_triples()
    for answer in result[: len(answers)]:
        for path in answer.evidence:
            assert all((t.head, t.relation, t.tail) in stored for t in path.triples)
            assert path.triples[-1].tail == answer.entity or path.triples[-1].head == answer.entity


def test_evidence_reads_relations_by_their_local_names(zero_shot_qa):
    result = zero_shot_qa.answer("Where was Ada Lovelace born?", k=1)
    assert result[0].evidence[0].text == "Ada Lovelace --born in--> London"


def test_a_frame_mention_is_not_the_topic(zero_shot_qa):
    # "city" links to the class ex:City; it is the asked type, Ada Lovelace the topic
    result = zero_shot_qa.answer("Which city was Ada Lovelace born in?", k=1)
    assert result.topic["entity"] == EX + "AdaLovelace" and result[0].entity == EX + "London"


def test_an_apposition_keeps_the_typed_reading(zero_shot_qa):
    result = zero_shot_qa.answer("Which country is the city of Krakow in?", k=1)
    assert result.topic["entity"] == EX + "Krakow" and result[0].entity == EX + "Poland"


def test_side_vectors_are_embedded_when_the_scorer_reads_them(people_graph, people_linker):
    qa = KGQA.from_graph(people_graph, people_linker, encoder=BagOfWordsEncoder(), tokenizer=WordTokenizer(Vocabulary()),
                         config=QAConfig(side_weight=0.5), report=lambda s: None)
    mentions, _ = qa.prepare(["Who was born in Warsaw?"])
    (m,) = [m for m in mentions[0] if m.surface == "Warsaw"]
    assert m.side_vectors.shape == (2, qa.questions.dim) and m.masked_text == "Who was born in something?"
    assert {a.entity for a in qa.answer("Who was born in Warsaw?", k=2)} == {EX + "MarieCurie", EX + "FredericChopin"}


def test_a_zero_shot_model_cannot_be_saved(zero_shot_qa, tmp_path):
    assert zero_shot_qa.zero_shot
    with pytest.raises(QAError, match="make-qa"):
        zero_shot_qa.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


def test_a_reranker_stage_rescores_the_first_stages_best_pairs(zero_shot_qa, monkeypatch):
    """A stage that prefers "works for" over "born in" moves the answer: the stage is consulted on
    the masked question, and only paths the first stage ranked near the top can win."""
    model = zero_shot_qa.model
    works_for = model.path_index[next(p for p in model.paths if p.external(zero_shot_qa.kg) == [EX + "worksFor"])]
    asked = []

    class Stage:
        def scores(self, questions, paths):
            asked.extend(questions)
            return np.array([20.0 if p == works_for else 0.0 for p in paths], dtype=np.float32)

    monkeypatch.setattr(model, "rerank", Stage(), raising=False)
    monkeypatch.setattr(model.config, "rerank_top", 12)
    result = zero_shot_qa.answer("Where was Ada Lovelace born?", k=1)
    assert asked and all("something" in q and "Ada" not in q for q in asked)
    assert result[0].entity == EX + "AnalyticalSociety"
    monkeypatch.setattr(model.config, "rerank_weight", 0.0)
    assert zero_shot_qa.answer("Where was Ada Lovelace born?", k=1)[0].entity == EX + "London"


def test_reranked_scores_keep_the_first_stage_order_below_the_rescored_pairs():
    from types import SimpleNamespace

    from kgnlu.qa.reasoner import _reranked

    path_logp = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05], [0.4, 0.3, 0.2, 0.1]]))  # (R=2, P=4)
    prior = torch.tensor([0.0, -5.0])  # mention 1 is unlikely: its pairs rank below mention 0's
    mentions = [SimpleNamespace(masked_text=f"question {i}") for i in range(2)]
    logits = {0: 1.0, 1: 3.0, 2: -2.0}

    class Stage:
        def scores(self, questions, paths):
            self.asked = list(zip(questions, paths, strict=True))
            return np.array([logits[p] for p in paths], dtype=np.float32)

    stage = Stage()
    cfg = SimpleNamespace(rerank_top=3, rerank_weight=1.0)
    out = _reranked(path_logp, prior, torch.tensor([0, 1]), mentions, stage, cfg)
    assert stage.asked == [("question 0", 0), ("question 0", 1), ("question 0", 2)]
    bonus = torch.tensor([[1.0 - 3.0, 0.0, -2.0 - 3.0, -5.0], [-5.0, -5.0, -5.0, -5.0]])
    assert torch.allclose(out, path_logp + bonus)
    assert out[0].argmax() == 1  # the reranker's choice among the rescored pairs
    single = SimpleNamespace(rerank_top=1, rerank_weight=1.0)
    assert torch.equal(_reranked(path_logp, prior, torch.tensor([0, 1]), mentions, stage, single), path_logp)


def test_schema_vocabulary_is_never_an_answer_when_the_graph_has_others(zero_shot_qa, people_graph):
    from kgnlu.qa.reasoner import reason

    kg = people_graph
    mentions, vectors = zero_shot_qa.prepare(["What type is Scientist?"])
    bare = reason(zero_shot_qa.model, kg, mentions[0], vectors[0], cues=None)
    assert kg.index_of("owl:Class") in bare.candidates.tolist()  # rdf:type of a class: owl:Class
    cued = reason(zero_shot_qa.model, kg, mentions[0], vectors[0], cues=zero_shot_qa.cues)
    reached = {int(a) for c in cued.combos for a in c.execution.answers}
    assert kg.index_of("owl:Class") in reached and kg.index_of("owl:Class") not in cued.candidates.tolist()
    assert len(cued.candidates) > 0


def test_the_path_type_prior_reweighs_only_rows_that_ask_a_type(zero_shot_qa, people_graph):
    from kgnlu.qa.paths import RelationPath
    from kgnlu.qa.reasoner import _with_path_types

    paths = [RelationPath.parse([EX + "bornIn"], people_graph), RelationPath.parse([EX + "bornIn^-1"], people_graph)]
    uniform = torch.log(torch.full((2, 2), 0.5))
    out = _with_path_types(uniform, ["city", None], paths, zero_shot_qa.cues, weight=1.0)
    assert torch.allclose(out.exp().sum(-1), torch.ones(2))
    assert out[0, 0] > out[0, 1] and torch.allclose(out[1], uniform[1])
    assert torch.equal(_with_path_types(uniform, [None, None], paths, zero_shot_qa.cues, 1.0), uniform)


def test_the_topic_and_its_same_as_twins_are_excluded_from_answers(people_graph):
    from kgnlu.qa.reasoner import _with_twins, _without
    from kgnlu.qa.retrieval import StepTrace

    uk, britain, london = (people_graph.index_of(EX + n) for n in ("UnitedKingdom", "Britain", "London"))
    same_as = people_graph.relation_names["owl:sameAs"]
    assert set(_with_twins(people_graph, uk, same_as).tolist()) == {uk, britain}
    assert set(_with_twins(people_graph, britain, same_as).tolist()) == {uk, britain}
    assert _with_twins(people_graph, london, same_as).tolist() == [london]
    assert _with_twins(people_graph, uk, None).tolist() == [uk]
    nodes = np.array([uk, britain, london])
    trace = StepTrace(nodes, np.arange(3), np.zeros(3, dtype=np.int64), np.arange(3), np.array([False, True, False]))
    kept = _without(trace, _with_twins(people_graph, uk, same_as))
    assert kept.nodes.tolist() == [london] and kept.first_row.tolist() == [2] and kept.twin.tolist() == [False]
