"""Behaviour of the encoder in every seed shape and sharing mode, on tiny configs."""

from __future__ import annotations

import math

import pytest
import torch

from kgnlu.encoders import Encoder, EncoderConfig
from kgnlu.errors import ConfigError

from .conftest import SHAPES, SHARING, ragged_batch, tiny


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sharing", SHARING)
def test_shapes_and_gradient_flow(shape, sharing, batch):
    torch.manual_seed(0)
    encoder = Encoder(tiny(shape, sharing=sharing))
    ids, mask = batch
    out = encoder(input_ids=ids, attention_mask=mask, output_hidden_states=True, output_attentions=True)
    B, S = ids.shape
    assert out.last_hidden_state.shape == (B, S, 32)
    assert len(out.hidden_states) == 4 and all(h.shape == (B, S, 32) for h in out.hidden_states)
    assert len(out.attentions) == 3 and out.attentions[0].shape == (B, 4, S, S)
    assert (out.pooler_output is not None) == (shape in ("bert", "albert"))
    # every parameter receives a gradient from a loss on the real tokens
    loss = out.last_hidden_state[mask.bool()].pow(2).mean()
    if out.pooler_output is not None:
        loss = loss + out.pooler_output.sum()
    loss.backward()
    for name, p in encoder.named_parameters():
        assert p.grad is not None, name
        if not name.startswith("embeddings.token_type"):  # segment B never appears in this batch
            assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("shape", SHAPES)
def test_padding_free_equals_padded(shape, batch):
    encoder = Encoder(tiny(shape)).eval()
    ids, mask = batch
    with torch.no_grad():
        packed = encoder(input_ids=ids, attention_mask=mask, padding_free=True, output_hidden_states=True)
        padded = encoder(input_ids=ids, attention_mask=mask, padding_free=False, output_hidden_states=True)
    real = mask.bool()
    torch.testing.assert_close(packed.last_hidden_state[real], padded.last_hidden_state[real], atol=1e-5, rtol=0)
    for a, b in zip(packed.hidden_states, padded.hidden_states, strict=True):
        torch.testing.assert_close(a[real], b[real], atol=1e-5, rtol=0)
    assert packed.last_hidden_state[~real].abs().sum() == 0  # pads are zero on the packed path


@pytest.mark.parametrize("shape", SHAPES)
def test_padding_does_not_change_real_tokens(shape):
    """A sequence alone and the same sequence padded inside a batch give the same states."""
    encoder = Encoder(tiny(shape)).eval()
    ids, mask = ragged_batch()
    length = int(mask[1].sum())
    with torch.no_grad():
        alone = encoder(input_ids=ids[1:2, :length]).last_hidden_state[0]
        in_batch = encoder(input_ids=ids, attention_mask=mask).last_hidden_state[1, :length]
    torch.testing.assert_close(alone, in_batch, atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("padding_free", [True, False])
def test_sdpa_matches_eager(shape, padding_free, batch):
    torch.manual_seed(1)
    sdpa = Encoder(tiny(shape)).eval()
    eager = Encoder(tiny(shape, attention_backend="eager")).eval()
    eager.load_state_dict(sdpa.state_dict())
    ids, mask = batch
    real = mask.bool()
    with torch.no_grad():
        a = sdpa(input_ids=ids, attention_mask=mask, padding_free=padding_free).last_hidden_state
        b = eager(input_ids=ids, attention_mask=mask, padding_free=padding_free).last_hidden_state
        # and without any mask (the is_causal fast path for GPT-2)
        c = sdpa(input_ids=ids).last_hidden_state
        d = eager(input_ids=ids).last_hidden_state
    torch.testing.assert_close(a[real], b[real], atol=1e-5, rtol=0)
    torch.testing.assert_close(c, d, atol=1e-5, rtol=0)


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
def test_causal_mask_is_really_causal(backend):
    encoder = Encoder(tiny("gpt2", attention_backend=backend)).eval()
    ids, _ = ragged_batch(lengths=(9, 9))
    changed = ids.clone()
    changed[:, 5:] = (changed[:, 5:] + 7) % 96 + 1  # rewrite the future from position 5
    with torch.no_grad():
        a = encoder(input_ids=ids).last_hidden_state
        b = encoder(input_ids=changed).last_hidden_state
        probs = encoder(input_ids=ids, output_attentions=True).attentions[0]
    torch.testing.assert_close(a[:, :5], b[:, :5], atol=1e-6, rtol=0)  # the past did not see it
    assert (a[:, 5:] - b[:, 5:]).abs().max() > 1e-3  # and the changed positions did
    assert probs.triu(diagonal=1).abs().max() == 0  # no attention to later positions


def test_bidirectional_encoder_sees_the_future():
    encoder = Encoder(tiny("bert")).eval()
    ids, _ = ragged_batch(lengths=(9,))
    changed = ids.clone()
    changed[0, -1] = ids[0, -1] % 96 + 1
    with torch.no_grad():
        delta = encoder(input_ids=ids).last_hidden_state[0, 0] - encoder(input_ids=changed).last_hidden_state[0, 0]
    assert delta.abs().max() > 1e-4


@pytest.mark.parametrize("shape", SHAPES)
def test_seeded_determinism(shape, batch):
    ids, mask = batch

    def run():
        torch.manual_seed(123)
        encoder = Encoder(tiny(shape)).train()  # dropout on: the seed fixes its masks too
        return encoder(input_ids=ids, attention_mask=mask).last_hidden_state

    torch.testing.assert_close(run(), run(), atol=0, rtol=0)


def test_attention_probabilities_ignore_padding(batch):
    encoder = Encoder(tiny("bert")).eval()
    ids, mask = batch
    with torch.no_grad():
        probs = encoder(input_ids=ids, attention_mask=mask, output_attentions=True).attentions[0]  # (B, h, S, S)
    assert probs[:, :, :, :][~mask.bool()[:, None, None, :].expand_as(probs)].abs().max() == 0
    real_rows = mask.bool()[:, None, :, None].expand_as(probs)
    torch.testing.assert_close(probs.sum(-1)[real_rows[..., 0]], torch.ones(int(real_rows[..., 0].sum())))


def test_gpt2_init_scales_residual_projections():
    config = EncoderConfig.gpt2(vocab_size=500, hidden_size=256, num_layers=8, num_heads=4, ffn_size=1024)
    torch.manual_seed(0)
    encoder = Encoder(config)
    block = encoder.layers.attention_blocks[0]
    expected = 0.02 / math.sqrt(2 * 8)
    assert block.attention.out.weight.std().item() == pytest.approx(expected, rel=0.05)
    assert encoder.layers.ffn_blocks[0].down.weight.std().item() == pytest.approx(expected, rel=0.05)
    assert block.attention.qkv.weight.std().item() == pytest.approx(0.02, rel=0.05)
    bert = Encoder(EncoderConfig(vocab_size=500, hidden_size=256, num_layers=8, num_heads=4, ffn_size=1024))
    assert bert.layers.ffn_blocks[0].down.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert bert.embeddings.word.weight[0].abs().sum() == 0  # the pad row starts at zero


def test_sinusoidal_positions_have_no_parameters():
    encoder = Encoder(tiny("bert", position_scheme="sinusoidal"))
    assert not any("position" in name for name, _ in encoder.named_parameters())
    ids, mask = ragged_batch()
    assert encoder(input_ids=ids, attention_mask=mask).last_hidden_state.isfinite().all()


def test_too_long_input_is_refused():
    encoder = Encoder(tiny("bert"))
    with pytest.raises(ConfigError, match="max_positions"):
        encoder(input_ids=torch.ones(1, 41, dtype=torch.long))


def test_token_types_change_the_output():
    encoder = Encoder(tiny("bert")).eval()
    ids, _ = ragged_batch(lengths=(6,))
    types = torch.tensor([[0, 0, 0, 1, 1, 1]])
    with torch.no_grad():
        a = encoder(input_ids=ids, token_type_ids=types).last_hidden_state
        b = encoder(input_ids=ids).last_hidden_state
    assert (a - b).abs().max() > 1e-4
