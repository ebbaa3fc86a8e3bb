"""KGLM-style copying into graph slots: the mixture by hand, and where it must not apply."""

from __future__ import annotations

import math

import pytest
import torch

from kgnlu.data.instances import IGNORE
from kgnlu.fusion.slot_copy import PAD_PIECE, LabelPieces, SlotCopy, candidate_pieces
from tests.kg.linker_graph import build_fixture_graph

V, H = 10, 4


class WordTokenizer:
    """One id per word (1 + position in ``words``); unknown words are skipped."""

    words = ["new", "york", "city", "united", "states", "paris", "texas", "france"]

    def encode(self, text, add_special_tokens=True):
        return [1 + self.words.index(w) for w in text.lower().split() if w in self.words]


def test_label_pieces_and_candidate_pieces(tmp_path):
    graph = build_fixture_graph(tmp_path / "graph")
    pieces = LabelPieces(graph, WordTokenizer(), max_pieces=2)
    nyc, us, texas = (graph.index_of(e) for e in ("geo:nyc", "geo:us", "geo:texas"))
    assert pieces(us) == (4, 5) and pieces(texas) == (7,)
    assert pieces(nyc) == ()  # three pieces: longer than max_pieces
    ids = torch.tensor([[[us, texas], [nyc, us]]])  # (B=1, M=2, C=2)
    mask = torch.tensor([[[True, True], [True, False]]])
    out = candidate_pieces(ids, mask, torch.tensor([[True, False]]), pieces, 2)
    assert out.shape == (1, 2, 2, 2)
    assert out[0, 0].tolist() == [[4, 5], [7, PAD_PIECE]]
    assert (out[0, 1] == PAD_PIECE).all()  # not a slot: no names to copy


def slot_batch():
    """One row of 6 tokens; a slot at [2, 4) with candidates 'a b' (ids 3, 4), 'c' (id 5) and 'd e' (6, 7)."""
    labels = torch.full((1, 6), IGNORE)
    labels[0, 1], labels[0, 2], labels[0, 3] = 8, 3, 4  # token 1 is masked but outside the slot
    spans = torch.tensor([[[2, 4]]])
    pieces = torch.tensor([[[[3, 4], [5, PAD_PIECE], [6, 7]]]])
    mask = torch.tensor([[[True, True, True]]])
    psi = torch.tensor([[[math.log(3.0), 5.0, math.log(1.0)]]])
    return labels, spans, pieces, mask, psi


def test_copy_mixture_by_hand():
    torch.manual_seed(0)
    copy = SlotCopy(H)
    with torch.no_grad():
        copy.gate.bias.fill_(math.log(0.25 / 0.75))  # g = 0.25 everywhere
    labels, spans, pieces, mask, psi = slot_batch()
    logits = torch.randn(3, V)  # the 3 labelled tokens, row-major: 1, 2, 3
    hidden = torch.randn(1, 6, H)
    out = copy.log_probs(logits, hidden, labels, spans, psi, pieces, mask)
    mlm = torch.softmax(logits, -1)
    assert torch.allclose(out.exp().sum(-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(out[0], torch.log_softmax(logits[0], -1))  # outside the slot: MLM alone
    # two-piece candidates only ('c' has the wrong length): weights 3/4 and 1/4
    first = 0.75 * mlm[1]
    first[3] += 0.25 * 0.75
    first[6] += 0.25 * 0.25
    second = 0.75 * mlm[2]
    second[4] += 0.25 * 0.75
    second[7] += 0.25 * 0.25
    assert torch.allclose(out[1].exp(), first, atol=1e-5)
    assert torch.allclose(out[2].exp(), second, atol=1e-5)


def test_no_candidate_of_the_slot_length_means_no_copy():
    copy = SlotCopy(H)
    labels, spans, pieces, mask, psi = slot_batch()
    mask[0, 0, 0] = mask[0, 0, 2] = False  # only the one-piece 'c' is left for a two-token slot
    logits = torch.randn(3, V)
    out = copy.log_probs(logits, torch.randn(1, 6, H), labels, spans, psi, pieces, mask)
    assert torch.allclose(out, torch.log_softmax(logits, -1), atol=1e-6)


def test_copy_trains_the_gate_and_the_candidate_scores():
    copy = SlotCopy(H)
    labels, spans, pieces, mask, psi = slot_batch()
    psi = psi.clone().requires_grad_(True)
    out = copy.log_probs(torch.zeros(3, V), torch.randn(1, 6, H), labels, spans, psi, pieces, mask)
    loss = -out[1, 3] - out[2, 4]  # the gold name is 'a b'
    loss.backward()
    assert copy.gate.bias.grad.item() < 0  # opening the gate helps
    assert psi.grad[0, 0, 0] < 0 and psi.grad[0, 0, 2] > 0  # and so does preferring 'a b' over 'd e'
    assert psi.grad[0, 0, 1] == pytest.approx(0.0)  # the wrong-length candidate takes no part


def test_plain_mlm_ignores_copy_inputs_it_was_not_built_for():
    from kgnlu.encoders import Encoder, EncoderConfig
    from kgnlu.encoders.objectives.mlm import MaskedLM

    torch.manual_seed(0)
    encoder = Encoder(EncoderConfig.bert(vocab_size=V, hidden_size=8, num_layers=1, num_heads=2, ffn_size=16,
                                         max_positions=16))
    labels, *_ = slot_batch()
    output = encoder(torch.randint(0, V, (1, 6)))
    plain = MaskedLM(encoder)
    log_probs, targets = plain.log_probs({"labels": labels}, output)
    assert targets.tolist() == [8, 3, 4]
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(3), atol=1e-5)
    with_copy = MaskedLM(encoder, copy=True)
    with_copy.head.load_state_dict(plain.head.state_dict())
    again, _ = with_copy.log_probs({"labels": labels}, output)  # no candidate_logits: nothing to copy from
    assert torch.allclose(again, log_probs)
