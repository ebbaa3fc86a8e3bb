"""Knowledge fusion (docs/architecture.md, "fusion"): entity alignment, injection layers, the KG-fused encoder, and
the KG pretraining objectives (``dea``, ``ke``, ``el``, registered into the encoders' ``OBJECTIVES``)."""

from kgnlu.fusion import objectives  # noqa: F401, E402  registers dea, ke, el
from kgnlu.fusion.alignment import Aligner, EntityInputs
from kgnlu.fusion.injection import INJECTIONS, Injection
from kgnlu.fusion.kg_encoder import KGEncoder, load_entity_table
from kgnlu.fusion.outputs import KGEncoderOutput

__all__ = ["INJECTIONS", "Aligner", "EntityInputs", "Injection", "KGEncoder", "KGEncoderOutput",
           "load_entity_table"]
