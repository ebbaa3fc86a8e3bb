"""TSV triples: ``head<TAB>relation<TAB>tail`` a line, optional header, ``#`` comments, gzip ok.

Values that are IRIs (``<http://...>`` or ``http://...``) or CURIEs with a known prefix are kept
as ids; any other value is minted into the file's namespace (its stem: ``family.tsv`` gives
``family:alice``) and also becomes the entity's label and an alias.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

from kgnlu.errors import ParseError
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.namespaces import MINTED_SCHEME, PREFIXES, mint
from kgnlu.kg.sources.base import SOURCES, FileSource
from kgnlu.progress import progress_bar

# A first row counts as a header only when its head and tail cells both read as column names.
HEAD_NAMES = {"head", "subject", "h", "s", "source", "from"}
TAIL_NAMES = {"tail", "object", "t", "o", "target", "to"}
# <anything-iri>, or a bare IRI with an authority (http://...) or a URN.
_IRI = re.compile(r'^(?:<([a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>"{}|^`\\]*)>|([a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>"{}|^`\\]*|urn:[^\s<>"{}|^`\\]+))$')


def _namespace_for(path: Path) -> str:
    stem = path.name.split(".")[0]
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-")
    return cleaned or "tsv"


MAX_LINE_CHARS = 1_000_000  # bounds memory per line; ids and labels are far shorter


def open_lines(path: Path):
    """A possibly gzip'd file's lines as bytes: each is decoded on its own, so a UTF-8 error names
    its own line (a text wrapper decodes ahead, in chunks, and would name an earlier one)."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


@SOURCES.register("tsv")
class TsvSource(FileSource):
    name = "tsv"

    def __init__(self, path: str | Path, namespace: str | None = None, split: str | None = None):
        self.path = Path(path)
        self.ns = namespace or _namespace_for(self.path)
        self.split = split

    def _term(self, value: str, builder: GraphBuilder, *, is_relation: bool) -> str:
        m = _IRI.match(value)
        if m:
            iri = m.group(1) or m.group(2)
            if iri.startswith(MINTED_SCHEME):  # an id minted by kgnlu: keep its namespace
                ns, sep, local = iri[len(MINTED_SCHEME):].partition(":")
                if sep and local:
                    builder.namespace(ns)
                    return f"{ns}:{local}"
            return iri
        prefix, sep, _ = value.partition(":")
        if sep and prefix in PREFIXES:
            return value
        ext = mint(self.ns, value)
        if not is_relation:
            builder.entity(ext, label=value)
            builder.alias(value, ext)
        else:
            builder.relation(ext, label=value)
        return ext

    def emit(self, builder: GraphBuilder) -> None:
        builder.begin_source(self.spec, self.name, self.checksum())
        self.emit_rows(builder)

    def emit_rows(self, builder: GraphBuilder) -> None:
        """Write this file's triples into the builder's current source."""
        builder.namespace(self.ns)
        size = self.path.stat().st_size
        with open_lines(self.path) as f, progress_bar(size, f"tsv {self.path.name}", "B") as bar:
            lineno = 0
            first_row = True
            try:
                for lineno, raw in enumerate(f, start=1):
                    bar.update(len(raw))
                    line = raw.decode("utf-8")
                    if lineno == 1:
                        line = line.removeprefix("\ufeff")  # a byte-order mark is not part of the first id
                    text = line.rstrip("\r\n")
                    if not text.strip() or text.lstrip().startswith("#"):
                        continue
                    fields = text.split("\t")  # no quoting in kgnlu's TSV: a tab always separates
                    if len(text) > MAX_LINE_CHARS:
                        raise ParseError(self.path, lineno, None,
                                         f"a line of at most {MAX_LINE_CHARS:,} characters (found {len(text):,}): "
                                         "a head, relation and tail, not a document")
                    if len(fields) != 3 or not all(x.strip() for x in fields):
                        # 1-based column: where the 4th field starts, or the end of a short line
                        col = len("\t".join(fields[:3])) + 2 if len(fields) > 3 else len(text) + 1
                        raise ParseError(self.path, lineno, col,
                                         f"expected 3 non-empty tab-separated fields "
                                         f"(head, relation, tail), found {len(fields)}")
                    h, r, t = (x.strip() for x in fields)
                    if first_row:
                        first_row = False
                        if h.lower() in HEAD_NAMES and t.lower() in TAIL_NAMES:
                            continue  # header row
                    builder.triple(self._term(h, builder, is_relation=False),
                                   self._term(r, builder, is_relation=True),
                                   self._term(t, builder, is_relation=False),
                                   split=self.split)
            except UnicodeDecodeError as err:
                raise ParseError(self.path, lineno, err.start + 1,
                                 f"expected UTF-8 text ({err.reason} at byte {err.start + 1} of the line)") from None
