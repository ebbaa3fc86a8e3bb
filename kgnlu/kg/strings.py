"""StringTable: many strings as one UTF-8 blob + int64 offsets, memory-mapped, no pickle.

``table[i]`` decodes one string; ``table.find(s)`` binary-searches a table written sorted (or
through a sort permutation). UTF-8 byte order equals code-point order, so Python's ``sorted``
order is the order the bytes compare in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

_CACHED_LEVELS = 14  # StringTable.find keeps the keys of its first 14 bisection levels (≤ 16k keys)


def write_strings(strings: Sequence[str], stem: Path) -> list[Path]:
    """Write ``stem.offsets.npy`` and ``stem.blob.bin``; returns the two paths."""
    encoded = [s.encode("utf-8", "surrogatepass") for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    off_path = stem.with_name(stem.name + ".offsets.npy")
    blob_path = stem.with_name(stem.name + ".blob.bin")
    np.save(off_path, offsets)
    blob_path.write_bytes(b"".join(encoded))
    return [off_path, blob_path]


class StringTable:
    def __init__(self, stem: Path, order: np.ndarray | None = None):
        # Plain ndarray views of the mappings (np.asarray): indexing a np.memmap builds a memmap
        # object per access (~3 µs), which made a lookup's ~20 bisection steps cost 0.1-0.4 ms
        # and grow with the table (issue 22); the pages stay shared and lazy.
        self.offsets = np.asarray(np.load(stem.with_name(stem.name + ".offsets.npy"), mmap_mode="r"))
        blob_path = stem.with_name(stem.name + ".blob.bin")
        size = blob_path.stat().st_size
        # np.memmap refuses empty files; an empty table needs no mapping.
        self.blob = np.asarray(np.memmap(blob_path, dtype=np.uint8, mode="r")) if size else np.zeros(0, np.uint8)
        # permutation that sorts the table, when it is not stored sorted
        self.order = None if order is None else np.asarray(order)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> str:
        start, end = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.blob[start:end].tobytes().decode("utf-8", "surrogatepass")

    def __iter__(self) -> Iterator[str]:
        data = self.blob.tobytes().decode("utf-8", "surrogatepass") if len(self.blob) else ""
        if data.isascii():  # byte offsets equal character offsets: slice the decoded string
            offs = self.offsets.tolist()
            for i in range(len(self)):
                yield data[offs[i] : offs[i + 1]]
        else:
            for i in range(len(self)):
                yield self[i]

    def to_list(self) -> list[str]:
        return list(self)

    def find(self, s: str) -> int:
        """Index of ``s`` (-1 if absent). Needs a sorted table or a sort ``order``.

        Binary search on UTF-8 bytes (their order is code-point order: no decoding). The first
        ``_CACHED_LEVELS`` levels probe the same positions for every query, so their keys are kept
        (at most 2^levels, filled as probed): a lookup reads ~log2(n) - 14 keys from the mapping,
        which keeps it near-flat from thousands to tens of millions of strings (issue 22)."""
        key = s.encode("utf-8", "surrogatepass")
        cache = self.__dict__.setdefault("_probe_cache", {})
        offsets, blob, order = self.offsets, self.blob, self.order
        lo, hi, depth = 0, len(self), 0
        while lo < hi:
            mid = (lo + hi) // 2
            probe = cache.get(mid) if depth < _CACHED_LEVELS else None
            if probe is None:
                i = mid if order is None else int(order[mid])
                probe = blob[int(offsets[i]):int(offsets[i + 1])].tobytes()
                if depth < _CACHED_LEVELS:
                    cache[mid] = probe
            if probe < key:
                lo = mid + 1
            else:
                hi = mid
            depth += 1
        if lo < len(self):
            i = lo if order is None else int(order[lo])
            if blob[int(offsets[i]):int(offsets[i + 1])].tobytes() == key:
                return i
        return -1

    def neighbourhood(self, s: str, width: int) -> list[str]:
        """Up to 2·width strings around where ``s`` would sort (for 'did you mean' hints)."""
        view = _SortedView(self)
        pos = bisect.bisect_left(view, s)
        return [view[i] for i in range(max(0, pos - width), min(len(view), pos + width))]



def read_strings(table: StringTable) -> list[str]:
    """All strings of a table at once: one bytes copy, then slices (StringTable's per-item path
    costs ~4 µs a string on non-ASCII tables; this costs ~0.3)."""
    blob = table.blob.tobytes()
    offs = np.asarray(table.offsets).tolist()
    return [blob[a:b].decode("utf-8", "surrogatepass") for a, b in zip(offs[:-1], offs[1:], strict=True)]

class _SortedView:
    """The table in sorted order, as a sequence ``bisect`` can search."""

    def __init__(self, table: StringTable):
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i: int) -> str:
        order = self.table.order
        return self.table[i if order is None else int(order[i])]
