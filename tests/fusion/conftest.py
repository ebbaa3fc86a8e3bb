"""Tiny fused-encoder fixtures: every encoder shape, a small entity table, hand-made entity inputs."""

from __future__ import annotations

import torch

from kgnlu.encoders import Encoder
from kgnlu.fusion import EntityInputs, KGEncoder
from tests.encoders.conftest import tiny

NUM_ENTITIES, ENTITY_SIZE = 20, 12
#: every encoder shape of the encoder issue: BERT, ALBERT in each sharing mode, ELECTRA's
#: discriminator, GPT-2, and a smaller student (2 layers, narrower FFN)
SHAPES = {
    "bert": lambda: tiny("bert"),
    "albert-none": lambda: tiny("albert", sharing="none"),
    "albert-ffn": lambda: tiny("albert", sharing="ffn"),
    "albert-attention": lambda: tiny("albert", sharing="attention"),
    "albert-all": lambda: tiny("albert", sharing="all"),
    "electra": lambda: tiny("electra"),
    "gpt2": lambda: tiny("gpt2"),
    "student": lambda: tiny("bert", num_layers=2, ffn_size=32),
}
#: where each kind is injected in the tests (k = after the first k layers); two aggregators test
#: the entity stream carried between ERNIE layers
PLACEMENT = {"ernie": (1, 2), "kar": (2,), "entity_tokens": (0,)}


def build(shape: str, kind: str, freeze: bool = True, seed: int = 0) -> tuple[Encoder, KGEncoder]:
    torch.manual_seed(seed)
    encoder = Encoder(tiny_config(shape))
    table = torch.randn(NUM_ENTITIES, ENTITY_SIZE)
    kg = KGEncoder(encoder, table, {k: kind for k in PLACEMENT[kind]}, freeze_entities=freeze)
    perturb_norms(kg)
    return encoder, kg


def perturb_norms(module: torch.nn.Module) -> None:
    """Give every LayerNorm a non-trivial gain and bias, as training does: at init (γ=1, β=0) LN(LN(x))
    equals LN(x), which would hide an injection that re-normalises tokens it should leave alone."""
    with torch.no_grad():
        for norm in module.modules():
            if isinstance(norm, torch.nn.LayerNorm):
                norm.weight.uniform_(0.5, 1.5)
                norm.bias.normal_(0.0, 0.2)


def tiny_config(shape: str):
    return SHAPES[shape]()


def token_batch(seed: int = 0):
    """ids (3, 10), mask (3, 10): row 2 is padded after 6 tokens."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 97, (3, 10), generator=generator)
    mask = torch.ones(3, 10, dtype=torch.long)
    mask[2, 6:] = 0
    return ids.masked_fill(mask == 0, 0), mask


def entity_batch() -> EntityInputs:
    """Row 0: two mentions ([1, 3) and [5, 6)), row 1: none linked, row 2: one mention [2, 4)."""
    return EntityInputs(
        entity_ids=torch.tensor([[3, 5], [0, 0], [7, 0]]),
        entity_mask=torch.tensor([[True, True], [False, False], [True, False]]),
        spans=torch.tensor([[[1, 3], [5, 6]], [[0, 0], [0, 0]], [[2, 4], [0, 0]]]),
        weights=torch.tensor([[0.9, 0.6], [0.0, 0.0], [0.8, 0.0]]),
        candidate_ids=torch.tensor([[[3, 4, 9], [5, 6, 0]], [[0, 0, 0], [0, 0, 0]], [[7, 8, 2], [0, 0, 0]]]),
        candidate_scores=torch.tensor([[[0.6, 0.3, 0.1], [0.7, 0.3, 0.0]], [[0.0] * 3] * 2,
                                       [[0.5, 0.4, 0.1], [0.0] * 3]]),
        candidate_mask=torch.tensor([[[True, True, True], [True, True, False]], [[False] * 3] * 2,
                                     [[True, True, True], [False] * 3]]),
    )
