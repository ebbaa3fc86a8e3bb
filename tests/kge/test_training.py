"""Training: it learns, resumes exactly after an interruption, stops early, and runs 1-N."""

from __future__ import annotations

import math

import pytest
import torch

from kgnlu.errors import ConfigError
from kgnlu.kge import LossConfig, ModelConfig, SamplingConfig, TrainConfig, evaluate, train
from kgnlu.kge.evaluation import rank_triples
from kgnlu.kge.losses import slcwa_loss
from kgnlu.kge.models import build_model
from kgnlu.kge.objective import KGEObjective
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


def test_one_n_transe_loss_by_hand():
    # 1-N scores a distance model with its own compare_all (cdist while training). Entities
    # e0 = (1, 2), e1 = (2, 0), e2 = (0, 0); r = (0.5, -1); L1; triple (e2, r, e1).
    # tails: q = h + r = (0.5, -1), distances to e0, e1, e2 = 3.5, 2.5, 1.5; the target is e1:
    #   CE = 2.5 + log(e^-3.5 + e^-2.5 + e^-1.5) = log(1 + e + 1/e)
    # heads: q = t - r = (1.5, 1), distances 1.5, 1.5, 2.5; the target is e2:
    #   CE = 2.5 + log(2 e^-1.5 + e^-2.5) = log(1 + 2e)
    model = build_model(ModelConfig("transe", dim=2, p=1, normalize_entities=False), 3, 1)
    with torch.no_grad():
        model.entities.weight.copy_(torch.tensor([[1.0, 2.0], [2.0, 0.0], [0.0, 0.0]]))
        model.relations.weight.copy_(torch.tensor([[0.5, -1.0]]))
    objective = KGEObjective(model, _config(model=model.config, mode="1-n", loss=LossConfig("ce")))
    loss = objective(torch.tensor([[2, 0, 1]]))["loss"]
    assert float(loss.detach()) == pytest.approx(0.5 * (math.log(1 + math.e + 1 / math.e) + math.log(1 + 2 * math.e)))
    loss.backward()
    assert torch.isfinite(model.entities.weight.grad).all()


def test_inverse_relations_ask_heads_as_tail_queries():
    # relation rows: r = (0.5, -1), r⁻¹ = (1, 1). Head query for (?, r, t = e1 = (2, 0)) is
    # t + r⁻¹ = (3, 1): L1 distances to e0 = (1, 2), e1, e2 = (0, 0) are 3, 2, 4 (not 1.5, 1.5, 2.5
    # as t - r would give); tails still use r: h + r = (0.5, -1) from e2.
    model = build_model(ModelConfig("transe", dim=2, p=1, normalize_entities=False, inverse_relations=True), 3, 1)
    assert model.relations.num == 2
    with torch.no_grad():
        model.entities.weight.copy_(torch.tensor([[1.0, 2.0], [2.0, 0.0], [0.0, 0.0]]))
        model.relations.weight.copy_(torch.tensor([[0.5, -1.0], [1.0, 1.0]]))
        heads = model.score_h(torch.tensor([0]), torch.tensor([1]))[0]
        tails = model.score_t(torch.tensor([2]), torch.tensor([0]))[0]
    assert heads.tolist() == pytest.approx([-3.0, -2.0, -4.0])
    assert tails.tolist() == pytest.approx([-3.5, -2.5, -1.5])
    data = ring_data()
    ranks = rank_triples(model, torch.tensor([[2, 0, 1]]), None, filtered=False)
    assert float(ranks["head"][0]) == 3.0  # e2 scores -4, below e0 (-3) and e1 (-2)
    assert float(ranks["tail"][0]) == 2.0
    with pytest.raises(ConfigError, match="inverse_relations needs mode 1-n"):
        train(data, _config(model=ModelConfig("transe", dim=4, inverse_relations=True)))


@pytest.mark.parametrize("p", [1, 2])
def test_one_n_distance_scores_equal_per_triple_scores(p):
    # the training path (gradients on: exact cdist) against score_hrt, entry by entry
    torch.manual_seed(0)
    model = build_model(ModelConfig("transe", dim=5, p=p), 7, 2)
    h, r, t = torch.tensor([0, 3, 6]), torch.tensor([0, 1, 1]), torch.tensor([2, 2, 5])
    e = model.entities.all()
    tails = model.compare_all(model.query_t(e[h], model.relations(r)), e)  # [3, 7]
    heads = model.compare_all(model.query_h(model.relations(r), e[t]), e)  # [3, 7]
    assert tails.requires_grad
    with torch.no_grad():
        for i in range(3):
            for j in range(7):
                assert float(tails[i, j]) == pytest.approx(float(model.score_hrt(h[i:i + 1], r[i:i + 1],
                                                                                 torch.tensor([j]))[0]), abs=1e-5)
                assert float(heads[i, j]) == pytest.approx(float(model.score_hrt(torch.tensor([j]), r[i:i + 1],
                                                                                 t[i:i + 1])[0]), abs=1e-5)


@pytest.mark.parametrize("inverse", [False, True])
def test_one_n_transe_learns_the_ring(inverse):
    data = ring_data()
    cfg = _config(model=ModelConfig("transe", dim=8, p=1, normalize_entities=False, inverse_relations=inverse),
                  mode="1-n",
                  loss=LossConfig("ce"), optimizer="adam", lr=0.05, epochs=40)
    result = train(data, cfg)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert evaluate(result.model, data, "train").mrr > 0.8  # untrained ≈ 0.26 (a random order of 12)


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
