"""Training objectives for the Trainer: each wraps the QAModel and returns named losses.

- :class:`PathObjective`: cross-entropy on the gold relation path, soft cross-entropy of the
  answer-kind head on the gold answers' kinds, and binary cross-entropy of the topic head on
  linked mentions (is this mention the question's topic?).
- :class:`GNNObjective`: answer-set likelihood over each retrieved subgraph's candidates,
  −log Σ_{gold} softmax(path score + GNN logit).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from kgnlu.qa.model import QAModel
from kgnlu.qa.relation_scorer import RelationPathScorer, link_features


class PathObjective(nn.Module):
    """Trains one member of the scorer ensemble."""

    def __init__(self, scorer: RelationPathScorer, type_weight: float = 0.5, topic_weight: float = 0.5,
                 label_smoothing: float = 0.0):
        super().__init__()
        self.scorer = scorer
        self.type_weight, self.topic_weight = type_weight, topic_weight
        self.label_smoothing = label_smoothing

    def forward(self, question: torch.Tensor, topic_kind: torch.Tensor, path: torch.Tensor,
                answer_kinds: torch.Tensor, topic_question: torch.Tensor | None = None,
                topic_link: torch.Tensor | None = None, topic_label: torch.Tensor | None = None,
                topic_surface: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """question (B, Hq); topic_kind (B,); path (B,) gold path index; answer_kinds (B, K) the
        gold answers' kind distribution; topic_* (T, Hq), (T,), (T,) float 0/1, (T, Hq) for mentions."""
        scorer = self.scorer
        features = scorer.question_features(question, topic_kind)
        logits = scorer.path_logits(features)
        path_loss = F.cross_entropy(logits, path, label_smoothing=self.label_smoothing if self.training else 0.0)
        type_loss = -(answer_kinds * F.log_softmax(scorer.type_logits(features), dim=-1)).sum(-1).mean()
        out = {"path_loss": path_loss, "type_loss": type_loss,
               "path_accuracy": (logits.argmax(-1) == path).float().mean().detach()}
        loss = path_loss + self.type_weight * type_loss
        if topic_question is not None and len(topic_question):
            topic_logits = scorer.topic_logits(topic_question, link_features(topic_link), topic_surface)
            topic_loss = F.binary_cross_entropy_with_logits(topic_logits, topic_label)
            loss = loss + self.topic_weight * topic_loss
            out["topic_loss"] = topic_loss
            out["topic_accuracy"] = ((topic_logits > 0).float() == topic_label).float().mean().detach()
        return {"loss": loss, **out}


def segment_logsumexp(values: torch.Tensor, segment: torch.Tensor, num_segments: int) -> torch.Tensor:
    """(C,) values, (C,) segment ids → (num_segments,) log Σ exp per segment (-inf where empty)."""
    big = torch.full((num_segments,), float("-inf"), dtype=values.dtype)
    top = big.scatter_reduce(0, segment, values, reduce="amax", include_self=True)
    safe = torch.where(torch.isfinite(top), top, torch.zeros_like(top))
    sums = torch.zeros(num_segments, dtype=values.dtype).index_add_(0, segment, torch.exp(values - safe[segment]))
    return torch.log(sums) + safe


class GNNObjective(nn.Module):
    def __init__(self, model: QAModel):
        super().__init__()
        self.model = model

    def forward(self, question, features, edges, symbols, graph, cand_node, cand_graph, cand_base,
                cand_gold) -> dict[str, torch.Tensor]:
        """question (G, Hq); features (N, F); edges (E, 2); symbols (E,); graph (N,); candidates:
        cand_node (C,) node row or -1, cand_graph (C,), cand_base (C,) path score, cand_gold (C,) bool."""
        logits = self.model.gnn(question, features, edges, symbols, graph)
        scores = cand_base + torch.where(cand_node >= 0, logits[cand_node.clamp(min=0)], torch.zeros_like(cand_base))
        g = question.shape[0]
        total = segment_logsumexp(scores, cand_graph, g)
        gold = segment_logsumexp(scores.masked_fill(~cand_gold, float("-inf")), cand_graph, g)
        loss = (total - gold).mean()
        best = torch.full((g,), float("-inf")).scatter_reduce(0, cand_graph, scores, reduce="amax")
        hit = torch.zeros(g).index_add_(0, cand_graph, ((scores == best[cand_graph]) & cand_gold).float())
        return {"loss": loss, "hits1": (hit > 0).float().mean().detach()}
