"""`kgnlu pretrain` end to end on every shipped config, shrunk to a few tiny steps."""

import json
from pathlib import Path

import pytest

from kgnlu.cli import main
from kgnlu.encoders import Encoder
from kgnlu.pretrain.config import PretrainConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
TINY = ["model.hidden_size=32", "model.num_heads=2", "model.ffn_size=64", "model.num_layers=2",
        "model.max_positions=32", "tokenizer.vocab_size=300", "tokenizer.train_documents=3", "data.max_documents=4",
        "data.batch_size=4", "data.instances.max_length=32", "data.instances.shuffle_buffer=8",
        "trainer.tensorboard=false", "trainer.plot=false", "trainer.log_every=1"]
EXPECTED = {
    "bert-mini": ["mlm_loss", "mlm_accuracy", "nsp_loss", "nsp_accuracy"],
    "albert-mini-none": ["mlm_loss", "sop_loss", "sop_accuracy"],
    "albert-mini-ffn": ["mlm_loss", "sop_loss", "sop_accuracy"],
    "albert-mini-attention": ["mlm_loss", "sop_loss", "sop_accuracy"],
    "albert-mini-all": ["mlm_loss", "sop_loss", "sop_accuracy"],
    "electra-small": ["rtd_generator_loss", "rtd_discriminator_loss", "rtd_accuracy"],
    "gpt2-mini": ["clm_loss", "clm_accuracy", "clm_perplexity"],
}


def needs_corpus(name: str) -> None:
    corpus = PretrainConfig.load(CONFIGS / f"{name}.yaml").data.corpus
    where = {"wordnet": "/usr/share/wordnet/data.noun", "linux_doc": "/usr/share/doc/linux-doc-6.1/Documentation"}
    if corpus in where and not Path(where[corpus]).exists():
        pytest.skip(f"{corpus} corpus is not installed")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_config_runs(name, tmp_path, capsys, monkeypatch):
    needs_corpus(name)
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    out = tmp_path / name
    extra = ["model.embedding_size=16"] if name.startswith(("albert", "electra")) else []
    code = main(["pretrain", "--config", str(CONFIGS / f"{name}.yaml"), *TINY, *extra, f"out_dir={out}",
                 "--max-steps", "2", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 2
    for key in ["loss", *EXPECTED[name]]:
        assert key in summary["metrics"], key
    encoder = Encoder.from_pretrained(out / "encoder")
    assert encoder.config.hidden_size == 32
    assert (out / "tokenizer" / "tokenizer.json").is_file()
    assert (out / "pretrain_config.yaml").is_file()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert lines


def test_albert_sharing_modes_differ():
    for mode in ("none", "ffn", "attention", "all"):
        config = PretrainConfig.load(CONFIGS / f"albert-mini-{mode}.yaml")
        assert config.model["sharing"] == mode and set(config.objectives) == {"mlm", "sop"}


def test_gpt2_saves_its_byte_level_bpe(tmp_path, monkeypatch, capsys):
    needs_corpus("gpt2-mini")
    monkeypatch.setenv("KGNLU_PROGRESS", "0")
    out = tmp_path / "g"
    assert main(["pretrain", "-c", str(CONFIGS / "gpt2-mini.yaml"), *TINY, f"out_dir={out}", "--max-steps", "1"]) == 0
    meta = json.loads((out / "tokenizer" / "kgnlu_tokenizer.json").read_text())
    assert meta["kind"] == "byte_bpe"
    assert "saved" in capsys.readouterr().out


def test_bad_override_and_config_errors(tmp_path, capsys):
    assert main(["pretrain", "-c", str(CONFIGS / "bert-mini.yaml"), "model.hiden_size=3"]) == 2
    assert "hidden_size" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("objectives: {}\nmodel: {shape: bert}\n")
    assert main(["pretrain", "-c", str(bad), f"out_dir={tmp_path / 'r'}"]) == 2
    assert "no objectives" in capsys.readouterr().err
    bad.write_text("objectives: {mlm: 1}\nmodel: {shape: t5}\n")
    assert main(["pretrain", "-c", str(bad)]) == 2
    assert "model.shape" in capsys.readouterr().err
