"""Training compute of a pretraining run, in FLOPs, for equal-compute comparisons (ELECTRA vs BERT).

    FLOPs = 6 · T · (N_applied + p_vocab · V · E_out)     summed over every network the step runs

- T: tokens the run processed (steps × batch × sequence length: the instances are packed to the
  length, so padding is a small share).
- 6 · N per token: a multiply-add is 2 FLOPs, and the backward pass costs twice the forward
  (Kaplan et al. 2020, "Scaling laws", §2.1; attention's O(S²) term is small at S = 64–128 and left out).
- N_applied: the weights a token passes through, not the distinct parameters — an ALBERT layer
  shared across depth is applied L times, so it counts L times (sharing saves memory, not compute).
  Embedding tables are lookups, not matrix products, and are left out; the E→H projection, the
  layers and the pooler count.
- p_vocab · V · E_out: the vocabulary decoder, run at the masked positions only for MLM (p = the
  masking rate, 0.15) and at every position for CLM (p = 1). Sentence-pair and RTD heads are
  per-sequence or H-sized and left out.
- ELECTRA: the generator (its own N_applied and MLM decoder) plus the discriminator, both over all T.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kgnlu.encoders.config import EncoderConfig
from kgnlu.encoders.encoder import Encoder
from kgnlu.encoders.objectives.rtd import generator_config

EMBEDDING_TABLES = ("embeddings.word.", "embeddings.position.", "embeddings.token_type.")


def applied_parameters(config: EncoderConfig) -> int:
    """Weights one token passes through (shared layers counted once per use), embedding tables excluded."""
    unshared = Encoder(config.replace(sharing="none"))  # same applied weights, each layer its own copy
    return sum(p.numel() for name, p in unshared.named_parameters() if not name.startswith(EMBEDDING_TABLES))


def flops_per_token(config: EncoderConfig, objectives: Mapping[str, float], mask_rate: float = 0.15,
                    objective_options: Mapping[str, Mapping[str, Any]] | None = None) -> float:
    """Training FLOPs per token of one optimizer step's forward + backward (see the module docstring)."""
    options = dict((objective_options or {}).get("rtd") or {})
    vocab_width = config.vocab_size * config.embedding_size  # the tied decoder works at width E
    per_token = 0.0
    if "rtd" in objectives:
        generator = generator_config(config, float(options.get("generator_fraction", 0.25)))
        per_token += applied_parameters(generator) + mask_rate * generator.vocab_size * generator.embedding_size
        per_token += applied_parameters(config)
    else:
        per_token += applied_parameters(config)
        if "mlm" in objectives:
            per_token += mask_rate * vocab_width
        if "clm" in objectives:
            per_token += vocab_width
    return 6.0 * per_token


def equal_compute_steps(reference_steps: int, reference_flops_per_token: float, flops_per_token_: float) -> int:
    """Steps (at the same tokens per step) that spend the reference run's compute."""
    return max(1, round(reference_steps * reference_flops_per_token / flops_per_token_))
