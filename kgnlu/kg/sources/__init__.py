"""Graph sources. ``parse_source(spec)`` turns a CLI spec into Source objects.

Specs: ``NAME`` or ``NAME:ARGUMENT`` for a registered source (``wordnet``, ``wordnet:/dir``,
``geonames:15000``, ``pykeen:nations``, ``sparql:https://host/sparql``); anything else is a file
path or glob, read as RDF or TSV by its extension (``.gz`` allowed).
"""

from __future__ import annotations

import glob
from pathlib import Path

from kgnlu.errors import SourceError
from kgnlu.kg.sources import geonames, pykeen, rdf, sparql, tsv, wordnet  # noqa: F401  (registers the sources)
from kgnlu.kg.sources.base import SOURCES, Source

# Extensions read by the "tsv" source; every other file goes to the "rdf" source, which knows
# the RDF extensions and says so when a file has none of them.
TSV_SUFFIXES = {".tsv", ".tab", ".txt"}


def parse_source(spec: str) -> list[Source]:
    """Sources named by one spec (a glob may name several files)."""
    name, sep, argument = spec.partition(":")
    if name in SOURCES and (sep or not Path(spec).exists()):
        return [SOURCES.get(name).from_spec(argument if sep else None)]
    paths = sorted(glob.glob(spec)) if glob.has_magic(spec) else [spec]
    if not paths:
        raise SourceError(f"{spec!r} matches no file. Give a file, a glob, or one of: "
                          f"{', '.join(n for n in SOURCES if n not in ('rdf', 'tsv'))}.")
    out = []
    for p in paths:
        path = Path(p)
        suffixes = path.suffixes[-2:] if path.suffix == ".gz" else path.suffixes[-1:]
        kind = "tsv" if suffixes and suffixes[0].lower() in TSV_SUFFIXES else "rdf"
        out.append(SOURCES.get(kind).from_spec(str(path)))
    return out


__all__ = ["SOURCES", "Source", "parse_source"]
