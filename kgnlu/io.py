"""File helpers: atomic writes (write beside the target, fsync, rename: a crash leaves the old file or
none), the one JSON reader for saved models and checkpoints and the one JSON-lines reader (errors
name the file, line and column)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Single files are written atomically by kgnlu.atomic_files (below kgnlu.integrity, which writes its
# checksum listings with it); these names stay importable here.
from kgnlu.atomic_files import atomic_path, atomic_write  # noqa: F401

# Whole-directory replacement (renameat2 exchange, its two-rename fallback and crash recovery, the
# writers' lock, stale staging clean-up) lives in kgnlu.dirswap; these names stay importable here.
from kgnlu.dirswap import atomic_directory, swap_into_place  # noqa: F401


def read_json(path: str | Path, hint: str = "") -> Any:
    """A JSON file of a saved model or checkpoint; a missing or malformed one is a
    :class:`~kgnlu.errors.CheckpointError` (E031) naming it, followed by ``hint`` (what to do)."""
    import json

    from kgnlu.errors import CheckpointError

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise CheckpointError(f"cannot read {path}: {err}" + (f". {hint}" if hint else "")) from None


def iter_json_lines(path: str | Path, expected: str = "a JSON object", errors: str = "strict",
                    ) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line of a JSON-lines file; anything but a JSON
    object raises :class:`~kgnlu.errors.ParseError` with the file, line and column and ``expected``."""
    import json

    from kgnlu.errors import ParseError

    with open(path, encoding="utf-8", errors=errors) as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ParseError(path, lineno, err.colno, f"{expected} ({err.msg})") from None
            if not isinstance(record, dict):
                raise ParseError(path, lineno, 1, expected)
            yield lineno, record


def save_png(figure, path: str | Path, dpi: int = 120) -> Path:
    """Write a matplotlib figure to ``path`` as PNG atomically, then close it (figures hold memory)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi, format="png")
    plt.close(figure)
    return path


def load_tensors(path: str | Path, numpy: bool = False) -> dict:
    """A safetensors file's tensors (torch, or numpy arrays with ``numpy``); a missing, truncated, corrupt or modified
    (:mod:`kgnlu.integrity` checksum) file is a CheckpointError (E031) naming it, not safetensors' own error without a path. safetensors never runs code."""
    from safetensors import SafetensorError

    from kgnlu.errors import CheckpointError
    from kgnlu.integrity import verify_file

    verify_file(path)  # safetensors checks the header, not the weights: compare the saved sha256
    if numpy:
        from safetensors.numpy import load_file
    else:
        from safetensors.torch import load_file
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path} is not a readable safetensors file ({err}); "
                              "restore or re-create it (train or save the model again)") from None
