"""ALBERT: factorised embedding (always projected in HF), whole layers shared in groups.

HF ALBERT puts layer i in group ⌊i·G/L⌋ of G = ``num_hidden_groups``; G = 1 is kgnlu's
``sharing="all"`` and G = L is ``sharing="none"``. Other groupings (and ``inner_group_num`` > 1)
have no kgnlu form and are refused.
"""

from __future__ import annotations

from typing import Any

import torch

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.hf.base import (
    ACTIVATION_TO_HF,
    HF_FAMILIES,
    HFFamily,
    State,
    activation_from_hf,
    rename_legacy_norms,
    take,
)
from kgnlu.encoders.hf.bert import (
    check_bert_like_config,
    embeddings_from_hf,
    embeddings_to_hf,
    post_ln_export_problem,
)
from kgnlu.errors import CheckpointError

GROUP = "encoder.albert_layer_groups.{}.albert_layers.0."


@HF_FAMILIES.register("albert")
class AlbertFamily(HFFamily):
    model_type = "albert"
    prefixes = ("albert.",)

    def config_from_hf(self, hf: dict[str, Any]) -> EncoderConfig:
        check_bert_like_config(hf)
        layers, groups = hf["num_hidden_layers"], hf.get("num_hidden_groups", 1)
        if hf.get("inner_group_num", 1) != 1 or groups not in (1, layers):
            raise CheckpointError(
                f"ALBERT checkpoint with num_hidden_groups={groups}, inner_group_num={hf.get('inner_group_num', 1)}: "
                "kgnlu shares all layers (1 group) or none (one group per layer) with one layer per group")
        return EncoderConfig(
            vocab_size=hf["vocab_size"], embedding_size=hf.get("embedding_size", 128), hidden_size=hf["hidden_size"],
            num_layers=layers, num_heads=hf["num_attention_heads"], ffn_size=hf["intermediate_size"],
            activation=activation_from_hf(hf.get("hidden_act", "gelu_new"), "albert"),
            max_positions=hf.get("max_position_embeddings", 512), type_vocab_size=hf.get("type_vocab_size", 2),
            layer_norm_eps=hf.get("layer_norm_eps", 1e-12), hidden_dropout=hf.get("hidden_dropout_prob", 0.0),
            attention_dropout=hf.get("attention_probs_dropout_prob", 0.0),
            sharing="all" if groups == 1 and layers > 1 else "none", pooler=True, embedding_projection=True,
            pad_token_id=hf.get("pad_token_id", 0), initializer_range=hf.get("initializer_range", 0.02))

    def config_to_hf(self, config: EncoderConfig) -> dict[str, Any]:
        return {
            "model_type": "albert", "architectures": ["AlbertModel"],
            "vocab_size": config.vocab_size, "embedding_size": config.embedding_size,
            "hidden_size": config.hidden_size, "num_hidden_layers": config.num_layers,
            "num_hidden_groups": self.groups(config), "inner_group_num": 1,
            "num_attention_heads": config.num_heads, "intermediate_size": config.ffn_size,
            "hidden_act": ACTIVATION_TO_HF[config.activation], "hidden_dropout_prob": config.hidden_dropout,
            "attention_probs_dropout_prob": config.attention_dropout, "max_position_embeddings": config.max_positions,
            "type_vocab_size": config.type_vocab_size, "initializer_range": config.initializer_range,
            "layer_norm_eps": config.layer_norm_eps, "pad_token_id": config.pad_token_id,
            "position_embedding_type": "absolute",
        }

    @staticmethod
    def groups(config: EncoderConfig) -> int:
        return 1 if config.sharing == "all" else config.num_layers

    def export_problem(self, config: EncoderConfig) -> str | None:
        if not config.pooler:
            return "no pooler (AlbertModel has one)"
        return post_ln_export_problem(config)

    def state_from_hf(self, tensors: State, config: EncoderConfig) -> State:
        hf = rename_legacy_norms(self.base_model_tensors(tensors))
        ours: State = {}
        embeddings_from_hf(hf, ours)
        ours["embeddings.projection.weight"] = take(hf, "encoder.embedding_hidden_mapping_in.weight")
        ours["embeddings.projection.bias"] = take(hf, "encoder.embedding_hidden_mapping_in.bias")
        for g in range(config.num_attention_blocks):
            src, att, ffn = GROUP.format(g), f"layers.attention_blocks.{g}.", f"layers.ffn_blocks.{g}."
            for part in ("weight", "bias"):
                ours[f"{att}attention.qkv.{part}"] = torch.cat(
                    [take(hf, f"{src}attention.{name}.{part}") for name in ("query", "key", "value")])
                ours[f"{att}attention.out.{part}"] = take(hf, f"{src}attention.dense.{part}")
                ours[f"{att}norm.{part}"] = take(hf, f"{src}attention.LayerNorm.{part}")
                ours[f"{ffn}up.{part}"] = take(hf, f"{src}ffn.{part}")
                ours[f"{ffn}down.{part}"] = take(hf, f"{src}ffn_output.{part}")
                ours[f"{ffn}norm.{part}"] = take(hf, f"{src}full_layer_layer_norm.{part}")
        ours["pooler.dense.weight"] = take(hf, "pooler.weight")
        ours["pooler.dense.bias"] = take(hf, "pooler.bias")
        return ours

    def state_to_hf(self, state: State, config: EncoderConfig) -> State:
        hf: State = {}
        embeddings_to_hf(state, hf)
        if config.embedding_projection:
            hf["encoder.embedding_hidden_mapping_in.weight"] = state["embeddings.projection.weight"]
            hf["encoder.embedding_hidden_mapping_in.bias"] = state["embeddings.projection.bias"]
        else:  # HF ALBERT always projects; E = H without a projection is the identity map, exactly
            width = config.hidden_size
            reference = state["embeddings.word.weight"]
            hf["encoder.embedding_hidden_mapping_in.weight"] = torch.eye(width, dtype=reference.dtype)
            hf["encoder.embedding_hidden_mapping_in.bias"] = torch.zeros(width, dtype=reference.dtype)
        for g in range(self.groups(config)):
            dst, att, ffn = GROUP.format(g), f"layers.attention_blocks.{g}.", f"layers.ffn_blocks.{g}."
            for part in ("weight", "bias"):
                query, key, value = state[f"{att}attention.qkv.{part}"].chunk(3)
                hf[f"{dst}attention.query.{part}"] = query
                hf[f"{dst}attention.key.{part}"] = key
                hf[f"{dst}attention.value.{part}"] = value
                hf[f"{dst}attention.dense.{part}"] = state[f"{att}attention.out.{part}"]
                hf[f"{dst}attention.LayerNorm.{part}"] = state[f"{att}norm.{part}"]
                hf[f"{dst}ffn.{part}"] = state[f"{ffn}up.{part}"]
                hf[f"{dst}ffn_output.{part}"] = state[f"{ffn}down.{part}"]
                hf[f"{dst}full_layer_layer_norm.{part}"] = state[f"{ffn}norm.{part}"]
        hf["pooler.weight"] = state["pooler.dense.weight"]
        hf["pooler.bias"] = state["pooler.dense.bias"]
        return hf
