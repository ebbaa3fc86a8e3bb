"""Pretraining heads, one class per objective, all in the ``HEADS`` registry.

Every head is built as ``HEADS.get(name)(config, encoder)`` and called on the encoder's output
with optional labels; label value -100 means "ignore this position" throughout. Later parts
(fusion) register their entity heads into the same registry with ``@HEADS.register("...")``,
reusing :class:`EntityHead` below or their own subclass.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder, Pooler
from kgnlu.encoders.init import initialize
from kgnlu.encoders.layer import ACTIVATION_FUNCTIONS
from kgnlu.encoders.matmul import Linear, linear
from kgnlu.encoders.outputs import EncoderOutput, HeadOutput
from kgnlu.errors import ConfigError
from kgnlu.registry import Registry

IGNORE = -100

HEADS: Registry[type[nn.Module]] = Registry("pretraining head")


class TokenTransform(nn.Module):
    """(…, H) → (…, out): dense, activation, LayerNorm — BERT's and ALBERT's MLM transform."""

    def __init__(self, config: EncoderConfig, out_size: int):
        super().__init__()
        self.dense = Linear(config.hidden_size, out_size)
        self.activation = ACTIVATION_FUNCTIONS[config.activation]
        self.norm = nn.LayerNorm(out_size, eps=config.layer_norm_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.activation(self.dense(x)))


class VocabularyDecoder(nn.Module):
    """(…, E) → (…, V) logits; the weight is the input embedding matrix when tied."""

    def __init__(self, config: EncoderConfig, encoder: Encoder, bias: bool):
        super().__init__()
        self.tied = config.tie_word_embeddings
        self.embedding = encoder.get_input_embeddings() if self.tied else None
        self.own_weight = None if self.tied else nn.Parameter(torch.empty(config.vocab_size, config.embedding_size))
        self.bias = nn.Parameter(torch.zeros(config.vocab_size)) if bias else None

    @property
    def weight(self) -> torch.Tensor:
        return self.embedding.weight if self.tied else self.own_weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias)  # oneDNN on CPU: MKL is slow at this (M, E)·(V, E)ᵀ shape


def select_labelled(hidden: torch.Tensor, labels: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """hidden (B, S, H), labels (B, S) → the M labelled rows (M, H) and their labels (M,)."""
    if labels is None:
        return hidden.reshape(-1, hidden.shape[-1]), None
    keep = labels.reshape(-1) != IGNORE
    return hidden.reshape(-1, hidden.shape[-1])[keep], labels.reshape(-1)[keep]


@HEADS.register("mlm")
class MaskedLMHead(nn.Module):
    """Masked LM (BERT; ALBERT projects to E first). Logits only at masked positions: (M, V).

    The transform and the V-way decoder run on the M masked rows (≈15% of tokens), not on all
    B·S — the decoder is the largest matmul of a small model's step. Without labels: (B·S, V).
    """

    def __init__(self, config: EncoderConfig, encoder: Encoder):
        super().__init__()
        self.transform = TokenTransform(config, config.embedding_size)
        self.decoder = VocabularyDecoder(config, encoder, bias=True)
        initialize(self, config, exclude=encoder.parameters())

    def forward(self, output: EncoderOutput, labels: torch.Tensor | None = None) -> HeadOutput:
        rows, targets = select_labelled(output.last_hidden_state, labels)  # (M, H), (M,)
        logits = self.decoder(self.transform(rows))  # (M, V)
        loss = F.cross_entropy(logits.float(), targets) if targets is not None else None
        return HeadOutput(logits=logits, loss=loss, labels=targets)


class SentencePairHead(nn.Module):
    """Pooled (B, H) → (B, 2) logits for a binary property of a segment pair."""

    def __init__(self, config: EncoderConfig, encoder: Encoder):
        super().__init__()
        # Shapes without a pooler in the encoder (ELECTRA) get one here.
        self.pooler = None if config.pooler else Pooler(config)
        self.classifier = nn.Linear(config.hidden_size, 2)
        initialize(self, config, exclude=encoder.parameters())

    def forward(self, output: EncoderOutput, labels: torch.Tensor | None = None) -> HeadOutput:
        pooled = output.pooler_output if self.pooler is None else self.pooler(output.last_hidden_state)
        logits = self.classifier(pooled)  # (B, 2)
        loss = F.cross_entropy(logits.float(), labels, ignore_index=IGNORE) if labels is not None else None
        return HeadOutput(logits=logits, loss=loss, labels=labels)


@HEADS.register("nsp")
class NextSentenceHead(SentencePairHead):
    """BERT's next-sentence prediction: label 0 = B follows A, 1 = B is a random segment."""


@HEADS.register("sop")
class SentenceOrderHead(SentencePairHead):
    """ALBERT's sentence-order prediction: label 0 = A, B in order, 1 = swapped (same topic, so no topic cue)."""


@HEADS.register("rtd")
class ReplacedTokenHead(nn.Module):
    """ELECTRA's discriminator: (B, S, H) → (B, S) logits, 1 = the generator replaced this token.

    Loss is binary cross-entropy over positions whose label is not -100 (padding).
    """

    def __init__(self, config: EncoderConfig, encoder: Encoder):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = ACTIVATION_FUNCTIONS[config.activation]
        self.classifier = nn.Linear(config.hidden_size, 1)
        initialize(self, config, exclude=encoder.parameters())

    def forward(self, output: EncoderOutput, labels: torch.Tensor | None = None) -> HeadOutput:
        logits = self.classifier(self.activation(self.dense(output.last_hidden_state))).squeeze(-1)  # (B, S)
        loss = None
        if labels is not None:
            keep = labels != IGNORE
            loss = F.binary_cross_entropy_with_logits(logits[keep].float(), labels[keep].float())
        return HeadOutput(logits=logits, loss=loss, labels=labels)


@HEADS.register("clm")
class CausalLMHead(nn.Module):
    """GPT-2's next-token prediction with the tied input embedding, no bias.

    With labels (B, S) (usually the input ids, -100 at pads) position t predicts label t+1 and
    logits come back only for the M scored positions: (M, V). Without labels: (B, S, V).
    """

    def __init__(self, config: EncoderConfig, encoder: Encoder):
        super().__init__()
        if not config.causal:
            raise ConfigError("the clm head needs a causal encoder (EncoderConfig(causal=True)); "
                              "a bidirectional one sees the token it would predict")
        # A factorised embedding (E ≠ H) needs H → E before the tied E-wide decoder.
        self.projection = nn.Linear(config.hidden_size, config.embedding_size) if config.embedding_projection else None
        self.decoder = VocabularyDecoder(config, encoder, bias=False)
        initialize(self, config, exclude=encoder.parameters())

    def forward(self, output: EncoderOutput, labels: torch.Tensor | None = None) -> HeadOutput:
        hidden = output.last_hidden_state  # (B, S, H)
        if labels is not None:
            hidden, labels = select_labelled(hidden[:, :-1], labels[:, 1:])  # (M, H), (M,)
        if self.projection is not None:
            hidden = self.projection(hidden)
        logits = self.decoder(hidden)
        loss = F.cross_entropy(logits.float(), labels) if labels is not None else None
        return HeadOutput(logits=logits, loss=loss, labels=labels)


@HEADS.register("entity")
class EntityHead(nn.Module):
    """Scores token (or span-start) states against candidate entity embeddings — the hook for
    entity objectives (ERNIE's dEA predicts each aligned token's entity among the batch's entities).

    ``forward(output, positions (B, S) bool, candidates (N, D), labels (M,) indices into candidates)``
    → logits (M, N). D defaults to H; pass ``entity_size`` for KG embeddings of another width.
    """

    def __init__(self, config: EncoderConfig, encoder: Encoder, entity_size: int | None = None):
        super().__init__()
        self.transform = TokenTransform(config, entity_size or config.hidden_size)
        initialize(self, config, exclude=encoder.parameters())

    def forward(self, output: EncoderOutput, positions: torch.Tensor, candidates: torch.Tensor,
                labels: torch.Tensor | None = None) -> HeadOutput:
        rows = output.last_hidden_state[positions]  # (M, H)
        logits = self.transform(rows) @ candidates.t()  # (M, N)
        loss = F.cross_entropy(logits.float(), labels, ignore_index=IGNORE) if labels is not None else None
        return HeadOutput(logits=logits, loss=loss, labels=labels)
