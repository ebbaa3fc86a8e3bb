"""The paper-faithful options of the injection layers (docs/techniques.md): KnowBERT's span and
word feed-forward blocks and decode threshold with a null entity; LUKE's entity-aware
self-attention and entity position table. Each against a hand computation or a property the
paper's formula implies."""

from __future__ import annotations

import math

import pytest
import torch

from kgnlu.encoders import Encoder
from kgnlu.errors import FusionError
from kgnlu.fusion import KGEncoder
from kgnlu.fusion.injection.base import FusionState
from kgnlu.fusion.injection.kar import KnowledgeAttentionRecontextualization
from tests.encoders.conftest import tiny

from .conftest import (
    ENTITY_SIZE,
    NUM_ENTITIES,
    SHAPES,
    entity_batch,
    perturb_norms,
    tiny_config,
    token_batch,
)

KAR_PAPER = {"span_ffn": True, "word_ffn": True, "threshold": 0.0, "knowbert_norms": True}
LUKE_PAPER = {"entity_aware_attention": True, "position_table": "entity"}


def fused(shape: str, kind: str, options: dict, at: int, seed: int = 0) -> tuple[Encoder, KGEncoder]:
    torch.manual_seed(seed)
    encoder = Encoder(tiny_config(shape))
    kg = KGEncoder(encoder, torch.randn(NUM_ENTITIES, ENTITY_SIZE), {at: kind}, freeze_entities=False,
                   injection_options={kind: options})
    perturb_norms(kg)
    return encoder, kg.eval()


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind,options,at", [("kar", KAR_PAPER, 2), ("entity_tokens", LUKE_PAPER, 0)])
def test_paper_options_run_on_every_shape_and_leave_entity_free_rows_alone(shape, kind, options, at):
    encoder, kg = fused(shape, kind, options, at)
    ids, mask = token_batch()
    out = kg(ids, mask, entities=entity_batch(), output_attentions=True)
    with torch.no_grad():
        plain = encoder(ids, mask).last_hidden_state
    assert torch.isfinite(out.last_hidden_state).all()
    assert not torch.allclose(out.last_hidden_state[0], plain[0], atol=1e-4)  # row 0 has two mentions
    torch.testing.assert_close(out.last_hidden_state[1], plain[1], atol=1e-5, rtol=1e-5)  # row 1 has none
    out.last_hidden_state[mask.bool()].pow(2).mean().backward()
    trained = [n for n, p in kg.injections.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    if kind == "kar":
        assert any("span_ffn" in n for n in trained) and any("word_ffn" in n for n in trained)
        # (the candidate norm gets a gradient only when some candidate clears δ: not asserted)
        assert {"pooled_norm", "enhanced_norm"} <= {n.split(".")[1] for n in trained}
    else:
        assert any("entity_aware" in n for n in trained) and any(n.endswith("position.weight") for n in trained)


@pytest.mark.parametrize("kind,options,at", [("kar", KAR_PAPER, 2), ("entity_tokens", LUKE_PAPER, 0)])
def test_paper_options_keep_gpt2_causal(kind, options, at):
    _, kg = fused("gpt2", kind, options, at)
    ids, mask = token_batch()
    entities = entity_batch()
    before = kg(ids, mask, entities=entities).last_hidden_state
    changed = ids.clone()
    changed[0, 8] = (changed[0, 8] + 1) % 97 + 1  # a token after both of row 0's mentions
    after = kg(changed, mask, entities=entities).last_hidden_state
    torch.testing.assert_close(after[0, :8], before[0, :8], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind,options,at", [("kar", KAR_PAPER, 2), ("entity_tokens", LUKE_PAPER, 0)])
def test_paper_options_survive_save_and_load(tmp_path, kind, options, at):
    _, kg = fused("bert", kind, options, at)
    with torch.no_grad():  # move every extra parameter off its initial value
        for p in kg.injections.parameters():
            p.add_(0.01 * torch.randn_like(p))
    kg.save_pretrained(tmp_path / "kg")
    loaded = KGEncoder.from_pretrained(tmp_path / "kg").eval()
    assert loaded.injection_options == {kind: options}
    ids, mask = token_batch()
    torch.testing.assert_close(loaded(ids, mask, entities=entity_batch()).last_hidden_state,
                               kg(ids, mask, entities=entity_batch()).last_hidden_state)


# ------------------------------------------------------------------ KnowBERT: threshold and null
def test_threshold_drops_low_candidates_and_falls_back_to_the_null_entity():
    kar = KnowledgeAttentionRecontextualization(tiny_config("bert"), 2, Encoder(tiny_config("bert")), threshold=0.5)
    with torch.no_grad():
        kar.null_entity.copy_(torch.tensor([7.0, -7.0]))
    candidates = torch.tensor([[[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],     # mention 0
                                [[2.0, 0.0], [0.0, 2.0], [5.0, 5.0]]]])   # mention 1
    logits = torch.tensor([[[2.0, 2.0, 0.0], [0.4, -1.0, 0.1]]])  # (1, 2, 3)
    usable = torch.ones(1, 2, 3, dtype=torch.bool)
    linked = torch.tensor([[True, True]])
    got = kar._weighted_candidates(logits, usable, candidates, linked)
    # mention 0: candidates 0 and 1 pass δ = 0.5 with equal ψ → weights ½, ½; candidate 2 is dropped
    torch.testing.assert_close(got[0, 0], torch.tensor([0.5, 0.5]))
    # mention 1: nothing reaches δ → the null entity
    torch.testing.assert_close(got[0, 1], torch.tensor([7.0, -7.0]))
    # without δ the same logits give the plain softmax mixture
    plain = KnowledgeAttentionRecontextualization(tiny_config("bert"), 2, Encoder(tiny_config("bert")))
    weights = torch.softmax(torch.tensor([0.4, -1.0, 0.1]), 0)
    torch.testing.assert_close(plain._weighted_candidates(logits, usable, candidates, linked)[0, 1],
                               weights @ candidates[0, 1])


def test_span_ffn_is_a_residual_feed_forward_with_layer_norm():
    kar = KnowledgeAttentionRecontextualization(tiny_config("bert"), 4, Encoder(tiny_config("bert")),
                                                span_ffn=True, ffn_size=8).eval()
    ffn = kar.span_ffn
    x = torch.randn(3, 4)
    hidden = x @ ffn.up.weight.T + ffn.up.bias
    hidden = 0.5 * hidden * (1 + torch.erf(hidden / math.sqrt(2)))  # exact GELU
    y = x + hidden @ ffn.down.weight.T + ffn.down.bias
    expected = (y - y.mean(-1, keepdim=True)) / torch.sqrt(y.var(-1, unbiased=False, keepdim=True) + ffn.norm.eps)
    expected = expected * ffn.norm.weight + ffn.norm.bias
    torch.testing.assert_close(ffn(x), expected, atol=1e-5, rtol=1e-5)


def test_knowbert_norms_scale_the_span_entity_similarity():
    """ψ's similarity input is s·e/√De with the norms on (KnowBERT's DotAttentionWithPrior), s·e without."""
    config = tiny_config("bert")
    seen = {}
    for on in (False, True):
        torch.manual_seed(0)
        kar = KnowledgeAttentionRecontextualization(config, 4, Encoder(config), knowbert_norms=on).eval()
        kar.linker.register_forward_hook(lambda m, i, o, on=on: seen.update({on: i[0][..., 1].detach()}))
        if on:  # identity norms so the scaling alone is visible
            for norm in (kar.pooled_norm, kar.candidate_norm):
                norm.weight.data.fill_(1.0)
                norm.bias.data.zero_()
        entities = entity_batch()
        state = FusionState(entities, torch.nn.Embedding.from_pretrained(torch.randn(NUM_ENTITIES, 4)), False)
        torch.manual_seed(1)
        kar(torch.randn(3, 10, config.hidden_size), torch.ones(3, 10, dtype=torch.bool), state)
    assert seen[False].shape == seen[True].shape == (3, 2, 3)
    # both runs saw the same inputs up to the norms; with them, every similarity is ≤ √De = 2 in size
    # (two LayerNormed 4-vectors have |s·e| ≤ 4, divided by √4)
    assert seen[True].abs().max() <= 2.0 + 1e-5
    assert not torch.allclose(seen[False], seen[True])


def test_bad_kar_and_luke_options_are_refused():
    with pytest.raises(FusionError, match="bad injection options"):
        fused("bert", "kar", {"span_fnn": True}, 2)
    with pytest.raises(FusionError, match="threshold must be a number"):
        fused("bert", "kar", {"threshold": "0.5"}, 2)
    with pytest.raises(FusionError, match="position_table"):
        fused("bert", "entity_tokens", {"position_table": "words"}, 0)


# ------------------------------------------------------------------ LUKE
def test_entity_aware_attention_starts_as_plain_joint_attention():
    """LUKE initialises Q_w2e, Q_e2w, Q_e2e with Q, so before training the layer computes what plain
    self-attention over the joint sequence computes."""
    torch.manual_seed(0)
    encoder = Encoder(tiny_config("bert"))
    table = torch.randn(NUM_ENTITIES, ENTITY_SIZE)
    plain = KGEncoder(encoder, table, {0: "entity_tokens"}).eval()
    aware = KGEncoder(encoder, table, {0: "entity_tokens"},
                      injection_options={"entity_tokens": {"entity_aware_attention": True}}).eval()
    aware.injections.load_state_dict(plain.injections.state_dict(), strict=False)
    ids, mask = token_batch()
    a = aware(ids, mask, entities=entity_batch())
    b = plain(ids, mask, entities=entity_batch())
    torch.testing.assert_close(a.last_hidden_state, b.last_hidden_state, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(a.entity_states, b.entity_states, atol=1e-5, rtol=1e-5)


def test_entity_aware_scores_use_the_query_of_each_type_pair():
    """One layer, one head: the probabilities equal softmax(e_ij/√d) with e_ij from LUKE's table of
    four query matrices, computed here element by element."""
    config = tiny("bert", num_layers=1, num_heads=1)
    torch.manual_seed(1)
    encoder = Encoder(config)
    kg = KGEncoder(encoder, torch.randn(NUM_ENTITIES, ENTITY_SIZE), {0: "entity_tokens"},
                   injection_options={"entity_tokens": {"entity_aware_attention": True}}).eval()
    extra = kg.injections["0"].entity_aware.queries[0]
    with torch.no_grad():
        extra.weight.normal_(0, 0.3)  # make the three extra queries differ from Q and each other
        extra.bias.normal_(0, 0.3)
    captured = {}
    attention = encoder.layers.attention_blocks[0].attention
    handle = attention.qkv.register_forward_hook(lambda m, i, o: captured.update(x=i[0].detach()))
    ids, mask = token_batch()
    out = kg(ids, mask, entities=entity_batch(), output_attentions=True)
    handle.remove()
    x = captured["x"][0]  # (S+M, H) of row 0: 10 words, then its 2 entity tokens
    h = config.hidden_size
    w, b = attention.qkv.weight, attention.qkv.bias
    q_mat = {"w2w": (w[:h], b[:h])}
    for n, name in enumerate(("w2e", "e2w", "e2e")):
        q_mat[name] = (extra.weight[n * h:(n + 1) * h], extra.bias[n * h:(n + 1) * h])
    keys = x @ w[h:2 * h].T + b[h:2 * h]
    num_words, total = 10, x.shape[0]
    scores = torch.empty(total, total)
    for i in range(total):
        for j in range(total):
            kind = ("w" if i < num_words else "e") + "2" + ("w" if j < num_words else "e")
            qw, qb = q_mat[kind]
            scores[i, j] = (x[i] @ qw.T + qb) @ keys[j] / math.sqrt(h)
    allowed = torch.cat([mask[0].bool(), entity_batch().entity_mask[0]])
    expected = scores.masked_fill(~allowed[None, :], float("-inf")).softmax(-1)
    layer_probs = aware_probs(kg, ids, mask)
    torch.testing.assert_close(layer_probs[0, 0], expected, atol=1e-5, rtol=1e-5)
    assert out.attentions[0].shape[-1] == 10  # the public attentions stay word × word


def aware_probs(kg: KGEncoder, ids, mask) -> torch.Tensor:
    """The joint (B, h, S+M, S+M) probabilities of layer 0, read from the entity-aware layer."""
    seen = {}
    aware = kg.injections["0"].entity_aware
    original = aware.run_layer

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        seen["probs"] = result[1]
        return result

    aware.run_layer = spy
    try:
        kg(ids, mask, entities=entity_batch(), output_attentions=True)
    finally:
        aware.run_layer = original
    return seen["probs"]


def test_entity_position_table_is_luke_s_own():
    """position_table="entity": an entity token's position vector is the mean of the *entity* table's
    rows over its mention span; the word table no longer reaches it."""
    torch.manual_seed(0)
    encoder = Encoder(tiny_config("bert"))
    kg = KGEncoder(encoder, torch.randn(NUM_ENTITIES, ENTITY_SIZE), {0: "entity_tokens"},
                   injection_options={"entity_tokens": {"position_table": "entity"}}).eval()
    tokens = kg.injections["0"]
    state = FusionState(entity_batch(), kg.entity_embeddings, False)
    before = tokens.embed(state, 10)
    with torch.no_grad():
        encoder.embeddings.position.weight.add_(1.0)  # the word table moves: nothing changes
    torch.testing.assert_close(tokens.embed(state, 10), before)
    with torch.no_grad():  # the entity table's rows 1 and 2 (row 0's first span [1, 3)) move by +d
        delta = torch.randn(tokens.position.weight.shape[1])
        tokens.position.weight[1:3] += delta
    after = tokens.embed(state, 10)
    assert not torch.allclose(after[0, 0], before[0, 0])
    torch.testing.assert_close(after[0, 1], before[0, 1])  # span [5, 6) untouched
