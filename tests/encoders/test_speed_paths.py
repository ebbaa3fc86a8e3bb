"""kgnlu.encoders.matmul: the oneDNN linear computes F.linear's values and gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from kgnlu.encoders import Encoder, EncoderConfig
from kgnlu.encoders.matmul import Linear, linear, use_onednn

ONEDNN = torch.backends.mkldnn.is_available()


# ---------------------------------------------------------------------- linear
@pytest.mark.skipif(not ONEDNN, reason="this torch build has no oneDNN: linear() is F.linear itself")
def test_linear_takes_onednn_on_cpu_fp32_only():
    x, w = torch.randn(3, 4), torch.randn(5, 4)
    assert use_onednn(x, w)
    assert not use_onednn(x.bfloat16(), w.bfloat16())
    assert not use_onednn(torch.randn(0, 4), w)
    assert not use_onednn(x, torch.randn(4, 5).t())  # a transposed view: F.linear handles it
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert not use_onednn(x, w)


@pytest.mark.parametrize("shape", [(7, 16), (2, 5, 16)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_f_linear_values_and_gradients(shape, bias):
    torch.manual_seed(2)
    x = torch.randn(*shape, requires_grad=True)
    w = torch.randn(24, 16, requires_grad=True)
    b = torch.randn(24, requires_grad=True) if bias else None
    grad = torch.randn(*shape[:-1], 24)
    ours = linear(x, w, b)
    ours.backward(grad)
    got = [t.grad.clone() for t in (x, w, b) if t is not None]
    for t in (x, w, b):
        if t is not None:
            t.grad = None
    ref = F.linear(x, w, b)
    ref.backward(grad)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    for mine, theirs in zip(got, [t.grad for t in (x, w, b) if t is not None], strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-4, rtol=1e-5)


def test_linear_on_a_non_contiguous_input_and_frozen_weight():
    torch.manual_seed(3)
    x = torch.randn(6, 16, requires_grad=True)
    layer = Linear(16, 8)
    layer.weight.requires_grad_(False)
    view = x.t().contiguous().t()[:, :12]  # (6, 12) strided view
    layer12 = Linear(12, 8)
    out = layer12(view)
    torch.testing.assert_close(out, F.linear(view, layer12.weight, layer12.bias), atol=1e-5, rtol=1e-5)
    layer(x).sum().backward()
    assert layer.weight.grad is None and x.grad is not None
    torch.testing.assert_close(x.grad, layer.weight.sum(0).expand(6, 16), atol=1e-5, rtol=1e-5)


def test_encoder_linears_keep_nn_linear_keys():
    encoder = Encoder(EncoderConfig.bert(vocab_size=50, hidden_size=16, num_layers=1, num_heads=2, ffn_size=32))
    block = encoder.layers.attention_blocks[0].attention
    assert isinstance(block.qkv, torch.nn.Linear) and isinstance(block.qkv, Linear)
    keys = set(encoder.state_dict())
    assert {"layers.attention_blocks.0.attention.qkv.weight", "layers.ffn_blocks.0.up.bias"} <= keys
