"""Pretraining instances: MLM (token / whole-word / span / entity masking), ELECTRA, NSP, SOP and
CLM, streamed, shuffled, sharded over DDP ranks and DataLoader workers, and collated to tensors.

    dataset = PretrainingDataset(open_corpus("wordnet"), tokenizer, InstanceConfig(kind="sop"))
    loader = DataLoader(dataset, batch_size=32, num_workers=2,
                        collate_fn=PretrainingCollator(dataset.special.pad))
"""

from __future__ import annotations

from kgnlu.data.instances.builders import INSTANCE_BUILDERS, Instance
from kgnlu.data.instances.collate import PretrainingCollator
from kgnlu.data.instances.config import KINDS, InstanceConfig
from kgnlu.data.instances.masking import IGNORE, Masker, MaskingConfig
from kgnlu.data.instances.stream import PretrainingDataset, rank_and_world, shuffle_buffer
from kgnlu.data.instances.tokens import DocumentEncoder, SpecialIds, TokenizedSentence, special_ids

__all__ = ["IGNORE", "INSTANCE_BUILDERS", "KINDS", "DocumentEncoder", "Instance", "InstanceConfig", "Masker",
           "MaskingConfig", "PretrainingCollator", "PretrainingDataset", "SpecialIds", "TokenizedSentence",
           "rank_and_world", "shuffle_buffer", "special_ids"]
