"""BERT and ELECTRA: the same post-LN layers; ELECTRA has no pooler and may project E→H."""

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
from kgnlu.errors import CheckpointError


def bert_layers_from_hf(hf: State, ours: State, num_layers: int) -> None:
    for i in range(num_layers):
        src, att, ffn = f"encoder.layer.{i}.", f"layers.attention_blocks.{i}.", f"layers.ffn_blocks.{i}."
        for part in ("weight", "bias"):
            ours[f"{att}attention.qkv.{part}"] = torch.cat(
                [take(hf, f"{src}attention.self.{name}.{part}") for name in ("query", "key", "value")])
            ours[f"{att}attention.out.{part}"] = take(hf, f"{src}attention.output.dense.{part}")
            ours[f"{att}norm.{part}"] = take(hf, f"{src}attention.output.LayerNorm.{part}")
            ours[f"{ffn}up.{part}"] = take(hf, f"{src}intermediate.dense.{part}")
            ours[f"{ffn}down.{part}"] = take(hf, f"{src}output.dense.{part}")
            ours[f"{ffn}norm.{part}"] = take(hf, f"{src}output.LayerNorm.{part}")


def bert_layers_to_hf(ours: State, hf: State, num_layers: int) -> None:
    for i in range(num_layers):
        dst, att, ffn = f"encoder.layer.{i}.", f"layers.attention_blocks.{i}.", f"layers.ffn_blocks.{i}."
        for part in ("weight", "bias"):
            query, key, value = ours[f"{att}attention.qkv.{part}"].chunk(3)
            hf[f"{dst}attention.self.query.{part}"] = query
            hf[f"{dst}attention.self.key.{part}"] = key
            hf[f"{dst}attention.self.value.{part}"] = value
            hf[f"{dst}attention.output.dense.{part}"] = ours[f"{att}attention.out.{part}"]
            hf[f"{dst}attention.output.LayerNorm.{part}"] = ours[f"{att}norm.{part}"]
            hf[f"{dst}intermediate.dense.{part}"] = ours[f"{ffn}up.{part}"]
            hf[f"{dst}output.dense.{part}"] = ours[f"{ffn}down.{part}"]
            hf[f"{dst}output.LayerNorm.{part}"] = ours[f"{ffn}norm.{part}"]


def embeddings_from_hf(hf: State, ours: State) -> None:
    ours["embeddings.word.weight"] = take(hf, "embeddings.word_embeddings.weight")
    ours["embeddings.position.weight"] = take(hf, "embeddings.position_embeddings.weight")
    if "embeddings.token_type_embeddings.weight" in hf:
        ours["embeddings.token_type.weight"] = hf["embeddings.token_type_embeddings.weight"]
    ours["embeddings.norm.weight"] = take(hf, "embeddings.LayerNorm.weight")
    ours["embeddings.norm.bias"] = take(hf, "embeddings.LayerNorm.bias")


def embeddings_to_hf(ours: State, hf: State) -> None:
    hf["embeddings.word_embeddings.weight"] = ours["embeddings.word.weight"]
    hf["embeddings.position_embeddings.weight"] = ours["embeddings.position.weight"]
    if "embeddings.token_type.weight" in ours:
        hf["embeddings.token_type_embeddings.weight"] = ours["embeddings.token_type.weight"]
    hf["embeddings.LayerNorm.weight"] = ours["embeddings.norm.weight"]
    hf["embeddings.LayerNorm.bias"] = ours["embeddings.norm.bias"]


def check_bert_like_config(hf: dict[str, Any]) -> None:
    kind = hf.get("position_embedding_type", "absolute")
    if kind != "absolute":
        raise CheckpointError(f"{hf.get('model_type')} checkpoint uses position_embedding_type={kind!r}; "
                              "kgnlu implements absolute (learned) positions only")
    if hf.get("is_decoder") or hf.get("add_cross_attention"):
        raise CheckpointError("decoder/cross-attention BERT checkpoints are not supported; use an encoder checkpoint")


def bert_like_config(hf: dict[str, Any], embedding_size: int, pooler: bool) -> EncoderConfig:
    check_bert_like_config(hf)
    return EncoderConfig(
        vocab_size=hf["vocab_size"], embedding_size=embedding_size, hidden_size=hf["hidden_size"],
        num_layers=hf["num_hidden_layers"], num_heads=hf["num_attention_heads"],
        ffn_size=hf["intermediate_size"], activation=activation_from_hf(hf.get("hidden_act", "gelu"), hf["model_type"]),
        max_positions=hf.get("max_position_embeddings", 512), type_vocab_size=hf.get("type_vocab_size", 2),
        layer_norm_eps=hf.get("layer_norm_eps", 1e-12), hidden_dropout=hf.get("hidden_dropout_prob", 0.1),
        attention_dropout=hf.get("attention_probs_dropout_prob", 0.1), pooler=pooler,
        pad_token_id=hf.get("pad_token_id", 0), initializer_range=hf.get("initializer_range", 0.02))


def bert_like_hf_config(config: EncoderConfig) -> dict[str, Any]:
    return {
        "vocab_size": config.vocab_size, "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_layers, "num_attention_heads": config.num_heads,
        "intermediate_size": config.ffn_size, "hidden_act": ACTIVATION_TO_HF[config.activation],
        "hidden_dropout_prob": config.hidden_dropout, "attention_probs_dropout_prob": config.attention_dropout,
        "max_position_embeddings": config.max_positions, "type_vocab_size": config.type_vocab_size,
        "initializer_range": config.initializer_range, "layer_norm_eps": config.layer_norm_eps,
        "pad_token_id": config.pad_token_id, "position_embedding_type": "absolute",
    }


def post_ln_export_problem(config: EncoderConfig) -> str | None:
    if config.norm_placement != "post":
        return "pre-LN layers (BERT-family models are post-LN)"
    if config.causal:
        return "causal attention (BERT-family encoders are bidirectional)"
    if config.type_vocab_size == 0:
        return "no token types (BERT-family models need type_vocab_size >= 1)"
    if config.pad_token_id is None:
        return "no pad token (BERT-family models need pad_token_id)"
    return None


@HF_FAMILIES.register("bert")
class BertFamily(HFFamily):
    model_type = "bert"
    prefixes = ("bert.",)

    def config_from_hf(self, hf: dict[str, Any]) -> EncoderConfig:
        return bert_like_config(hf, embedding_size=hf["hidden_size"], pooler=True)

    def config_to_hf(self, config: EncoderConfig) -> dict[str, Any]:
        return {"model_type": "bert", "architectures": ["BertModel"], **bert_like_hf_config(config)}

    def export_problem(self, config: EncoderConfig) -> str | None:
        if config.sharing != "none":
            return "cross-layer sharing (BERT has one parameter set per layer)"
        if config.embedding_projection:
            return "a factorised embedding (BERT has E = H and no projection)"
        if not config.pooler:
            return "no pooler (BertModel has one)"
        return post_ln_export_problem(config)

    def state_from_hf(self, tensors: State, config: EncoderConfig) -> State:
        hf = rename_legacy_norms(self.base_model_tensors(tensors))
        ours: State = {}
        embeddings_from_hf(hf, ours)
        bert_layers_from_hf(hf, ours, config.num_layers)
        ours["pooler.dense.weight"] = take(hf, "pooler.dense.weight")
        ours["pooler.dense.bias"] = take(hf, "pooler.dense.bias")
        return ours

    def state_to_hf(self, state: State, config: EncoderConfig) -> State:
        hf: State = {}
        embeddings_to_hf(state, hf)
        bert_layers_to_hf(state, hf, config.num_layers)
        hf["pooler.dense.weight"] = state["pooler.dense.weight"]
        hf["pooler.dense.bias"] = state["pooler.dense.bias"]
        return hf


@HF_FAMILIES.register("electra")
class ElectraFamily(HFFamily):
    model_type = "electra"
    prefixes = ("electra.",)

    def config_from_hf(self, hf: dict[str, Any]) -> EncoderConfig:
        return bert_like_config(hf, embedding_size=hf.get("embedding_size", hf["hidden_size"]), pooler=False)

    def config_to_hf(self, config: EncoderConfig) -> dict[str, Any]:
        return {"model_type": "electra", "architectures": ["ElectraModel"],
                "embedding_size": config.embedding_size, **bert_like_hf_config(config)}

    def export_problem(self, config: EncoderConfig) -> str | None:
        if config.sharing != "none":
            return "cross-layer sharing (ELECTRA has one parameter set per layer)"
        if config.embedding_projection and config.embedding_size == config.hidden_size:
            return "an E→H projection with E = H (ELECTRA projects only when E ≠ H)"
        if config.pooler:
            return "a pooler (ElectraModel has none)"
        return post_ln_export_problem(config)

    def state_from_hf(self, tensors: State, config: EncoderConfig) -> State:
        hf = rename_legacy_norms(self.base_model_tensors(tensors))
        ours: State = {}
        embeddings_from_hf(hf, ours)
        if config.embedding_projection:
            ours["embeddings.projection.weight"] = take(hf, "embeddings_project.weight")
            ours["embeddings.projection.bias"] = take(hf, "embeddings_project.bias")
        bert_layers_from_hf(hf, ours, config.num_layers)
        return ours

    def state_to_hf(self, state: State, config: EncoderConfig) -> State:
        hf: State = {}
        embeddings_to_hf(state, hf)
        if config.embedding_projection:
            hf["embeddings_project.weight"] = state["embeddings.projection.weight"]
            hf["embeddings_project.bias"] = state["embeddings.projection.bias"]
        bert_layers_to_hf(state, hf, config.num_layers)
        return hf
