"""TinyBERT distillation (Jiao et al. 2020) as Trainer modules: the transformer-layer losses and
the prediction-layer loss.

:class:`TinyBertDistiller` — general distillation on unlabelled text, and the first half of the
task stage (intermediate-layer distillation on task data, :mod:`kgnlu.distill.task`)::

    L = w_e·MSE(W_e·E_s, E_t) + w_h·Σ_m MSE(W_h·H_s[m], H_t[g(m)]) + w_a·Σ_m (1/h)·Σ_i MSE(A_s[m]_i, A_t[g(m)]_i)

with g the layer map (:mod:`.layer_map`), W_e / W_h learned projections (identity-initialised at
equal width, :class:`~kgnlu.distill.student.WidthProjection`) and A_i head i's attention matrix of
a mapped layer over real (query, key) pairs: the pre-softmax scores QKᵀ/√d with
``attention_loss="scores"`` (TinyBERT's eq. 7–8, :func:`~kgnlu.distill.losses.attention_score_mse`),
or the probabilities with ``"probs"`` (kgnlu's earlier variant). On MLM instances the inputs are
the instances with the masking undone (TinyBERT distils on clean text): original token =
``labels`` where a position was masked, else ``input_ids``; task batches carry no MLM labels.

:class:`PredictionDistiller` — the task stage's second half: a fine-tuned teacher classifier's
logits are the soft targets of the student classifier, L = CE(softmax(z_t/t), log softmax(z_s/t))
(+ an optional weight on the gold labels). kgnlu's task here is WordNet supersense
classification (:mod:`kgnlu.distill.task`).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from kgnlu.distill.layer_map import uniform_layer_map, validate_layer_map
from kgnlu.distill.losses import attention_mse, attention_score_mse, hidden_mse, soft_cross_entropy
from kgnlu.distill.scores import run_with_scores
from kgnlu.distill.student import WidthProjection
from kgnlu.distill.teacher import freeze, run_encoder
from kgnlu.encoders.objectives.base import IGNORE
from kgnlu.errors import DistillationError


def unmask(input_ids: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
    """(B, S) corrupted ids, (B, S) MLM labels → the original ids (labels hold them where masked)."""
    if labels is None:
        return input_ids
    return torch.where(labels != IGNORE, labels, input_ids)


ATTENTION_LOSSES = ("scores", "probs")  # TinyBERT's pre-softmax scores; softmax probabilities


class TinyBertDistiller(nn.Module):
    def __init__(self, teacher: nn.Module, student: nn.Module, weights: Mapping[str, float],
                 layer_map: list[int] | None = None, attention_loss: str = "scores"):
        super().__init__()
        if attention_loss not in ATTENTION_LOSSES:
            raise DistillationError(f"attention_loss must be one of {', '.join(ATTENTION_LOSSES)}, got {attention_loss!r}")
        self.attention_loss = attention_loss
        ts, ss = teacher.config, student.config
        self.layer_map = (validate_layer_map(layer_map, ss.num_layers, ts.num_layers) if layer_map is not None
                          else uniform_layer_map(ss.num_layers, ts.num_layers))
        self.weights = {k: float(v) for k, v in weights.items() if v}
        if self.weights.get("attention") and ts.num_heads != ss.num_heads:
            raise DistillationError(f"the attention loss compares maps head by head: the teacher has {ts.num_heads} "
                                    f"heads, the student {ss.num_heads}. Give the student num_heads: {ts.num_heads} "
                                    "or set losses.attention: 0")
        self.teacher = freeze(teacher)
        self.student = student
        init = ss.initializer_range
        self.embedding_projection = WidthProjection(ss.hidden_size, ts.hidden_size, init)  # TinyBERT's W_e
        self.hidden_projection = WidthProjection(ss.hidden_size, ts.hidden_size, init)  # W_h, shared by the layers

    @property
    def config(self):
        return self.student.config

    def train(self, mode: bool = True) -> TinyBertDistiller:
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None,
                **batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """input_ids, labels, attention_mask: (B, S) MLM instances (entity_* too for KG-fused models)."""
        ids = unmask(input_ids, labels)
        mask = batch.get("attention_mask")
        need_attention = bool(self.weights.get("attention"))
        if need_attention and self.attention_loss == "scores":
            with torch.no_grad():
                t_out, t_att = run_with_scores(self.teacher, ids, batch)
            s_out, s_att = run_with_scores(self.student, ids, batch)
            compare = attention_score_mse
        else:
            with torch.no_grad():
                t_out = run_encoder(self.teacher, ids, batch, hidden_states=True, attentions=need_attention)
            s_out = run_encoder(self.student, ids, batch, hidden_states=True, attentions=need_attention)
            t_att, s_att, compare = t_out.attentions, s_out.attentions, attention_mse
        parts = {"embedding": hidden_mse(self.embedding_projection(s_out.hidden_states[0]), t_out.hidden_states[0], mask)}
        hidden = attention = None
        for m in range(1, len(self.layer_map)):
            g = self.layer_map[m]
            h = hidden_mse(self.hidden_projection(s_out.hidden_states[m]), t_out.hidden_states[g], mask)
            hidden = h if hidden is None else hidden + h
            if need_attention:
                a = compare(s_att[m - 1], t_att[g - 1], mask)
                attention = a if attention is None else attention + a
        parts["hidden"] = hidden
        if attention is not None:
            parts["attention"] = attention
        total = sum(self.weights.get(name, 0.0) * value for name, value in parts.items())
        out = {"loss": total, **{f"{name}_loss": value for name, value in parts.items()}}
        with torch.no_grad():  # a readable quality signal: cosine of the last hidden states
            out["last_cosine"] = F.cosine_similarity(self.hidden_projection(s_out.last_hidden_state),
                                                     t_out.last_hidden_state, dim=-1)[
                (mask.bool() if mask is not None else torch.ones_like(ids, dtype=torch.bool))].mean()
        return out


class PredictionDistiller(nn.Module):
    """TinyBERT's prediction-layer distillation between two classifiers with ``.logits(ids, mask, types)``
    → (B, C) (:class:`kgnlu.encoders.classifier.SupersenseClassifier`)."""

    def __init__(self, teacher: nn.Module, student: nn.Module, temperature: float = 1.0, hard_weight: float = 0.0):
        super().__init__()
        self.teacher = freeze(teacher)
        self.student = student
        self.temperature, self.hard_weight = float(temperature), float(hard_weight)

    def train(self, mode: bool = True) -> PredictionDistiller:
        super().train(mode)
        self.teacher.eval()
        return self

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """input_ids, attention_mask: (B, S); labels: (B,) gold classes (trained on only when hard_weight > 0)."""
        with torch.no_grad():
            t_logits = self.teacher.logits(input_ids, attention_mask, token_type_ids)  # (B, C)
        s_logits = self.student.logits(input_ids, attention_mask, token_type_ids)  # (B, C)
        soft = soft_cross_entropy(s_logits, t_logits, self.temperature, scale=False)
        hard = F.cross_entropy(s_logits.float(), labels)
        loss = soft + self.hard_weight * hard if self.hard_weight else soft
        pred = s_logits.detach().argmax(-1)
        return {"loss": loss, "prediction_loss": soft, "hard_loss": hard.detach(),
                "accuracy": (pred == labels).float().mean(), "agreement": (pred == t_logits.argmax(-1)).float().mean()}
