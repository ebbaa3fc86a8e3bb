"""Fused continued pretraining end to end on the tiny graph: batches, a 2-step run folder, the control, the probe."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

from kgnlu.cli import main
from kgnlu.data.instances import IGNORE, MaskingConfig
from kgnlu.data.probe_data import ProbeDataConfig
from kgnlu.eval.probe import ProbeConfig, probe_runs
from kgnlu.fusion.corpus import LinkedCorpusConfig, build_linked_corpus, read_probe_facts
from kgnlu.fusion.data import FusionCollator, FusionDataConfig, LinkedDataset
from kgnlu.pretrain import PretrainConfig, run_pretraining
from kgnlu.pretrain.fused import build_fusion_run, entity_rows, load_pretraining_model
from tests.kg.linker_graph import build_fixture_graph

ENTITY_SIZE = 8


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("fusion-pretrain")
    graph = build_fixture_graph(root / "graph")
    build_linked_corpus(graph, root / "linked", LinkedCorpusConfig(wordnet_dir=None,
                                                                    probe=ProbeDataConfig(heldout_fraction=0.5)))
    torch.manual_seed(0)
    save_file({"entity": torch.randn(graph.num_entities, ENTITY_SIZE)}, str(root / "table.safetensors"))
    return root, graph


def config(root, graph, inject, name, slots: int = 0, copy: bool = False) -> PretrainConfig:
    raw = {
        "name": name, "out_dir": str(root / name), "objectives": {"mlm": 1.0, **({"el": 1.0} if slots else {})},
        "objective_options": {"mlm": {"copy": True}} if copy else {},
        "model": {"shape": "bert", "hidden_size": 32, "num_layers": 2, "num_heads": 4, "ffn_size": 64,
                  "max_positions": 64},
        "tokenizer": {"kind": "wordpiece", "vocab_size": 200, "min_frequency": 1},
        "data": {"batch_size": 2},
        "fusion": {"corpus": str(root / "linked"), "graph": str(graph.path), "inject": inject, "init": "scratch",
                   "entity_table": str(root / "table.safetensors") if inject else None,
                   "data": {"max_length": 32, "max_entities": 4, "shuffle_buffer": 4, "graph_slots": slots,
                            "slot_pieces": 3 if copy else 0,
                            "masking": {"rate": 0.15, "strategy": "entity"}}},
        "trainer": {"max_steps": 2, "lr": 1e-3, "log_every": 1, "tensorboard": False, "plot": False},
    }
    from kgnlu.config import from_dict

    return from_dict(PretrainConfig, raw)


def first_batch(root, graph, inject, name):
    model, loader, _ = build_fusion_run(config(root, graph, inject, name), root / name)
    return model, next(iter(loader))


def test_fused_and_control_batches_share_tokens_and_masks(setup):
    root, graph = setup
    _, fused = first_batch(root, graph, {1: "kar"}, "batch-fused")
    # one vocabulary for both (the real runs share MiniLM's; WordPiece training may order ties differently)
    shutil.copytree(root / "batch-fused" / "tokenizer", root / "batch-control" / "tokenizer")
    _, control = first_batch(root, graph, {}, "batch-control")
    assert torch.equal(fused["input_ids"], control["input_ids"])
    assert torch.equal(fused["labels"], control["labels"])
    assert not any(key.startswith("entity_") for key in control)
    assert fused["entity_mask"].any()
    # no kept entity sits on a masked token: its own embedding would give the answer away
    for b, m in fused["entity_mask"].nonzero().tolist():
        start, end = fused["entity_spans"][b, m].tolist()
        assert (fused["labels"][b, start:end] == IGNORE).all()
        assert end <= int(fused["attention_mask"][b].sum())


def test_collator_keeps_masked_entities_when_asked(setup):
    root, graph = setup
    from kgnlu.data.tokenizer import Tokenizer

    first_batch(root, graph, {}, "tok")  # trains and saves the run's tokenizer
    tokenizer = Tokenizer.load(root / "tok" / "tokenizer")
    data = FusionDataConfig(max_length=32, max_entities=4, shuffle_buffer=1, drop_masked_entities=False,
                            masking=MaskingConfig(rate=0.9, strategy="entity"))
    items = list(LinkedDataset(root / "linked", tokenizer, data))[:3]
    batch = FusionCollator(tokenizer, entity_rows(graph), data)(items)
    overlaps = [(batch["labels"][b, s:e] != IGNORE).any().item()
                for b, m in batch["entity_mask"].nonzero().tolist() for s, e in [batch["entity_spans"][b, m].tolist()]]
    assert any(overlaps)  # at a 90% rate, mentions are masked and their entities stay


def test_two_step_fused_run_writes_a_run_folder_and_probes(setup, capsys, monkeypatch):
    root, graph = setup
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    summary = run_pretraining(config(root, graph, {1: "kar"}, "fused"))
    run = root / "fused"
    assert summary["steps"] == 2
    assert "mlm_loss" in summary["metrics"] and summary["metrics"]["mlm_loss"] > 0
    assert (run / "encoder" / "kg_encoder.json").is_file()
    assert json.loads((run / "encoder" / "kg_encoder.json").read_text())["inject"] == {"1": "kar"}
    assert (run / "tokenizer" / "tokenizer.json").is_file()
    model, _, spec = load_pretraining_model(run)
    assert spec.fused and "mlm" in model.objectives
    facts = read_probe_facts(root / "linked")
    report = probe_runs([str(run)], facts, ProbeConfig(templates=1), graph=graph, ablate_entities=True)
    assert set(report["models"]) == {"fused", "fused (no entities)"}
    assert report["models"]["fused"]["entities"] is True
    held = report["models"]["fused"]["splits"]["heldout"]["all"]["micro"]
    seen = report["models"]["fused"]["splits"]["seen"]["all"]["micro"]
    assert held["n"] + seen["n"] == report["models"]["fused"]["facts"] > 0
    out = root / "probe-report"
    assert main(["eval", "probe", str(run), "--facts", str(root / "linked"), "--out", str(out), "--templates", "1",
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(printed["models"]) == {"fused"}
    assert (out / "probe.json").is_file() and (out / "probe.md").is_file()
    assert (out / "probe.png").read_bytes()[:4] == b"\x89PNG"


def test_graph_slot_run_trains_el_on_hidden_entities_and_probes_with_slots(setup, monkeypatch):
    root, graph = setup
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    cfg = config(root, graph, {1: "kar"}, "slots", slots=4)
    model, loader, _ = build_fusion_run(cfg, root / "slots")
    batches = list(loader)
    slot_rows = [(batch, b, m) for batch in batches for b, m in
                 (batch["entity_mask"] & (batch["entity_candidate_scores"] == 0).all(-1)).nonzero().tolist()]
    assert slot_rows  # masked mentions with graph context became slots
    for batch, b, m in slot_rows:
        start, end = batch["entity_spans"][b, m].tolist()
        assert (batch["labels"][b, start:end] != IGNORE).any()  # only masked mentions become slots
        assert batch["entity_slot_mask"][b, m]
    assert sum(int(batch["entity_slot_mask"].sum()) for batch in batches) == len(slot_rows)
    summary = run_pretraining(cfg)
    assert summary["steps"] == 2 and "el_loss" in summary["metrics"]
    assert 0.0 <= summary["metrics"]["el_slot_accuracy"] <= 1.0 and "el_slot_chance" in summary["metrics"]
    seen = []
    import kgnlu.fusion.slots as slots_module

    original = slots_module.add_slots

    def spy(entities, spans, neighbourhood):
        out, added = original(entities, spans, neighbourhood)
        seen.append((spans, out))
        return out, added

    monkeypatch.setattr(slots_module, "add_slots", spy)
    report = probe_runs([str(root / "slots")], read_probe_facts(root / "linked"), ProbeConfig(templates=1),
                        graph=graph)
    assert report["models"]["slots"]["facts"] > 0
    assert seen and all(len(row) == 1 for spans, _ in seen for row in spans)  # one answer slot per sentence
    assert any(out.entity_mask.sum() > 0 for _, out in seen)


def test_copy_run_carries_candidate_names_and_probes_through_the_mixture(setup, monkeypatch):
    root, graph = setup
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    cfg = config(root, graph, {1: "kar"}, "copy", slots=4, copy=True)
    model, loader, tokenizer = build_fusion_run(cfg, root / "copy")
    batch = next(b for b in loader if b["entity_slot_mask"].any())
    pieces = batch["entity_candidate_pieces"]  # (B, M, C, 3)
    named = (pieces >= 0).any(-1)  # (B, M, C)
    assert named.any() and not (named & ~batch["entity_slot_mask"][..., None]).any()  # names only in slots
    for b, m, c in named.nonzero().tolist():
        label = graph.entity_label(int(batch["entity_candidate_ids"][b, m, c]))
        ids = [i for i in pieces[b, m, c].tolist() if i >= 0]
        assert ids == tokenizer.encode(label, add_special_tokens=False)
    assert run_pretraining(cfg)["steps"] == 2
    loaded, _, _ = load_pretraining_model(root / "copy")
    assert loaded.objectives["mlm"].copy is not None
    report = probe_runs([str(root / "copy")], read_probe_facts(root / "linked"), ProbeConfig(templates=1), graph=graph)
    assert report["models"]["copy"]["facts"] > 0


def test_probe_of_a_copy_run_slots_the_answer_and_mixes_in_candidate_names(setup, monkeypatch):
    root, graph = setup
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    from kgnlu.eval.probe import ClozeScorer
    from kgnlu.kg.linker import EntityLinker
    from kgnlu.pretrain.fused import slot_helpers

    run_pretraining(config(root, graph, {1: "kar"}, "copy-probe", slots=4, copy=True))
    model, tokenizer, spec = load_pretraining_model(root / "copy-probe")
    neighbourhood, label_pieces = slot_helpers(graph, tokenizer, spec.data)
    args = (model, tokenizer, EntityLinker.from_graph(graph, mode="fast", save=False), entity_rows(graph),
            spec.data.max_length, spec.data.max_entities, spec.data.max_candidates, neighbourhood)
    with_names, without_names = ClozeScorer(*args, label_pieces), ClozeScorer(*args, None)
    text = "The city of Paris, Texas is located in [MASK]."
    tokens, entities, extra, slots = with_names.prepare([text])
    assert slots.sum() == 1  # the answer slot, after the linked mentions
    slot = int(slots[0].nonzero()[0])
    start, end = entities.spans[0, slot].tolist()
    assert (tokens.input_ids[0, start:end] == tokenizer.mask_id).all()
    assert (extra["entity_candidate_pieces"][0, slot] >= 0).any()
    assert not torch.allclose(with_names.mask_log_probs([text])[0], without_names.mask_log_probs([text])[0])


def test_control_run_through_the_cli(setup, capsys, monkeypatch, tmp_path):
    root, graph = setup
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    cfg = config(root, graph, {}, "control")
    from kgnlu.config import save_config, to_dict

    save_config(to_dict(cfg), tmp_path / "control.yaml")
    assert main(["pretrain", "--config", str(tmp_path / "control.yaml"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2
    assert (root / "control" / "encoder" / "config.json").is_file()  # a plain encoder, HF layout
    assert not (root / "control" / "encoder" / "kg_encoder.json").exists()


def test_probe_reads_a_plain_run_too(setup, monkeypatch):
    root, graph = setup
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    from kgnlu.config import from_dict

    plain = from_dict(PretrainConfig, {
        "name": "plain", "out_dir": str(root / "plain"), "objectives": {"mlm": 1.0},
        "model": {"shape": "bert", "hidden_size": 32, "num_layers": 2, "num_heads": 4, "ffn_size": 64,
                  "max_positions": 64},
        "tokenizer": {"kind": "wordpiece", "vocab_size": 200, "min_frequency": 1},
        "data": {"corpus": "text", "corpus_options": {"paths": [str(root / "linked" / "corpus.jsonl")]},
                 "batch_size": 2, "instances": {"kind": "mlm", "max_length": 32, "shuffle_buffer": 4}},
        "trainer": {"max_steps": 2, "log_every": 1, "tensorboard": False, "plot": False}})
    run_pretraining(plain)
    model, _, spec = load_pretraining_model(root / "plain")
    assert spec is None and "mlm" in model.objectives
    report = probe_runs([str(root / "plain")], read_probe_facts(root / "linked"), ProbeConfig(templates=1),
                        ablate_entities=True)
    assert set(report["models"]) == {"plain"} and report["models"]["plain"]["entities"] is False
