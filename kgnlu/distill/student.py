"""Building a student from a teacher, the learned width projections, and saving/loading students.

    student, copied = build_student(teacher, StudentSpec(num_layers=3))   # 6-layer teacher: copied [0, 3, 5]
    save_student(student, tokenizer, "runs/distill-3layer/student", provenance)
    encoder, tokenizer = load_student("runs/distill-3layer/student")     # or Encoder.from_pretrained

A student is a plain :class:`~kgnlu.encoders.Encoder` of the teacher's kind (same vocabulary,
positions, norms, activation) with fewer layers and/or a narrower width. At equal hidden width it
starts as a copy of the teacher's embeddings, pooler and the chosen layers (DistilBERT's
initialisation; a narrower FFN keeps the teacher's most important neurons); across hidden widths
nothing can be copied and it starts from the BERT initialisation.

The saved folder is an ordinary encoder checkpoint (Hugging Face layout for BERT shapes, so
``transformers.AutoModel`` opens it) with the tokenizer beside it and ``distill.json`` saying how
it was made, so every place that takes an encoder path takes a student.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kgnlu.distill.config import StudentSpec
from kgnlu.distill.layer_map import every_other_layers, validate_init_layers
from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder
from kgnlu.errors import CheckpointError, ConfigError, DistillationError
from kgnlu.integrity import write_checksums
from kgnlu.io import atomic_directory

PROVENANCE = "distill.json"


def student_config(teacher: EncoderConfig, spec: StudentSpec) -> EncoderConfig:
    """The teacher's config with the student's depth and width; the FFN keeps the teacher's ratio."""
    hidden = spec.hidden_size or teacher.hidden_size
    heads = spec.num_heads or teacher.num_heads
    ffn = spec.ffn_size or max(1, round(teacher.ffn_size * hidden / teacher.hidden_size))
    embedding = teacher.embedding_size if teacher.embedding_size != teacher.hidden_size else None
    try:
        return teacher.replace(num_layers=spec.num_layers, hidden_size=hidden, num_heads=heads, ffn_size=ffn,
                               embedding_size=embedding if embedding is not None else hidden)
    except ConfigError as err:
        raise DistillationError(f"student shape: {err}") from None


def build_student(teacher: Encoder, spec: StudentSpec) -> tuple[Encoder, list[int] | None]:
    """A fresh student for ``teacher``; returns it and the teacher layers copied into it (None: none)."""
    config = student_config(teacher.config, spec)
    student = Encoder(config)
    same_width = (config.hidden_size == teacher.config.hidden_size
                  and config.embedding_size == teacher.config.embedding_size)
    if spec.init == "random" or (spec.init == "auto" and not same_width):
        return student, None
    if not same_width:
        raise DistillationError(f"student.init: teacher copies weights, but the student is {config.hidden_size} "
                                f"wide and the teacher {teacher.config.hidden_size}; use init: auto or random")
    layers = (validate_init_layers(spec.init_layers, spec.num_layers, teacher.config.num_layers)
              if spec.init_layers is not None else every_other_layers(spec.num_layers, teacher.config.num_layers))
    copy_from_teacher(teacher, student, layers)
    return student, layers


@torch.no_grad()
def copy_from_teacher(teacher: Encoder, student: Encoder, layers: list[int]) -> None:
    """Embeddings, pooler, final norm and student layer i ← teacher layer ``layers[i]`` (in place);
    a narrower FFN keeps the teacher's most important neurons (:func:`copy_top_neurons`)."""
    student.embeddings.load_state_dict(teacher.embeddings.state_dict())
    for ours, theirs in ((student.pooler, teacher.pooler), (student.final_norm, teacher.final_norm)):
        if ours is not None and theirs is not None:
            ours.load_state_dict(theirs.state_dict())
    for index, source in enumerate(layers):
        attention, ffn = student.layers.blocks_of_layer(index)
        their_attention, their_ffn = teacher.layers.blocks_of_layer(source)
        attention.load_state_dict(their_attention.state_dict())
        if ffn.up.out_features == their_ffn.up.out_features:
            ffn.load_state_dict(their_ffn.state_dict())
        else:
            copy_top_neurons(their_ffn, ffn)


@torch.no_grad()
def copy_top_neurons(teacher_ffn: nn.Module, student_ffn: nn.Module) -> list[int]:
    """A narrower FFN (F' < F intermediate neurons) from the teacher's F' most important neurons.

    Importance of neuron j = ‖W_up[j, :]‖ · ‖W_down[:, j]‖, the size of its path through the block
    (magnitude pruning of whole neurons); the kept neurons' weights and biases are copied, in their
    order, along with the output bias and LayerNorm. Returns the kept indices.
    """
    keep = student_ffn.up.out_features
    importance = teacher_ffn.up.weight.norm(dim=1) * teacher_ffn.down.weight.norm(dim=0)  # (F,)
    kept = sorted(importance.topk(keep).indices.tolist())
    student_ffn.up.weight.copy_(teacher_ffn.up.weight[kept])
    student_ffn.up.bias.copy_(teacher_ffn.up.bias[kept])
    student_ffn.down.weight.copy_(teacher_ffn.down.weight[:, kept])
    student_ffn.down.bias.copy_(teacher_ffn.down.bias)
    student_ffn.norm.load_state_dict(teacher_ffn.norm.state_dict())
    return kept


class WidthProjection(nn.Module):
    """(…, H_student) → (…, H_teacher): TinyBERT's learned W_e / W_h.

    Identity-initialised when the widths match (a copied student then starts with the teacher's
    loss landscape instead of a random rotation of it); N(0, 0.02) otherwise, as the encoder.
    """

    def __init__(self, student_size: int, teacher_size: int, initializer_range: float = 0.02):
        super().__init__()
        self.linear = nn.Linear(student_size, teacher_size)
        with torch.no_grad():
            if student_size == teacher_size:
                self.linear.weight.copy_(torch.eye(teacher_size))
            else:
                self.linear.weight.normal_(0.0, initializer_range)
            self.linear.bias.zero_()

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden)


# ---------------------------------------------------------------------- saving and loading
def save_student(student: nn.Module, tokenizer: Any, folder: str | Path, provenance: dict[str, Any]) -> Path:
    """Write the student (``save_pretrained``), its tokenizer and ``distill.json`` into one folder, atomically."""
    target = Path(folder)
    with atomic_directory(target) as staging:
        weights, words = staging / ".weights", staging / ".tokenizer"
        student.save_pretrained(weights)
        tokenizer.save(words)
        for sub in (weights, words):  # flatten: the folder is both an encoder and a tokenizer folder
            for path in sorted(sub.iterdir()):
                path.rename(staging / path.name)
            sub.rmdir()
        (staging / PROVENANCE).write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
        write_checksums(staging)  # whatever save_pretrained wrote, the flattened folder's weights are listed
    return target


def load_student(folder: str | Path, **overrides: Any) -> tuple[nn.Module, Any]:
    """(encoder, tokenizer) from a folder :func:`save_student` wrote (a KGEncoder when the teacher was one)."""
    from kgnlu.data.tokenizer import Tokenizer
    from kgnlu.distill.teacher import load_encoder_folder

    folder = Path(folder)
    if not (folder / "tokenizer.json").is_file():
        raise CheckpointError(f"{folder} has no tokenizer.json; is it a student folder written by `kgnlu distill`?")
    return load_encoder_folder(folder, **overrides), Tokenizer.load(folder)


def read_provenance(folder: str | Path) -> dict[str, Any]:
    path = Path(folder) / PROVENANCE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
