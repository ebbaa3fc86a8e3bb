"""The KG objectives dea, ke, el: finite losses that fall over a few steps on a tiny batch,
accuracies in [0, 1], dEA's corruption rates, and mixing with mlm/sop/rtd in PretrainingModel."""

from __future__ import annotations

import pytest
import torch

from kgnlu.encoders import Encoder
from kgnlu.encoders.objectives import OBJECTIVES, PretrainingModel
from kgnlu.errors import ConfigError, FusionError
from kgnlu.fusion import KGEncoder
from kgnlu.fusion.objectives.el import gold_candidate
from tests.encoders.conftest import tiny

from .conftest import ENTITY_SIZE, NUM_ENTITIES, entity_batch, token_batch

#: the fusion objectives these tests cover (test_meta checks it equals the registered ones)
TESTED_OBJECTIVES = ["dea", "ke", "el"]


def fused(shape: str = "bert", inject=None, freeze: bool = True) -> KGEncoder:
    torch.manual_seed(0)
    return KGEncoder(Encoder(tiny(shape)), torch.randn(NUM_ENTITIES, ENTITY_SIZE), inject or {1: "ernie", 2: "kar"},
                     freeze_entities=freeze)


def mlm_batch():
    ids, mask = token_batch()
    labels = torch.full_like(ids, -100)
    labels[0, 4], labels[2, 1] = 11, 12
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "sop_label": torch.tensor([0, 1, 0]),
            **entity_batch().to_batch()}


def ke_batch(k: int = 4, n: int = 3):
    generator = torch.Generator().manual_seed(1)
    text = lambda *shape: torch.randint(1, 97, shape, generator=generator)  # noqa: E731
    return {"ke_head_ids": text(k, 5), "ke_head_mask": torch.ones(k, 5, dtype=torch.long),
            "ke_relation": torch.tensor([0, 1, 0, 1])[:k],
            "ke_tail_ids": text(k, 6), "ke_tail_mask": torch.ones(k, 6, dtype=torch.long),
            "ke_negative_ids": text(k, n, 4), "ke_negative_mask": torch.ones(k, n, 4, dtype=torch.long),
            "ke_negative_head": torch.tensor([0, 1, 0, 1])[:k]}


def train(model: PretrainingModel, batch: dict, steps: int = 25, lr: float = 3e-3) -> list[dict]:
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    history = []
    for _ in range(steps):
        out = model(**batch)
        optimizer.zero_grad()
        out["loss"].backward()
        optimizer.step()
        history.append({k: float(v.detach()) for k, v in out.items()})
    return history


def check_learning(history: list[dict], name: str) -> None:
    losses = [h[f"{name}_loss"] for h in history]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5, losses
    assert all(0.0 <= h[f"{name}_accuracy"] <= 1.0 for h in history)


@pytest.mark.parametrize("candidates", ["batch", "table"])
def test_dea_learns(candidates):
    torch.manual_seed(0)
    model = PretrainingModel(fused(), {"dea": 1.0}, {"dea": {"candidates": candidates, "num_negatives": 8}})
    history = train(model, mlm_batch())
    check_learning(history, "dea")
    assert history[-1]["dea_accuracy"] == 1.0


def test_dea_corrupts_five_percent_and_masks_fifteen():
    torch.manual_seed(0)
    objective = OBJECTIVES.get("dea")(fused())
    ids = torch.randint(1, NUM_ENTITIES, (200, 50))
    linked = torch.rand(200, 50) < 0.8
    batch = objective.prepare_batch({"entity_ids": ids.masked_fill(~linked, 0), "entity_mask": linked})
    assert torch.equal(batch["entity_original_ids"], ids.masked_fill(~linked, 0))
    masked = linked & ~batch["entity_mask"]
    changed = batch["entity_mask"] & (batch["entity_ids"] != batch["entity_original_ids"])
    total = linked.sum().item()
    assert abs(masked.sum().item() / total - 0.15) < 0.02
    # 5% are replaced, each by another entity (never the original: tests/fusion/test_dea_replacement.py)
    assert abs(changed.sum().item() / total - 0.05) < 0.01
    assert (batch["entity_ids"][masked] == 0).all() and not batch["entity_mask"][~linked].any()


def test_el_learns_and_needs_kar():
    torch.manual_seed(0)
    model = PretrainingModel(fused(inject={2: "kar"}), {"el": 1.0})
    history = train(model, mlm_batch())
    check_learning(history, "el")
    assert 0.0 <= history[0]["el_prior_accuracy"] <= 1.0
    with pytest.raises(FusionError, match="kar"):
        PretrainingModel(fused(inject={1: "ernie"}), {"el": 1.0})
    with pytest.raises(FusionError, match="KGEncoder"):
        PretrainingModel(Encoder(tiny("bert")), {"el": 1.0})


def test_el_gold_is_the_linked_entity_among_the_candidates():
    candidates = torch.tensor([[[4, 7, 9], [2, 3, 0]]])
    mask = torch.tensor([[[True, True, True], [True, True, False]]])
    gold = torch.tensor([[9, 5]])  # second mention: gold not among its candidates
    labels = gold_candidate(candidates, mask, gold, torch.tensor([[True, True]]))
    assert labels.tolist() == [[2, -100]]
    assert gold_candidate(candidates, mask, gold, torch.tensor([[False, True]])).tolist() == [[-100, -100]]


@pytest.mark.parametrize("shape", ["bert", "gpt2"])
def test_ke_learns_on_plain_and_causal_encoders(shape):
    torch.manual_seed(0)
    model = PretrainingModel(Encoder(tiny(shape)), {"ke": 1.0}, {"ke": {"num_relations": 2}})
    ids, mask = token_batch()
    history = train(model, {"input_ids": ids, "attention_mask": mask, **ke_batch()}, steps=40)  # ids unused by ke
    check_learning(history, "ke")
    assert history[-1]["ke_accuracy"] == 1.0
    with pytest.raises(ConfigError, match="num_relations"):
        PretrainingModel(Encoder(tiny(shape)), {"ke": 1.0})


def test_fusion_objectives_mix_with_mlm_and_sop_by_weight():
    torch.manual_seed(0)
    kg = fused(freeze=False)
    model = PretrainingModel(kg, {"mlm": 1.0, "sop": 0.5, "dea": 2.0, "el": 1.0, "ke": 0.25},
                             {"ke": {"num_relations": 2}})
    out = model(**mlm_batch(), **ke_batch())
    expected = (out["mlm_loss"] + 0.5 * out["sop_loss"] + 2.0 * out["dea_loss"] + out["el_loss"]
                + 0.25 * out["ke_loss"])
    torch.testing.assert_close(out["loss"], expected)
    out["loss"].backward()
    assert kg.entity_embeddings.weight.grad is not None  # trained table: dEA and the injections reach it


def test_fusion_objectives_mix_with_rtd():
    """ELECTRA: rtd runs the discriminator itself (without entities), dea reads the fused pass."""
    torch.manual_seed(0)
    kg = fused("electra", inject={1: "ernie"})
    model = PretrainingModel(kg, {"rtd": 1.0, "dea": 1.0})
    out = model(**mlm_batch())
    assert torch.isfinite(out["loss"]) and {"rtd_loss", "dea_loss"} <= set(out)
    out["loss"].backward()
