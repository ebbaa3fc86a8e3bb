"""The relation-path scorer: a question embedding → a distribution over relation paths (≤ 3 hops),
plus the two small heads that share its question features: answer typing and topic detection.

Paths are scored compositionally (a path's vector is the sum of its steps' vectors, each step
projected by its position, plus a length vector), so a path scores sensibly even when training
saw it rarely; each step's vector adds a projection of the encoder's embedding of the relation's
name ("hypernym", "inverse of capital"), which carries paraphrases the templates never used.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from kgnlu.errors import QAError
from kgnlu.qa.config import QAConfig
from kgnlu.qa.paths import MAX_HOPS
from kgnlu.qa.step_counts import StepCountPrior, longest_runs


class RelationPathScorer(nn.Module):
    def __init__(self, question_dim: int, num_symbols: int, paths: torch.Tensor,
                 relation_text: torch.Tensor, num_kinds: int, config: QAConfig):
        """``paths`` long (P, MAX_HOPS) of step symbols padded with ``num_symbols``;
        ``relation_text`` float (num_symbols, question_dim): embeddings of the symbols' names."""
        super().__init__()
        hidden = config.hidden
        self.num_symbols, self.num_kinds = num_symbols, num_kinds
        # each member owns its copy: safetensors refuses tensors that share storage
        self.register_buffer("paths", paths.long().clone(), persistent=True)
        self.register_buffer("relation_text", torch.cat([relation_text.float(),
                                                         torch.zeros(1, question_dim)]), persistent=True)
        self.text_weight = config.relation_text_weight
        self.kind = nn.Embedding(num_kinds + 1, config.kind_dim)  # last row: kind unknown
        self.question = nn.Sequential(nn.Linear(question_dim + config.kind_dim, hidden), nn.GELU(),
                                      nn.Dropout(config.dropout), nn.Linear(hidden, hidden))
        self.symbol = nn.Embedding(num_symbols + 1, hidden, padding_idx=num_symbols)
        self.text = nn.Linear(question_dim, hidden, bias=False)
        self.position = nn.ModuleList(nn.Linear(hidden, hidden, bias=False) for _ in range(MAX_HOPS))
        self.length = nn.Embedding(MAX_HOPS + 1, hidden)
        self.path_bias = nn.Parameter(torch.zeros(paths.shape[0]))
        self.type_head = nn.Linear(hidden, num_kinds)
        # topic head: is this masked question (one per linked mention) the question's template?
        # It reads the masked question, optionally the mention's own embedding, and the link score.
        self.topic_surface = config.topic_surface
        topic_in = question_dim * (2 if config.topic_surface else 1) + 2
        self.topic_head = nn.Sequential(nn.Linear(topic_in, 64), nn.GELU(), nn.Linear(64, 1))
        self._cached_paths: torch.Tensor | None = None

    # ------------------------------------------------------------------ pieces
    def question_features(self, question: torch.Tensor, topic_kind: torch.Tensor) -> torch.Tensor:
        """question (B, Hq) unit vectors, topic_kind (B,) long (num_kinds = unknown) → (B, hidden)."""
        return self.question(torch.cat([question, self.kind(topic_kind)], dim=-1))

    def path_vectors(self) -> torch.Tensor:
        """(P, hidden); cached while the module is in eval mode. Every map here is linear in a
        step's vector, so each position's map runs once per step *symbol* (2R + 1 rows) and paths
        gather the results: the same sums as mapping each path's steps, at a cost independent of
        the path vocabulary (thousands of paths on a generated data set)."""
        if not self.training and self._cached_paths is not None:
            return self._cached_paths
        symbols = torch.arange(self.num_symbols + 1)
        steps = self.symbol(symbols) + self.text_weight * self.text(self.relation_text)  # (S, h)
        steps = steps * (symbols < self.num_symbols).unsqueeze(-1).float()  # the pad symbol adds nothing
        out = sum(self.position[i](steps)[self.paths[:, i]] for i in range(MAX_HOPS))  # (P, h)
        real = (self.paths < self.num_symbols).sum(dim=1)
        out = out + self.length(real)
        if not self.training:
            self._cached_paths = out.detach()
        return out

    def train(self, mode: bool = True):
        self._cached_paths = None
        return super().train(mode)

    # ------------------------------------------------------------------ outputs
    def path_logits(self, features: torch.Tensor) -> torch.Tensor:
        """(B, hidden) → (B, P) unnormalised log-probabilities of every known path."""
        return features @ self.path_vectors().T + self.path_bias

    def type_logits(self, features: torch.Tensor) -> torch.Tensor:
        """(B, hidden) → (B, num_kinds): the expected kind of the answer."""
        return self.type_head(features)

    def topic_logits(self, question: torch.Tensor, link_features: torch.Tensor,
                     surface: torch.Tensor | None = None) -> torch.Tensor:
        """question (B, Hq) masked at one mention, link_features (B, 2), surface (B, Hq) the mention's
        own embedding (needed when the head reads it) → (B,) topic logit."""
        parts = [question, link_features]
        if self.topic_surface:
            if surface is None:
                raise QAError("this topic head reads the mention's embedding: pass surface=")
            parts.insert(1, surface)
        return self.topic_head(torch.cat(parts, dim=-1)).squeeze(-1)


class ScorerEnsemble(nn.Module):
    """Several scorers trained from different seeds, averaged: path log-probabilities (geometric
    mean), answer-kind probabilities and topic logits. On question templates held out of training
    (a paraphrase check that never looks at the test split) five members beat one by 3-9 points of
    path accuracy: a single scorer's decision boundary between similar paths varies from seed to seed."""

    def __init__(self, members: list[RelationPathScorer], path_text: torch.Tensor | None = None,
                 path_text_scale: float = 0.0, bank=None, mlp_weight: float = 1.0, hop_penalty: float = 0.0):
        """The zero-shot expert is ``bank`` (a :class:`~kgnlu.qa.path_matching.DescriptionBank` over
        the vocabulary: a path scores as its best description) or, in models saved before it,
        ``path_text`` float (P, Hq) unit rows, each path's mean description; neither (older models)
        scores paths with the members alone. ``mlp_weight`` weighs the members' log-probabilities
        against the expert; ``hop_penalty`` nats per step beyond the first."""
        super().__init__()
        self.members = nn.ModuleList(members)
        self.register_buffer("path_text", None)  # replaced below by a legacy model's prototypes
        if bank is not None:  # saved with the weights (float16: cosines move < 1e-3)
            self.register_buffer("bank_owner", torch.from_numpy(bank.owner).long(), persistent=True)
            self.register_buffer("bank_whole", torch.from_numpy(bank.whole).half(), persistent=True)
        elif path_text is not None:
            self.register_buffer("path_text", path_text.float().clone(), persistent=True)
        self.path_text_scale, self.mlp_weight = path_text_scale, mlp_weight
        lengths = (members[0].paths < members[0].num_symbols).sum(dim=1).float()
        self.register_buffer("length_prior", -hop_penalty * (lengths - 1), persistent=False)
        # fitted by train_qa, saved in the model's metadata; empty (off) for models saved before it
        self.step_prior = StepCountPrior()
        self.register_buffer("path_runs", longest_runs(members[0].paths, members[0].num_symbols), persistent=False)

    @property
    def num_kinds(self) -> int:
        return self.members[0].num_kinds

    def path_log_probs(self, question: torch.Tensor, topic_kind: torch.Tensor,
                       stated_steps: torch.Tensor | None = None) -> torch.Tensor:
        """(B, Hq), (B,) → (B, P) mean of the members' log-softmax over paths, times (product of
        experts) the zero-shot expert softmax(scale · cos(question, path prototype)) and, where
        ``stated_steps`` (B,) long (0: none) gives a step count the question states, the step-count
        prior (:mod:`kgnlu.qa.step_counts`); renormalised. The members learn the training wordings;
        the expert reads no training wording at all (see QAConfig.path_text_scale)."""
        out = torch.stack([torch.log_softmax(m.path_logits(m.question_features(question, topic_kind)), dim=-1)
                           for m in self.members]).mean(0)
        adjusted = self.mlp_weight != 1.0 or bool(self.length_prior.any())
        out = self.mlp_weight * out + self.length_prior
        if self.has_expert and self.path_text_scale:
            out, adjusted = out + self.path_text_scale * self.zero_shot(question), True
        if stated_steps is not None and self.step_prior.penalty and bool((stated_steps > 0).any()):
            out, adjusted = out + self.step_prior.adjust(stated_steps, self.path_runs), True
        return torch.log_softmax(out, dim=-1) if adjusted else out

    @property
    def has_expert(self) -> bool:
        return self.path_text is not None or hasattr(self, "bank_whole")

    def zero_shot(self, question: torch.Tensor) -> torch.Tensor:
        """(B, Hq) unit rows → (B, P): each path's best description cosine (its prototype's cosine in
        models saved before the description bank)."""
        if self.path_text is not None:
            return question @ self.path_text.T
        s = question @ self.bank_whole.float().T  # (B, D)
        starts = torch.searchsorted(self.bank_owner, torch.arange(len(self.members[0].paths)))
        return torch.from_numpy(np.maximum.reduceat(s.numpy(), starts.numpy(), axis=1))

    def type_probs(self, question: torch.Tensor, topic_kind: torch.Tensor) -> torch.Tensor:
        """(B, Hq), (B,) → (B, K) mean of the members' answer-kind distributions."""
        return torch.stack([torch.softmax(m.type_logits(m.question_features(question, topic_kind)), dim=-1)
                            for m in self.members]).mean(0)

    def topic_logits(self, question: torch.Tensor, link_features: torch.Tensor,
                     surface: torch.Tensor | None = None) -> torch.Tensor:
        return torch.stack([m.topic_logits(question, link_features, surface) for m in self.members]).mean(0)


def link_features(score: torch.Tensor) -> torch.Tensor:
    """(B,) linker scores in [0, 1] → (B, 2) features for the topic head."""
    return torch.stack([score, torch.log(score.clamp(min=1e-4))], dim=-1)
