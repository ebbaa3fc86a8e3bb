"""Where the linker's derived files live, so that *using* a graph never writes into it.

Like Hugging Face's hub cache: what is computed from a graph (the linker's indexes, MiniLM entity
embeddings, the dense index) is read from the graph's own ``GRAPH/linker/`` when it ships one
that is current (a shared, read-only graph), else from the user cache
``$KGNLU_CACHE/linker/<name>-<identity>/`` (default ``$KGNLU_HOME/cache``), else built and saved
to the user cache. Only ``save="graph"`` (``kgnlu link --save-index``) writes ``GRAPH/linker/``.

Entity embeddings record the graph's :func:`graph_identity` (a digest of every graph file's
checksum) in their safetensors metadata: rows are keyed by entity index, so they stay valid exactly
while the graph's files are the same, and a rebuild of a damaged or stale index keeps them
(:func:`carry_embeddings`) instead of throwing away hours of encoder time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)
SAVE_MODES = ("cache", "graph", "none")
EMBEDDINGS = "embeddings.safetensors"
# the dense index is built from the embeddings and saved with them: it travels with them
DERIVED_FILES = (EMBEDDINGS, "dense.faiss", "dense_ids.npy")


def save_mode(save: bool | str | None) -> str:
    """``True`` (the old default) is ``"cache"``; ``False``/``None`` is ``"none"``."""
    from kgnlu.errors import ConfigError

    mode = {True: "cache", False: "none", None: "none"}.get(save, save)  # type: ignore[arg-type]
    if mode not in SAVE_MODES:
        raise ConfigError(f"save must be one of {', '.join(SAVE_MODES)} (or True/False), got {save!r}")
    return mode


def cache_root() -> Path:
    """``$KGNLU_CACHE``, default ``$KGNLU_HOME/cache`` (tests point it at a temp folder)."""
    from kgnlu.kg.build import kgnlu_home

    env = os.environ.get("KGNLU_CACHE")
    return Path(env).expanduser() if env else kgnlu_home() / "cache"


def graph_identity(kg) -> str:
    """sha256 over the manifest's per-file checksums: the same exactly when every graph file is
    (the QA cache's ``graph_checksum``, without its prefix)."""
    files = json.dumps(kg.manifest.get("files", {}), sort_keys=True).encode()
    return hashlib.sha256(files).hexdigest()


def cache_folder(kg) -> Path:
    """The user-cache folder of this build of ``kg``. The index manifest also checks the build
    (name, created, counts), so the key includes them: two builds never overwrite each other."""
    from kgnlu.kg.linker.index import graph_fingerprint

    key = hashlib.sha256((graph_identity(kg) + json.dumps(graph_fingerprint(kg), sort_keys=True))
                         .encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(kg.name))[:40] or "graph"
    return cache_root() / "linker" / f"{name}-{key}"


def embeddings_identity(path: Path) -> str | None:
    """The graph identity an embeddings file was saved for; None when it records none (saved by
    an older kgnlu) or cannot be read."""
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="numpy") as f:
            return (f.metadata() or {}).get("graph")
    except Exception:  # a damaged file is the loader's to report; here it only has no identity
        return None


def embeddings_fit(folder: Path, kg) -> bool:
    """Whether ``folder``'s embeddings (and the dense index saved with them) belong to ``kg``: the
    recorded identity matches, or, for files that record none, the folder's index is current."""
    from kgnlu.kg.linker.index import LinkerIndex

    path = folder / EMBEDDINGS
    if not path.is_file():
        return False
    identity = embeddings_identity(path)
    if identity is None:
        return LinkerIndex.is_current(folder, kg)
    return identity == graph_identity(kg)


def carry_embeddings(old: Path, staging: Path, kg) -> list[str]:
    """Hard-link (else copy) ``old``'s embeddings and dense index into a rebuilt index's staging
    folder when they still fit ``kg``; the names carried. An index rebuild replaces the whole
    folder, which used to delete embeddings that were still right."""
    if not (old / EMBEDDINGS).is_file() or embeddings_identity(old / EMBEDDINGS) != graph_identity(kg):
        return []
    carried = []
    for name in DERIVED_FILES:
        if (old / name).is_file() and not (staging / name).exists():
            try:
                os.link(old / name, staging / name)
            except OSError:
                shutil.copy2(old / name, staging / name)
            carried.append(name)
    return carried


def copy_index(source: Path, staging: Path) -> None:
    """The index files of ``source`` (not its embeddings) into ``staging``: ``--save-index`` of an
    index that was loaded from the user cache."""
    for p in source.iterdir():
        if p.is_file() and p.name not in DERIVED_FILES:
            shutil.copy2(p, staging / p.name)
