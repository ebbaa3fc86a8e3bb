"""Answer typing: the kinds an answer may have, as the graph stores them (``entity_kinds``:
``geonames:city``, ``geonames:country``, ``wordnet:noun.animal``, ...), and targets for the
scorer's typing head (the distribution of the gold answers' kinds)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def num_kinds(kg) -> int:
    return len(kg.kinds)


def kind_of(kg, entity: int) -> int:
    return int(kg.entity_kinds[int(entity)])


def kind_distribution(kg, entities: Iterable[int]) -> np.ndarray:
    """float32 [num_kinds]: how the entities spread over kinds (uniform over the given ones)."""
    out = np.zeros(num_kinds(kg), dtype=np.float32)
    ids = [int(e) for e in entities if int(e) >= 0]
    if ids:
        np.add.at(out, np.asarray(kg.entity_kinds[np.asarray(ids)], dtype=np.int64), 1.0)
        out /= out.sum()
    return out
