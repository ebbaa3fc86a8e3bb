"""Long texts are linked in overlapping windows, so memory is bounded by the window, not the text.

Linking keeps per-token and per-mention Python objects (a spaCy Doc, token words, candidates and
their features): about 0.2–1.2 KB per character of text, all alive at once. A 5 MB text took 6 GB.
Windows of ``size`` characters (cut at a line or sentence end, else at whitespace, so no token is
split) are linked one at a time; each window reaches ``margin`` characters past its own part on
both sides, and only links that *start* in its own part are kept. A mention crossing a cut is
therefore whole in the window that owns it (mentions are far shorter than the margin) and sees
context on both sides. Offsets are exact: each window's links are shifted by its start.

Linking a text is, by definition, linking its :func:`windows` separately and keeping each window's
own links; a text up to ``size`` characters is one window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WINDOW_CHARS = 20_000
MARGIN_CHARS = 1_000
# Windows bound the working memory, not the result: a link with its candidates is ~1 KB (about
# 90 bytes a character of WordNet-dense text), so one text of 10 million characters may return
# ~1 GB of links. Longer inputs are documents to stream (link_batch), not one text.
MAX_TEXT_CHARS = 10_000_000
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s")


@dataclass(frozen=True, slots=True)
class Window:
    start: int  # text[start:end] is linked ...
    end: int
    own_start: int  # ... and its links with own_start <= link.start < own_end are kept
    own_end: int


def check_size(length: int, limit: int = MAX_TEXT_CHARS) -> None:
    if length > limit:
        from kgnlu.errors import InputTooLargeError

        raise InputTooLargeError(
            f"a text of {length:,} characters is over the linker's limit of {limit:,} "
            "(max_text_chars); split it into documents (one a line for `kgnlu link --input`, or "
            "link_batch) or raise the limit with EntityLinker.from_graph(..., max_text_chars=N)")


def windows(text: str, size: int = WINDOW_CHARS, margin: int = MARGIN_CHARS) -> list[Window]:
    n = len(text)
    if n <= size:
        return [Window(0, n, 0, n)]
    margin = min(margin, size // 4)
    cuts = [0]
    while n - cuts[-1] > size:
        cuts.append(_cut(text, cuts[-1] + size, cuts[-1] + size // 2, prefer_sentence=True))
    cuts.append(n)
    out = []
    for own_start, own_end in zip(cuts[:-1], cuts[1:], strict=True):
        start = 0 if own_start == 0 else _cut(text, own_start - margin, own_start - 2 * margin)
        end = n if own_end == n else _cut_after(text, own_end + margin, own_end + 2 * margin)
        out.append(Window(start, end, own_start, own_end))
    return out


def _cut(text: str, pos: int, floor: int, prefer_sentence: bool = False) -> int:
    """A token start at or before ``pos`` and after ``floor``: after a newline, else after a
    sentence end, else after any whitespace, else ``pos`` itself (a run with no spaces at all)."""
    floor = max(floor, 1)
    if prefer_sentence:
        nl = text.rfind("\n", floor, pos)
        if nl >= 0:
            return nl + 1
        last = None
        for m in _SENTENCE_END.finditer(text, max(floor, pos - 2_000), pos):
            last = m
        if last is not None:
            return last.end()
    for i in range(pos - 1, floor - 1, -1):
        if text[i].isspace():
            return i + 1
    return pos


def _cut_after(text: str, pos: int, ceiling: int) -> int:
    """A token end at or after ``pos`` (a whitespace position) and before ``ceiling``."""
    ceiling = min(ceiling, len(text))
    for i in range(min(pos, len(text)), ceiling):
        if text[i].isspace():
            return i
    return ceiling
