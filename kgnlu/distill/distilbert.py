"""DistilBERT-style distillation (Sanh et al. 2019) as a Trainer module.

    model = DistilBertDistiller(teacher, teacher_head, student, {"soft_ce": 5, "mlm": 2, "cosine": 1}, T=2.0)
    out = model(**batch)   # {"loss", "soft_ce_loss", "mlm_loss", "cosine_loss", "mlm_accuracy", "agreement"}

loss = α·T²·CE(softmax(t/T), log softmax(s/T)) + β·MLM + γ·(1 − cos(h_s, h_t)).

- Soft targets: the frozen teacher's MLM head (fitted first for MiniLM, :mod:`.mlm_head`) at the
  masked positions only. DistilBERT's released trainer can spread this term over every token
  (its ``--restrict_ce_to_mask`` flag off); a V = 30,522-way product at every token of both models
  is most of a CPU step, so we take the masked positions, as that flag does.
- MLM: the student's own head (a copy of the teacher's when the widths match; its decoder tied to
  the student's word embeddings) against the true tokens.
- Cosine: last hidden states of the real tokens; across widths the student's go through a learned
  projection to the teacher's width first.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import torch
from torch import nn

from kgnlu.distill.losses import cosine_loss, soft_cross_entropy
from kgnlu.distill.student import WidthProjection
from kgnlu.distill.teacher import freeze, run_encoder
from kgnlu.encoders.heads import MaskedLMHead
from kgnlu.encoders.objectives.base import accuracy
from kgnlu.errors import DistillationError


def student_mlm_head(teacher_head: MaskedLMHead, student: nn.Module) -> MaskedLMHead:
    """The student's MLM head: the teacher's transform and bias when the widths match (a copied
    student then starts with the teacher's predictions), fresh otherwise; tied to the student's words."""
    head = MaskedLMHead(student.config, student)
    same = (student.config.hidden_size, student.config.embedding_size) == (
        teacher_head.transform.dense.in_features, teacher_head.transform.dense.out_features)
    if same:
        state = {k: v for k, v in copy.deepcopy(teacher_head.state_dict()).items() if not k.startswith("decoder.embedding.")}
        head.load_state_dict(state, strict=False)
    return head


class DistilBertDistiller(nn.Module):
    def __init__(self, teacher: nn.Module, teacher_head: MaskedLMHead, student: nn.Module,
                 weights: Mapping[str, float], temperature: float = 2.0):
        super().__init__()
        if teacher.config.vocab_size != student.config.vocab_size:
            raise DistillationError(f"teacher vocabulary {teacher.config.vocab_size} ≠ student "
                                    f"{student.config.vocab_size}: soft targets need one vocabulary")
        self.teacher = freeze(teacher)
        self.teacher_head = freeze(teacher_head)
        self.student = student
        self.student_head = student_mlm_head(teacher_head, student)
        self.weights = {k: float(v) for k, v in weights.items() if v}
        self.temperature = float(temperature)
        hs, ht = student.config.hidden_size, teacher.config.hidden_size
        self.projection = WidthProjection(hs, ht, student.config.initializer_range) if hs != ht else None

    @property
    def config(self):
        return self.student.config

    def train(self, mode: bool = True) -> DistilBertDistiller:
        """The Trainer calls train() every step; the teacher stays in eval (its outputs are targets)."""
        super().train(mode)
        self.teacher.eval()
        self.teacher_head.eval()
        return self

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor, **batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """input_ids, labels (-100 where not masked), attention_mask: (B, S); entity_* for KG-fused models."""
        with torch.no_grad():
            t_out = run_encoder(self.teacher, input_ids, batch)
            t_logits = self.teacher_head(t_out, labels).logits  # (M, V)
        s_out = run_encoder(self.student, input_ids, batch)
        s_head = self.student_head(s_out, labels)  # logits (M, V), loss, labels (M,)
        s_hidden = s_out.last_hidden_state  # (B, S, Hs)
        if self.projection is not None:
            s_hidden = self.projection(s_hidden)  # (B, S, Ht)
        parts = {
            "soft_ce": soft_cross_entropy(s_head.logits, t_logits, self.temperature),
            "mlm": s_head.loss if s_head.loss is not None and s_head.logits.shape[0] else s_head.logits.sum() * 0.0,
            "cosine": cosine_loss(s_hidden, t_out.last_hidden_state, batch.get("attention_mask")),
        }
        total = sum(self.weights.get(name, 0.0) * value for name, value in parts.items())
        out = {"loss": total, **{f"{name}_loss": value for name, value in parts.items()}}
        out["mlm_accuracy"] = accuracy(s_head.logits, s_head.labels)
        out["teacher_mlm_accuracy"] = accuracy(t_logits, s_head.labels)
        agree = (s_head.logits.detach().argmax(-1) == t_logits.argmax(-1)).float()
        out["agreement"] = agree.mean() if agree.numel() else agree.sum()
        return out
