"""The step-count prior: what a question states, what a path repeats, and how the two meet."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from kgnlu.errors import QAError
from kgnlu.qa.step_counts import MIN_QUESTIONS, StepCountPrior, longest_runs, stated_steps


@pytest.mark.parametrize("text, count", [
    ("Going two levels up from something, what category do you reach?", 2),
    ("Of what larger thing is the class two steps above something a part?", 2),
    ("What class lies THREE steps above something?", 3),
    ("Walk 3 hops from something.", 3),
    ("What is the grandparent category of something?", 2),
    ("What is the great-grandparent category of something?", 3),
    ("Name a great great grandchild of something.", 4),
    ("Apply the hypernym relation twice to something.", 2),
    ("What is the hypernym of the hypernym of something?", None),  # repeated, but no count stated
    ("Name two countries that border something.", None),  # a number, but not of steps
    ("Going two levels up, then three steps down from something?", None),  # statements disagree
    ("Which country is something in?", None),
])
def test_stated_steps_reads_counted_step_nouns_and_kinship(text, count):
    assert stated_steps(text) == count


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_stated_steps_is_none_or_a_small_count_for_any_text(text):
    count = stated_steps(text)
    assert count is None or 2 <= count <= 20


def test_longest_runs_counts_one_symbol_repeating_and_ignores_padding():
    pad = 9
    table = torch.tensor([[1, 1, pad], [1, 2, 1], [3, 3, 3], [4, pad, pad], [2, 5, 5]])
    assert longest_runs(table, pad).tolist() == [2, 1, 3, 1, 2]


def test_prior_needs_evidence_and_agreement_then_gives_the_smoothed_log_odds():
    assert StepCountPrior.fit([2] * (MIN_QUESTIONS - 1), [2] * (MIN_QUESTIONS - 1)).penalty == 0.0
    assert StepCountPrior.fit([2] * 40, [1] * 30 + [2] * 10).penalty == 0.0  # mostly disagrees: off
    prior = StepCountPrior.fit([2] * 30 + [3] * 10 + [None] * 50, [2] * 29 + [1] + [3] * 10 + [1] * 50)
    assert (prior.agree, prior.total) == (39, 40)
    assert prior.penalty == pytest.approx(math.log(40 / 2))
    adjust = prior.adjust(torch.tensor([0, 2, 3]), torch.tensor([1, 2, 3]))
    assert adjust[0].tolist() == [0.0, 0.0, 0.0]  # no count stated: no prior
    p = -prior.penalty
    assert torch.allclose(adjust[1:], torch.tensor([[p, 0.0, p], [p, p, 0.0]]))
    assert StepCountPrior.from_dict(json.loads(json.dumps(prior.to_dict()))) == prior
    assert StepCountPrior.from_dict(None).penalty == 0.0
    for bad in ({"agree": 5}, {"agree": 5, "total": 3}, {"agree": "x", "total": 3}, [1, 2]):
        with pytest.raises(QAError, match="step_counts"):
            StepCountPrior.from_dict(bad)


def test_ensemble_moves_a_stated_count_onto_the_path_repeating_that_often():
    from kgnlu.qa.config import QAConfig
    from kgnlu.qa.relation_scorer import RelationPathScorer, ScorerEnsemble

    torch.manual_seed(0)
    cfg = QAConfig(hidden=8, kind_dim=2, ensemble=1)
    table = torch.tensor([[0, 4, 4], [0, 0, 4], [0, 0, 0]])  # hypernym ×1, ×2, ×3; 4 = pad
    ensemble = ScorerEnsemble([RelationPathScorer(6, 4, table, torch.randn(4, 6), 2, cfg).eval()])
    question = torch.nn.functional.normalize(torch.randn(3, 6), dim=-1)
    kinds = torch.tensor([2, 2, 2])
    stated = torch.tensor([0, 2, 3])
    with torch.no_grad():
        learned = ensemble.path_log_probs(question, kinds)
        assert torch.equal(ensemble.path_log_probs(question, kinds, stated), learned)  # no prior fitted yet
        ensemble.step_prior = StepCountPrior(agree=1000, total=1000)
        out = ensemble.path_log_probs(question, kinds, stated)
    assert torch.allclose(out[0], learned[0])  # nothing stated: untouched
    assert out[1:].argmax(-1).tolist() == [1, 2]
    assert torch.allclose(out.exp().sum(-1), torch.ones(3))


def test_prepare_reads_the_count_with_the_topic_masked(trained):
    qa, _, _ = trained
    mentions, _ = qa.prepare(["Going two levels up from Kyoto, what do you reach?", "Which continent is Kyoto in?"])
    assert mentions[0] and all(m.stated_steps == 2 for m in mentions[0])
    assert mentions[1] and all(m.stated_steps is None for m in mentions[1])


def test_the_fitted_prior_is_saved_and_models_saved_before_it_load_without_one(trained, qa_graph, tmp_path):
    from kgnlu.qa.storage import load_model, save_model

    qa, report, _ = trained
    assert report["step_counts"]["total"] == 0  # the fixture's templates state no counts: prior off
    model = qa.model
    before = model.scorer.step_prior
    try:
        model.scorer.step_prior = StepCountPrior(agree=95, total=100)
        folder = save_model(model, tmp_path / "m", qa_graph, {"kind": "minilm"})
    finally:
        model.scorer.step_prior = before
    loaded, _ = load_model(folder, qa_graph)
    assert loaded.scorer.step_prior == StepCountPrior(agree=95, total=100)
    meta = json.loads((folder / "qa.json").read_text())
    del meta["step_counts"]
    (folder / "qa.json").write_text(json.dumps(meta))
    assert load_model(folder, qa_graph)[0].scorer.step_prior.penalty == 0.0
    meta["step_counts"] = {"agree": 3}
    (folder / "qa.json").write_text(json.dumps(meta))
    with pytest.raises(QAError, match=r"qa\.json: step_counts"):
        load_model(folder, qa_graph)


def test_answering_hands_each_mention_s_stated_count_to_the_path_scorer(trained, monkeypatch):
    # the fixture's paths never repeat a step, so the prior cannot change its answers: check the wiring
    qa, _, _ = trained
    scorer = qa.model.scorer
    seen = []
    original = scorer.path_log_probs

    def recording(question, topic_kind, stated_steps=None):
        seen.append(stated_steps)
        return original(question, topic_kind, stated_steps)

    monkeypatch.setattr(scorer, "path_log_probs", recording)
    qa.answer("Going two levels up from Kyoto, what do you reach?")
    qa.answer("Which continent is Kyoto in?")
    assert len(seen) == 2 and seen[0] is not None and seen[1] is not None
    assert len(seen[0]) and set(seen[0].tolist()) == {2}
    assert len(seen[1]) and set(seen[1].tolist()) == {0}
