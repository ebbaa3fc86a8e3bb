"""Sentence-order prediction (ALBERT): are two consecutive segments in order or swapped?

Reads ``batch["sop_label"]`` (B,): 0 = in order, 1 = swapped. Both segments come from the same
document, so unlike NSP the topic gives nothing away: the model must learn discourse coherence.
"""

from __future__ import annotations

from kgnlu.encoders.objectives.base import OBJECTIVES
from kgnlu.encoders.objectives.nsp import SentencePairObjective


@OBJECTIVES.register("sop")
class SentenceOrderPrediction(SentencePairObjective):
    head_name, label_key = "sop", "sop_label"
