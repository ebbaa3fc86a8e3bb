"""Training: it learns, resumes exactly after an interruption, stops early, and runs 1-N."""

from __future__ import annotations

import pytest
import torch

from kgnlu.errors import ConfigError
from kgnlu.kge import LossConfig, ModelConfig, SamplingConfig, TrainConfig, evaluate, train
from kgnlu.kge.losses import slcwa_loss
from tests.kge.conftest import ring_data


def _config(**changes) -> TrainConfig:
    base = dict(model=ModelConfig("rotate", dim=8), loss=LossConfig("nssa", margin=4.0),
                sampling=SamplingConfig(num_negatives=8, weighting="self_adversarial"),
                epochs=60, batch_size=8, lr=0.05, seed=3, threads=1)
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
    result = train(data, cfg, progress=False)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert evaluate(result.model, data, "train").mrr > 0.5


def test_one_n_training_learns():
    data = ring_data()
    cfg = _config(model=ModelConfig("complex", dim=8), mode="1-n", loss=LossConfig("ce"), optimizer="adagrad",
                  lr=0.3, regularizer="n3", reg_weight=1e-3, epochs=40)
    result = train(data, cfg, progress=False)
    assert evaluate(result.model, data, "train").mrr > 0.8


def test_one_n_needs_a_bilinear_model():
    with pytest.raises(ConfigError):
        train(ring_data(), _config(mode="1-n", loss=LossConfig("ce")), progress=False)


def test_resume_after_interruption_is_exact(tmp_path):
    data = ring_data()
    cfg = _config(epochs=6, eval_every=2, checkpoint_every=1)
    straight = train(data, cfg, checkpoint_dir=tmp_path / "a", progress=False)

    class Interrupted(Exception):
        pass

    def stop_at_3(epoch, record):
        if epoch == 3:
            raise Interrupted

    with pytest.raises(Interrupted):
        train(data, cfg, checkpoint_dir=tmp_path / "b", on_epoch_end=stop_at_3, progress=False)
    resumed = train(data, cfg, checkpoint_dir=tmp_path / "b", resume=True, progress=False)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [h["loss"] for h in straight.history] == [h["loss"] for h in resumed.history]
    assert resumed.best_epoch == straight.best_epoch


def test_resume_without_checkpoint_fails(tmp_path):
    with pytest.raises(ConfigError):
        train(ring_data(), _config(epochs=1), checkpoint_dir=tmp_path, resume=True, progress=False)


def test_early_stopping_on_validation_mrr():
    data = ring_data()
    cfg = _config(epochs=200, eval_every=1, patience=2, lr=0.0)  # lr 0: MRR never improves
    result = train(data, cfg, progress=False)
    assert len(result.history) == 3  # the first validation, then two without improvement
    assert result.best_epoch == 1


def test_text_initialised_entities_embed_unseen_entities():
    from kgnlu.kge.text_init import TextEntityRepresentation

    data = ring_data()
    torch.manual_seed(0)
    features = torch.randn(data.num_entities, 16)
    rep = TextEntityRepresentation(features, 8)  # transe width = dim
    result = train(data, _config(model=ModelConfig("transe", dim=8, p=2), loss=LossConfig("margin", margin=1.0),
                                 epochs=30), entities=rep, progress=False)
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
