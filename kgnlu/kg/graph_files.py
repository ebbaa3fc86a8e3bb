"""The on-disk graph directory: written atomically, verified on load, memory-mapped, no pickle.

Layout (all arrays .npy, all strings :mod:`kgnlu.kg.strings` tables)::

    manifest.json                 name, format version, sources (+checksums), counts, prefixes,
                                  kinds, and sha256 + size of every file below
    entities/ids.*  labels.*  texts.*  kinds.npy (uint16)  ids_order.npy (sort permutation)
    relations/ids.*  labels.*
    triples.npy                   int32 [T, 3] sorted by (head, relation, tail)
    triple_split.npy              uint8 [T]: 0 train, 1 valid, 2 test
    csr/out_indptr.npy            int64 [E+1]: triples of head e are rows out_indptr[e]:out_indptr[e+1]
    csr/in_indptr.npy, in_index.npy   int64 [E+1], int32 [T]: triple rows by tail
    aliases/keys.* (sorted)  indptr.npy int64 [A+1]  entities.npy int32  priors.npy float32
    store/                        Oxigraph store (SPARQL)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from kgnlu.dirswap import clean_stale, new_staging, swap_into_place, target_lock
from kgnlu.errors import GraphExistsError, GraphIntegrityError
from kgnlu.kg.graph_builder import SPLITS, GraphData
from kgnlu.kg.manifest_check import check_file_list
from kgnlu.kg.namespaces import PREFIXES
from kgnlu.kg.sparql_store import build_store
from kgnlu.kg.strings import write_strings
from kgnlu.progress import progress_bar
from kgnlu.version import __version__

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def csr_indptr(keys: np.ndarray, n: int) -> np.ndarray:
    """int64 [n+1] row pointers for rows grouped by ``keys`` (keys sorted ascending)."""
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=indptr[1:])
    return indptr


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def graph_exists(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def check_target(out: Path, force: bool) -> None:
    """Refuse early (before any work) to overwrite an existing graph or a non-graph folder."""
    if out.exists() and not out.is_dir():
        raise GraphExistsError(f"{out} is a file, not a graph folder; choose another --out")
    if out.exists():
        if not force:
            raise GraphExistsError(f"{out} already exists; pass --force (force=True) to replace it")
        if not graph_exists(out) and any(out.iterdir()):
            raise GraphExistsError(f"{out} is a non-empty folder that is not a kgnlu graph; "
                                   "refusing to replace it even with --force. Choose another --out.")


def write_graph(data: GraphData, out: Path, *, force: bool = False, store: bool = True,
                keep_derived: bool = True, report=None) -> Path:
    """Write ``data`` to ``out`` atomically: a temp folder beside it, renamed into place at the end.

    On any failure the temp folder is removed and ``out`` is left exactly as it was; a kill leaves
    the old graph or the new one, and builders of one ``out`` take turns (:mod:`kgnlu.dirswap`). Replacing a
    graph keeps what was computed from it (embeddings, linker indexes: :mod:`kgnlu.kg.derived`)
    unless ``keep_derived`` is False; ``report`` (a callable) is told what was kept or dropped.
    """
    out = Path(out).absolute()
    check_target(out, force)
    # one builder of ``out`` at a time (a second waits); holding the lock, put back a graph a killed
    # swap left aside and clear killed builds' staging, then check again: the first may have made ``out``
    with target_lock(out):
        for line in clean_stale(out):
            if report:
                report(line)
        check_target(out, force)
        return _write_locked(data, out, store, keep_derived, report)


def _write_locked(data: GraphData, out: Path, store: bool, keep_derived: bool, report) -> Path:
    tmp = new_staging(out)
    try:
        files = _write_arrays(data, tmp)
        prefixes = {**PREFIXES, **data.prefixes}
        quads = 0
        if store:
            with progress_bar(None, "SPARQL store", "step") as bar:
                quads = build_store(data, prefixes, tmp / "store")
                bar.update(1)
        manifest = _manifest(data, tmp, files, quads, store)
        _write_json(tmp / MANIFEST, manifest)
        _derived(out, tmp, keep_derived, report)
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _derived(out: Path, staging: Path, keep: bool, report) -> None:
    from kgnlu.kg.derived import DERIVED, carry_derived

    if not graph_exists(out):
        return
    if keep:
        carried = carry_derived(out, staging)
        if carried and report:
            report(f"kept {', '.join(f'{out}/{n}' for n in carried)} from the previous build "
                   "(each is checked against the new graph when used)")
    elif report:
        dropped = [f"{out}/{n}" for n in DERIVED if (out / n).is_dir()]
        if dropped:
            report(f"dropping {', '.join(dropped)} (--drop-derived)")


def _write_arrays(data: GraphData, root: Path) -> list[Path]:
    for sub in ("entities", "relations", "csr", "aliases"):
        (root / sub).mkdir()
    files: list[Path] = []
    n_ent = len(data.entity_ids)

    def save(rel: str, arr: np.ndarray) -> None:
        np.save(root / rel, arr)
        files.append(root / rel)

    files += write_strings(data.entity_ids, root / "entities" / "ids")
    files += write_strings(data.entity_labels, root / "entities" / "labels")
    files += write_strings(data.entity_texts, root / "entities" / "texts")
    save("entities/kinds.npy", data.entity_kinds)
    save("entities/ids_order.npy", np.asarray(sorted(range(n_ent), key=data.entity_ids.__getitem__),
                                               dtype=np.int32))
    files += write_strings(data.relation_ids, root / "relations" / "ids")
    files += write_strings(data.relation_labels, root / "relations" / "labels")

    triples = np.ascontiguousarray(data.triples, dtype=np.int32).reshape(-1, 3)
    save("triples.npy", triples)
    save("triple_split.npy", data.triple_split.astype(np.uint8))
    save("csr/out_indptr.npy", csr_indptr(triples[:, 0], n_ent))
    # Rows by tail: stable sort keeps (head, relation) order within one tail.
    in_index = np.argsort(triples[:, 2], kind="stable").astype(np.int32)
    save("csr/in_indptr.npy", csr_indptr(triples[in_index, 2], n_ent))
    save("csr/in_index.npy", in_index)

    files += write_strings(data.alias_keys, root / "aliases" / "keys")
    save("aliases/indptr.npy", data.alias_indptr)
    save("aliases/entities.npy", data.alias_entities)
    save("aliases/priors.npy", data.alias_priors)
    return files


def _manifest(data: GraphData, root: Path, files: list[Path], quads: int, store: bool) -> dict:
    split_counts = np.bincount(data.triple_split, minlength=len(SPLITS)).tolist()
    return {
        "format": "kgnlu-graph",
        "format_version": FORMAT_VERSION,
        "kgnlu_version": __version__,
        "name": data.name,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "counts": {
            "entities": len(data.entity_ids),
            "relations": len(data.relation_ids),
            "triples": int(len(data.triples)),
            "aliases": len(data.alias_keys),
            "alias_links": int(len(data.alias_entities)),
            "store_quads": quads,
            **({f"{s}_triples": c for s, c in zip(SPLITS, split_counts, strict=True)}
               if data.has_splits else {}),
        },
        "has_splits": data.has_splits,
        "has_store": store,
        "kinds": data.kinds,
        "prefixes": data.prefixes,
        "sources": [s.to_json() for s in data.sources],
        "files": {
            str(p.relative_to(root)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in sorted(files)
        },
    }


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_manifest(path: Path) -> dict:
    mf = Path(path) / MANIFEST
    if not mf.is_file():
        raise GraphIntegrityError(f"{path} is not a kgnlu graph (no {MANIFEST}); "
                                  "build one with `kgnlu graph build SOURCE... --out DIR`")
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GraphIntegrityError(f"{mf} is corrupt ({err}); rebuild the graph") from None
    if not isinstance(manifest, dict) or manifest.get("format") != "kgnlu-graph" \
            or manifest.get("format_version") != FORMAT_VERSION:
        version = manifest.get("format_version") if isinstance(manifest, dict) else None
        raise GraphIntegrityError(
            f"{path} has graph format {version!r}; this kgnlu reads "
            f"version {FORMAT_VERSION}. Rebuild it with `kgnlu graph build`.")
    _check_manifest_files(mf, manifest.get("files"))
    check_file_list(mf, manifest["files"])
    return manifest


def _check_manifest_files(mf: Path, files) -> None:
    """The manifest's file list: relative paths inside the graph, each with a size and a sha256."""
    if not isinstance(files, dict) or not files:
        raise GraphIntegrityError(f"{mf} has no 'files' list (name → bytes, sha256); rebuild the graph")
    for name, entry in files.items():
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts or not parts:
            raise GraphIntegrityError(f"{mf} lists {name!r}, a path outside the graph; rebuild the graph")
        if not isinstance(entry, dict) or not isinstance(entry.get("bytes"), int) \
                or not isinstance(entry.get("sha256"), str):
            raise GraphIntegrityError(f"{mf}: entry {name!r} needs 'bytes' (an integer) and 'sha256'; "
                                      "rebuild the graph")


def verify_files(path: Path, manifest: dict, *, checksums: bool) -> None:
    """Sizes always; sha256 when ``checksums``. Raises GraphIntegrityError naming the bad file."""
    for rel, info in manifest["files"].items():
        f = Path(path) / rel
        if not f.is_file():
            raise GraphIntegrityError(f"{f} is missing; the graph is incomplete. Rebuild it.")
        if f.stat().st_size != info["bytes"]:
            raise GraphIntegrityError(f"{f} has {f.stat().st_size} bytes, the manifest says "
                                      f"{info['bytes']}: truncated or modified. Rebuild the graph.")
        if checksums and _sha256(f) != info["sha256"]:
            raise GraphIntegrityError(f"{f} does not match its sha256 in the manifest: modified "
                                      "after the build. Rebuild the graph.")
    if manifest.get("has_store") and not (Path(path) / "store").is_dir():
        raise GraphIntegrityError(f"{path}/store is missing; rebuild the graph")
