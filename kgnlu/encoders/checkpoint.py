"""Saving and loading encoders: Hugging Face layout where the shape has one, kgnlu's own otherwise.

Only safetensors and JSON are read (no pickle: a ``pytorch_model.bin``-only folder is refused).
Directories are written atomically: into a temporary sibling, then renamed into place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.hf import HF_FAMILIES, check_export, export_family
from kgnlu.errors import CheckpointError, ConfigError, UnknownNameError
from kgnlu.integrity import write_checksums
from kgnlu.io import atomic_directory, load_tensors, read_json

NATIVE_CONFIG = "kgnlu_encoder.json"
NATIVE_FORMAT = "kgnlu-encoder"
NATIVE_VERSION = 1
WEIGHTS = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"
#: config fields a caller may change at load time: they alter speed or training noise, not the function
LOAD_OVERRIDES = frozenset({"attention_backend", "padding_free", "hidden_dropout", "attention_dropout"})


def read_tensors(folder: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a checkpoint folder: model.safetensors or the shards its index names."""
    if (folder / WEIGHTS).is_file():
        return load_tensors(folder / WEIGHTS)
    if (folder / WEIGHTS_INDEX).is_file():
        shards = sorted(set(read_json(folder / WEIGHTS_INDEX)["weight_map"].values()))
        tensors: dict[str, torch.Tensor] = {}
        for shard in shards:
            tensors.update(load_tensors(folder / shard))
        return tensors
    if any(folder.glob("*.bin")) or any(folder.glob("*.pt")):
        raise CheckpointError(
            f"{folder} holds only pickle-based weights (*.bin/*.pt), which kgnlu refuses to load (they can run "
            "code). Convert them to model.safetensors with a trusted tool, then retry.")
    raise CheckpointError(f"{folder} has no {WEIGHTS}; point from_pretrained at a checkpoint folder")


def write_tensors(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> None:
    # clone: Q/K/V chunks and transposes are views, and safetensors refuses tensors sharing storage
    save_file({k: v.detach().cpu().clone().contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)


def apply_overrides(config: EncoderConfig, overrides: dict[str, Any]) -> EncoderConfig:
    bad = sorted(set(overrides) - LOAD_OVERRIDES)
    if bad:
        raise ConfigError(f"from_pretrained cannot override {', '.join(bad)} (the checkpoint fixes them); "
                          f"allowed: {', '.join(sorted(LOAD_OVERRIDES))}")
    return config.replace(**overrides) if overrides else config


def load_state(encoder, state: dict[str, torch.Tensor], source: Path) -> None:
    try:
        result = encoder.load_state_dict(state, strict=False)
    except RuntimeError as err:  # shape mismatches
        raise CheckpointError(f"{source} does not match its config: {err}") from None
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f"{source} does not match the encoder: missing {result.missing_keys[:5]}, "
                              f"unexpected {result.unexpected_keys[:5]}")


def load_encoder(path: str | Path, overrides: dict[str, Any]):
    from kgnlu.encoders.encoder import Encoder

    folder = Path(path)
    if not folder.is_dir():
        raise CheckpointError(f"{folder} is not a checkpoint folder (expected {NATIVE_CONFIG} or config.json "
                              f"beside {WEIGHTS}); kgnlu never downloads models, give a local path")
    if (folder / NATIVE_CONFIG).is_file():
        meta = read_json(folder / NATIVE_CONFIG)
        if meta.get("format") != NATIVE_FORMAT or meta.get("version") != NATIVE_VERSION:
            raise CheckpointError(f"{folder / NATIVE_CONFIG} is format {meta.get('format')!r} version "
                                  f"{meta.get('version')!r}; this kgnlu reads {NATIVE_FORMAT} v{NATIVE_VERSION}")
        config = apply_overrides(EncoderConfig.from_dict(meta["config"]), overrides)
        encoder = Encoder(config)
        load_state(encoder, read_tensors(folder), folder)
        return encoder
    if not (folder / "config.json").is_file():
        raise CheckpointError(f"{folder} has neither {NATIVE_CONFIG} nor config.json")
    hf_config = read_json(folder / "config.json")
    try:
        family = HF_FAMILIES.get(str(hf_config.get("model_type")))()
    except UnknownNameError as err:
        raise CheckpointError(f"{folder}: {err}") from None
    config = apply_overrides(family.config_from_hf(hf_config), overrides)
    encoder = Encoder(config)
    load_state(encoder, family.state_from_hf(read_tensors(folder), config), folder)
    return encoder


def save_encoder(encoder, path: str | Path, hf_format: bool | None) -> Path:
    config: EncoderConfig = encoder.config
    state = encoder.state_dict()
    target = Path(path)
    if hf_format is False:
        family = None
    elif hf_format is None:
        family = export_family(config)
    else:
        family = export_family(config)
        if family is None:  # say why, naming the closest family
            name = "gpt2" if config.norm_placement == "pre" else "albert" if config.pooler else "electra"
            check_export(HF_FAMILIES.get(name)(), config)
    with atomic_directory(target) as staging:
        if family is None:
            meta = {"format": NATIVE_FORMAT, "version": NATIVE_VERSION, "config": config.to_dict()}
            (staging / NATIVE_CONFIG).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
            write_tensors(state, staging / WEIGHTS, {"format": "pt", "producer": NATIVE_FORMAT})
        else:
            check_export(family, config)
            hf_config = family.config_to_hf(config)
            (staging / "config.json").write_text(json.dumps(hf_config, indent=2) + "\n", encoding="utf-8")
            write_tensors(family.state_to_hf(state, config), staging / WEIGHTS, {"format": "pt"})
        write_checksums(staging)
    return target
