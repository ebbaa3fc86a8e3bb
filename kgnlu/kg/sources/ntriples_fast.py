"""Fast path for N-Triples and N-Quads: most lines of a real dump are ``<s> <p> <o> .``.

Building a pyoxigraph term object for every subject, predicate and object costs more than the
parse itself, so reading a dump term by term tops out near 10× rdflib. N-Triples is line-based,
and most lines are in the canonical shape every serializer writes: single spaces, IRIs or blank
nodes, no escapes. So a chunk of such lines is cut into tokens by one C-level
``(b".\\n" + chunk).split(b" ")``: each subject then carries the previous line's ``".\\n"``, and
subject, predicate and object are every third token. Only *distinct* tokens are validated (the
``.\\n`` prefix on subjects, the IRIREF or blank-node pattern, pyoxigraph's own IRI check); once
every token of a chunk passes, the chunk is proven to be canonical lines (a token holds no space
or newline, so each line is exactly ``s p o .``). Per line, what is left is three dict lookups.

Every line not in that shape (literals, comments, escapes, tabs, a token that fails the check) is
handed verbatim, with its line number, to pyoxigraph's parser, which alone decides what is valid
there, and whose errors carry the file's line and column. The fast path accepts a strict subset
of what the parser accepts, so results and errors are the parser's; only the time differs.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyoxigraph
from pyoxigraph import NamedNode

from kgnlu.kg.sources.rdf_formats import (
    N_QUADS,
    PARSER_LIMIT,
    RdfFileFormat,
    line_too_long,
    parse_error,
)
from kgnlu.kg.sources.rdf_mapping import TYPE_TOKEN, RdfMapper, lookup

CHUNK_BYTES = 1 << 23  # read a chunk at a time: bounded memory for any file size
# pyoxigraph's parsers stop with "MemoryError: Reached the buffer maximal size" on a line (a term)
# past 16 MiB, so a longer line is refused as soon as it is seen, before it fills memory.
MAX_LINE_BYTES = PARSER_LIMIT
BATCH = 1 << 16  # quads per batch on the parser path
_INVALID, _PENDING = -1, -2  # token states besides an interned id

# IRIREF without escapes (the grammar: no controls, space or <>"{}|^`\ inside) and a blank-node
# label in its ASCII form; any other token sends its line to the parser. Neither matches a
# newline, so many tokens joined by newlines are checked by one C-level fullmatch.
_IRI = r'<[^\x00-\x20<>"{}|^`\\]*>'
_BNODE = r"_:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
_IRI_LINES = re.compile(f"(?:{_IRI}\n)*")
_NODE_LINES = re.compile(f"(?:(?:{_IRI}|{_BNODE})\n)*")


def _valid_iris(iris: list[str]) -> bool:
    try:
        for iri in iris:
            NamedNode(iri)  # the same RFC 3987 check the parser applies
    except ValueError:
        return False
    return True


def _check(tokens: list[bytes], lines: re.Pattern) -> list[str | None]:
    """Each token as text if ``lines`` (IRIs, or IRIs and blank nodes) accepts it, else None.

    All at once when all pass (the common case), then one by one to find the failures.
    """
    try:
        text = b"\n".join(tokens).decode("utf-8")
    except UnicodeDecodeError:
        text = None  # the parser reports where
    if text is not None and lines.fullmatch(text + "\n"):
        texts = text.split("\n")
        if _valid_iris([t[1:-1] for t in texts if t[:1] == "<"]):
            return texts
    if len(tokens) == 1:
        return [None]
    return [t for token in tokens for t in _check([token], lines)]


class _Interner(dict):
    """Token → local index in first-seen order; each index has a state (id, pending, invalid).

    ``dict.__missing__`` runs only for new tokens, so a lookup of a known token stays in C.
    """

    def __init__(self, check: Callable[[list[bytes]], list[str | None]],
                 intern: Callable[[list[str]], np.ndarray]):
        super().__init__()
        self.check, self.intern = check, intern
        self.tokens: list[bytes] = []
        self.texts: list[str | None] = []
        self.state = np.empty(1024, dtype=np.int64)

    def __missing__(self, token: bytes) -> int:
        index = self[token] = len(self.tokens)
        self.tokens.append(token)
        return index

    def local(self, tokens: list[bytes]) -> np.ndarray:
        before = len(self.tokens)
        local = lookup(self, tokens)
        if len(self.tokens) > before:
            texts = self.check(self.tokens[before:])
            self.texts += texts
            while len(self.state) < len(self.texts):
                self.state = np.concatenate([self.state, np.empty_like(self.state)])
            self.state[before:len(self.texts)] = [
                _PENDING if t is not None else _INVALID for t in texts]
        return local

    def valid(self, local: np.ndarray) -> np.ndarray:
        return self.state[local] != _INVALID

    def ids(self, local: np.ndarray) -> np.ndarray:
        """Builder ids of valid tokens, interning the pending ones (in first-seen order)."""
        out = self.state[local]
        if (out == _PENDING).any():
            waiting = local[out == _PENDING]
            low = int(waiting.min())  # unique and sorted (= first seen) by counting, not sorting
            pending = np.flatnonzero(np.bincount(waiting - low)) + low
            self.state[pending] = self.intern([self.texts[i] for i in pending.tolist()])
            out = self.state[local]
        return out


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
        self.quads = fmt is N_QUADS
        predicate_ids = mapper.predicate_ids
        def nodes(tokens: list[bytes]) -> list[str | None]:
            return _check(tokens, _NODE_LINES)

        self.nodes = _Interner(nodes, mapper.node_ids)
        self.subjects = _Interner(self._subject_texts, mapper.node_ids)
        self.predicates = _Interner(lambda tokens: _check(tokens, _IRI_LINES), predicate_ids)
        self.graphs = _Interner(nodes, lambda texts: np.zeros(len(texts), np.int64))

    def _subject_texts(self, tokens: list[bytes]) -> list[str | None]:
        # A subject token carries the end of the previous line (".\n"): see the module
        # docstring. The node interner validates the rest, so each term is checked once.
        if all(t[:2] == b".\n" for t in tokens):
            return [self.nodes.texts[i] for i in self.nodes.local([t[2:] for t in tokens]).tolist()]
        return [self._subject_texts([t])[0] if t[:2] == b".\n" else None for t in tokens]

    def read(self, data: bytes, first_line: int) -> None:
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")  # CRLF files stay on the fast path
        if not data.endswith(b"\n"):
            data += b"\n"
        n = data.count(b"\n")
        routed_numbers, routed = np.empty(0, np.int64), []
        if b'"' in data:
            # Lines with a literal go to the parser (their terms are needed as objects anyway).
            buffer = np.frombuffer(data, dtype=np.uint8)
            quoted = np.zeros(n, dtype=bool)
            quoted[np.searchsorted(np.flatnonzero(buffer == 0x0A),
                                   np.flatnonzero(buffer == 0x22))] = True
            lines = data.split(b"\n")[:-1]
            numbers = np.arange(first_line, first_line + n)
            routed_numbers, routed = numbers[quoted], list(itertools.compress(lines, quoted.tolist()))
            plain = (~quoted).tolist()
            if not self._canonical(b"\n".join(itertools.compress(lines, plain)) + b"\n"):
                extra_numbers, extra = self._lines(list(itertools.compress(lines, plain)),
                                                   numbers[~quoted])
                routed_numbers = np.concatenate([routed_numbers, extra_numbers])
                routed += extra
        elif not self._canonical(data):
            routed_numbers, routed = self._lines(data.split(b"\n")[:-1],
                                                 np.arange(first_line, first_line + n))
        self._parse(routed_numbers, routed)

    def _canonical(self, data: bytes) -> bool:
        """All lines at once if every one is canonical; False (nothing added) otherwise."""
        n = data.count(b"\n")
        if n == 1 and data == b"\n":
            return True
        tokens = (b".\n" + data).split(b" ")
        if tokens[-1] != b".\n":
            return False
        width = (len(tokens) - 1) // n if n else 0
        if width * n + 1 != len(tokens) or width not in ((3, 4) if self.quads else (3,)):
            return False
        columns = [tokens[k:-1:width] for k in range(width)]
        heads = self._subject_runs(columns[0])
        rels = self.predicates.local(columns[1])
        tails = self.nodes.local(columns[2])
        ok = self.subjects.valid(heads).all() and self.predicates.valid(rels).all() \
            and self.nodes.valid(tails).all()
        if width == 4:
            ok = ok and self.graphs.valid(self.graphs.local(columns[3])).all()
        if not ok:
            return False
        self._add(self.subjects, heads, rels, tails)
        return True

    def _subject_runs(self, subjects: list[bytes]) -> np.ndarray:
        """Local ids of subject tokens. Dumps are mostly grouped by subject: comparing each
        token with the previous one touches only fresh memory, and then one dict lookup per
        run of equal subjects replaces one per line (dict lookups miss the cache)."""
        n = len(subjects)
        same = np.fromiter(map(operator.eq, subjects[1:], subjects[:-1]), dtype=bool,
                           count=max(n - 1, 0))
        if n < 2 or same.sum() < n // 4:
            return self.subjects.local(subjects)
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        runs = self.subjects.local([subjects[i] for i in starts.tolist()])
        return np.repeat(runs, np.diff(starts, append=n))

    def _lines(self, lines: list[bytes], numbers: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
        """Line by line, for chunks with comments, blank lines or odd whitespace; returns the
        line numbers and lines left to the parser."""
        parts = [line.split(b" ") for line in lines]
        widths = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
        keep = np.zeros(len(lines), dtype=bool)
        for width in (4, 5) if self.quads else (4,):
            rows = np.flatnonzero(widths == width)
            if not len(rows):
                continue
            columns = list(zip(*[parts[i] for i in rows.tolist()], strict=True))
            heads = self.nodes.local(columns[0])
            rels = self.predicates.local(columns[1])
            tails = self.nodes.local(columns[2])
            good = (self.nodes.valid(heads) & self.predicates.valid(rels)
                    & self.nodes.valid(tails)
                    & np.fromiter(map(b".".__eq__, columns[-1]), dtype=bool, count=len(rows)))
            if width == 5:
                good &= self.graphs.valid(self.graphs.local(columns[3]))
            self._add(self.nodes, heads[good], rels[good], tails[good])
            keep[rows[good]] = True
        return numbers[~keep], list(itertools.compress(lines, (~keep).tolist()))

    def _add(self, subjects: _Interner, heads: np.ndarray, rels: np.ndarray,
             tails: np.ndarray) -> None:
        head_ids, rel_ids = subjects.ids(heads), self.predicates.ids(rels)
        tail_ids = self.nodes.ids(tails)
        self.mapper.builder.triples_by_id(head_ids, rel_ids, tail_ids)
        type_id = self.mapper.relation_ids.get(TYPE_TOKEN)
        if type_id is not None:
            for i in np.flatnonzero(rel_ids == type_id).tolist():
                self.mapper.offer_kind(subjects.texts[heads[i]], self.nodes.texts[tails[i]])

    def _parse(self, numbers: np.ndarray, lines: list[bytes]) -> None:
        """Lines off the fast path, in file order, through pyoxigraph's parser."""
        if not lines:
            return
        order = np.argsort(numbers, kind="stable").tolist()
        line_numbers = numbers[order].tolist()
        parser = pyoxigraph.parse(b"\n".join([lines[i] for i in order]), format=self.fmt.oxigraph)
        try:
            while batch := list(itertools.islice(parser, BATCH)):
                self.mapper.add_quads(batch)
        except SyntaxError as err:
            raise parse_error(self.path, err, self.fmt, line_numbers) from None
        except MemoryError:  # a line just under the read-time cap that the parser still refuses
            longest = max(range(len(order)), key=lambda i: len(lines[order[i]]))
            raise line_too_long(self.path, line_numbers[longest], len(lines[order[longest]]),
                                self.fmt) from None
