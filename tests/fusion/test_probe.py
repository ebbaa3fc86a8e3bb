"""The cloze probe: metrics and the UHN filter against hand-computed cases; ranking against a direct forward."""

from __future__ import annotations

import math

import pytest
import torch

from kgnlu.data.probe_data import ProbeFact, guessable, uhn_filter
from kgnlu.data.tokenizer import train_wordpiece
from kgnlu.encoders import Encoder
from kgnlu.encoders.objectives.model import PretrainingModel
from kgnlu.eval.probe import (
    ClozeScorer,
    ProbeConfig,
    candidate_pools,
    fill,
    macro,
    metrics,
    rank_of,
    run_probe,
    score_facts,
    summarise,
)
from tests.encoders.conftest import tiny


def test_metrics_by_hand():
    m = metrics([1, 3, 12, 2])
    assert m["p@1"] == pytest.approx(0.25)
    assert m["p@10"] == pytest.approx(0.75)
    assert m["mrr"] == pytest.approx((1 + 1 / 3 + 1 / 12 + 1 / 2) / 4)
    assert m["n"] == 4
    assert metrics([]) == {"p@1": 0.0, "p@10": 0.0, "mrr": 0.0, "n": 0}


def test_rank_counts_only_strictly_better_candidates():
    assert rank_of(-1.0, [-2.0, -3.0]) == 1
    assert rank_of(-1.0, [-0.5, -1.0, -3.0]) == 2  # a tie does not push the gold answer down
    assert rank_of(-math.inf, [-1.0, -2.0]) == 3


def test_macro_is_the_mean_over_relations_and_micro_over_facts():
    def result(relation, rank, split="heldout", subject="Lyon", answer="France"):
        return {"fact": ProbeFact(relation, "s", subject, "a", answer, (answer,), split), "rank": rank, "pieces": 1,
                "top": answer}

    rows = [result("a", 1), result("a", 1), result("b", 5), result("b", 1, split="seen")]
    held = summarise(rows)["heldout"]["all"]
    assert held["micro"]["p@1"] == pytest.approx(2 / 3)
    assert held["macro"]["p@1"] == pytest.approx(0.5)
    assert held["relations"]["b"]["n"] == 1
    assert summarise(rows)["seen"]["all"]["micro"]["n"] == 1
    assert macro({}) == {"p@1": 0.0, "p@10": 0.0, "mrr": 0.0, "n": 0}


@pytest.mark.parametrize(("subject", "answer", "expected"), [
    ("Mexico City", "Mexico", True),            # the answer is inside the subject's name
    ("Kuwait City", "Kuwait", True),
    ("Panama City Beach", "Panama Canal", True),  # a shared word of four letters or more
    ("Guinea", "Equatorial Guinea", True),      # the subject is inside the answer
    ("Lyon", "France", False),
    ("oak leaf", "oak tree", False),            # a shared word shorter than four letters does not count
    ("", "France", False),
])
def test_guessable_from_surface_form(subject, answer, expected):
    assert guessable(subject, answer) is expected


def test_uhn_filter_drops_guessable_facts():
    facts = [ProbeFact("capital", "s1", "Mexico", "a1", "Mexico City"),
             ProbeFact("capital", "s2", "France", "a2", "Paris")]
    assert [f.subject_label for f in uhn_filter(facts)] == ["France"]


SENTENCES = ["the capital of france is paris .", "the capital of spain is madrid .",
             "the capital of peru is lima .", "paris is a city in france .", "new york city is big ."]


@pytest.fixture(scope="module")
def tiny_scorer():
    torch.manual_seed(0)
    tokenizer = train_wordpiece(SENTENCES * 3, vocab_size=120, min_frequency=1)
    encoder = Encoder(tiny("bert", vocab_size=tokenizer.vocab_size, pad_token_id=tokenizer.pad_id))
    model = PretrainingModel(encoder, {"mlm": 1.0}).eval()
    return ClozeScorer(model, tokenizer), model, tokenizer


def test_mask_log_probs_match_a_direct_forward(tiny_scorer):
    scorer, model, tokenizer = tiny_scorer
    text = fill("The capital of [X] is [Y].", "France", 2)
    assert text == "The capital of France is [MASK] [MASK]."
    (log_probs,) = scorer.mask_log_probs([text])
    ids = torch.tensor([tokenizer.encode(text)])
    positions = (ids[0] == tokenizer.mask_id).nonzero().flatten()
    assert len(positions) == 2
    with torch.no_grad():
        hidden = model.encoder(ids).last_hidden_state[0, positions]  # (2, H)
        head = model.objectives["mlm"].head
        expected = torch.log_softmax(head.decoder(head.transform(hidden)), dim=-1)
    torch.testing.assert_close(log_probs, expected, atol=1e-5, rtol=1e-5)


def test_ranking_uses_mean_piece_scores_and_filters_other_answers(tiny_scorer):
    scorer, _, tokenizer = tiny_scorer
    facts = [ProbeFact("capital", "s1", "France", "a1", "paris", ("paris", "lima"), "heldout"),
             ProbeFact("capital", "s2", "Spain", "a2", "madrid", ("madrid",), "heldout"),
             ProbeFact("capital", "s3", "Peru", "a3", "new york city", ("new york city",), "seen")]
    config = ProbeConfig(templates=1)
    results = {r["fact"].subject: r for r in score_facts(scorer, facts, config)}
    # by hand: score every candidate in its own number of masks, then rank France's gold answer
    template = "The capital of [X] is [Y]."
    pieces = {label: tokenizer.encode(label, add_special_tokens=False) for label in ("paris", "madrid", "new york city")}
    assert len(pieces["new york city"]) == 3

    def score(subject, label):
        (lp,) = scorer.mask_log_probs([fill(template, subject, len(pieces[label]))])
        return float(lp[torch.arange(len(pieces[label])), torch.tensor(pieces[label])].mean())

    france = {label: score("France", label) for label in pieces}  # "lima" is filtered (another right answer)
    assert results["s1"]["rank"] == 1 + sum(s > france["paris"] for lab, s in france.items() if lab != "paris")
    assert results["s1"]["pieces"] == 1 and results["s3"]["pieces"] == 3
    assert results["s1"]["top"] == max(france, key=france.get)
    assert candidate_pools(facts) == {"capital": ["paris", "madrid", "new york city"]}


def test_run_probe_reports_both_splits_and_subsets(tiny_scorer):
    scorer, _, _ = tiny_scorer
    facts = [ProbeFact("capital", f"s{i}", subject, f"a{i}", answer, (answer,), split)
             for i, (subject, answer, split) in enumerate([("France", "paris", "heldout"), ("Spain", "madrid", "seen"),
                                                           ("Peru City", "peru", "heldout")])]
    report = run_probe(scorer, facts, ProbeConfig(templates=1, max_facts=5))
    assert report["facts"] == 3
    held = report["splits"]["heldout"]
    assert held["all"]["micro"]["n"] == 2 and held["uhn"]["micro"]["n"] == 1  # "Peru City" → "peru" is guessable
    assert report["splits"]["seen"]["single"]["micro"]["n"] == 1
