"""Injection layers, one file each, in the ``INJECTIONS`` registry: ``ernie`` (ERNIE's aggregator),
``kar`` (KnowBERT's knowledge attention and recontextualisation), ``entity_tokens`` (LUKE)."""

from kgnlu.fusion.injection.base import INJECTIONS, FusionState, Injection
from kgnlu.fusion.injection.entity_tokens import EntityTokens, joint_attention_mask
from kgnlu.fusion.injection.ernie import ErnieAggregator
from kgnlu.fusion.injection.kar import KnowledgeAttentionRecontextualization

__all__ = ["INJECTIONS", "EntityTokens", "ErnieAggregator", "FusionState", "Injection",
           "KnowledgeAttentionRecontextualization", "joint_attention_mask"]
