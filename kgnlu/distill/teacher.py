"""Loading a teacher (or any encoder folder) and its tokenizer, and calling it the same way whatever it is.

A teacher is the packaged all-MiniLM-L6-v2 (``"minilm"``), a kgnlu or Hugging Face encoder folder
(:meth:`Encoder.from_pretrained`), a KG-fused encoder folder (:class:`kgnlu.fusion.KGEncoder`,
recognised by its ``kg_encoder.json``) or a student written by ``kgnlu distill``. Teachers are
frozen and run without dropout: their outputs are targets, and dropout would make them noisy.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kgnlu.errors import ConfigError

NO_DROPOUT = {"hidden_dropout": 0.0, "attention_dropout": 0.0}
KG_ENCODER_FILE = "kg_encoder.json"  # kgnlu.fusion.kg_encoder.CONFIG_FILE
ENCODER_INPUTS = ("attention_mask", "token_type_ids")


def load_encoder_folder(path: str | Path, **overrides: Any) -> nn.Module:
    """An Encoder, or a KGEncoder when the folder holds one (``kg_encoder.json``)."""
    folder = Path(path)
    if (folder / KG_ENCODER_FILE).is_file():
        from kgnlu.fusion.kg_encoder import KGEncoder

        return KGEncoder.from_pretrained(folder, **overrides)
    from kgnlu.encoders.encoder import Encoder

    return Encoder.from_pretrained(folder, **overrides)


def load_teacher(spec: str) -> nn.Module:
    """The frozen teacher in eval mode, dropout off."""
    if spec == "minilm":
        from kgnlu.encoders.pretrained import load_minilm

        teacher = load_minilm(**NO_DROPOUT)
    else:
        teacher = load_encoder_folder(spec, **NO_DROPOUT)
    return freeze(teacher)


def freeze(module: nn.Module) -> nn.Module:
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module.eval()


def load_tokenizer(spec: str, teacher: str):
    """``"minilm"`` → the packaged WordPiece; ``"teacher"`` → the one saved in the teacher's folder; else a folder."""
    from kgnlu.data.tokenizer import Tokenizer, load_minilm_tokenizer

    if spec == "minilm":
        return load_minilm_tokenizer()
    folder = Path(teacher if spec == "teacher" else spec)
    if spec == "teacher" and teacher == "minilm":
        return load_minilm_tokenizer()
    if not (folder / "tokenizer.json").is_file():
        raise ConfigError(f"no tokenizer.json in {folder}; set tokenizer: to the folder of the teacher's tokenizer "
                          "(or minilm)")
    return Tokenizer.load(folder)


def base_encoder(model: nn.Module) -> nn.Module:
    """The plain Encoder inside a KGEncoder (or the encoder itself)."""
    return getattr(model, "encoder", model) if getattr(model, "accepts_entities", False) else model


def run_encoder(encoder: nn.Module, input_ids: torch.Tensor, batch: Mapping[str, torch.Tensor],
                hidden_states: bool = False, attentions: bool = False):
    """``encoder(input_ids, attention_mask, token_type_ids, ...)``, plus ``entities=`` from the batch's
    ``entity_*`` tensors when the encoder is KG-fused (the convention of PretrainingModel)."""
    inputs: dict[str, Any] = {k: batch[k] for k in ENCODER_INPUTS if k in batch}
    if getattr(encoder, "accepts_entities", False) and "entity_ids" in batch:
        from kgnlu.fusion.alignment import EntityInputs

        inputs["entities"] = EntityInputs.from_batch(batch)
    return encoder(input_ids, output_hidden_states=hidden_states, output_attentions=attentions, **inputs)
