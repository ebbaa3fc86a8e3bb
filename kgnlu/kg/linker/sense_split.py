"""The held-out split of WordNet senses and where a lemma occurs in a text, shared by sense-model
training (:mod:`kgnlu.kg.linker.sense_training`, which must never see a held-out synset) and the
linking evaluation (:mod:`kgnlu.eval.linking`). They live in the linker layer so training does
not import kgnlu.eval (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kgnlu.kg.graph_builder import alias_key

HELDOUT_PERCENT = 10


def split_of(key: str) -> str:
    """"test" for the held-out ~10% (by sha256 of ``key``), else "dev"."""
    h = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
    return "test" if h % 100 < HELDOUT_PERCENT else "dev"


def find_lemma(doc, lemmas: Sequence[str], pos: str, morphology) -> tuple[int, int] | None:
    """Character span of the first word run in the spaCy ``doc`` that is one of ``lemmas`` (or
    an inflection of it with part of speech ``pos``, per ``morphology``); None when there is none."""
    words = [t for t in doc if not t.is_space]
    norms = [alias_key(t.text) for t in words]
    for lemma in lemmas:
        n = lemma.count(" ") + 1
        for i in range(len(words) - n + 1):
            joined = " ".join(norms[i:i + n])
            head, last = " ".join(norms[i:i + n - 1]), norms[i + n - 1]
            forms = {joined} | {((head + " ") if head else "") + v.key
                                for v in morphology.variants(last) if v.pos == pos}
            forms |= {v.key for v in morphology.variants(joined) if v.pos == pos}
            if lemma in forms:
                first, end = words[i], words[i + n - 1]
                return first.idx, end.idx + len(end.text)
    return None
