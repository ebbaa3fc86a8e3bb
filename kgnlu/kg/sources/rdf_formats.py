"""RDF file formats: which parser reads each, from a file extension or a name, and its errors.

pyoxigraph reads N-Triples, N-Quads, Turtle, TriG, N3, RDF/XML and JSON-LD (about 40× rdflib's
parser); rdflib is the fallback for what only it reads (TriX, HexTuples). A ``.gz`` after the
extension means gzip.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pyoxigraph import RdfFormat

from kgnlu.errors import ParseError, SourceError
from kgnlu.kg.sources.base import require_file


@dataclass(frozen=True)
class RdfFileFormat:
    name: str  # human name, used in messages ("N-Triples")
    oxigraph: RdfFormat | None  # None: only rdflib reads it
    rdflib: str  # rdflib's parser name (used for the fallback formats)
    media_type: str  # recorded with the file for the graph's SPARQL store
    relative_iris: bool  # the syntax allows relative IRIs (so a base IRI applies)


def _ox(fmt: RdfFormat, rdflib_name: str, relative_iris: bool) -> RdfFileFormat:
    return RdfFileFormat(fmt.name, fmt, rdflib_name, fmt.media_type, relative_iris)


N_TRIPLES = _ox(RdfFormat.N_TRIPLES, "nt", False)
N_QUADS = _ox(RdfFormat.N_QUADS, "nquads", False)
TURTLE = _ox(RdfFormat.TURTLE, "turtle", True)
TRIG = _ox(RdfFormat.TRIG, "trig", True)
N3 = _ox(RdfFormat.N3, "n3", True)
RDF_XML = _ox(RdfFormat.RDF_XML, "xml", True)
JSON_LD = _ox(RdfFormat.JSON_LD, "json-ld", True)
TRIX = RdfFileFormat("TriX", None, "trix", "application/trix", True)
HEXTUPLES = RdfFileFormat("HexTuples", None, "hext", "application/x-ndjson-hextuples", False)

EXTENSIONS: dict[str, RdfFileFormat] = {
    ".nt": N_TRIPLES, ".ntriples": N_TRIPLES,
    ".nq": N_QUADS, ".nquads": N_QUADS,
    ".ttl": TURTLE, ".turtle": TURTLE,
    ".trig": TRIG,
    ".n3": N3,
    ".rdf": RDF_XML, ".owl": RDF_XML, ".xml": RDF_XML,
    ".jsonld": JSON_LD,
    ".trix": TRIX,
    ".hext": HEXTUPLES,
}

# Names accepted for an explicit ``fmt`` (besides the extensions above and media types).
_NAMES: dict[str, RdfFileFormat] = {
    "ntriples": N_TRIPLES, "n-triples": N_TRIPLES, "nt": N_TRIPLES,
    "nquads": N_QUADS, "n-quads": N_QUADS, "nq": N_QUADS,
    "turtle": TURTLE, "ttl": TURTLE,
    "trig": TRIG,
    "n3": N3,
    "xml": RDF_XML, "rdf/xml": RDF_XML, "rdfxml": RDF_XML, "rdf": RDF_XML,
    "json-ld": JSON_LD, "jsonld": JSON_LD,
    "trix": TRIX,
    "hext": HEXTUPLES, "hextuples": HEXTUPLES,
}
_ALL = [N_TRIPLES, N_QUADS, TURTLE, TRIG, N3, RDF_XML, JSON_LD, TRIX, HEXTUPLES]


def known_extensions() -> str:
    return ", ".join(sorted(EXTENSIONS)) + " (each optionally followed by .gz)"


def resolve_format(path: Path, fmt: str | RdfFormat | RdfFileFormat | None = None) -> RdfFileFormat:
    """The format named by ``fmt`` (a name, media type or RdfFormat), else by the extension."""
    if isinstance(fmt, RdfFileFormat):
        return fmt
    if isinstance(fmt, RdfFormat):
        return next(f for f in _ALL if f.oxigraph == fmt)
    if fmt is not None:
        key = fmt.strip().lower()
        found = _NAMES.get(key) or _NAMES.get(key.lstrip(".")) or next(
            (f for f in _ALL if f.media_type == key), None)
        if found is None:
            raise SourceError(f"unknown RDF format {fmt!r}. Known: {', '.join(sorted(_NAMES))}, "
                              f"or a media type such as 'text/turtle'.")
        return found
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    found = EXTENSIONS.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise SourceError(f"{path}: cannot tell the RDF format from the extension. Rename the "
                          f"file to one of {known_extensions()}, or read TSV triples from "
                          f".tsv/.tab/.txt files.")
    return found


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def open_binary(path: Path) -> BinaryIO:
    """The file's bytes, gunzipped when it ends in ``.gz``; a missing file is a SourceError."""
    require_file(path)
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def default_base_iri(path: Path, fmt: RdfFileFormat) -> str | None:
    """Relative IRIs resolve against the file's own URI, as rdflib and RDF tools do."""
    return path.resolve().as_uri() if fmt.relative_iris else None


def parse_error(path: Path, err: SyntaxError, fmt: RdfFileFormat,
                line_numbers: list[int] | None = None) -> ParseError:
    """A pyoxigraph SyntaxError as a ParseError; ``line_numbers`` maps parsed lines to the file's.

    pyoxigraph puts the position in ``lineno``/``offset`` (1-based, columns in characters) and
    in its message ("Parser error at line 3 between columns 23 and 35: Invalid IRI ...").
    """
    message = str(err.msg if getattr(err, "msg", None) else err)
    detail = message.split(": ", 1)[1] if message.startswith("Parser error") and ": " in message \
        else message
    line, column = getattr(err, "lineno", None), getattr(err, "offset", None)
    if line is not None and line_numbers is not None:
        line = line_numbers[min(max(line, 1), len(line_numbers)) - 1] if line_numbers else None
    return ParseError(path, line, column, f"expected valid {fmt.name}: {detail}")


PARSER_LIMIT = 1 << 24  # pyoxigraph's parser buffer: no line (or term) may be longer


def line_too_long(path: Path, line: int | None, size: int, fmt: RdfFileFormat) -> ParseError:
    """The ParseError for a line past the parser's 16 MiB buffer (pyoxigraph's own error is a bare
    MemoryError without file or position)."""
    where = f"a line of {size:,} bytes or more" if line is not None else "a term too long to read"
    return ParseError(path, line, None, f"{where}; expected valid {fmt.name} with every line "
                      f"(and term) under {PARSER_LIMIT >> 20} MiB, the most the RDF parser reads. "
                      "Shorten that literal or IRI")


def longest_line(path: Path) -> tuple[int | None, int]:
    """(line number, bytes) of the file's longest line, streamed; the line is None when every
    line is shorter than the parser limit (the long term then spans lines)."""
    best, best_size, line, size = None, 0, 1, 0
    with open_binary(path) as stream:
        while block := stream.read(1 << 22):
            parts = block.split(b"\n")
            for i, part in enumerate(parts):
                size += len(part)
                if i == len(parts) - 1:
                    break  # the line goes on in the next block
                if size > best_size:
                    best, best_size = line, size
                line, size = line + 1, 0
    if size > best_size:
        best, best_size = line, size
    return (best if best_size >= PARSER_LIMIT else None), best_size
