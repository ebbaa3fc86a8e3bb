"""KG pretraining objectives, registered into the encoders' ``OBJECTIVES`` registry so they mix
with mlm/sop/rtd in :class:`~kgnlu.encoders.objectives.PretrainingModel` by weight: ``dea``
(ERNIE), ``ke`` (KEPLER), ``el`` (KnowBERT). They read entity tensors from ``entity_*`` batch keys."""

from kgnlu.fusion.objectives.dea import DenoisingEntityAutoencoder
from kgnlu.fusion.objectives.el import EntityLinking
from kgnlu.fusion.objectives.ke import KnowledgeEmbedding

#: the objective names this package registers
FUSION_OBJECTIVES = ("dea", "ke", "el")

__all__ = ["FUSION_OBJECTIVES", "DenoisingEntityAutoencoder", "EntityLinking", "KnowledgeEmbedding"]
