"""The linker's indexes for one graph, built once and saved in the user cache, or beside the graph
(``GRAPH/linker/``) when asked; :mod:`.cache` says where they are read from and written to.

Files (no pickle): ``manifest.json`` (format version, the graph it was built from, entity count),
``prefixes.*`` (string table: token-boundary prefixes of alias keys), ``morphology.json``
(WordNet's ``.exc`` lists), ``canonical.npy`` / ``entity_pos.npy`` / ``proper.npy``, the fuzzy
trigram index and the lexical (Lesk) index as .npy arrays, and, once computed,
``embeddings.safetensors`` with ``dense.faiss``. The folder is written into a temp sibling and
renamed into place, so readers see the old index or the new one, never half of one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kgnlu.errors import LinkerIndexError
from kgnlu.kg.linker.candidates import AliasTable, entity_pos_codes, same_as_clusters
from kgnlu.kg.linker.fuzzy import FuzzyIndex
from kgnlu.kg.linker.lexical import LexicalIndex
from kgnlu.kg.linker.mentions import Morphology, token_keys
from kgnlu.kg.strings import StringTable, read_strings, write_strings

FORMAT_VERSION = 1
LINKER_DIR = "linker"


def graph_fingerprint(kg) -> dict:
    m = kg.manifest
    return {"name": m["name"], "created": m.get("created"), "counts": m.get("counts")}


def wordnet_directories(kg) -> list[Path]:
    """The WordNet dict folders the graph was built from (its manifest's source specs)."""
    out = []
    for s in kg.manifest.get("sources", []):
        if s.get("kind") == "wordnet":
            from kgnlu.kg.sources.wordnet import WordNetSource

            _, _, arg = s["spec"].partition(":")
            out.append(WordNetSource.from_spec(arg or None).directory)
    return out


def read_morphology(kg) -> Morphology:
    from kgnlu.kg.sources.wordnet_format import read_exceptions

    merged: dict[str, dict[str, list[str]]] = {}
    for folder in wordnet_directories(kg):
        if folder.is_dir():
            for pos, table in read_exceptions(folder).items():
                merged.setdefault(pos, {}).update(table)
    return Morphology(merged)


def entity_text(label: str, text: str) -> str:
    return f"{label}: {text}" if text else label


def entity_texts(kg) -> list[str]:
    """Label and text of every entity: what the lexical index and the embeddings read."""
    return [entity_text(label, text) for label, text in
            zip(read_strings(kg._labels), read_strings(kg._texts), strict=True)]


class GraphTexts:
    """``texts[e]`` read from the graph on demand (neural mode embeds only the candidates it meets)."""

    def __init__(self, kg):
        self.kg = kg

    def __len__(self) -> int:
        return self.kg.num_entities

    def __getitem__(self, e: int) -> str:
        return entity_text(self.kg.entity_label(e), self.kg.entity_text(e))


class LinkerIndex:
    def __init__(self, aliases: AliasTable, prefixes: set[str], morphology: Morphology,
                 canonical: np.ndarray, entity_pos: np.ndarray, proper: np.ndarray,
                 fuzzy: FuzzyIndex, lexical: LexicalIndex, texts: Sequence[str]):
        # prefixes as a str → None dict: membership as fast as a set's, and untracked by the cyclic
        # GC (a 600k-string set was rescanned by every full collection)
        self.aliases, self.prefixes, self.morphology = aliases, dict.fromkeys(prefixes), morphology
        self.canonical, self.entity_pos, self.proper = canonical, entity_pos, proper
        self.fuzzy, self.lexical = fuzzy, lexical
        self.texts = texts  # per entity "label: text" (members of sameAs clusters pooled on use)

    @classmethod
    def build(cls, kg, nlp, texts: Sequence[str] | None = None) -> LinkerIndex:
        aliases = AliasTable(kg)
        morphology = read_morphology(kg)
        prefixes: set[str] = set()
        phrases = list(morphology.inflected_phrases())
        for keys in token_keys(nlp, [*aliases.keys, *phrases]):
            prefixes.update(keys)
        canonical = same_as_clusters(kg)
        texts = list(texts) if texts is not None else entity_texts(kg)
        labels = read_strings(kg._labels)
        proper = np.fromiter((lab[:1].isupper() for lab in labels), dtype=bool, count=len(labels))
        # A cluster is a name when any member's label is (GeoNames' "Paris" and WordNet's "Paris").
        np.logical_or.at(proper, canonical, proper.copy())
        proper = proper[canonical]
        return cls(aliases, prefixes, morphology, canonical, entity_pos_codes(kg), proper,
                   FuzzyIndex.build(aliases.keys), LexicalIndex.build(texts, canonical), texts)

    def save(self, folder: Path, kg) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        write_strings(sorted(self.prefixes), folder / "prefixes")
        (folder / "morphology.json").write_text(json.dumps(self.morphology.to_json()), encoding="utf-8")
        np.save(folder / "canonical.npy", self.canonical)
        np.save(folder / "entity_pos.npy", self.entity_pos)
        np.save(folder / "proper.npy", self.proper)
        self.fuzzy.save(folder)
        self.lexical.save(folder)
        from kgnlu.integrity import source_checksum

        files = {p.name: source_checksum(p) for p in sorted(folder.iterdir())
                 if p.is_file() and p.name not in UNCHECKED}
        manifest = {"format": "kgnlu-linker", "format_version": FORMAT_VERSION,
                    "graph": graph_fingerprint(kg), "entities": kg.num_entities, "files": files}
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")

    @staticmethod
    def is_current(folder: Path, kg) -> bool:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return False
        return (manifest.get("format_version") == FORMAT_VERSION
                and manifest.get("graph") == graph_fingerprint(kg))

    @classmethod
    def load(cls, folder: Path, kg) -> LinkerIndex:
        if not cls.is_current(folder, kg):
            raise LinkerIndexError(f"{folder} was built for another graph or kgnlu version; delete it "
                                   "(the linker rebuilds it) or run `kgnlu link GRAPH --rebuild`")
        _verify(folder)
        try:
            aliases = AliasTable(kg)
            prefixes = set(read_strings(StringTable(folder / "prefixes")))
            morphology = Morphology.from_json(json.loads((folder / "morphology.json").read_text("utf-8")))
            return cls(aliases, prefixes, morphology, np.load(folder / "canonical.npy"),
                       np.load(folder / "entity_pos.npy"), np.load(folder / "proper.npy"),
                       FuzzyIndex.load(folder, aliases.keys), LexicalIndex.load(folder),
                       GraphTexts(kg))
        except (OSError, ValueError, KeyError) as err:
            raise LinkerIndexError(f"{folder} is incomplete or corrupt ({err}); delete it and the "
                                   "linker rebuilds it") from None


# written after the index, by their own atomic writers: not in the index's checksum list
UNCHECKED = ("manifest.json", "embeddings.safetensors", "dense.faiss")


def _verify(folder: Path) -> None:
    """Every file the manifest lists has the sha256 recorded when it was written: a zeroed or
    truncated array is caught here (and the index rebuilt) instead of linking every mention to
    one entity. Indexes saved before checksums were recorded carry none and are read as before."""
    from kgnlu.integrity import source_checksum

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    for name, digest in (manifest.get("files") or {}).items():
        path = folder / Path(name).name  # a bare file name: never a path outside the folder
        if not path.is_file() or source_checksum(path) != digest:
            raise LinkerIndexError(f"{path} does not match its checksum (damaged or changed since it was "
                                   "written); the linker rebuilds the index")

