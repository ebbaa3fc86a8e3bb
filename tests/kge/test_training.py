"""Training: it learns, resumes exactly after an interruption, stops early, and runs 1-N."""

from __future__ import annotations

import pytest
import torch

from kgnlu.errors import ConfigError
from kgnlu.kge import LossConfig, ModelConfig, SamplingConfig, TrainConfig, evaluate, train
from kgnlu.kge.losses import slcwa_loss
from kgnlu.kge.models import build_model
from tests.kge.conftest import ring_data


def _config(**changes) -> TrainConfig:
    base = dict(model=ModelConfig("rotate", dim=8), loss=LossConfig("nssa", margin=4.0),
                sampling=SamplingConfig(num_negatives=8, weighting="self_adversarial"),
                epochs=60, batch_size=8, lr=0.05, seed=3, threads=1, plot=False)
    base.update(changes)
    return TrainConfig(**base)


def test_losses_by_hand():
    pos, neg = torch.tensor([2.0]), torch.tensor([[1.0, 3.0]])
    # margin 1: relu(1 - 2 + 1) = 0, relu(1 - 2 + 3) = 2 → mean 1
    assert float(slcwa_loss(pos, neg, LossConfig("margin", margin=1.0))) == pytest.approx(1.0)
    # self-adversarial weights (0.25, 0.75) on the same terms → 0.25·0 + 0.75·2 = 1.5
    w = torch.tensor([[0.25, 0.75]])
    assert float(slcwa_loss(pos, neg, LossConfig("margin", margin=1.0), w)) == pytest.approx(1.5)
    # softplus: (softplus(-2) + softplus(1) + softplus(3)) / 3
    sp = torch.nn.functional.softplus
    expected = (sp(torch.tensor(-2.0)) + sp(torch.tensor(1.0)) + sp(torch.tensor(3.0))) / 3
    assert float(slcwa_loss(pos, neg, LossConfig("softplus"))) == pytest.approx(float(expected))


@pytest.mark.parametrize("name,loss,shared", [("transe", "margin", True), ("rotate", "nssa", False),
                                              ("distmult", "softplus", True), ("complex", "bce", True)])
def test_models_learn_the_ring(name, loss, shared):
    data = ring_data()
    cfg = _config(model=ModelConfig(name, dim=8, p=2), loss=LossConfig(loss, margin=1.0 if loss == "margin" else 4.0),
                  sampling=SamplingConfig(num_negatives=8, shared=shared))
    result = train(data, cfg)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    torch.manual_seed(cfg.seed)
    untrained = evaluate(build_model(cfg.model, data.num_entities, data.num_relations), data, "train").mrr
    assert untrained < 0.35  # ≈ a random order of 12 entities (0.26)
    assert evaluate(result.model, data, "train").mrr > untrained + 0.2


def test_one_n_training_learns():
    data = ring_data()
    cfg = _config(model=ModelConfig("complex", dim=8), mode="1-n", loss=LossConfig("ce"), optimizer="adagrad",
                  lr=0.3, regularizer="n3", reg_weight=1e-3, epochs=40)
    result = train(data, cfg)
    assert evaluate(result.model, data, "train").mrr > 0.8


def test_one_n_needs_a_bilinear_model():
    with pytest.raises(ConfigError):
        train(ring_data(), _config(mode="1-n", loss=LossConfig("ce")))


def test_resume_continues_exactly_on_the_shared_trainer(tmp_path):
    # 3 epochs, then the same run continued to 6 from its checkpoint = 6 epochs straight
    data = ring_data()
    cfg = _config(epochs=6, eval_every=2, checkpoint_every=1)
    straight = train(data, cfg, out_dir=tmp_path / "a")
    train(data, _config(epochs=3, eval_every=2, checkpoint_every=1), out_dir=tmp_path / "b")
    resumed = train(data, cfg, out_dir=tmp_path / "b", resume=True)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [h["loss"] for h in straight.history] == [h["loss"] for h in resumed.history]
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4, 5, 6]
    assert resumed.best_epoch == straight.best_epoch and resumed.epochs == 6
    # the trainer's run folder: step checkpoints (3 steps an epoch), the best weights, the metrics
    assert sorted(p.name for p in (tmp_path / "b" / "checkpoints").iterdir()) == ["step-00000015", "step-00000018"]
    assert (tmp_path / "b" / "best" / "model.safetensors").is_file()


def test_resume_without_checkpoint_fails(tmp_path):
    with pytest.raises(ConfigError, match="resuming needs a checkpoint"):
        train(ring_data(), _config(epochs=1), out_dir=tmp_path, resume=True)


def test_a_fresh_run_replaces_an_earlier_one(tmp_path):
    data = ring_data()
    train(data, _config(epochs=4, checkpoint_every=1), out_dir=tmp_path)
    result = train(data, _config(epochs=2), out_dir=tmp_path)  # not resumed: starts at epoch 1
    assert [h["epoch"] for h in result.history] == [1, 2]
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-00000006"]


def test_early_stopping_on_validation_mrr_keeps_the_best():
    data = ring_data()
    cfg = _config(epochs=200, eval_every=1, patience=2, lr=1e-9)  # too small a step to change a rank
    result = train(data, cfg)
    assert result.stopped_early and result.epochs == 3  # the first validation, then two without improvement
    assert len(result.history) == 3 and result.best_epoch == 1
    assert result.best_valid_mrr == pytest.approx(result.history[0]["valid_mrr"])
    assert result.best_valid_mrr == pytest.approx(evaluate(result.model, data, "valid").mrr)


def test_the_best_weights_are_restored():
    # on the ring with these settings validation MRR first falls, so the best epoch is an early one
    data = ring_data()
    result = train(data, _config(epochs=10, eval_every=1))
    last = train(data, _config(epochs=10, eval_every=1, keep_best=False))
    best = max(h["valid_mrr"] for h in result.history)
    assert result.best_epoch < 10 and result.history[-1]["valid_mrr"] < best
    assert result.best_valid_mrr == pytest.approx(best)
    assert evaluate(result.model, data, "valid").mrr == pytest.approx(best)
    assert evaluate(last.model, data, "valid").mrr == pytest.approx(last.history[-1]["valid_mrr"])


def test_text_initialised_entities_embed_unseen_entities():
    from kgnlu.kge.text_init import TextEntityRepresentation

    data = ring_data()
    torch.manual_seed(0)
    features = torch.randn(data.num_entities, 16)
    rep = TextEntityRepresentation(features, 8)  # transe width = dim
    result = train(data, _config(model=ModelConfig("transe", dim=8, p=2), loss=LossConfig("margin", margin=1.0),
                                 epochs=30), entities=rep)
    assert result.model.entities is rep
    assert evaluate(result.model, data, "train").mrr > 0.3
    unseen = rep.embed_features(torch.randn(2, 16))  # [2, 8], from text features alone
    assert unseen.shape == (2, 8) and torch.isfinite(unseen).all()
    assert torch.allclose(rep.embed_features(features[:1]) + rep.residual[:1], rep(torch.tensor([0])), atol=1e-6)


def test_encode_texts_with_a_tiny_encoder():
    from kgnlu.data.tokenizer import train_wordpiece
    from kgnlu.encoders.config import EncoderConfig
    from kgnlu.encoders.encoder import Encoder
    from kgnlu.kge.text_init import encode_texts

    texts = ["a dog is an animal", "a cat is an animal", "paris is a city", ""] * 5
    tokenizer = train_wordpiece(texts, vocab_size=120, min_frequency=1)
    encoder = Encoder(EncoderConfig(vocab_size=tokenizer.vocab_size, hidden_size=16, num_layers=1, num_heads=2,
                                    ffn_size=32, max_positions=32))
    features = encode_texts(texts[:4], encoder, tokenizer, batch_size=3)
    assert features.shape == (4, 16) and torch.isfinite(features).all()
