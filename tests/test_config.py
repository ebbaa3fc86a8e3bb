"""YAML configs with dotted overrides, and dataclass building with helpful errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kgnlu.config import (
    apply_overrides,
    from_dict,
    load_config,
    load_run_config,
    load_yaml,
    merge_config,
    save_config,
)
from kgnlu.data.instances import InstanceConfig
from kgnlu.errors import ConfigError
from kgnlu.training.trainer import TrainerConfig

YAML = """
trainer:
  lr: 1.0e-4
  max_steps: 100
  betas: [0.9, 0.98]
data:
  kind: mlm
  masking:
    rate: 0.15
    strategy: whole_word
  files: [a.txt, b.txt]
"""


@pytest.fixture()
def config_file(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text(YAML, encoding="utf-8")
    return path


def test_overrides_parse_yaml_scalars_and_nest(config_file):
    cfg = load_config(config_file, ["trainer.lr=3e-4", "data.masking.strategy=span", "trainer.betas=[0.8, 0.9]",
                                    "data.files.1=c.txt", "+trainer.clip_grad_norm=null", "+extra.deep.key=true"])
    assert cfg["trainer"]["lr"] == 3e-4 and isinstance(cfg["trainer"]["lr"], float)
    assert cfg["data"]["masking"]["strategy"] == "span"
    assert cfg["trainer"]["betas"] == [0.8, 0.9]
    assert cfg["data"]["files"] == ["a.txt", "c.txt"]
    assert cfg["trainer"]["clip_grad_norm"] is None
    assert cfg["extra"] == {"deep": {"key": True}}
    assert load_yaml(config_file)["trainer"]["lr"] == 1e-4  # the file's dict is not changed


@pytest.mark.parametrize("override, message", [
    ("trainer.lrr=1", "Did you mean lr"),
    ("trainer.lr.x=1", "is a value"),
    ("data.files.5=x", "not an index"),
    ("noequals", "key.sub=value"),
])
def test_bad_overrides_say_what_to_do(config_file, override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(config_file, [override])


def test_bad_yaml_and_non_mapping(tmp_path):
    (tmp_path / "bad.yaml").write_text("a: [1, 2\n", encoding="utf-8")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(tmp_path / "list.yaml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_yaml(tmp_path / "missing.yaml")
    assert load_config(None, ["+a=1"]) == {"a": 1}


def test_from_dict_builds_nested_dataclasses(config_file):
    cfg = load_config(config_file, ["data.masking.rate=0.3"])
    trainer = TrainerConfig.from_dict(cfg["trainer"])
    assert trainer.betas == (0.9, 0.98) and trainer.max_steps == 100
    data = {k: v for k, v in cfg["data"].items() if k != "files"}
    instances = from_dict(InstanceConfig, data)
    assert instances.masking.rate == 0.3 and instances.masking.strategy == "whole_word"


@pytest.mark.parametrize("data, message", [
    ({"lrr": 1.0}, "Did you mean lr"),
    ({"lr": "fast"}, "must be a number"),
    ({"max_steps": 1.5}, "must be an integer"),
    ({"precision": "fp8"}, "must be one of"),
    ({"lr": -1.0}, "lr > 0"),
    ({"optimizer": "adamm"}, "Did you mean 'adam', 'adamw'"),
    ({"betas": [0.9]}, "2 items"),
    ({"patience": 3}, "early_stopping_metric"),
])
def test_trainer_config_validation(data, message):
    with pytest.raises(ConfigError, match=message):
        TrainerConfig.from_dict(data)


def test_nested_errors_name_the_path():
    with pytest.raises(ConfigError, match="masking.strategy must be one of"):
        from_dict(InstanceConfig, {"masking": {"strategy": "words"}})
    with pytest.raises(ConfigError, match="unknown key 'masking.rat'"):
        from_dict(InstanceConfig, {"masking": {"rat": 0.2}})


@dataclass
class Inner:
    n: int = 1


@dataclass
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    maybe: float | None = None


def test_required_fields_and_round_trip(tmp_path):
    with pytest.raises(ConfigError, match="name"):
        from_dict(Outer, {})
    built = from_dict(Outer, {"name": "x", "inner": {"n": 3}, "maybe": 2})
    assert built == Outer("x", Inner(3), 2.0)
    save_config(built, tmp_path / "out.yaml")
    assert from_dict(Outer, load_yaml(tmp_path / "out.yaml")) == built
    assert apply_overrides({"a": {"b": 1}}, ["a.b=2"]) == {"a": {"b": 2}}


# ---------------------------------------------------------------------- load_run_config
@dataclass
class Section:
    size: int = 4
    rate: float = 0.5
    names: list[str] = field(default_factory=lambda: ["a", "b"])
    note: str | None = None


@dataclass
class Run:
    name: str = "run"
    steps: int = 10
    flag: bool = False
    section: Section = field(default_factory=Section)
    extra: Section | None = None
    weights: dict[str, float] = field(default_factory=dict)


def test_merge_config_is_deep_and_replaces_lists():
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1, "f": 2}}, "g": 1, "w": {"x": 1.0}}
    top = {"a": {"c": [3], "d": {"f": 5}}, "w": {"y": 2.0}}
    merged = merge_config(base, top)
    assert merged == {"a": {"b": 1, "c": [3], "d": {"e": 1, "f": 5}}, "g": 1, "w": {"x": 1.0, "y": 2.0}}
    assert base["a"]["c"] == [1, 2] and base["a"]["d"]["f"] == 2  # the inputs are not changed
    assert merge_config(base, top, replace=["w"])["w"] == {"y": 2.0}  # a replaced section is the top's alone
    unset = merge_config(base, {"g": None, "a": {"b": None, "c": [9]}, "new": {"k": None}}, skip_none=True)
    assert unset["g"] == 1 and unset["a"]["b"] == 1 and unset["a"]["c"] == [9] and "new" not in unset


def test_load_run_config_layers_defaults_file_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("steps: 20\nsection: {size: 8, names: [z]}\nweights: {mlm: 1}\n", encoding="utf-8")
    run = load_run_config(Run, path, ["section.rate=0.25", "+weights.nsp=2", {"flag": True, "steps": None},
                                      {"section.note": "hi"}])
    assert run == Run(steps=20, flag=True, section=Section(size=8, rate=0.25, names=["z"], note="hi"),
                      weights={"mlm": 1.0, "nsp": 2.0})
    # lists are replaced, never concatenated, at every layer
    assert load_run_config(Run, {"section": {"names": ["x", "y", "z"]}}, [{"section": {"names": ["q"]}}]
                           ).section.names == ["q"]
    # JSON files and plain mappings are sources too; nothing at all gives the defaults
    (tmp_path / "run.json").write_text(json.dumps({"section": {"size": 3}}), encoding="utf-8")
    assert load_run_config(Run, tmp_path / "run.json").section == Section(size=3)
    assert load_run_config(Run, None) == Run() and load_run_config(Run, {"steps": 3}).steps == 3
    # an optional section given as a mapping starts from its defaults, so overrides may name any key
    assert load_run_config(Run, {"extra": {"size": 1}}, ["extra.rate=0.1"]).extra == Section(size=1, rate=0.1)
    assert load_run_config(Run, {}, [{"extra": {"size": None}}]).extra is None  # unset flags create nothing


def test_load_run_config_refuses_unknown_keys_with_close_matches():
    with pytest.raises(ConfigError, match=r"\[E001\] unknown key 'section.nmes' for Section. Did you mean names"):
        load_run_config(Run, {"section": {"nmes": ["x"]}})
    with pytest.raises(ConfigError, match=r"\[E001\] unknown key 'extra.sise'.*Did you mean size"):
        load_run_config(Run, {"extra": {"sise": 1}})
    with pytest.raises(ConfigError, match=r"\[E001\] override 'section.sizes=1': no key 'section.sizes'.*"
                                          r"Did you mean size"):
        load_run_config(Run, None, ["section.sizes=1"])
    with pytest.raises(ConfigError, match="unknown key 'stpes'.*Did you mean steps"):
        load_run_config(Run, None, [{"stpes": 3}])


@pytest.mark.parametrize("data, message", [
    ({"steps": "many"}, "steps must be an integer, got 'many'"),
    ({"steps": 1.5}, "steps must be an integer, got 1.5"),
    ({"flag": "yes"}, "flag must be true or false, got 'yes'"),
    ({"name": 3}, "name must be a string, got 3"),
    ({"section": {"rate": "fast"}}, "section.rate must be a number, got 'fast'"),
    ({"section": {"names": "a"}}, "section.names must be a list, got 'a'"),
    ({"section": {"note": 3}}, "section.note must be a string or null, got 3"),
    ({"extra": {"size": "x"}}, "extra.size must be an integer, got 'x'"),
    ({"extra": 3}, "extra must be a mapping, got int"),
])
def test_load_run_config_type_errors_say_what_is_expected(data, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_run_config(Run, data)


def test_read_config_refuses_bad_json(tmp_path):
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    (tmp_path / "list.json").write_text("[1]", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_run_config(Run, tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="mapping"):
        load_run_config(Run, tmp_path / "list.json")


# ---------------------------------------------------------------------- every run kind, shipped YAMLs
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_pretrain_loads_its_shipped_yamls():
    from kgnlu.pretrain.config import PretrainConfig

    bert = PretrainConfig.load(CONFIGS / "bert-mini.yaml")
    assert bert.model == {"shape": "bert", "hidden_size": 256, "num_layers": 4, "num_heads": 4, "ffn_size": 1024,
                          "max_positions": 128}
    assert bert.objectives == {"mlm": 1.0, "nsp": 1.0} and bert.tokenizer.vocab_size == 8192
    assert bert.data.instances.kind == "nsp" and bert.data.instances.masking.strategy == "token"
    assert bert.data.num_workers == 0 and bert.data.pad_to_multiple_of == 8  # defaults the file leaves out
    assert (bert.trainer.max_steps, bert.trainer.lr, bert.trainer.out_dir) == (20000, 5e-4, "runs/bert-mini")
    small = PretrainConfig.load(CONFIGS / "bert-mini.yaml", ["model.hidden_size=32", "trainer.seed=4",
                                                             "+objectives.sop=0.5"], max_steps=2)
    assert small.model["hidden_size"] == 32 and small.model["num_layers"] == 4  # siblings kept
    assert small.trainer.seed == 4 and small.trainer.max_steps == 2 and small.trainer.lr == 5e-4
    assert small.objectives == {"mlm": 1.0, "nsp": 1.0, "sop": 0.5}
    with pytest.raises(ConfigError, match="Did you mean lr"):
        PretrainConfig.load(CONFIGS / "bert-mini.yaml", ["trainer.lrr=1"])
    kar = PretrainConfig.load(CONFIGS / "fusion-minilm-kar.yaml", max_steps=3)
    assert kar.fusion["inject"] == {3: "kar"} and kar.fusion["data"]["masking"]["strategy"] == "entity"
    assert kar.tokenizer.kind == "minilm" and kar.data.batch_size == 16 and kar.data.corpus == "wordnet"
    assert (kar.trainer.max_steps, kar.trainer.precision, kar.trainer.device) == (3, "fp32", "cpu")
    for path in sorted(CONFIGS.glob("*.yaml")):
        if path.stem.startswith(("bert", "albert", "electra", "gpt2", "fusion")):
            assert PretrainConfig.load(path).name == path.stem


def test_distill_loads_its_shipped_yamls():
    from kgnlu.distill.config import DistillConfig

    three = DistillConfig.load(CONFIGS / "distill-3layer.yaml", ["student.num_layers=2"], max_steps=3)
    assert three.student.num_layers == 2 and three.student.init == "teacher" and three.student.keep_injections
    assert three.losses == {"soft_ce": 5.0, "mlm": 2.0, "cosine": 1.0} and three.task is None
    assert three.trainer.max_steps == 3 and three.trainer.lr == 2e-4 and three.trainer.out_dir == "runs/distill-3layer"
    assert three.data.instances.shuffle_buffer == 2000 and three.linked.corpus == ""
    two = DistillConfig.load(CONFIGS / "distill-2layer.yaml", ["task.temperature=2", "+task.finetune.steps=5"], 3)
    assert two.method == "tinybert" and two.losses == {"embedding": 1.0, "hidden": 1.0, "attention": 1.0}
    assert two.task.max_steps == 3 and two.task.temperature == 2.0 and two.task.seed == 0  # default sibling kept
    assert two.task.finetune == {"steps": 5} and two.task.student_lr == 5e-4
    head = DistillConfig.load(CONFIGS / "distill-mlm-head.yaml")
    assert head.method == "mlm_head" and head.losses == {"mlm": 1.0}  # the method's default losses
    with pytest.raises(ConfigError, match="Did you mean student"):
        DistillConfig.load(CONFIGS / "distill-3layer.yaml", ["studnt.num_layers=2"])
    with pytest.raises(ConfigError, match="task is a value"):  # no task section in the file
        DistillConfig.load(CONFIGS / "distill-3layer.yaml", ["task.temperature=2"])


def test_kge_loads_its_shipped_yamls():
    from kgnlu.commands.kge import build_train_config

    rotate = build_train_config(CONFIGS / "kge-rotate.yaml", [], {})
    assert (rotate.model.name, rotate.model.dim, rotate.model.p) == ("rotate", 200, 2)  # p: a default
    assert rotate.sampling.num_negatives == 128 and rotate.sampling.weighting == "self_adversarial"
    assert rotate.sampling.chunk_size == 32 and (rotate.loss.name, rotate.loss.margin) == ("nssa", 6.0)
    assert (rotate.epochs, rotate.lr, rotate.eval_every, rotate.threads) == (200, 0.01, 20, 1)
    flags = {"model.name": None, "model.dim": 8, "epochs": 3, "loss.margin": 2.0, "seed": None}
    small = build_train_config(CONFIGS / "kge-rotate.yaml", ["loss.margin=9", "sparse=true"], flags)
    assert (small.model.name, small.model.dim, small.epochs, small.seed) == ("rotate", 8, 3, 0)
    assert small.loss.margin == 2.0 and small.loss.name == "nssa" and small.sparse is True  # flags win
    with pytest.raises(ConfigError, match="Did you mean dim"):
        build_train_config(CONFIGS / "kge-rotate.yaml", ["model.dimm=6"], {})
    for path in sorted(CONFIGS.glob("kge-*.yaml")):
        assert build_train_config(path, [], {}).model.name == path.stem.removeprefix("kge-")


def _qa_train_config(monkeypatch, tmp_path, args):
    """The QAConfig ``kgnlu qa train`` builds from ARGS (the graph and the training faked)."""
    import kgnlu.kg
    import kgnlu.qa
    from kgnlu.cli import main

    seen = {}

    class FakeQA:
        def __init__(self, kg, encoder=None, tokenizer=None, config=None):
            seen["config"] = config

        def fit(self, *args, **kwargs):
            return {}

    monkeypatch.setattr(kgnlu.qa, "KGQA", FakeQA)
    monkeypatch.setattr(kgnlu.kg.KnowledgeGraph, "load", staticmethod(lambda *a, **k: None))
    code = main(["qa", "train", str(tmp_path), "--data", str(tmp_path), "--out", str(tmp_path / "m"), *args])
    return seen.get("config"), code


def test_qa_loads_its_shipped_yaml(monkeypatch, tmp_path, capsys):
    from kgnlu.qa import QAConfig

    cfg, _ = _qa_train_config(monkeypatch, tmp_path, ["--config", str(CONFIGS / "qa-default.yaml")])
    assert (cfg.ensemble, cfg.epochs, cfg.reranker, cfg.lexical_variants) == (2, 2, False, 0)
    assert (cfg.max_train_questions, cfg.topic_examples, cfg.gnn_examples, cfg.threads) == (12000, 2000, 1500, 2)
    assert cfg.hidden == QAConfig().hidden and cfg.lr == QAConfig().lr  # defaults the file leaves out
    assert _qa_train_config(monkeypatch, tmp_path, [])[0] == QAConfig()
    _, code = _qa_train_config(monkeypatch, tmp_path, ["--config", str(CONFIGS / "qa-default.yaml"), "qa.epochz=3"])
    assert code == 2 and "Did you mean epochs" in capsys.readouterr().err


def test_qa_nested_override_keeps_its_sibling_keys(monkeypatch, tmp_path):
    """An override of one qa key keeps the file's other qa keys and the defaults beside them."""
    cfg, _ = _qa_train_config(monkeypatch, tmp_path, ["--config", str(CONFIGS / "qa-default.yaml"),
                                                      "qa.epochs=3", "qa.lexicon_dir=/x"])
    assert cfg.epochs == 3 and cfg.lexicon_dir == "/x"
    assert (cfg.ensemble, cfg.reranker, cfg.threads, cfg.gnn_examples) == (2, False, 2, 1500)  # the file's
    assert cfg.gnn_layers == 2 and cfg.answer_pooling == "sum"  # the defaults'
