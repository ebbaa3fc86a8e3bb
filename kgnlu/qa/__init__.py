"""KG-aware question answering: :class:`KGQA` (answers with evidence paths from the graph)."""

from kgnlu.qa.answer import (
    Answer,
    AnswerList,
    ChoiceResult,
    ChoiceScore,
    EvidencePath,
    EvidenceTriple,
)
from kgnlu.qa.api import KGQA
from kgnlu.qa.config import QAConfig

__all__ = [
    "KGQA", "Answer", "AnswerList", "ChoiceResult", "ChoiceScore", "EvidencePath", "EvidenceTriple", "QAConfig",
]
