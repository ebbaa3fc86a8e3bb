"""The cross-encoder path reranker (kgnlu.qa.reranker, kgnlu.qa.reranker_training) over a tiny
BERT: only its first layers run, what it saves, the listwise objective and batches, mining
examples, training that learns to pick the gold description; loading onto MiniLM (data)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from kgnlu.errors import QAError
from kgnlu.qa.config import QAConfig
from kgnlu.qa.graph_profile import GraphProfile
from kgnlu.qa.paths import RelationPath
from kgnlu.qa.reranker import WEIGHTS_FILE, PathReranker, RerankStage, canonical_descriptions
from kgnlu.qa.reranker_training import (
    RerankBatches,
    RerankExample,
    RerankObjective,
    flipped,
    mine_examples,
    rerank_accuracy,
    train_reranker,
)
from tests.qa.people_graph import EX

DESCRIPTIONS = ["what is the capital of something?", "what is the country of something?",
                "which cities are in something?", "what is the continent of something?"]
QUESTIONS = ["which city is the capital of something?", "something is in which country?",
             "name a city in something.", "which continent is something on?"]


@pytest.fixture(scope="module")
def tiny():
    """(a 2-layer BERT with H=32, its WordPiece) trained on the texts above."""
    from kgnlu.data.tokenizer import train_wordpiece
    from kgnlu.encoders import Encoder, EncoderConfig

    tokenizer = train_wordpiece(DESCRIPTIONS + QUESTIONS, vocab_size=120, min_frequency=1)
    torch.manual_seed(0)
    encoder = Encoder(EncoderConfig.bert(vocab_size=tokenizer.vocab_size, hidden_size=32, num_layers=2, num_heads=2,
                                         ffn_size=64, max_positions=128))
    return encoder, tokenizer


def make(tiny, layers=1, seed=0):
    import copy

    torch.manual_seed(seed)
    encoder, tokenizer = tiny
    return PathReranker(copy.deepcopy(encoder), tokenizer, layers)


def test_layers_must_fit_the_encoder(tiny):
    with pytest.raises(QAError, match="1..2"):
        make(tiny, layers=3)
    with pytest.raises(QAError):
        make(tiny, layers=0)


def test_only_the_first_layers_run_and_score_restores_the_mode(tiny):
    reranker = make(tiny, layers=1)
    before = reranker.score(QUESTIONS, DESCRIPTIONS)
    assert before.shape == (4,) and before.dtype == np.float32 and np.isfinite(before).all()
    with torch.no_grad():  # the second layer's weights change: the scores do not
        for p in reranker.encoder.layers.ffn_blocks[1].parameters():
            p.mul_(-3.0)
    assert np.allclose(reranker.score(QUESTIONS, DESCRIPTIONS), before, atol=1e-6)
    reranker.train()
    reranker.score(QUESTIONS[:1], DESCRIPTIONS[:1])
    assert reranker.training
    assert reranker.score([], []).shape == (0,)
    swapped = reranker.score(DESCRIPTIONS, QUESTIONS)  # a pair is read in order, not as a bag
    assert not np.allclose(swapped, before)


def test_trained_state_holds_the_run_layers_and_the_head(tiny, tmp_path):
    from safetensors.torch import load_file

    reranker = make(tiny, layers=1)
    state = reranker.trained_state()
    assert {"head.weight", "head.bias"} <= set(state)
    assert any(k.startswith("encoder.embeddings.") for k in state)
    assert any(k.startswith("encoder.layers.attention_blocks.0.") for k in state)
    assert any(k.startswith("encoder.layers.ffn_blocks.0.") for k in state)
    assert not any(".1." in k for k in state)  # the layer it never runs is MiniLM's own
    reranker.save(tmp_path)
    saved = load_file(str(tmp_path / WEIGHTS_FILE))
    assert set(saved) == set(state) and all(torch.equal(saved[k], state[k]) for k in state)


def test_stage_scores_each_pair_against_its_paths_description(tiny):
    reranker = make(tiny)
    stage = RerankStage(reranker, DESCRIPTIONS)
    got = stage.scores(QUESTIONS[:3], [2, 0, 2])
    want = reranker.score(QUESTIONS[:3], [DESCRIPTIONS[2], DESCRIPTIONS[0], DESCRIPTIONS[2]])
    assert np.allclose(got, want)


def test_canonical_descriptions_are_each_paths_first_description(qa_graph):
    from kgnlu.qa.path_text import describe_path

    profile = GraphProfile(qa_graph)
    paths = [RelationPath.parse(r, qa_graph) for r in (["gnrel:capital"], ["gnrel:country", "gnrel:continent"])]
    out = canonical_descriptions(qa_graph, paths, profile)
    assert out == [describe_path(qa_graph, p, limit=1, profile=profile)[0] for p in paths]
    assert out[0] == "What is the capital of something?"


def test_flipped_walks_every_step_the_other_way_in_canonical_symbols(people_graph):
    kg, profile = people_graph, GraphProfile(people_graph)
    parse = lambda steps: RelationPath.parse(steps, kg)  # noqa: E731
    assert flipped(parse([EX + "bornIn", EX + "locatedIn"]), profile) == parse([EX + "bornIn^-1", EX + "locatedIn^-1"])
    assert flipped(parse([EX + "memberOf"]), profile) == parse([EX + "foundedBy"])  # memberOf^-1 is foundedBy
    assert flipped(flipped(parse([EX + "hasCapital"]), profile), profile) == parse([EX + "hasCapital"])


class Vocabulary:
    """A model's path vocabulary, as mine_examples reads it."""

    def __init__(self, paths):
        self.paths = paths
        self.path_index = {p: i for i, p in enumerate(paths)}


def test_mined_examples_hold_the_gold_its_flip_and_the_first_stages_best_walkable_paths(people_graph):
    kg, profile = people_graph, GraphProfile(people_graph)
    paths = [RelationPath.parse([EX + r], kg) for r in ("bornIn", "bornIn^-1", "worksFor", "locatedIn", "basedIn")]
    model = Vocabulary(paths)
    logp = torch.log_softmax(torch.tensor([[0.0, 1.0, 5.0, 4.0, 3.0], [5.0, 0.0, 0.0, 0.0, 0.0]]), dim=-1)
    walkable = torch.tensor([[True, True, True, False, True], [True, True, True, True, True]])
    unknown = RelationPath.parse([EX + "hasCapital"], kg)  # not in the vocabulary: skipped
    examples = mine_examples(model, profile, ["q0", "q1", "q2"], [0, 0, 0], [paths[0], paths[2], unknown],
                             torch.cat([logp, logp[:1]]), torch.cat([walkable, walkable[:1]]), candidates=3, seed=0)
    assert [(e.question, e.row, e.gold) for e in examples] == [("q0", 0, 0), ("q1", 1, 0)]
    first, second = examples
    assert first.paths[0] == 0 and set(first.paths) == {0, 1, 2}  # gold, its flip, the best walkable (not 3)
    assert second.paths[0] == 2 and len(second.paths) == 3 and 3 not in second.paths[:1]
    again = mine_examples(model, profile, ["q0", "q1", "q2"], [0, 0, 0], [paths[0], paths[2], unknown],
                          torch.cat([logp, logp[:1]]), torch.cat([walkable, walkable[:1]]), candidates=3, seed=0)
    assert [e.paths for e in again] == [e.paths for e in examples]  # the shuffle is seeded


def test_objective_is_the_listwise_cross_entropy_of_the_gold(tiny):
    reranker = make(tiny).eval()  # no dropout: both forward passes see the same logits
    batch = next(iter(RerankBatches([RerankExample(QUESTIONS[0], [0, 1, 2]), RerankExample(QUESTIONS[3], [3, 0])],
                                    DESCRIPTIONS, reranker.tokenizer, batch_size=8)))
    out = RerankObjective(reranker)(**batch)
    logits = reranker(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    want, hits = [], []
    for g in range(2):
        rows = logits[batch["group"] == g]
        gold = int(torch.nonzero(batch["gold"][batch["group"] == g]).item())
        want.append(torch.logsumexp(rows, 0) - rows[gold])
        hits.append(float(rows.argmax() == gold))
    assert torch.allclose(out["loss"], torch.stack(want).mean(), atol=1e-5)
    assert out["accuracy"].item() == pytest.approx(np.mean(hits))


def test_batches_keep_each_examples_candidates_together(tiny):
    examples = [RerankExample(QUESTIONS[i % 4], [i % 4, (i + 1) % 4, (i + 2) % 4][: 2 + i % 2]) for i in range(7)]
    batches = RerankBatches(examples, DESCRIPTIONS, tiny[1], batch_size=3, seed=1)
    assert len(batches) == 3
    seen = []
    for b in batches:
        groups = b["group"].tolist()
        assert groups == sorted(groups) and int(b["gold"].sum()) == len(set(groups)) <= 3
        assert b["input_ids"].shape[0] == len(groups) == b["attention_mask"].shape[0]
        seen.append(len(groups))
    assert sum(seen) == sum(len(e.paths) for e in examples)
    order = [b["input_ids"].tolist() for b in batches]
    batches.set_epoch(1)
    assert [b["input_ids"].tolist() for b in batches] != order  # reshuffled each epoch


def test_training_learns_to_pick_the_gold_description(tiny, tmp_path):
    reranker = make(tiny, layers=1)
    rng = random.Random(0)
    examples = []
    for i in range(48):
        gold = i % 4
        others = [p for p in range(4) if p != gold]
        rng.shuffle(others)
        examples.append(RerankExample(QUESTIONS[gold], [gold, *others[:2]]))
    before = rerank_accuracy(reranker, examples, DESCRIPTIONS)
    cfg = QAConfig(reranker_epochs=10, reranker_batch_size=8, reranker_lr=1e-2)
    report = train_reranker(reranker, examples, DESCRIPTIONS, cfg, tmp_path, log=lambda s: None)
    assert report["examples"] == 48 and report["steps"] == 60
    after = rerank_accuracy(reranker, examples, DESCRIPTIONS)
    assert after >= 0.75 and after >= before + 0.3
    assert not reranker.training
    assert rerank_accuracy(reranker, [], DESCRIPTIONS) == 0.0


# ---------------------------------------------------------------------- MiniLM (data)
@pytest.mark.data
def test_a_saved_reranker_loads_onto_minilm(tmp_path):
    reranker = PathReranker.from_minilm(2)  # the packaged MiniLM comes with `make setup`
    with torch.no_grad():
        reranker.head.weight.normal_(0, 1.0)
        next(iter(reranker.encoder.layers.ffn_blocks[0].parameters())).mul_(1.5)  # a fine-tuned layer
    reranker.save(tmp_path)
    loaded = PathReranker.load(tmp_path, 2)
    assert np.allclose(loaded.score(QUESTIONS, DESCRIPTIONS), reranker.score(QUESTIONS, DESCRIPTIONS), atol=1e-5)
    with pytest.raises(QAError, match="3-layer"):
        PathReranker.load(tmp_path, 3)
    (tmp_path / WEIGHTS_FILE).write_bytes(b"not safetensors")
    with pytest.raises(QAError, match="retrain"):
        PathReranker.load(tmp_path, 2)


@pytest.mark.parametrize("bad", [dict(reranker_candidates=1), dict(reranker_layers=7), dict(reranker_layers=0),
                                 dict(reranker_lr=0.0), dict(rerank_top=0), dict(mlp_weight=-1.0),
                                 dict(hop_penalty=-0.5)])
def test_reranker_and_scoring_knobs_are_validated(bad):
    from kgnlu.errors import ConfigError

    with pytest.raises(ConfigError):
        QAConfig(**bad)


@pytest.mark.parametrize("entry", [{"layers": 9, "descriptions": []}, {"descriptions": ["x"]}, "3",
                                   {"layers": 2, "descriptions": ["only one"]}, {"layers": 2, "descriptions": None}])
def test_a_malformed_rerank_entry_in_a_saved_model_is_refused(trained, qa_graph, tmp_path, entry):
    import json
    import shutil

    from kgnlu.qa.storage import load_model

    _, _, folder = trained
    copy = tmp_path / "model"
    shutil.copytree(folder, copy)
    meta = json.loads((copy / "qa.json").read_text())
    meta["rerank"] = entry
    (copy / "qa.json").write_text(json.dumps(meta))
    with pytest.raises(QAError, match="rerank.*retrain"):
        load_model(copy, qa_graph)


def test_a_model_saved_without_a_reranker_has_no_stage(trained):
    qa, report, _ = trained
    assert qa.model.rerank is None and report["reranker"] == {}
