"""What is computed *from* a graph and stored inside its folder — KGE embeddings
(``GRAPH/embeddings/``) and the linker's indexes (``GRAPH/linker/``) — survives a rebuild.

``kgnlu graph build --force`` writes the new graph into a staging folder; :func:`carry_derived`
hard-links (copies across file systems) the old graph's derived folders into it before the swap, so
a failed build loses nothing and a finished one keeps them. Whether they still fit is each
artefact's own check: the linker rebuilds indexes of another graph version; embeddings record the
graph's :func:`index_identity` and refuse to load against a graph whose entities or relations
changed (E031, with the command that retrains them).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

DERIVED = ("embeddings", "linker")
# the manifest entries that fix entity and relation indices: same bytes, same ids in the same order
_INDEX_FILES = ("entities/ids.blob.bin", "entities/ids.offsets.npy", "relations/ids.blob.bin",
                "relations/ids.offsets.npy")


def index_identity(graph_path: str | Path) -> str | None:
    """sha256 over the checksums of the files that number the graph's entities and relations: equal
    for two builds exactly when every entity and relation keeps its index. None for a folder that
    is not a kgnlu graph (no manifest), where there is nothing to compare."""
    import json

    manifest = Path(graph_path) / "manifest.json"
    if not manifest.is_file():
        return None
    files = json.loads(manifest.read_text(encoding="utf-8")).get("files") or {}
    digest = hashlib.sha256()
    for name in _INDEX_FILES:
        digest.update(f"{name}={files.get(name, {}).get('sha256', '')}\n".encode())
    return digest.hexdigest()


def carry_derived(old_graph: Path, staging: Path) -> list[str]:
    """Link ``old_graph``'s derived folders into ``staging``; the names carried."""
    carried = []
    for name in DERIVED:
        source = old_graph / name
        if source.is_dir() and not (staging / name).exists():
            shutil.copytree(source, staging / name, copy_function=_link_or_copy, symlinks=True)
            carried.append(name)
    return carried


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)  # same file system: no bytes copied, and the old graph's removal keeps them
    except OSError:
        shutil.copy2(src, dst)
