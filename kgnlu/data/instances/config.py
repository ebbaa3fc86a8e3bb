"""What instances to build from a corpus, and how (one dataclass; reasons beside the defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from kgnlu.data.instances.masking import MaskingConfig
from kgnlu.errors import ConfigError

KINDS = ("mlm", "electra", "nsp", "sop", "clm")
GENERATOR_INPUTS = ("mask_only", "bert_80_10_10")
#: ELECTRA's official pretrain_helpers.mask: a chosen token becomes [MASK] with probability 0.85 and
#: otherwise stays as it is; it is never swapped for a random token (the generator's samples do that)
ELECTRA_MASK_PROB = 0.85


@dataclass
class InstanceConfig:
    kind: Literal["mlm", "electra", "nsp", "sop", "clm"] = "mlm"
    max_length: int = 128  # BERT's phase-1 length: 90% of its steps ran at 128 (attention is O(L²))
    # BERT: 10% of sequences get a random shorter target so the model also sees short inputs
    short_seq_prob: float = 0.1
    # mlm/electra: keep filling a sequence across document boundaries ([SEP] between documents),
    # as RoBERTa's FULL-SENTENCES does; False keeps one document per sequence (BERT)
    cross_document: bool = False
    masking: MaskingConfig = field(default_factory=MaskingConfig)
    # electra: what the generator sees at the chosen positions. "mask_only" is ELECTRA's own input
    # (85% [MASK], 15% unchanged, no random tokens; masking.mask_prob/random_prob must stay at their
    # defaults); "bert_80_10_10" applies masking.mask_prob/random_prob as BERT does (kgnlu before issue 23)
    generator_input: Literal["mask_only", "bert_80_10_10"] = "mask_only"
    mask_pairs: bool = True  # nsp/sop: mask the pair for the MLM loss trained alongside (BERT, ALBERT)
    nsp_random_prob: float = 0.5  # BERT: half of the B segments come from another document
    sop_swap_prob: float = 0.5  # ALBERT: half of the consecutive pairs are swapped
    # nsp: random B segments come from the last N documents of this shard (a bounded stand-in for
    # "any other document in the corpus", which a stream cannot reach)
    random_document_buffer: int = 256
    shuffle_buffer: int = 10_000  # instances held for shuffling: more = better mixing, more memory
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"instance kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.max_length < 8:
            raise ConfigError(f"max_length must be >= 8, got {self.max_length}")
        for name in ("short_seq_prob", "nsp_random_prob", "sop_swap_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.shuffle_buffer < 1 or self.random_document_buffer < 1:
            raise ConfigError("shuffle_buffer and random_document_buffer must be >= 1")
        if self.generator_input not in GENERATOR_INPUTS:
            raise ConfigError(f"generator_input must be one of {', '.join(GENERATOR_INPUTS)}, "
                              f"got {self.generator_input!r}")
        default = MaskingConfig()
        if (self.kind == "electra" and self.generator_input == "mask_only"
                and (self.masking.mask_prob, self.masking.random_prob) != (default.mask_prob, default.random_prob)):
            raise ConfigError("generator_input mask_only fixes ELECTRA's corruption (85% [MASK], 15% unchanged); "
                              "to set masking.mask_prob / random_prob yourself, also set "
                              "data.instances.generator_input=bert_80_10_10")

    def effective_masking(self) -> MaskingConfig:
        """The corruption the builders apply: ``masking``, except ELECTRA's mask-only generator input."""
        if self.kind == "electra" and self.generator_input == "mask_only":
            return replace(self.masking, mask_prob=ELECTRA_MASK_PROB, random_prob=0.0)
        return self.masking
