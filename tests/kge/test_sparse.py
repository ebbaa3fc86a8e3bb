"""Sparse (lazy) row updates: same first step as dense, constraints kept, learns, resumes exactly."""

from __future__ import annotations

import pytest
import torch

from kgnlu.errors import ConfigError
from kgnlu.kge import KGEData, LossConfig, ModelConfig, SamplingConfig, TrainConfig, evaluate, train
from kgnlu.kge.models import build_model
from kgnlu.kge.sparse import AUTO_MIN_ENTITIES, resolve_sparse
from tests.kge.conftest import ring_data


def _config(**changes) -> TrainConfig:
    base = dict(model=ModelConfig("transe", dim=8, p=2), loss=LossConfig("margin", margin=1.0),
                sampling=SamplingConfig(num_negatives=4), epochs=60, batch_size=8, lr=0.05, seed=3, threads=1, plot=False)
    base.update(changes)
    return TrainConfig(**base)


def _changed_rows(before: torch.Tensor, after: torch.Tensor) -> set[int]:
    # beyond rounding: renormalising a unit row can move its last bit
    return set(torch.nonzero(((before - after).abs() > 1e-6).any(dim=1)).flatten().tolist())


def _cfg(name: str, loss: str, **changes) -> TrainConfig:
    return _config(model=ModelConfig(name, dim=8, p=2), loss=LossConfig(loss, margin=1.0 if loss == "margin" else 4.0),
                   **changes)


@pytest.mark.parametrize("name,loss", [("transe", "margin"), ("rotate", "nssa"), ("distmult", "softplus")])
def test_first_step_matches_dense(name, loss):
    # Adam's first step moves only rows with a gradient (its moments are zero elsewhere), so sparse
    # and dense agree on which rows change and by how much. One step: 8 positives, 200 entities.
    ring = ring_data(num_entities=200)
    data = KGEData(ring.train[:8], ring.valid, ring.test, ring.num_entities, ring.num_relations)
    torch.manual_seed(3)  # the seed train() uses: the same initial tables
    start = build_model(ModelConfig(name, dim=8, p=2), data.num_entities, data.num_relations)
    start.post_step()
    dense = train(data, _cfg(name, loss, epochs=1, sparse=False)).model
    lazy = train(data, _cfg(name, loss, epochs=1, sparse=True)).model
    w0 = start.entities.weight.detach()
    changed = _changed_rows(w0, dense.entities.weight.detach())
    assert 0 < len(changed) < 40
    assert changed == _changed_rows(w0, lazy.entities.weight.detach())
    assert torch.allclose(dense.entities.weight, lazy.entities.weight, atol=1e-6)
    assert torch.allclose(dense.relations.weight, lazy.relations.weight, atol=1e-6)


def test_catch_up_adam_follows_dense_adam():
    # rows touched at random, most idle most steps: the caught-up rows land where dense Adam's
    # momentum would have carried them (plain lazy Adam would be ~10× short on idle rows)
    from kgnlu.training.catchup_adam import CatchUpAdam

    torch.manual_seed(0)
    start = torch.randn(50, 4)
    dense, lazy = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    dense_opt, lazy_opt = torch.optim.Adam([dense], lr=0.01), CatchUpAdam([lazy], lr=0.01)
    for _ in range(300):
        rows = torch.randint(50, (6,))
        grad = torch.zeros(50, 4).index_add_(0, rows, torch.randn(6, 4))
        dense.grad, lazy.grad = grad.clone(), grad.to_sparse(1)
        dense_opt.step()
        lazy_opt.step()
    lazy_opt.catch_up()
    assert (dense - start).abs().max() > 0.1
    torch.testing.assert_close(lazy.detach(), dense.detach(), atol=1e-5, rtol=0)


def test_sparse_training_follows_dense_over_epochs():
    # ComplEx has no constraints, so catch-up Adam (rows brought up to date before each lookup)
    # should retrace dense Adam: 57 steps at lr 0.05, batch 4, most rows idle each step. (With
    # constraints the two differ slightly: dense renormalises idle rows after every momentum step.)
    data = ring_data(num_entities=40)
    dense = train(data, _cfg("complex", "softplus", epochs=3, batch_size=4, sparse=False)).model
    lazy = train(data, _cfg("complex", "softplus", epochs=3, batch_size=4, sparse=True)).model
    for key, value in dense.state_dict().items():
        torch.testing.assert_close(lazy.state_dict()[key], value, atol=2e-3, rtol=0, msg=key)


@pytest.mark.parametrize("name,loss", [("transe", "margin"), ("rotate", "nssa")])
def test_sparse_keeps_the_constraints(name, loss):
    data = ring_data(num_entities=40)
    model = train(data, _cfg(name, loss, epochs=2, batch_size=4, sparse=True)).model
    if name == "transe":  # unit-norm entities, though only touched rows are renormalised
        assert torch.allclose(model.entities.weight.norm(dim=1), torch.ones(data.num_entities), atol=1e-5)
    else:  # unit-modulus relations
        re, im = model.relations.weight.detach().chunk(2, dim=-1)
        assert torch.allclose(re * re + im * im, torch.ones_like(re), atol=1e-5)


def test_sparse_adagrad_is_the_dense_trajectory():
    # a dense Adagrad step with a zero gradient changes nothing, so sparse Adagrad is the same run
    data = ring_data()
    cfg = _config(optimizer="adagrad", lr=0.1, epochs=5)
    dense = train(data, _config(**{**cfg.__dict__, "sparse": False})).model
    lazy = train(data, _config(**{**cfg.__dict__, "sparse": True})).model
    for key, value in dense.state_dict().items():
        assert torch.allclose(value, lazy.state_dict()[key], atol=1e-5), key


@pytest.mark.parametrize("name,loss", [("transe", "margin"), ("rotate", "nssa"), ("complex", "softplus")])
def test_sparse_training_learns_the_ring(name, loss):
    data = ring_data()
    cfg = _config(model=ModelConfig(name, dim=8, p=2), loss=LossConfig(loss, margin=1.0 if loss == "margin" else 4.0),
                  sampling=SamplingConfig(num_negatives=8), sparse=True)
    result = train(data, cfg)
    assert result.model.entities.sparse
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    torch.manual_seed(cfg.seed)
    untrained = evaluate(build_model(cfg.model, data.num_entities, data.num_relations), data, "train").mrr
    assert untrained < 0.35  # ≈ a random order of 12 entities (0.26)
    assert evaluate(result.model, data, "train").mrr > untrained + 0.2


def test_sparse_resume_is_exact(tmp_path):
    # catch-up Adam's per-row step counters travel in the trainer's checkpoint
    data = ring_data()

    def cfg(epochs):
        return _config(model=ModelConfig("rotate", dim=8), loss=LossConfig("nssa", margin=4.0), epochs=epochs,
                       eval_every=2, checkpoint_every=1, sparse=True)

    straight = train(data, cfg(6), out_dir=tmp_path / "a")
    train(data, cfg(3), out_dir=tmp_path / "b")
    resumed = train(data, cfg(6), out_dir=tmp_path / "b", resume=True)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert [h["loss"] for h in straight.history] == [h["loss"] for h in resumed.history]


def test_auto_and_refusals():
    small = build_model(ModelConfig("transe", dim=4), 10, 2)
    big = build_model(ModelConfig("transe", dim=4), AUTO_MIN_ENTITIES, 2)
    assert resolve_sparse(None, "slcwa", small, 1) is False  # tiny tables: dense is as fast
    assert resolve_sparse(None, "slcwa", big, 1) is True
    assert resolve_sparse(None, "1-n", big, 1) is False
    assert resolve_sparse(None, "slcwa", big, 2) is False
    assert resolve_sparse(False, "slcwa", big, 1) is False
    with pytest.raises(ConfigError):
        resolve_sparse(True, "1-n", small, 1)
    from kgnlu.commands.kge import build_train_config

    assert build_train_config(None, ["sparse=true"], {}).sparse is True  # the CLI's key=value override
    with pytest.raises(ConfigError):
        train(ring_data(), _config(model=ModelConfig("complex", dim=4), mode="1-n", loss=LossConfig("ce"),
                                   sparse=True))
