"""The graph manifest checked against the files it describes (issue 19, item 8).

The manifest's sha256s guard the files, but the manifest itself could be edited unnoticed: counts
changed (and shown by `graph info`), or a file dropped from its list (and so from checking). Here

* :func:`check_file_list`: every file the format writes must be listed, so none escapes the
  size and sha256 checks (paths outside the graph are refused by ``storage.read_manifest``);
* :func:`check_counts`: the counts, dtypes and shapes agree with the memory-mapped arrays —
  each a shape, dtype or one element, so it costs nothing even with ``verify=False``; the
  per-split counts read the split array once and run only when checksums are verified.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kgnlu.errors import GraphIntegrityError

_STRING_TABLES = ("entities/ids", "entities/labels", "entities/texts", "relations/ids", "relations/labels",
                  "aliases/keys")
_ARRAYS = {  # file → (dtype, trailing shape); the leading length is checked against the counts
    "entities/kinds.npy": ("uint16", ()),
    "entities/ids_order.npy": ("int32", ()),
    "triples.npy": ("int32", (3,)),
    "triple_split.npy": ("uint8", ()),
    "csr/out_indptr.npy": ("int64", ()),
    "csr/in_indptr.npy": ("int64", ()),
    "csr/in_index.npy": ("int32", ()),
    "aliases/indptr.npy": ("int64", ()),
    "aliases/entities.npy": ("int32", ()),
    "aliases/priors.npy": ("float32", ()),
}
# Every file ``storage._write_arrays`` writes (a test keeps the two in step).
REQUIRED_FILES = frozenset([f"{t}.{part}" for t in _STRING_TABLES for part in ("offsets.npy", "blob.bin")]
                           + list(_ARRAYS))
_COUNTS = ("entities", "relations", "triples", "aliases", "alias_links")


def check_file_list(mf: Path, files: dict) -> None:
    missing = sorted(REQUIRED_FILES - set(files))
    if missing:
        raise GraphIntegrityError(f"{mf} does not list {', '.join(missing)}, which every graph has: the "
                                  "manifest was edited or damaged, so those files would go unchecked. "
                                  "Rebuild the graph.")


def check_counts(kg, *, splits: bool) -> None:
    """``kg`` (a freshly opened KnowledgeGraph) against ``kg.manifest["counts"]``."""
    mf = kg.path / "manifest.json"
    counts = kg.manifest.get("counts")
    if not isinstance(counts, dict) or not all(type(counts.get(k)) is int for k in _COUNTS):
        raise GraphIntegrityError(f"{mf}: 'counts' needs integer {', '.join(_COUNTS)}; rebuild the graph")
    n_ent, n_rel, n_tri = counts["entities"], counts["relations"], counts["triples"]
    n_alias, n_links = counts["aliases"], counts["alias_links"]
    lengths = {
        "entities/kinds.npy": n_ent, "entities/ids_order.npy": n_ent, "triples.npy": n_tri,
        "triple_split.npy": n_tri, "csr/out_indptr.npy": n_ent + 1, "csr/in_indptr.npy": n_ent + 1,
        "csr/in_index.npy": n_tri, "aliases/indptr.npy": n_alias + 1, "aliases/entities.npy": n_links,
        "aliases/priors.npy": n_links,
    }
    arrays = {
        "entities/kinds.npy": kg.entity_kinds, "entities/ids_order.npy": kg._ids.order,
        "triples.npy": kg.triples, "triple_split.npy": kg.triple_split,
        "csr/out_indptr.npy": kg.walker.out_indptr, "csr/in_indptr.npy": kg.walker.in_indptr,
        "csr/in_index.npy": kg.walker.in_index, "aliases/indptr.npy": kg._alias_indptr,
        "aliases/entities.npy": kg._alias_entities, "aliases/priors.npy": kg._alias_priors,
    }
    for name, arr in arrays.items():
        dtype, tail = _ARRAYS[name]
        if arr.dtype != np.dtype(dtype) or arr.shape != (lengths[name], *tail):
            raise _mismatch(mf, f"{name} is {arr.dtype} {arr.shape}, the counts imply {dtype} "
                                f"{(lengths[name], *tail)}")
    tables = {"entities/ids": (kg._ids, n_ent), "entities/labels": (kg._labels, n_ent),
              "entities/texts": (kg._texts, n_ent), "relations/ids": (kg._relation_ids, n_rel),
              "relations/labels": (kg._relation_labels, n_rel), "aliases/keys": (kg._alias_keys, n_alias)}
    for name, (table, n) in tables.items():
        if len(table) != n or (n and (int(table.offsets[0]) != 0 or int(table.offsets[-1]) != len(table.blob))):
            raise _mismatch(mf, f"{name} holds {len(table)} strings (or its offsets overrun its blob), "
                                f"the counts say {n}")
    ends = {"csr/out_indptr.npy": n_tri, "csr/in_indptr.npy": n_tri, "aliases/indptr.npy": n_links}
    for name, end in ends.items():
        if int(arrays[name][0]) != 0 or int(arrays[name][-1]) != end:
            raise _mismatch(mf, f"{name} spans rows {int(arrays[name][0])}..{int(arrays[name][-1])}, "
                                f"not 0..{end}")
    if splits and kg.manifest.get("has_splits"):
        found = np.bincount(kg.triple_split, minlength=3).tolist()
        said = [counts.get(f"{s}_triples") for s in ("train", "valid", "test")]
        if found[:3] != said or len(found) > 3:
            raise _mismatch(mf, f"the split sizes are {found}, the counts say {said}")


def _mismatch(mf: Path, what: str) -> GraphIntegrityError:
    return GraphIntegrityError(f"{mf} does not match the graph's files: {what}. The manifest or the "
                               "files were edited or damaged; rebuild the graph.")
