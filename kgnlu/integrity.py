"""sha256 checksums for saved weights (issue 19, item 4: byte flips inside safetensors loaded silently).

safetensors checks its header, not the tensor bytes, so a flipped bit in a weight loads as a
different model. Every folder kgnlu saves weights into (encoders, fused encoders, KGE embeddings,
QA models, MLM heads, training checkpoints) gets a ``checksums.json`` beside them, written last
by :func:`write_checksums`; :func:`verify_file` (called by :func:`kgnlu.io.load_tensors` and the
other weight readers) compares a file with it before it is read. A folder saved before checksums
existed has no ``checksums.json`` and loads as it always did.

Hashing streams 1 MiB blocks: about 0.3 s per 100 MB, paid once per load.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from kgnlu.atomic_files import atomic_write
from kgnlu.errors import CheckpointError

CHECKSUMS = "checksums.json"
FORMAT = "kgnlu-checksums"
COVERED = "*.safetensors"  # what a listing covers: the weights (configs are validated as they are read)


def file_sha256(paths: str | Path | Iterable[str | Path], chunk: int = 1 << 20) -> str:
    """The sha256 of one file's bytes, or of several files' bytes in the order given, as lowercase
    hex (``hashlib.sha256(data).hexdigest()``); streams 1 MiB blocks. The one file hasher."""
    h = hashlib.sha256()
    for path in [paths] if isinstance(paths, str | Path) else paths:
        with open(path, "rb") as f:
            while block := f.read(chunk):
                h.update(block)
    return h.hexdigest()


def source_checksum(paths: str | Path | Iterable[str | Path]) -> str:
    """``"sha256:<hex>"`` of :func:`file_sha256`: the labelled form graph manifests (a source's
    ``checksum``) and linker index manifests record."""
    return "sha256:" + file_sha256(paths)


def write_checksums(folder: str | Path) -> Path:
    """Record the sha256 of every weights file in ``folder`` (call it after the last one is written)."""
    folder = Path(folder)
    files = {p.name: file_sha256(p) for p in sorted(folder.glob(COVERED)) if p.is_file()}
    listing = folder / CHECKSUMS
    with atomic_write(listing) as f:
        f.write(json.dumps({"format": FORMAT, "version": 1, "algorithm": "sha256", "files": files}, indent=1) + "\n")
    return listing


def verify_file(path: str | Path) -> None:
    """CheckpointError (E031) unless ``path`` matches the sha256 its folder's listing records.

    No listing: the folder predates checksums, nothing to compare. A missing ``path`` is left to
    the reader, whose error names it.
    """
    path = Path(path)
    listing = path.parent / CHECKSUMS
    if not listing.is_file() or not path.is_file():
        return
    recorded = _read_listing(listing).get(path.name)
    if recorded is None:
        raise CheckpointError(f"{listing} lists no checksum for {path.name}: the listing was edited or the "
                              "file added after saving, so it cannot be trusted. Save the model again.")
    if file_sha256(path) != recorded:
        raise CheckpointError(f"{path} does not match its sha256 in {listing}: the file was modified or "
                              "corrupted after it was saved. Restore it from a backup, or re-create it "
                              "(train or save the model again).")


def _read_listing(listing: Path) -> dict[str, str]:
    try:
        data = json.loads(listing.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{listing} is unreadable ({err}); save the model again") from None
    files = data.get("files") if isinstance(data, dict) and data.get("format") == FORMAT else None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise CheckpointError(f"{listing} is not a {FORMAT} listing (name → sha256); save the model again")
    return files
