"""KG-aware question answering: :class:`KGQA` (answers with evidence paths from the graph).

``KGQA`` is imported on first use (PEP 562), so ``kgnlu.qa.fewshot`` and the other submodules
that need only torch load without the linker's spaCy, pyoxigraph and faiss (a GPU machine that
scores a causal LM has none of them).
"""

from kgnlu.qa.answer import (
    Answer,
    AnswerList,
    ChoiceResult,
    ChoiceScore,
    EvidencePath,
    EvidenceTriple,
)
from kgnlu.qa.config import QAConfig

__all__ = [
    "KGQA", "Answer", "AnswerList", "ChoiceResult", "ChoiceScore", "EvidencePath", "EvidenceTriple", "QAConfig",
]


def __getattr__(name: str):
    if name == "KGQA":
        from kgnlu.qa.api import KGQA

        return KGQA
    raise AttributeError(f"module 'kgnlu.qa' has no attribute {name!r}")
