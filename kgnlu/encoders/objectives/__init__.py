"""Pretraining objectives — MLM, NSP, SOP, ELECTRA's RTD, CLM — one file each, in ``OBJECTIVES``,
and :class:`PretrainingModel`, which trains an encoder on a weighted mix of them.
"""

from kgnlu.encoders.objectives.base import OBJECTIVES, Objective, accuracy, build_head
from kgnlu.encoders.objectives.clm import CausalLM
from kgnlu.encoders.objectives.mlm import MaskedLM
from kgnlu.encoders.objectives.model import PretrainingModel
from kgnlu.encoders.objectives.nsp import NextSentencePrediction
from kgnlu.encoders.objectives.rtd import (
           ReplacedTokenDetection,
           generator_config,
           gumbel_sample,
           replace_tokens,
)
from kgnlu.encoders.objectives.sop import SentenceOrderPrediction

__all__ = ["OBJECTIVES", "CausalLM", "MaskedLM", "NextSentencePrediction", "Objective", "PretrainingModel",
           "ReplacedTokenDetection", "SentenceOrderPrediction", "accuracy", "build_head", "generator_config",
           "gumbel_sample", "replace_tokens"]
