"""Hugging Face interop: one converter per model family, registered by HF ``model_type``."""

from kgnlu.encoders.hf import albert, bert, gpt2  # noqa: F401  (registers the families)
from kgnlu.encoders.hf.base import HF_FAMILIES, HFFamily, check_export, common_export_problem

__all__ = ["HF_FAMILIES", "HFFamily", "check_export", "common_export_problem", "export_family"]


def export_family(config) -> HFFamily | None:
    """The HF family this config saves as by default, or None when no family can express it.

    Post-LN: whole-layer sharing or a pooler with E ≠ H → ALBERT; no pooler → ELECTRA; else BERT.
    Pre-LN causal → GPT-2.
    """
    if common_export_problem(config):
        return None
    if config.norm_placement == "pre":
        name = "gpt2"
    elif config.sharing == "all" or (config.embedding_projection and config.pooler):
        name = "albert"
    elif not config.pooler:
        name = "electra"
    else:
        name = "bert"
    family = HF_FAMILIES.get(name)()
    return None if family.export_problem(config) else family
