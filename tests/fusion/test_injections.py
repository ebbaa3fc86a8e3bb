"""Every injection kind on every encoder shape: shapes, gradients, no effect without entities,
causality on GPT-2, save/load; and KGEncoder with a table written by kgnlu's KGE storage."""

from __future__ import annotations

import pytest
import torch

from kgnlu.encoders import Encoder
from kgnlu.errors import CheckpointError, FusionError, UnknownNameError
from kgnlu.fusion import EntityInputs, KGEncoder
from kgnlu.kge.models import ModelConfig, build_model
from kgnlu.kge.storage import load_embeddings, save_embeddings

from .conftest import (
    ENTITY_SIZE,
    NUM_ENTITIES,
    SHAPES,
    build,
    entity_batch,
    tiny_config,
    token_batch,
)

#: the injection kinds these tests cover (test_meta checks it equals the registry)
KINDS = ["ernie", "kar", "entity_tokens"]
TIGHT = dict(atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", KINDS)
def test_shapes_outputs_and_gradient_into_unfrozen_table(shape, kind):
    encoder, kg = build(shape, kind, freeze=False)
    ids, mask = token_batch()
    out = kg(ids, mask, entities=entity_batch(), output_hidden_states=True, output_attentions=True)
    layers, hidden = encoder.config.num_layers, encoder.config.hidden_size
    assert out.last_hidden_state.shape == (3, 10, hidden)
    assert len(out.hidden_states) == layers + 1 and all(h.shape == (3, 10, hidden) for h in out.hidden_states)
    assert len(out.attentions) == layers and out.attentions[0].shape == (3, encoder.config.num_heads, 10, 10)
    assert (out.pooler_output is not None) == encoder.config.pooler
    width = hidden if kind == "entity_tokens" else ENTITY_SIZE
    assert out.entity_states.shape == (3, 2, width)
    assert (out.candidate_logits is not None) == (kind == "kar")
    if kind == "kar":
        assert out.candidate_logits.shape == (3, 2, 3)
    assert torch.isfinite(out.last_hidden_state).all()
    with torch.no_grad():  # the entities change the rows that have them
        plain = encoder(ids, mask).last_hidden_state
    assert not torch.allclose(out.last_hidden_state[0], plain[0], atol=1e-4)

    loss = out.last_hidden_state[mask.bool()].pow(2).mean() + out.entity_states.pow(2).mean()
    loss.backward()
    grad = kg.entity_embeddings.weight.grad
    linked = {3, 5, 7} | ({4, 9, 6, 8, 2} if kind == "kar" else set())  # kar also reads the candidates
    assert all(grad[row].abs().sum() > 0 for row in linked)
    assert grad[[r for r in range(NUM_ENTITIES) if r not in linked | {0}]].abs().sum() == 0
    assert all(p.grad is not None for p in kg.injections.parameters())


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", KINDS)
def test_no_entity_no_effect_and_frozen_table(shape, kind):
    """eval mode: no entities, all slots unlinked, and a row without entities all equal the plain
    encoder; then in training a frozen table receives no gradient."""
    encoder, kg = build(shape, kind, freeze=True)
    kg.eval()
    ids, mask = token_batch()
    entities = entity_batch()
    with torch.no_grad():
        plain = encoder(ids, mask).last_hidden_state
        absent = kg(ids, mask).last_hidden_state
        unlinked = kg(ids, mask, entities=entities.replace(entity_mask=torch.zeros(3, 2, dtype=torch.bool))
                      ).last_hidden_state
        mixed = kg(ids, mask, entities=entities).last_hidden_state
    real = mask.bool()
    torch.testing.assert_close(absent, plain, **TIGHT)
    torch.testing.assert_close(unlinked, plain, **TIGHT)
    torch.testing.assert_close(mixed[1][real[1]], plain[1][real[1]], **TIGHT)  # row 1 links nothing

    kg.train()
    out = kg(ids, mask, entities=entities)
    (out.last_hidden_state.pow(2).mean() + out.entity_states.pow(2).mean()).backward()
    assert kg.entity_embeddings.weight.grad is None and not kg.entity_embeddings.weight.requires_grad
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in kg.injections.parameters())


@pytest.mark.parametrize("kind", KINDS)
def test_gpt2_keeps_causality(kind):
    """On a causal encoder no word reads later words or entities whose mention ends later."""
    _, kg = build("gpt2", kind)
    kg.eval()
    ids, mask = token_batch()
    entities = entity_batch()
    with torch.no_grad():
        base = kg(ids, mask, entities=entities).last_hidden_state
        later_ids = ids.clone()
        later_ids[:, 5:] = (later_ids[:, 5:] + 1) % 97
        later_token = kg(later_ids, mask, entities=entities).last_hidden_state
        # row 0's second mention is [5, 6): change its entity and candidates
        swapped = entities.replace(entity_ids=entities.entity_ids.clone(), candidate_ids=entities.candidate_ids.clone())
        swapped.entity_ids[0, 1], swapped.candidate_ids[0, 1, 0] = 11, 11
        later_entity = kg(ids, mask, entities=swapped).last_hidden_state
    torch.testing.assert_close(later_token[:, :5], base[:, :5], **TIGHT)
    torch.testing.assert_close(later_entity[0, :5], base[0, :5], **TIGHT)
    assert not torch.allclose(later_entity[0, 5:], base[0, 5:], atol=1e-5)  # but it does reach position 5


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("kind", KINDS)
def test_save_load_round_trip(tmp_path, shape, kind):
    _, kg = build(shape, kind, freeze=False)
    kg.eval()
    ids, mask = token_batch()
    kg.save_pretrained(tmp_path / "kg")
    loaded = KGEncoder.from_pretrained(tmp_path / "kg").eval()
    assert loaded.inject == kg.inject and not loaded.freeze_entities
    with torch.no_grad():
        a = kg(ids, mask, entities=entity_batch())
        b = loaded(ids, mask, entities=entity_batch())
    torch.testing.assert_close(b.last_hidden_state, a.last_hidden_state, atol=1e-6, rtol=0)
    torch.testing.assert_close(b.entity_states, a.entity_states, atol=1e-6, rtol=0)
    assert torch.equal(loaded.entity_embeddings.weight, kg.entity_embeddings.weight)


def kge_table(tmp_path, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(ModelConfig(name="transe", dim=ENTITY_SIZE), NUM_ENTITIES, 3)
    save_embeddings(model, tmp_path / "graph", "transe", {"note": "test"})
    return tmp_path / "graph" / "embeddings" / "transe"


def test_kge_table_is_referenced_verified_and_hf_encoder_saved(tmp_path):
    folder = kge_table(tmp_path)
    torch.manual_seed(0)
    kg = KGEncoder(Encoder(tiny_config("bert")), folder, {2: "kar"}).eval()
    stored = load_embeddings(tmp_path / "graph", "transe")
    assert torch.equal(kg.entity_embeddings.weight, stored.entity)
    kg.save_pretrained(tmp_path / "kg")
    assert not (tmp_path / "kg" / "entity_table.safetensors").exists()  # frozen + from a file: a reference
    assert (tmp_path / "kg" / "encoder" / "config.json").is_file()  # BERT: Hugging Face's layout
    ids, mask = token_batch()
    loaded = KGEncoder.from_pretrained(tmp_path / "kg").eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids, mask, entities=entity_batch()).last_hidden_state,
                                   kg(ids, mask, entities=entity_batch()).last_hidden_state, atol=1e-6, rtol=0)
    # the referenced table changes: refused, with the way out in the message
    kge_table(tmp_path / "other", seed=1)
    (folder / "embeddings.safetensors").write_bytes(
        (tmp_path / "other" / "graph" / "embeddings" / "transe" / "embeddings.safetensors").read_bytes())
    with pytest.raises(CheckpointError, match="sha256"):
        KGEncoder.from_pretrained(tmp_path / "kg")


def test_bad_configurations_are_refused():
    encoder = Encoder(tiny_config("bert"))
    table = torch.randn(NUM_ENTITIES, ENTITY_SIZE)
    with pytest.raises(FusionError, match="outside 0..3"):
        KGEncoder(encoder, table, {4: "ernie"})
    with pytest.raises(UnknownNameError, match="ernie"):
        KGEncoder(encoder, table, {1: "erine"})
    with pytest.raises(FusionError, match="once"):
        KGEncoder(encoder, table, {0: "entity_tokens", 2: "entity_tokens"})
    kg = KGEncoder(encoder, table, {1: "ernie"})
    ids, mask = token_batch()
    bad_span = entity_batch()
    bad_span.spans[0, 0] = torch.tensor([8, 12])
    with pytest.raises(FusionError, match="outside"):
        kg(ids, mask, entities=bad_span)
    bad_row = entity_batch()
    bad_row.entity_ids[0, 0] = NUM_ENTITIES
    with pytest.raises(FusionError, match="rows"):
        kg(ids, mask, entities=bad_row)


def test_entity_inputs_batch_round_trip():
    entities = entity_batch()
    batch = entities.to_batch()
    assert set(batch) == {"entity_ids", "entity_mask", "entity_spans", "entity_weights", "entity_candidate_ids",
                          "entity_candidate_scores", "entity_candidate_mask"}
    back = EntityInputs.from_batch(batch)
    assert all(torch.equal(getattr(back, f), getattr(entities, f)) for f in vars(entities))
    with pytest.raises(FusionError, match="entity_spans"):
        EntityInputs.from_batch({"entity_ids": entities.entity_ids, "entity_mask": entities.entity_mask})
