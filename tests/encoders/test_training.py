"""End-to-end: a few optimiser steps learn, the speed switches behave, the package imports lean."""

from __future__ import annotations

import pytest
import torch

from kgnlu.encoders import HEADS, Encoder
from kgnlu.encoders.speed import adamw, autocast, maybe_compile
from tests.conftest import assert_imports_without

from .conftest import ragged_batch, tiny


@pytest.mark.parametrize("shape, objective", [("bert", "mlm"), ("albert", "mlm"), ("gpt2", "clm")])
def test_a_few_steps_reduce_the_loss(shape, objective):
    torch.manual_seed(0)
    config = tiny(shape, hidden_dropout=0.0, attention_dropout=0.0)
    encoder = Encoder(config)
    head = HEADS.get(objective)(config, encoder)
    model = torch.nn.ModuleDict({"encoder": encoder, "head": head})
    optimizer, _ = adamw(model.parameters(), lr=1e-2, weight_decay=0.0)
    ids, mask = ragged_batch(lengths=(9, 7, 8, 5), pad_id=0 if shape != "gpt2" else 1)
    labels = ids.masked_fill(mask == 0, -100)
    if objective == "mlm":
        labels[:, 1::2] = -100  # score every other real token
        inputs = ids.masked_fill(labels != -100, 3)
    else:
        inputs = ids
    losses = []
    for _ in range(30):
        loss = head(encoder(input_ids=inputs, attention_mask=mask), labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_fused_adamw_is_used_when_available_and_matches_plain():
    torch.manual_seed(0)
    a = torch.nn.Linear(8, 8)
    b = torch.nn.Linear(8, 8)
    b.load_state_dict(a.state_dict())
    fused_opt, fused = adamw(a.parameters(), lr=1e-2)
    plain_opt = torch.optim.AdamW(b.parameters(), lr=1e-2, weight_decay=0.01, eps=1e-6)
    x = torch.randn(4, 8)
    for model, opt in ((a, fused_opt), (b, plain_opt)):
        model(x).pow(2).sum().backward()
        opt.step()
    torch.testing.assert_close(a.weight, b.weight, atol=1e-6, rtol=0)
    assert isinstance(fused, bool)


def test_autocast_is_a_no_op_on_cpu():
    with autocast("cpu"):
        assert torch.ones(2, 2) @ torch.ones(2, 2) is not None
        assert not torch.is_autocast_enabled("cpu")
    assert maybe_compile(torch.nn.Linear(2, 2), enabled=False).__class__ is torch.nn.Linear


@pytest.mark.slow
def test_compiled_encoder_matches_eager():
    encoder = Encoder(tiny("bert")).eval()
    ids, _ = ragged_batch(lengths=(9, 9))
    compiled = maybe_compile(encoder, enabled=True)
    with torch.no_grad():
        torch.testing.assert_close(compiled(input_ids=ids).last_hidden_state,
                                   encoder(input_ids=ids).last_hidden_state, atol=1e-5, rtol=0)


def test_encoders_import_without_optional_heavy_packages():
    assert_imports_without("kgnlu.encoders, kgnlu.data.tokenizer", ("spacy", "pyoxigraph", "faiss", "transformers"))
