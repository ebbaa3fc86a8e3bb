"""An MLM head fitted on a frozen teacher: the soft targets DistilBERT distils need one.

all-MiniLM-L6-v2 is a sentence-embedding model: its checkpoint has no masked-LM head. Before a
DistilBERT-style run we fit kgnlu's :class:`~kgnlu.encoders.MaskedLMHead` (dense → GELU →
LayerNorm → decoder tied to the teacher's word embeddings, plus a bias) on the teacher's last
hidden states with every teacher weight frozen, through :class:`PretrainingModel` and the shared
Trainer: only the transform and the bias learn (≈ 180 k parameters), so the teacher is unchanged
and its representations are what the head reads.

Saved folder: ``mlm_head.safetensors`` (the head without the tied embedding, which belongs to
the teacher) and ``mlm_head.json`` (format, the teacher it was fitted on, widths, final accuracy).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch import nn

from kgnlu.encoders.heads import MaskedLMHead
from kgnlu.errors import CheckpointError, DistillationError
from kgnlu.integrity import write_checksums
from kgnlu.io import atomic_directory, load_tensors

FORMAT, VERSION = "kgnlu-mlm-head", 1
WEIGHTS, META = "mlm_head.safetensors", "mlm_head.json"
TIED = "decoder.embedding."  # the decoder's weight is the encoder's word embedding, saved with the encoder


def head_state(head: MaskedLMHead) -> dict[str, torch.Tensor]:
    """The head's own tensors (transform, decoder bias), not the tied embedding."""
    return {k: v.detach().cpu().clone().contiguous() for k, v in head.state_dict().items() if not k.startswith(TIED)}


def save_mlm_head(head: MaskedLMHead, folder: str | Path, info: dict[str, Any]) -> Path:
    target = Path(folder)
    with atomic_directory(target) as staging:
        save_file(head_state(head), str(staging / WEIGHTS), metadata={"format": FORMAT})
        meta = {"format": FORMAT, "version": VERSION, **info}
        (staging / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        write_checksums(staging)
    return target


def load_mlm_head(folder: str | Path, encoder: nn.Module) -> MaskedLMHead:
    """The head in ``folder`` on top of ``encoder`` (its decoder tied to that encoder's word embeddings)."""
    folder = Path(folder)
    if not (folder / WEIGHTS).is_file():
        raise DistillationError(f"{folder} has no {WEIGHTS}: fit the teacher's MLM head first "
                                "(`kgnlu distill --config configs/distill-mlm-head.yaml`) and point mlm_head at "
                                "its out_dir/mlm_head")
    meta = json.loads((folder / META).read_text(encoding="utf-8")) if (folder / META).is_file() else {}
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(f"{folder / META} is not a {FORMAT} v{VERSION} file")
    config = encoder.config
    if (meta.get("hidden_size"), meta.get("vocab_size")) != (config.hidden_size, config.vocab_size):
        raise DistillationError(f"the MLM head in {folder} was fitted for H={meta.get('hidden_size')}, "
                                f"V={meta.get('vocab_size')}; this encoder has H={config.hidden_size}, "
                                f"V={config.vocab_size}. Fit a head on this teacher")
    head = MaskedLMHead(config, encoder)
    result = head.load_state_dict(load_tensors(folder / WEIGHTS), strict=False)
    missing = [k for k in result.missing_keys if not k.startswith(TIED)]
    if missing or result.unexpected_keys:
        raise CheckpointError(f"{folder / WEIGHTS} does not match an MLM head: missing {missing[:5]}, "
                              f"unexpected {result.unexpected_keys[:5]}")
    return head


def head_info(encoder: nn.Module, teacher: str, metrics: dict[str, float]) -> dict[str, Any]:
    return {"teacher": teacher, "hidden_size": encoder.config.hidden_size, "vocab_size": encoder.config.vocab_size,
            "mlm_accuracy": metrics.get("mlm_accuracy"),
            "mlm_loss": metrics.get("mlm_loss")}
