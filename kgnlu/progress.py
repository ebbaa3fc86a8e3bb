"""Progress for long work, on stderr: a tqdm bar on a terminal; when stderr is not a terminal (a
piped or logged run) a plain line with counts and rate at most every 10 s
(``KGNLU_PROGRESS_INTERVAL`` seconds), so a long job is never silent until the end; nothing with
``KGNLU_PROGRESS=0``. ``KGNLU_PROGRESS=1`` forces the bar."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


LOG_INTERVAL_S = 10.0


def progress_enabled() -> bool:
    """Whether a live bar is drawn (a terminal, or KGNLU_PROGRESS=1)."""
    flag = os.environ.get("KGNLU_PROGRESS")
    if flag is not None:
        return flag not in ("0", "false", "no", "")
    return _isatty()


def progress_silenced() -> bool:
    return os.environ.get("KGNLU_PROGRESS") in ("0", "false", "no", "")


def _isatty() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(total: int | None = None, desc: str = "", unit: str = "it"):
    """A bar to ``.update(n)`` by hand; use as a context manager. Off a terminal, a
    :class:`LogProgress` that prints a line now and then instead."""
    if not progress_enabled() and not progress_silenced() and os.environ.get("RANK", "0") == "0":  # one rank logs
        return LogProgress(total=total, desc=desc, unit=unit)
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, disable=not progress_enabled(),
                file=sys.stderr, dynamic_ncols=True, leave=False)


class LogProgress:
    """tqdm's bar interface (``update``, ``close``, ``total``, ``n``, ``set_postfix``,
    ``set_description``) for a stderr that is not a terminal: one line
    ``kgnlu: DESC: N/TOTAL UNIT (P%), R UNIT/s, S s`` at most every ``interval`` seconds, and a
    last one on close when any was printed — a short job stays quiet."""

    def __init__(self, total: int | None = None, desc: str = "", unit: str = "it",
                 interval: float | None = None) -> None:
        self.total, self.desc, self.unit, self.n = total, desc, unit, 0
        if interval is None:
            try:
                interval = float(os.environ.get("KGNLU_PROGRESS_INTERVAL", LOG_INTERVAL_S))
            except ValueError:
                interval = LOG_INTERVAL_S
        self.interval = interval
        self.start = self._last = time.monotonic()
        self.postfix = ""
        self.lines = 0
        self.closed = False

    def update(self, n: int | float = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._print(now)

    def set_postfix(self, refresh: bool = True, **values) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_description(self, desc: str = "", refresh: bool = True) -> None:
        self.desc = desc

    def refresh(self) -> None:
        pass

    def _print(self, now: float, done: bool = False) -> None:
        elapsed = now - self.start
        count = _count(self.n)
        if self.total:
            count += f"/{_count(self.total)} {self.unit} ({100 * self.n / self.total:.0f}%)"
        else:
            count += f" {self.unit}"
        rate = f"{_count(self.n / elapsed)} {self.unit}/s" if elapsed > 0 else ""
        parts = [count, rate, f"{elapsed:.0f} s" + (" done" if done else ""), self.postfix]
        print(f"kgnlu: {self.desc or 'progress'}: " + ", ".join(p for p in parts if p), file=sys.stderr, flush=True)
        self.lines += 1

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.lines:
            self._print(time.monotonic(), done=True)

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _count(x: float) -> str:
    """12, 3.4k, 5.6M: tqdm's unit_scale, short."""
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.1f}{suffix}"
    return f"{x:.0f}" if float(x).is_integer() or abs(x) >= 10 else f"{x:.1f}"


def track(items: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it") -> Iterator[T]:
    """Iterate with a bar."""
    with progress_bar(total=total, desc=desc, unit=unit) as bar:
        for item in items:
            yield item
            bar.update(1)


def note(message: str) -> None:
    """One ``kgnlu: message`` line on stderr about slow one-off work (building an index, say) —
    on a terminal or not; silent with ``KGNLU_PROGRESS=0``."""
    if not progress_silenced():
        print(f"kgnlu: {message}", file=sys.stderr, flush=True)
