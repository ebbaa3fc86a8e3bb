"""GPT-2: pre-LN, causal, fused c_attn, Conv1D weights stored (in, out) — transposed from nn.Linear."""

from __future__ import annotations

from typing import Any

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.hf.base import (
    ACTIVATION_TO_HF,
    HF_FAMILIES,
    HFFamily,
    State,
    activation_from_hf,
    take,
)
from kgnlu.errors import CheckpointError

#: (our suffix under a block, GPT-2 suffix under h.{i}.); non-norm weights are Conv1D, transposed
ATTENTION_KEYS = [("attention.qkv", "attn.c_attn"), ("attention.out", "attn.c_proj"), ("norm", "ln_1")]
FFN_KEYS = [("up", "mlp.c_fc"), ("down", "mlp.c_proj"), ("norm", "ln_2")]


@HF_FAMILIES.register("gpt2")
class GPT2Family(HFFamily):
    model_type = "gpt2"
    prefixes = ("transformer.",)

    def config_from_hf(self, hf: dict[str, Any]) -> EncoderConfig:
        if hf.get("scale_attn_by_inverse_layer_idx") or not hf.get("scale_attn_weights", True):
            raise CheckpointError("GPT-2 checkpoint scales attention other than by 1/√d; kgnlu does not implement that")
        width = hf["n_embd"]
        dropout = hf.get("resid_pdrop", 0.1)
        return EncoderConfig(
            vocab_size=hf["vocab_size"], hidden_size=width, num_layers=hf["n_layer"], num_heads=hf["n_head"],
            ffn_size=hf.get("n_inner") or 4 * width,
            activation=activation_from_hf(hf.get("activation_function", "gelu_new"), "gpt2"),
            max_positions=hf.get("n_positions", 1024), type_vocab_size=0, norm_placement="pre",
            layer_norm_eps=hf.get("layer_norm_epsilon", 1e-5), hidden_dropout=dropout,
            attention_dropout=hf.get("attn_pdrop", 0.1), causal=True, pooler=False, pad_token_id=None,
            init_scheme="gpt2", initializer_range=hf.get("initializer_range", 0.02),
            tie_word_embeddings=hf.get("tie_word_embeddings", True))

    def config_to_hf(self, config: EncoderConfig) -> dict[str, Any]:
        return {
            "model_type": "gpt2", "architectures": ["GPT2Model"], "vocab_size": config.vocab_size,
            "n_positions": config.max_positions, "n_embd": config.hidden_size, "n_layer": config.num_layers,
            "n_head": config.num_heads, "n_inner": config.ffn_size,
            "activation_function": ACTIVATION_TO_HF[config.activation], "resid_pdrop": config.hidden_dropout,
            "embd_pdrop": config.hidden_dropout, "attn_pdrop": config.attention_dropout,
            "layer_norm_epsilon": config.layer_norm_eps, "initializer_range": config.initializer_range,
            "tie_word_embeddings": config.tie_word_embeddings,
        }

    def export_problem(self, config: EncoderConfig) -> str | None:
        if config.norm_placement != "pre" or not config.causal:
            return "GPT-2 is pre-LN and causal"
        if config.sharing != "none" or config.embedding_projection:
            return "GPT-2 has neither cross-layer sharing nor a factorised embedding"
        if config.type_vocab_size or config.pooler:
            return "GPT-2 has neither token types nor a pooler"
        return None

    def state_from_hf(self, tensors: State, config: EncoderConfig) -> State:
        hf = self.base_model_tensors(tensors)
        ours: State = {"embeddings.word.weight": take(hf, "wte.weight"),
                       "embeddings.position.weight": take(hf, "wpe.weight"),
                       "final_norm.weight": take(hf, "ln_f.weight"), "final_norm.bias": take(hf, "ln_f.bias")}
        for i in range(config.num_layers):
            for block, keys in ((f"layers.attention_blocks.{i}.", ATTENTION_KEYS), (f"layers.ffn_blocks.{i}.", FFN_KEYS)):
                for mine, theirs in keys:
                    weight = take(hf, f"h.{i}.{theirs}.weight")
                    ours[f"{block}{mine}.weight"] = weight if mine == "norm" else weight.t()
                    ours[f"{block}{mine}.bias"] = take(hf, f"h.{i}.{theirs}.bias")
        return ours

    def state_to_hf(self, state: State, config: EncoderConfig) -> State:
        hf: State = {"wte.weight": state["embeddings.word.weight"], "wpe.weight": state["embeddings.position.weight"],
                     "ln_f.weight": state["final_norm.weight"], "ln_f.bias": state["final_norm.bias"]}
        for i in range(config.num_layers):
            for block, keys in ((f"layers.attention_blocks.{i}.", ATTENTION_KEYS), (f"layers.ffn_blocks.{i}.", FFN_KEYS)):
                for mine, theirs in keys:
                    weight = state[f"{block}{mine}.weight"]
                    hf[f"h.{i}.{theirs}.weight"] = weight if mine == "norm" else weight.t()
                    hf[f"h.{i}.{theirs}.bias"] = state[f"{block}{mine}.bias"]
        return hf
