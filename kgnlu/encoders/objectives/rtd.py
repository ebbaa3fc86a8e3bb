"""Replaced-token detection (ELECTRA, Clark et al. 2020).

A small generator — the discriminator's shape at ``generator_fraction`` of its width (hidden size,
heads and FFN; same depth), with the discriminator's embedding tables shared (word, position, token
type and their LayerNorm: one tensor each, updated by both losses) — is trained with MLM on the
masked input. Its samples replace the masked tokens (Gumbel-max sampling from its softmax at
``temperature``, with no gradient through the sampling); the discriminator, which is the encoder
being pretrained, then predicts for every real token whether it differs from the original. A
sample that happens to equal the original counts as original (label 0), as in the paper.

    loss = generator MLM loss + rtd_weight · discriminator BCE      (λ = 50 in the paper)

Reads ``batch["input_ids"]`` (masked), ``batch["labels"]`` (originals at masked positions, -100
elsewhere) and ``batch["attention_mask"]`` — the ``electra`` instance kind. Its generator input
(``data.instances.generator_input``) defaults to ELECTRA's own: 85% of the chosen tokens [MASK],
15% left as they are, none swapped for a random token (google-research/electra
pretrain_helpers.mask); ``bert_80_10_10`` gives BERT's corruption, kgnlu's input before issue 23.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.heads import HEADS, MaskedLMHead
from kgnlu.encoders.objectives.base import IGNORE, OBJECTIVES, Objective, accuracy, safe_loss
from kgnlu.encoders.outputs import EncoderOutput
from kgnlu.errors import ConfigError

#: Embeddings submodules the generator takes from the discriminator (its E→H projection stays its own)
SHARED_EMBEDDINGS = ("word", "position", "token_type", "norm")


def generator_config(config, fraction: float, **overrides: Any):
    """The discriminator's config narrowed to ``fraction`` of its width, at the same embedding size E."""
    if not 0.0 < fraction <= 1.0:
        raise ConfigError(f"rtd generator_fraction must be in (0, 1], got {fraction}")
    heads = max(1, round(config.num_heads * fraction))
    values: dict[str, Any] = dict(
        hidden_size=heads * config.head_size, num_heads=heads,
        ffn_size=max(1, round(config.ffn_size * fraction)), embedding_size=config.embedding_size,
        embedding_projection=None, pooler=False, causal=False)
    values.update(overrides)
    if values.get("embedding_projection") is None:
        values["embedding_projection"] = values["embedding_size"] != values["hidden_size"]
    return config.replace(**values)


def gumbel_sample(logits: torch.Tensor, temperature: float = 1.0, generator: torch.Generator | None = None
                  ) -> torch.Tensor:
    """(M, V) logits → (M,) ids drawn from softmax(logits / T) by the Gumbel-max trick, without gradient."""
    with torch.no_grad():
        uniform = torch.rand(logits.shape, device=logits.device, generator=generator)
        gumbel = -torch.log(-torch.log(uniform.clamp(1e-9, 1.0 - 1e-9)))
        return (logits.detach().float() / temperature + gumbel).argmax(-1)


def replace_tokens(input_ids: torch.Tensor, labels: torch.Tensor, sampled: torch.Tensor,
                   attention_mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Put the (M,) samples at the M labelled positions of (B, S) ``input_ids`` (row-major order).

    Returns the corrupted ids and the discriminator's labels (B, S): 1 where the token now differs
    from the original (the label at a masked position, the input elsewhere), 0 where it is the
    original, -100 at padding.
    """
    masked = labels != IGNORE
    original = torch.where(masked, labels, input_ids)
    corrupted = input_ids.masked_scatter(masked, sampled.to(input_ids.dtype))
    rtd_labels = (corrupted != original).long()
    if attention_mask is not None:
        rtd_labels = rtd_labels.masked_fill(~attention_mask.bool(), IGNORE)
    return corrupted, rtd_labels


@OBJECTIVES.register("rtd")
class ReplacedTokenDetection(Objective):
    uses_output = False
    requires = ("input_ids", "labels")

    def __init__(self, encoder: Encoder, generator_fraction: float = 0.25, rtd_weight: float = 50.0,
                 temperature: float = 1.0, generator: Mapping[str, Any] | None = None):
        super().__init__()
        if rtd_weight < 0 or temperature <= 0:
            raise ConfigError(f"rtd needs rtd_weight >= 0 and temperature > 0 (got {rtd_weight}, {temperature})")
        if encoder.config.causal:
            raise ConfigError("rtd needs a bidirectional discriminator (EncoderConfig(causal=False))")
        self.rtd_weight, self.temperature = float(rtd_weight), float(temperature)
        # the discriminator is the encoder being pretrained, owned by the caller: held in a list so it is
        # not registered (and saved) a second time under this objective
        self._discriminator = [encoder]
        word = encoder.get_input_embeddings().weight
        saved = word.detach().clone()
        self.generator = Encoder(generator_config(encoder.config, generator_fraction, **dict(generator or {})))
        for name in SHARED_EMBEDDINGS:
            setattr(self.generator.embeddings, name, getattr(encoder.embeddings, name))
        self.generator_head = MaskedLMHead(self.generator.config, self.generator)  # decoder tied to the shared table
        self.discriminator_head = HEADS.get("rtd")(encoder.config, encoder)
        with torch.no_grad():  # the generator head's init re-drew the shared table: put the encoder's back
            word.copy_(saved)

    @property
    def discriminator(self) -> Encoder:
        return self._discriminator[0]

    def forward(self, batch: Mapping[str, torch.Tensor], output: EncoderOutput | None = None
                ) -> dict[str, torch.Tensor]:
        input_ids, labels = batch["input_ids"], batch["labels"]
        attention_mask, token_types = batch.get("attention_mask"), batch.get("token_type_ids")
        generated = self.generator_head(self.generator(input_ids, attention_mask, token_types), labels)  # (M, V)
        generator_loss = safe_loss(generated.loss, generated.logits)
        sampled = gumbel_sample(generated.logits, self.temperature)  # (M,), no gradient

        corrupted, rtd_labels = replace_tokens(input_ids, labels, sampled, attention_mask)  # (B, S) each
        real = rtd_labels != IGNORE

        judged = self.discriminator_head(self.discriminator(corrupted, attention_mask, token_types), rtd_labels)
        discriminator_loss = safe_loss(judged.loss, judged.logits[real])
        predicted = (judged.logits.detach() > 0).long()
        correct = ((predicted == rtd_labels) & real).sum().float()
        replaced = (rtd_labels == 1).sum().float()
        n_real = real.sum().clamp(min=1).float()
        return {
            "loss": generator_loss + self.rtd_weight * discriminator_loss,
            "generator_loss": generator_loss,
            "generator_accuracy": accuracy(generated.logits, generated.labels),
            "discriminator_loss": discriminator_loss,
            "accuracy": (correct / n_real).detach(),
            "replaced_fraction": (replaced / n_real).detach(),
            "replaced_recall": (((predicted == 1) & (rtd_labels == 1)).sum().float() / replaced.clamp(min=1)).detach(),
        }
