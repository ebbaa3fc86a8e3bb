"""YAML configs with dotted overrides, and dataclass building with helpful errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from kgnlu.config import apply_overrides, from_dict, load_config, load_yaml, save_config
from kgnlu.data.instances import InstanceConfig
from kgnlu.errors import ConfigError
from kgnlu.train import TrainerConfig

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
