"""Filtered ranking against a brute-force reference, and realistic ranks for ties."""

from __future__ import annotations

import pytest
import torch

from kgnlu.kge import KGEData, ModelConfig, build_model, evaluate
from kgnlu.kge.evaluation import rank_triples, realistic_ranks


def test_realistic_rank_with_ties_by_hand():
    # true score 0.5 at column 1; one strictly better (0.9), two tie (0.5, 0.5), one filtered 0.7
    scores = torch.tensor([[0.9, 0.5, 0.5, 0.7, 0.5, 0.1]])
    ranks = realistic_ranks(scores.clone(), torch.tensor([1]), torch.tensor([0]), torch.tensor([3]))
    # optimistic = 1 + #(> 0.5) = 1 + 1 (0.9) = 2; pessimistic = #(>= 0.5) = 0.9, 0.5, 0.5, 0.5 = 4
    # → realistic (2 + 4) / 2 = 3
    assert ranks.tolist() == [3.0]
    unfiltered = realistic_ranks(scores.clone(), torch.tensor([1]))
    # 0.9 and 0.7 better → optimistic 3, pessimistic 5 → 4
    assert unfiltered.tolist() == [4.0]


def brute_force_ranks(scores_fn, triples, known, num_entities, side):
    """Loop over each query and candidate: drop other known answers, count better and equal."""
    out = []
    for h, r, t in triples.tolist():
        true_e = t if side == "tail" else h
        scores = scores_fn(h, r, t)
        true = scores[true_e]
        better = equal = 0
        for e in range(num_entities):
            if e != true_e:
                triple = (h, r, e) if side == "tail" else (e, r, t)
                if triple in known:
                    continue
            if scores[e] > true:
                better += 1
            elif scores[e] == true:
                equal += 1  # includes the true entity itself
        out.append(((1 + better) + (better + equal)) / 2)
    return out


@pytest.mark.parametrize("name", ["transe", "distmult", "complex", "rotate"])
def test_filtered_ranks_match_brute_force(name):
    torch.manual_seed(0)
    n, r = 9, 3
    triples = torch.stack([torch.randint(n, (60,)), torch.randint(r, (60,)), torch.randint(n, (60,))], 1)
    triples = torch.unique(triples, dim=0)
    data = KGEData(triples[:-12], triples[-12:-6], triples[-6:], n, r)
    model = build_model(ModelConfig(name, dim=4), n, r)
    with torch.no_grad():  # tie two entities exactly, so realistic ranks are exercised
        model.entities.weight[3] = model.entities.weight[5]
    known = {tuple(x) for x in triples.tolist()}
    ranks = rank_triples(model, data.test, data, batch_size=4)

    def tails(h, r_, t):
        with torch.no_grad():
            return [float(model.score_hrt(torch.tensor([h]), torch.tensor([r_]), torch.tensor([e]))[0]) for e in range(n)]

    def heads(h, r_, t):
        with torch.no_grad():
            return [float(model.score_hrt(torch.tensor([e]), torch.tensor([r_]), torch.tensor([t]))[0]) for e in range(n)]

    # the vectorised path computes distances by a matrix product: compare with a tolerance on
    # scores by rounding both to 4 decimals
    def rounded(fn):
        return lambda h, r_, t: [round(s, 4) for s in fn(h, r_, t)]

    expected_t = brute_force_ranks(rounded(tails), data.test, known, n, "tail")
    expected_h = brute_force_ranks(rounded(heads), data.test, known, n, "head")
    assert ranks["tail"].tolist() == pytest.approx(expected_t)
    assert ranks["head"].tolist() == pytest.approx(expected_h)


def test_ties_give_realistic_rank_end_to_end():
    # every entity scores the same under a zero model: rank = (1 + N) / 2 minus filtered ones
    n = 7
    data = KGEData(torch.tensor([[0, 0, 1], [0, 0, 2]]), torch.zeros(0, 3, dtype=torch.long),
                   torch.tensor([[0, 0, 3]]), n, 1)
    model = build_model(ModelConfig("distmult", dim=2, normalize_entities=False), n, 1)
    with torch.no_grad():
        model.entities.weight.zero_()
    ranks = rank_triples(model, data.test, data)
    # tail side: entities 1, 2 filtered → 5 candidates all tied → (1 + 5) / 2 = 3
    assert ranks["tail"].tolist() == [3.0]
    # head side: nothing else known for (?, 0, 3) → 7 tied → 4
    assert ranks["head"].tolist() == [4.0]
    result = evaluate(model, data)
    assert result.mrr == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert result.hits[3] == pytest.approx(0.5)


def test_evaluation_memory_is_chunked():
    # batch_size bounds the [B, N] score block: results do not depend on it
    torch.manual_seed(1)
    n = 50
    triples = torch.stack([torch.randint(n, (80,)), torch.randint(2, (80,)), torch.randint(n, (80,))], 1)
    data = KGEData(triples[:60], triples[60:70], triples[70:], n, 2)
    model = build_model(ModelConfig("complex", dim=3), n, 2)
    a, b = evaluate(model, data, batch_size=1), evaluate(model, data, batch_size=1000)
    assert a.mrr == pytest.approx(b.mrr)
