"""The contract of one Hugging Face model family's converter, and helpers they share.

A converter maps an HF ``config.json`` dict ↔ :class:`EncoderConfig` and an HF state dict ↔ the
:class:`~kgnlu.encoders.Encoder` state dict. Our keys are::

    embeddings.{word,position,token_type}.weight, embeddings.norm.*, embeddings.projection.*
    layers.attention_blocks.{i}.attention.{qkv,out}.*, layers.attention_blocks.{i}.norm.*
    layers.ffn_blocks.{i}.{up,down,norm}.*
    final_norm.*, pooler.dense.*

``qkv`` holds [Q; K; V] stacked along the output dimension (3H, H).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import torch

from kgnlu.encoders.config import EncoderConfig
from kgnlu.errors import CheckpointError, ExportError
from kgnlu.registry import Registry

State = dict[str, torch.Tensor]

#: HF ``hidden_act`` / ``activation_function`` names → ours.
ACTIVATION_FROM_HF = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh",
                      "relu": "relu", "silu": "silu", "swish": "silu"}
#: ours → the HF name every family's ACT2FN knows.
ACTIVATION_TO_HF = {"gelu": "gelu", "gelu_tanh": "gelu_new", "relu": "relu", "silu": "silu"}


class HFFamily(ABC):
    model_type: ClassVar[str]
    #: prefixes that task models (``BertForPreTraining``: "bert.") put before the base model's keys
    prefixes: ClassVar[tuple[str, ...]]

    @abstractmethod
    def config_from_hf(self, hf: dict[str, Any]) -> EncoderConfig: ...

    @abstractmethod
    def config_to_hf(self, config: EncoderConfig) -> dict[str, Any]: ...

    @abstractmethod
    def state_from_hf(self, tensors: State, config: EncoderConfig) -> State: ...

    @abstractmethod
    def state_to_hf(self, state: State, config: EncoderConfig) -> State: ...

    def export_problem(self, config: EncoderConfig) -> str | None:
        """Why this config has no form in this family (None: it has one)."""
        return None

    def base_model_tensors(self, tensors: State) -> State:
        """Strip a task model's prefix ("bert.", "transformer.") and drop its head tensors."""
        for prefix in self.prefixes:
            if any(key.startswith(prefix) for key in tensors):
                return {key[len(prefix):]: value for key, value in tensors.items() if key.startswith(prefix)}
        return dict(tensors)


HF_FAMILIES: Registry[type[HFFamily]] = Registry("Hugging Face model family")


def activation_from_hf(name: str, model_type: str) -> str:
    try:
        return ACTIVATION_FROM_HF[name]
    except KeyError:
        raise CheckpointError(f"{model_type} checkpoint uses activation {name!r}, which kgnlu does not implement "
                              f"(supported: {', '.join(ACTIVATION_FROM_HF)})") from None


def take(tensors: State, key: str) -> torch.Tensor:
    """tensors[key], or a CheckpointError naming the missing tensor."""
    try:
        return tensors[key]
    except KeyError:
        raise CheckpointError(f"checkpoint lacks tensor {key!r}; it is truncated or not the model family "
                              "its config.json says") from None


def rename_legacy_norms(tensors: State) -> State:
    """TF-converted checkpoints call LayerNorm parameters gamma/beta."""
    return {key.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias"): value
            for key, value in tensors.items()}


def common_export_problem(config: EncoderConfig) -> str | None:
    """Limits shared by every HF family."""
    if config.position_scheme != "learned":
        return f"position_scheme={config.position_scheme!r} (HF families here use learned positions)"
    if config.sharing in ("ffn", "attention"):
        return (f"sharing={config.sharing!r}: no HF model shares only the {config.sharing} across layers "
                "(ALBERT shares whole layers or nothing)")
    return None


def check_export(family: HFFamily, config: EncoderConfig) -> None:
    problem = common_export_problem(config) or family.export_problem(config)
    if problem:
        raise ExportError(f"cannot export this encoder as HF {family.model_type}: {problem}. "
                          "Save it with save_pretrained(path, hf_format=False) to keep it in kgnlu's format.")
