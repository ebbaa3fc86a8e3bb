"""Topic candidates: the question's linked mentions and, for each, the entities it may name.

A mention's candidates are the linker's scored candidates plus their ``owl:sameAs`` twins (the
linker reports one id per sameAs cluster — e.g. WordNet's Paris for GeoNames' Paris — while the
relations a question asks about may hang off the other member).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kgnlu.kg.linker import Link


@dataclass
class TopicMention:
    start: int
    end: int
    surface: str
    score: float  # the linker's score of its best candidate
    candidates: list[tuple[int, float]]  # (internal entity id, p(entity | mention)), best first
    surface_vector: np.ndarray | None = None  # float32 [Hq] the mention's own text, embedded (KGQA.prepare)
    stated_steps: int | None = None  # the step count its masked question states (KGQA.prepare; step_counts)
    frame: bool = False  # names only a relation or the expected type ("opposite", "country"): kgnlu.qa.frame_words
    expected_type: str | None = None  # the answer's type word its masked question asks for ("country")
    topic_type: str | None = None  # an apposition's type word on this mention ("the *city* of Lyon")
    side_vectors: np.ndarray | None = None  # float32 [2, Hq] the question left / right of it (zero-shot scoring)
    masked_text: str = ""  # the question with this mention replaced by the placeholder (KGQA.prepare)
    salience: float = 0.0  # in [0, 3]: its words' rarity in the graph's texts, +1 a proper name, +1 "of" object or possessor


def same_as_relation(kg) -> int | None:
    return kg.relation_names.get("owl:sameAs")


def topic_mentions(kg, links: list[Link], max_mentions: int, max_candidates: int) -> list[TopicMention]:
    """The ``max_mentions`` best-scored links, each with up to ``max_candidates`` entities."""
    same_as = same_as_relation(kg)
    out = []
    for link in sorted(links, key=lambda lk: -lk.score)[:max_mentions]:
        cands: dict[int, float] = {}
        pool = link.candidates or ()
        scored = [(c.entity, c.score) for c in pool] or [(link.entity, link.score)]
        for ext, score in scored[:max_candidates]:
            e = kg.index_of(ext)
            if e < 0:
                continue
            cands[e] = max(cands.get(e, 0.0), float(score))
            if same_as is not None:
                for step in kg.walker.neighbors(e, "both", [same_as]):
                    twin = step.target if step.source == e else step.source
                    cands[twin] = max(cands.get(twin, 0.0), float(score))
        if cands:
            ranked = sorted(cands.items(), key=lambda kv: -kv[1])
            out.append(TopicMention(link.start, link.end, link.surface, float(link.score), ranked))
    return out
