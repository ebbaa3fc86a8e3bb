"""Nearest entities by embedding, through a faiss index stored beside the embeddings.

Cosine similarity (inner product over unit rows, ``IndexFlatIP``): it suits every model here,
including the bilinear ones whose vector lengths carry no meaning for "is like". The index is
built on first use, saved as ``index.faiss`` (faiss's own binary format, no pickle) and reused
while it is newer than the embeddings.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kgnlu.kge.storage import TENSORS, StoredEmbeddings, load_embeddings

INDEX = "index.faiss"


def unit_rows(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def build_index(vectors: np.ndarray):
    """A flat inner-product index over unit rows of ``vectors`` [N, D]."""
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(unit_rows(vectors))
    return index


def load_index(stored: StoredEmbeddings):
    """The stored index, (re)built and written atomically when missing or stale."""
    import faiss

    path = stored.path / INDEX
    if path.is_file() and path.stat().st_mtime >= (stored.path / TENSORS).stat().st_mtime:
        index = faiss.read_index(str(path))
        if index.ntotal == stored.entity.shape[0]:
            return index
    index = build_index(stored.entity.numpy())
    tmp = path.with_name(f".{INDEX}.{os.getpid()}.tmp")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)
    return index


def similar(kg, entity: str | int, k: int = 10, name: str | None = None) -> list[tuple[int, float]]:
    """The ``k`` entities nearest to ``entity`` (any name ``kg.lookup`` accepts) by cosine
    similarity of embeddings ``name``: [(entity id, similarity)], best first, itself excluded."""
    stored = load_embeddings(kg.path, name)
    e = kg.lookup(entity)
    index = load_index(stored)
    query = unit_rows(stored.entity[e:e + 1].numpy())
    scores, ids = index.search(query, min(k + 1, index.ntotal))
    out = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0 and i != e]
    return out[:k]


def similar_vectors(stored_path: str | Path, vectors: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Nearest stored entities of arbitrary query vectors [Q, D] (e.g. unseen entities embedded
    from text): (similarities [Q, k], ids [Q, k])."""
    path = Path(stored_path)
    stored = load_embeddings(path.parent.parent, path.name)
    return load_index(stored).search(unit_rows(vectors), k)
