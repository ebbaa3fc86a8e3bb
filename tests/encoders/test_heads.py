"""Pretraining heads: output shapes, which positions they score, tying, and losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from kgnlu.encoders import HEADS, Encoder, MaskedLMHead
from kgnlu.errors import ConfigError, UnknownNameError

from .conftest import ragged_batch, tiny


def test_registry_holds_every_objective():
    assert set(HEADS) >= {"mlm", "nsp", "sop", "rtd", "clm", "entity"}
    with pytest.raises(UnknownNameError, match="mlm"):
        HEADS.get("mlmm")


@pytest.mark.parametrize("shape", ["bert", "albert", "electra"])
def test_mlm_scores_only_masked_positions(shape):
    config = tiny(shape)
    encoder = Encoder(config)
    head = HEADS.get("mlm")(config, encoder)
    ids, mask = ragged_batch()
    labels = torch.full_like(ids, -100)
    labels[0, 2], labels[2, 5], labels[3, 0] = 11, 12, 13
    out = encoder(input_ids=ids, attention_mask=mask)
    result = head(out, labels)
    assert result.logits.shape == (3, config.vocab_size)
    assert result.labels.tolist() == [11, 12, 13]
    # the same numbers as scoring every position and picking the masked ones
    full = head(out).logits.view(*ids.shape, -1)
    torch.testing.assert_close(result.logits, full[labels != -100])
    torch.testing.assert_close(result.loss, F.cross_entropy(full[labels != -100], labels[labels != -100]))
    result.loss.backward()
    assert encoder.embeddings.word.weight.grad is not None


def test_mlm_decoder_is_tied_to_input_embeddings():
    config = tiny("albert")
    encoder = Encoder(config)
    head = MaskedLMHead(config, encoder)
    assert head.decoder.weight is encoder.embeddings.word.weight
    untied = MaskedLMHead(tiny("albert", tie_word_embeddings=False), encoder)
    assert untied.decoder.weight is not encoder.embeddings.word.weight
    # tied: the embedding matrix is not counted twice
    model = torch.nn.ModuleDict({"encoder": encoder, "head": head})
    assert sum(p.numel() for p in model.parameters()) == encoder.num_parameters() + sum(
        p.numel() for n, p in head.named_parameters() if "embedding" not in n)


@pytest.mark.parametrize("name, shape", [("nsp", "bert"), ("sop", "albert"), ("sop", "electra")])
def test_sentence_pair_heads_are_binary_over_pooled(name, shape):
    config = tiny(shape)
    encoder = Encoder(config)
    head = HEADS.get(name)(config, encoder)
    ids, mask = ragged_batch()
    result = head(encoder(input_ids=ids, attention_mask=mask), torch.tensor([0, 1, 1, 0]))
    assert result.logits.shape == (4, 2) and result.loss.ndim == 0
    assert (head.pooler is None) == config.pooler  # ELECTRA gets a pooler inside the head


def test_rtd_is_per_token_and_ignores_padding():
    config = tiny("electra")
    encoder = Encoder(config)
    head = HEADS.get("rtd")(config, encoder)
    ids, mask = ragged_batch()
    labels = torch.randint(0, 2, ids.shape).masked_fill(mask == 0, -100)
    out = encoder(input_ids=ids, attention_mask=mask)
    result = head(out, labels)
    assert result.logits.shape == ids.shape
    real = mask.bool()
    expected = F.binary_cross_entropy_with_logits(result.logits[real], labels[real].float())
    torch.testing.assert_close(result.loss, expected)


def test_clm_predicts_the_next_token_with_tied_weights():
    config = tiny("gpt2")
    encoder = Encoder(config)
    head = HEADS.get("clm")(config, encoder)
    assert head.decoder.weight is encoder.embeddings.word.weight and head.decoder.bias is None
    ids, mask = ragged_batch(pad_id=5)
    labels = ids.masked_fill(mask == 0, -100)
    out = encoder(input_ids=ids, attention_mask=mask)
    result = head(out, labels)
    full = head(out).logits  # (B, S, V)
    assert full.shape == (*ids.shape, config.vocab_size)
    shifted = labels[:, 1:]
    assert result.logits.shape == ((shifted != -100).sum().item(), config.vocab_size)
    expected = F.cross_entropy(full[:, :-1][shifted != -100], shifted[shifted != -100])
    torch.testing.assert_close(result.loss, expected)
    with pytest.raises(ConfigError, match="causal"):
        HEADS.get("clm")(tiny("bert"), Encoder(tiny("bert")))


def test_entity_head_scores_against_given_candidates():
    config = tiny("bert")
    encoder = Encoder(config)
    head = HEADS.get("entity")(config, encoder, entity_size=8)
    ids, mask = ragged_batch()
    positions = torch.zeros_like(mask, dtype=torch.bool)
    positions[0, 1] = positions[2, 3] = True
    candidates = torch.randn(5, 8)
    result = head(encoder(input_ids=ids, attention_mask=mask), positions, candidates, torch.tensor([4, 0]))
    assert result.logits.shape == (2, 5) and result.loss.ndim == 0


@pytest.mark.parametrize("name", ["mlm", "nsp", "sop", "rtd", "clm", "entity"])
def test_building_a_head_leaves_the_encoder_weights_alone(name):
    torch.manual_seed(0)
    encoder = Encoder(tiny("gpt2" if name == "clm" else "bert"))
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    HEADS.get(name)(encoder.config, encoder)
    after = encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
