"""Pretraining objectives on tiny hand-checkable cases, their gradients, and PretrainingModel."""

import pytest
import torch
import torch.nn.functional as F

from kgnlu.encoders import Encoder, EncoderOutput
from kgnlu.encoders.objectives import (
    OBJECTIVES,
    PretrainingModel,
    accuracy,
    generator_config,
    gumbel_sample,
    replace_tokens,
)
from kgnlu.encoders.objectives import rtd as rtd_module
from kgnlu.errors import ConfigError, UnknownNameError
from tests.encoders.conftest import tiny

IGNORE = -100


def encoder(shape="bert", **overrides):
    torch.manual_seed(0)
    model = Encoder(tiny(shape, hidden_dropout=0.0, attention_dropout=0.0, **overrides))
    return model.eval()


def ids_and_mask():
    ids = torch.tensor([[2, 11, 12, 13, 14, 3], [2, 21, 22, 3, 0, 0]])
    return ids, (ids != 0).long()


def test_registry_has_every_objective():
    import kgnlu.fusion  # noqa: F401  registers the KG objectives (lazily imported elsewhere)

    assert list(OBJECTIVES) == ["clm", "dea", "el", "ke", "mlm", "nsp", "rtd", "sop"]
    with pytest.raises(UnknownNameError):
        OBJECTIVES.get("mlmm")


def test_accuracy_skips_ignored_rows():
    logits = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert accuracy(logits, torch.tensor([1, 1, IGNORE, IGNORE])).item() == 0.5
    assert accuracy(logits, torch.tensor([IGNORE] * 4)).item() == 0.0


def test_mlm_accuracy_counts_only_masked_positions():
    enc = encoder()
    objective = OBJECTIVES.get("mlm")(enc).eval()
    ids, mask = ids_and_mask()
    output = enc(ids, mask)
    everything = objective.head(output).logits.view(2, 6, -1)  # (B, S, V) without labels
    best = everything.argmax(-1)
    labels = torch.full_like(ids, IGNORE)
    labels[0, 2], labels[1, 1] = best[0, 2], best[1, 1]  # two masked positions, both predicted right
    out = objective({"labels": labels}, output)
    assert out["accuracy"].item() == 1.0
    expected = F.cross_entropy(everything[labels != IGNORE], labels[labels != IGNORE])
    torch.testing.assert_close(out["loss"], expected)
    labels[1, 1] = (best[1, 1] + 1) % 97  # one of the two wrong; unmasked positions never count
    assert objective({"labels": labels}, output)["accuracy"].item() == 0.5
    nothing = objective({"labels": torch.full_like(ids, IGNORE)}, output)
    assert nothing["loss"].item() == 0.0 and nothing["accuracy"].item() == 0.0


@pytest.mark.parametrize(("name", "key", "shape"), [("nsp", "nsp_label", "bert"), ("sop", "sop_label", "albert")])
def test_sentence_pair_objectives(name, key, shape):
    enc = encoder(shape)
    objective = OBJECTIVES.get(name)(enc).eval()
    ids, mask = ids_and_mask()
    output = enc(ids, mask)
    logits = objective.head(output).logits  # (B, 2)
    right = logits.argmax(-1)
    out = objective({key: right}, output)
    assert out["accuracy"].item() == 1.0
    torch.testing.assert_close(out["loss"], F.cross_entropy(logits, right))
    assert objective({key: 1 - right}, output)["accuracy"].item() == 0.0
    assert objective({key: torch.tensor([right[0].item(), 1 - right[1].item()])}, output)["accuracy"].item() == 0.5


def test_clm_shifts_and_reports_perplexity():
    enc = encoder("gpt2")
    objective = OBJECTIVES.get("clm")(enc).eval()
    ids, mask = ids_and_mask()
    output = enc(ids, mask)
    logits = objective.head(output).logits  # (B, S, V)
    labels = ids.masked_fill(mask == 0, IGNORE)
    labels[:, 1:] = torch.where(labels[:, 1:] == IGNORE, labels[:, 1:], logits[:, :-1].argmax(-1))
    out = objective({"labels": labels}, output)
    assert out["accuracy"].item() == 1.0  # position t predicted label t+1 everywhere it counts
    scored = labels[:, 1:] != IGNORE
    torch.testing.assert_close(out["loss"], F.cross_entropy(logits[:, :-1][scored], labels[:, 1:][scored]))
    torch.testing.assert_close(out["perplexity"], out["loss"].detach().exp())
    with pytest.raises(ConfigError, match="causal"):
        OBJECTIVES.get("clm")(encoder("bert"))


def test_replace_tokens_labels_exactly_the_changed_tokens():
    ids = torch.tensor([[2, 4, 4, 9, 3], [2, 4, 7, 3, 0]])  # 4 = [MASK]
    mask = (ids != 0).long()
    labels = torch.full_like(ids, IGNORE)
    labels[0, 1], labels[0, 2], labels[1, 1] = 5, 6, 8  # originals at three masked positions
    sampled = torch.tensor([5, 40, 41])  # row-major: (0,1) equals its original, (0,2) and (1,1) differ
    corrupted, rtd_labels = replace_tokens(ids, labels, sampled, mask)
    assert corrupted.tolist() == [[2, 5, 40, 9, 3], [2, 41, 7, 3, 0]]
    assert rtd_labels.tolist() == [[0, 0, 1, 0, 0], [0, 1, 0, 0, IGNORE]]


def test_gumbel_sampling_follows_the_softmax_without_gradient():
    logits = torch.tensor([[0.0, 20.0, 0.0], [30.0, 0.0, 0.0]], requires_grad=True)
    sampled = gumbel_sample(logits)
    assert sampled.tolist() == [1, 0] and not sampled.requires_grad
    counts = torch.bincount(gumbel_sample(torch.log(torch.tensor([[0.25, 0.75]])).expand(4000, 2)), minlength=2)
    assert abs(counts[1].item() / 4000 - 0.75) < 0.04


def electra_batch():
    ids = torch.tensor([[2, 4, 12, 4, 14, 3], [2, 21, 4, 3, 0, 0]])
    labels = torch.full_like(ids, IGNORE)
    labels[0, 1], labels[0, 3], labels[1, 2] = 11, 13, 22
    return {"input_ids": ids, "labels": labels, "attention_mask": (ids != 0).long(),
            "token_type_ids": torch.zeros_like(ids)}


def test_rtd_shares_embeddings_and_sizes_the_generator():
    enc = encoder("electra")
    before = enc.embeddings.word.weight.detach().clone()
    objective = OBJECTIVES.get("rtd")(enc)
    assert objective.generator.embeddings.word.weight is enc.embeddings.word.weight
    assert objective.generator_head.decoder.weight is enc.embeddings.word.weight
    assert objective.generator.embeddings.position is enc.embeddings.position
    torch.testing.assert_close(enc.embeddings.word.weight, before)  # building it did not re-draw them
    gen = objective.generator.config
    assert (gen.hidden_size, gen.num_heads, gen.ffn_size, gen.num_layers) == (8, 1, 16, 3)
    assert gen.embedding_size == enc.config.embedding_size
    assert generator_config(enc.config, 0.5).hidden_size == 16
    with pytest.raises(ConfigError):
        generator_config(enc.config, 0.0)


def test_rtd_loss_weighting_and_labels(monkeypatch):
    enc = encoder("electra")
    objective = OBJECTIVES.get("rtd")(enc, rtd_weight=2.0)
    batch = electra_batch()
    monkeypatch.setattr(rtd_module, "gumbel_sample", lambda logits, temperature: torch.tensor([11, 50, 60]))
    out = objective(batch)
    torch.testing.assert_close(out["loss"], out["generator_loss"] + 2.0 * out["discriminator_loss"])
    assert out["replaced_fraction"].item() == pytest.approx(2 / 10)  # 2 of 10 real tokens changed
    default = OBJECTIVES.get("rtd")(encoder("electra"))
    assert default.rtd_weight == 50.0
    # the discriminator's loss is BCE against exactly those labels on the real tokens
    captured = {}
    original_forward = objective.discriminator_head.forward

    def spy(output, labels):
        captured["labels"] = labels
        return original_forward(output, labels)

    monkeypatch.setattr(objective.discriminator_head, "forward", spy)
    objective(batch)
    assert captured["labels"].tolist() == [[0, 0, 0, 1, 0, 0], [0, 0, 1, 0, IGNORE, IGNORE]]


def test_rtd_gradients_reach_the_right_parameters():
    enc = encoder("electra")
    objective = OBJECTIVES.get("rtd")(enc)
    out = objective(electra_batch())
    out["discriminator_loss"].backward(retain_graph=True)
    generator_layers = [p for n, p in objective.generator.named_parameters() if "embeddings" not in n]
    assert all(p.grad is None for p in generator_layers)  # nothing flows back through the sampling
    assert all(p.grad is not None for p in enc.layers.parameters())
    assert enc.embeddings.word.weight.grad is not None
    for p in objective.parameters():
        p.grad = None
    enc.zero_grad(set_to_none=True)
    out["generator_loss"].backward()
    assert all(p.grad is None for p in enc.layers.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in generator_layers)
    assert enc.embeddings.word.weight.grad.abs().sum() > 0  # the shared table learns from the generator too


def test_pretraining_model_combines_weighted_objectives(tmp_path):
    enc = encoder("albert")
    model = PretrainingModel(enc, {"mlm": 1.0, "sop": 0.5})
    calls = []
    enc.register_forward_hook(lambda *_: calls.append(1))
    ids, mask = ids_and_mask()
    labels = torch.full_like(ids, IGNORE)
    labels[0, 2] = 12
    out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids), labels=labels,
                sop_label=torch.tensor([0, 1]), mlm_positions=labels != IGNORE)
    assert len(calls) == 1  # one encoder pass shared by both objectives
    assert set(out) == {"loss", "mlm_loss", "mlm_accuracy", "sop_loss", "sop_accuracy"}
    torch.testing.assert_close(out["loss"], out["mlm_loss"] + 0.5 * out["sop_loss"])
    out["loss"].backward()
    assert enc.embeddings.word.weight.grad is not None
    assert model.objectives["sop"].head.classifier.weight.grad is not None
    saved = model.save_pretrained(tmp_path / "enc")
    again = Encoder.from_pretrained(saved).eval()
    torch.testing.assert_close(again(ids, mask).last_hidden_state, enc.eval()(ids, mask).last_hidden_state)


def test_pretraining_model_keeps_pretrained_embeddings_and_checks_inputs():
    enc = encoder("bert")
    before = enc.embeddings.word.weight.detach().clone()
    model = PretrainingModel(enc, {"mlm": 1, "nsp": 1})
    torch.testing.assert_close(enc.embeddings.word.weight, before)
    ids, mask = ids_and_mask()
    with pytest.raises(ConfigError, match="nsp_label"):
        model(input_ids=ids, attention_mask=mask, labels=torch.full_like(ids, IGNORE))
    with pytest.raises(ConfigError):
        PretrainingModel(enc, {})
    with pytest.raises(ConfigError):
        PretrainingModel(enc, {"mlm": -1})
    with pytest.raises(ConfigError, match="options"):
        PretrainingModel(enc, {"mlm": 1}, {"rtd": {"rtd_weight": 1}})


def test_electra_model_trains_with_rtd_and_output_is_unused():
    enc = encoder("electra")
    model = PretrainingModel(enc, {"rtd": 1.0}, {"rtd": {"generator_fraction": 0.5, "rtd_weight": 50}})
    assert model.objectives["rtd"].generator.config.hidden_size == 16
    out = model(**electra_batch())
    assert {"rtd_loss", "rtd_generator_loss", "rtd_discriminator_loss", "rtd_accuracy"} <= set(out)
    torch.testing.assert_close(out["loss"], out["rtd_loss"])
    assert isinstance(enc(electra_batch()["input_ids"]), EncoderOutput)
