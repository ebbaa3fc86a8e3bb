"""The entity linker: mention detection, candidates, disambiguation (see :mod:`.linker`)."""

from kgnlu.kg.linker.disambiguation import Weights
from kgnlu.kg.linker.link import Candidate, Link
from kgnlu.kg.linker.linker import MODES, EntityLinker, LinkerConfig

__all__ = ["MODES", "Candidate", "EntityLinker", "Link", "LinkerConfig", "Weights"]
