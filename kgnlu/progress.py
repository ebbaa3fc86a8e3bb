"""Progress bars for long work: tqdm on stderr, off when stderr is not a terminal or KGNLU_PROGRESS=0."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_enabled() -> bool:
    flag = os.environ.get("KGNLU_PROGRESS")
    if flag is not None:
        return flag not in ("0", "false", "no", "")
    return sys.stderr.isatty()


def progress_bar(total: int | None = None, desc: str = "", unit: str = "it") -> tqdm:
    """A bar to ``.update(n)`` by hand; use as a context manager."""
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, disable=not progress_enabled(),
                file=sys.stderr, dynamic_ncols=True, leave=False)


def track(items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it") -> Iterator[T]:
    """Iterate with a bar."""
    with progress_bar(total=total, desc=desc, unit=unit) as bar:
        for item in items:
            yield item
            bar.update(1)
