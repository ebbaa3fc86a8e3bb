"""Train/dev/test assignment by topic: every question about one topic lands in one split.

The key is the topic's *mention* (its label, case-folded as the alias table folds it), not only
its entity id: WordNet's France and GeoNames' France are two entities named alike, and splitting
them apart would put the same question text in train and test. The split is a hash of (seed, key),
so it does not depend on which other topics or paths were generated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kgnlu.errors import ConfigError
from kgnlu.kg.graph_builder import alias_key

SPLITS = ("train", "dev", "test")
PARAPHRASE = "paraphrase_dev"  # dev questions reworded with held-out wordings (consulted while tuning)


def check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ConfigError(f"split fractions must be three numbers >= 0 summing to 1 (train, dev, test), got {fractions}")
    return float(fractions[0]), float(fractions[1]), float(fractions[2])


def topic_key(label: str) -> str:
    return alias_key(label)


def split_of(label: str, seed: int, fractions: Sequence[float] = (0.8, 0.1, 0.1)) -> str:
    """The split of every question whose topic is named ``label``."""
    train, dev, _ = check_fractions(fractions)
    digest = hashlib.sha256(f"{seed}\x1f{topic_key(label)}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64  # uniform in [0, 1)
    return "train" if u < train else "dev" if u < train + dev else "test"
