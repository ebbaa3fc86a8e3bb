"""Weight initialisation schemes: BERT's N(0, σ) and GPT-2's scaled residual projections."""

from __future__ import annotations

import math
from collections.abc import Iterable

from torch import nn

from kgnlu.encoders.config import EncoderConfig

#: Linear layers that write into the residual stream (GPT-2 scales their init by 1/√(2·layers):
#: each layer adds two such updates, so the stream's variance stays O(1) with depth).
RESIDUAL_PROJECTIONS = ("attention.out", "down")


def initialize(module: nn.Module, config: EncoderConfig, exclude: Iterable[nn.Parameter] = ()) -> None:
    """Initialise every Linear, Embedding and LayerNorm under ``module`` in place.

    Modules owning a parameter in ``exclude`` are left alone: a head's tied decoder holds the
    encoder's (possibly pretrained) word embedding, which building the head must not re-draw.
    """
    std = config.initializer_range
    residual_std = std / math.sqrt(2 * config.num_layers)
    keep = {id(p) for p in exclude}
    for name, child in module.named_modules():
        if any(id(p) in keep for p in child.parameters(recurse=False)):
            continue
        if isinstance(child, nn.Linear):
            scaled = config.init_scheme == "gpt2" and name.endswith(RESIDUAL_PROJECTIONS)
            nn.init.normal_(child.weight, mean=0.0, std=residual_std if scaled else std)
            if child.bias is not None:
                nn.init.zeros_(child.bias)
        elif isinstance(child, nn.Embedding):
            nn.init.normal_(child.weight, mean=0.0, std=std)
            if child.padding_idx is not None:
                child.weight.data[child.padding_idx].zero_()
        elif isinstance(child, nn.LayerNorm):
            nn.init.ones_(child.weight)
            nn.init.zeros_(child.bias)
