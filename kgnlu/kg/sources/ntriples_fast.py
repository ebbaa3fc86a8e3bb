"""Fast path for N-Triples and N-Quads: most lines of a real dump are ``<s> <p> <o> .``.

Building a pyoxigraph term object for every subject, predicate and object costs more than the
parse itself, and so does a Python dict lookup per token. N-Triples is line-based, and most lines
are in the canonical shape every serializer writes: single spaces, IRIs or blank nodes, no
escapes. :mod:`interning` finds those lines in a chunk with numpy, dictionary-encodes their tokens
with pyarrow, validates and maps only the chunk's *distinct* tokens, and hands the builder int
arrays (heads, relations, tails).

Every line not in that shape (literals, comments, escapes, tabs, a token that fails the check) is
handed verbatim, with its line number, to pyoxigraph's parser, which alone decides what is valid
there, and whose errors carry the file's line and column. The fast path accepts a strict subset
of what the parser accepts, so results and errors are the parser's; only the time differs.

Id order (what the builder sees first gets the lower id), per chunk: the canonical lines' new
subjects in order of first appearance, their new objects, then the parser's lines in file order;
N-Quads chunks take their triple lines, then their quad lines, each group that way. Chunks are
``CHUNK_BYTES`` long, cut after the last complete line.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyoxigraph

from kgnlu.kg.sources.interning import (
    canonical_lines,
    encode,
    external_ids,
    first_seen,
    intern_nodes,
    line_bounds,
    token_array,
    token_texts,
    valid_tokens,
)
from kgnlu.kg.sources.ntriples_literals import (
    LEXICAL,
    PREDICATE,
    SUBJECT,
    TAIL,
    LiteralLines,
    literal_lines,
)
from kgnlu.kg.sources.rdf_formats import (
    N_QUADS,
    N_TRIPLES,
    PARSER_LIMIT,
    RdfFileFormat,
    line_too_long,
    parse_error,
)
from kgnlu.kg.sources.rdf_mapping import TYPE_TOKEN, VALUE_TOKENS, RdfMapper

CHUNK_BYTES = 1 << 23  # read a chunk at a time: bounded memory for any file size
# pyoxigraph's parsers stop with "MemoryError: Reached the buffer maximal size" on a line (a term)
# past 16 MiB, so a longer line is refused as soon as it is seen, before it fills memory.
MAX_LINE_BYTES = PARSER_LIMIT
BATCH = 1 << 16  # quads per batch on the parser path
LONG_LINE = 1 << 20  # longer lines (rare) are left to the parser, which knows its own limit


def ingest_lines(stream: BinaryIO, mapper: RdfMapper, fmt: RdfFileFormat, path: Path,
                 on_bytes: Callable[[int], object] = lambda n: None) -> None:
    """Read an N-Triples/N-Quads byte stream into ``mapper``; raises ParseError on bad input."""
    reader = _ChunkReader(mapper, fmt, path)
    rest = b""
    first_line = 1
    while True:
        block = stream.read(CHUNK_BYTES)
        if block:
            on_bytes(len(block))
            data = rest + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data  # a line longer than a chunk: keep reading
                if len(rest) > MAX_LINE_BYTES:
                    raise line_too_long(path, first_line, len(rest), fmt)
                continue
            data, rest = data[:cut], data[cut:]
            if len(rest) > MAX_LINE_BYTES:
                raise line_too_long(path, first_line + data.count(b"\n"), len(rest), fmt)
        else:
            data, rest = rest, b""
        if data:
            reader.read(data, first_line)
            first_line += data.count(b"\n")
        if not block:
            return


class _ChunkReader:
    def __init__(self, mapper: RdfMapper, fmt: RdfFileFormat, path: Path):
        self.mapper, self.fmt, self.path = mapper, fmt, path
        self.widths = (3, 4) if fmt is N_QUADS else (3,)  # terms per canonical line

    def read(self, data: bytes, first_line: int) -> None:
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")  # CRLF files stay on the fast path
        if not data.endswith(b"\n"):
            data += b"\n"
        buf = np.frombuffer(data, dtype=np.uint8)
        starts, ends = line_bounds(buf)
        routed = np.ones(len(ends), dtype=bool)
        # A line past the parser's buffer goes to the parser (which refuses it, as the store would)
        usable = ends - starts < LONG_LINE
        spaces = np.flatnonzero(buf == 0x20)
        for width in self.widths:
            rows, offsets = canonical_lines(buf, starts, ends, spaces, usable, width)
            if len(rows):
                routed[rows[self._add(data, offsets, width)]] = False
        if b'"' in data and self.fmt is N_TRIPLES:
            rows, offsets = literal_lines(buf, starts, ends, spaces, usable)
            if len(rows):
                literals = LiteralLines(data, offsets)
                rows = rows[literals.good]
                # The parser's quads keep file order among themselves: literal lines are mapped
                # here, ahead of the parser's lines, only when those give no quads (comments).
                routed[rows] = False
                if self._quiet(data, starts, ends, routed):
                    self._add_literals(literals)
                else:
                    routed[rows] = True
        rows = np.flatnonzero(routed).tolist()
        self._parse([first_line + i for i in rows], self._lines(data, starts, ends, rows))

    @staticmethod
    def _lines(data: bytes, starts: np.ndarray, ends: np.ndarray, rows: list[int]) -> list[bytes]:
        return [data[s:e] for s, e in zip(starts[rows].tolist(), ends[rows].tolist(), strict=True)]

    def _quiet(self, data: bytes, starts: np.ndarray, ends: np.ndarray, routed: np.ndarray) -> bool:
        """Every line left for the parser is blank or a comment (gives no statement)."""
        lines = self._lines(data, starts, ends, np.flatnonzero(routed).tolist())
        return all(line.lstrip(b" \t")[:1] in (b"", b"#") for line in lines)

    def _add_literals(self, lines: LiteralLines) -> None:
        """Map the checked literal lines: subjects become entities; labels, aliases and texts
        go to the mapper in file order; the rest is only counted (it lives in the store)."""
        mapper, tokens = self.mapper, lines.tokens
        idx = lines.indices[lines.good]
        subjects = idx[:, SUBJECT]
        new = first_seen(subjects, len(tokens))
        intern_nodes(mapper.builder, tokens, new, mapper.scope)
        predicates = first_seen(idx[:, PREDICATE], len(tokens))
        kept = np.zeros(len(tokens), dtype=bool)
        kept[predicates] = [p in VALUE_TOKENS for p in
                            token_texts(tokens.take(pa.array(predicates))).to_pylist()]
        rows = np.flatnonzero(kept[idx[:, PREDICATE]])
        mapper.builder.literal_statements(len(idx) - len(rows))
        if not len(rows):
            return
        mapper.literal_values(
            external_ids(token_texts(tokens.take(pa.array(subjects[rows]))), mapper.scope),
            token_texts(tokens.take(pa.array(idx[rows, PREDICATE]))).to_pylist(),
            tokens.take(pa.array(idx[rows, LEXICAL])).cast(pa.string()).to_pylist(),
            [lines.languages[t] for t in idx[rows, TAIL].tolist()])

    def _add(self, data: bytes, offsets: np.ndarray, width: int) -> np.ndarray:
        """Map the canonical lines whose tokens are valid; returns bool [m]: which were."""
        indices, tokens = encode(token_array(data, offsets), width)
        nodes = indices[:, [0, 2, 3] if width == 4 else [0, 2]]
        node_ok = valid_tokens(tokens, nodes.ravel(), nodes=True)
        iri_ok = valid_tokens(tokens, indices[:, 1], nodes=False)
        good = node_ok[nodes].all(axis=1) & iri_ok[indices[:, 1]]
        heads, rels, tails = (indices[good, k] for k in range(3))
        mapper, size = self.mapper, len(tokens)
        ids = np.full(size, -1, dtype=np.int64)
        for column in (heads, tails):  # new subjects first, then new objects
            new = first_seen(column, size)
            new = new[ids[new] < 0]
            if len(new):
                ids[new] = intern_nodes(mapper.builder, tokens, new, mapper.scope)
        predicates = first_seen(rels, size)
        rel_ids = np.zeros(size, dtype=np.int64)
        rel_ids[predicates] = mapper.predicate_ids(
            token_texts(tokens.take(pa.array(predicates))).to_pylist())
        rels = rel_ids[rels]
        mapper.builder.triples_by_id(ids[heads], rels, ids[tails])
        type_id = mapper.relation_ids.get(TYPE_TOKEN)
        if type_id is not None and (typed := np.flatnonzero(rels == type_id)).size:
            subjects = token_texts(tokens.take(pa.array(heads[typed]))).to_pylist()
            classes = token_texts(tokens.take(pa.array(tails[typed]))).to_pylist()
            for subject, cls in zip(subjects, classes, strict=True):
                mapper.offer_kind(subject, cls)
        return good

    def _parse(self, line_numbers: list[int], lines: list[bytes]) -> None:
        """Lines off the fast path, in file order, through pyoxigraph's parser."""
        if not lines:
            return
        parser = pyoxigraph.parse(b"\n".join(lines), format=self.fmt.oxigraph)
        try:
            while batch := list(itertools.islice(parser, BATCH)):
                self.mapper.add_quads(batch)
        except SyntaxError as err:
            raise parse_error(self.path, err, self.fmt, line_numbers) from None
        except MemoryError:  # a line just under the read-time cap that the parser still refuses
            longest = max(range(len(lines)), key=lambda i: len(lines[i]))
            raise line_too_long(self.path, line_numbers[longest], len(lines[longest]),
                                self.fmt) from None
