"""Canonical literal lines of N-Triples, natively: ``<s> <p> "lexical form"SUFFIX .``.

Dumps carry labels and descriptions as lines like ``<s> <p> "text"@en .``. Those whose text has no
escape, no control character and no second pair of quotes are cut with numpy like the IRI lines
(:mod:`interning`): six tokens per line, viewing the chunk, one ``dictionary_encode`` — subject,
predicate, the opening quote, the lexical form, the tail (``"@en .\\n``, ``" .\\n`` or
``"^^<datatype> .\\n``), and the gap to the next such line. Subjects and predicates are checked
as IRI tokens are; each *distinct* tail is checked in Python against a conservative grammar (a
plain language-region tag, or a datatype IRI outside the rdf: namespace), so every line kept here
is one the parser accepts, with the same language (lower-cased, as pyoxigraph gives it) and value.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from kgnlu.kg.namespaces import PREFIXES
from kgnlu.kg.sources.interning import IRI_EXACT, encode, exact, per_line, token_array, valid_tokens

_TAIL = re.compile(rb'"(?:@([a-zA-Z]{2,3}(?:-[a-zA-Z]{4})?(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?)'
                   rb'|\^\^(<[^\x00-\x20<>"{}|^`\\]*>))? \.\n')
# rdf:langString and rdf:dirLangString need a language tag: the parser decides those lines.
_RDF_DATATYPE = f"<{PREFIXES['rdf']}".encode()
WIDTH = 5  # tokens per line before the gap token: subject, predicate, quote, lexical form, tail
SUBJECT, PREDICATE, LEXICAL, TAIL = 0, 1, 3, 4


def literal_lines(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, spaces: np.ndarray,
                  usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lines ``s p "..."SUFFIX .`` among the ``usable`` ones (bool [n]): two quotes, the first
    right after the second space; no backslash and no control byte. (line indices [m], int32
    token offsets [m * 6 + 1]); ``spaces``: the positions of every space in ``buf``."""
    quotes = np.flatnonzero(buf == 0x22)
    q_first, q_count = per_line(quotes, ends)
    s_first, s_count = per_line(spaces, ends)
    usable = usable & (q_count == 2) & (s_count >= 3)
    if np.count_nonzero(buf < 0x20) > len(ends) or np.count_nonzero(buf == 0x5C):  # odd bytes
        odd = np.flatnonzero((buf == 0x5C) | ((buf < 0x20) & (buf != 0x0A)))
        usable[np.searchsorted(ends, odd)] = False
    rows = np.flatnonzero(usable & (buf[ends - 1] == 0x2E) & (buf[ends - 2] == 0x20))
    sp0, sp1 = spaces[s_first[rows]], spaces[s_first[rows] + 1]
    q0, q1 = quotes[q_first[rows]], quotes[q_first[rows] + 1]
    ok = (q0 == sp1 + 1) & (q1 <= ends[rows] - 3)
    rows, sp0, q0, q1 = rows[ok], sp0[ok], q0[ok], q1[ok]
    offsets = np.empty(len(rows) * (WIDTH + 1) + 1, dtype=np.int32)
    grid = offsets[:-1].reshape(len(rows), WIDTH + 1)
    grid[:, 0], grid[:, 1], grid[:, 2] = starts[rows], sp0 + 1, q0
    grid[:, 3], grid[:, 4], grid[:, 5] = q0 + 1, q1, ends[rows] + 1
    offsets[-1] = ends[rows[-1]] + 1 if len(rows) else 0
    return rows, offsets


def _tail(token: bytes) -> tuple[bool, str | None]:
    """(the parser accepts this tail, its language lower-cased or None)."""
    match = _TAIL.fullmatch(token)
    if match is None:
        return False, None
    datatype = match.group(2)
    if datatype is not None and (datatype.startswith(_RDF_DATATYPE)
                                 or not exact(datatype, IRI_EXACT)):
        return False, None
    language = match.group(1)
    return True, language.decode().lower() if language is not None else None


class LiteralLines:
    """The literal lines of one chunk, encoded and checked (no side effect until used)."""

    def __init__(self, data: bytes, offsets: np.ndarray):
        self.indices, self.tokens = encode(token_array(data, offsets), WIDTH)
        idx = self.indices
        node_ok = valid_tokens(self.tokens, idx[:, SUBJECT], nodes=True)
        iri_ok = valid_tokens(self.tokens, idx[:, PREDICATE], nodes=False)
        tails = np.unique(idx[:, TAIL])
        self.languages: dict[int, str | None] = {}
        tail_ok = np.zeros(len(self.tokens), dtype=bool)
        for index, token in zip(tails.tolist(), self.tokens.take(pa.array(tails)).to_pylist(),
                                strict=True):
            tail_ok[index], self.languages[index] = _tail(token)
        self.good = node_ok[idx[:, SUBJECT]] & iri_ok[idx[:, PREDICATE]] & tail_ok[idx[:, TAIL]]
        if not data.isascii():  # the lexical forms must be UTF-8 (the parser says where not)
            forms = np.unique(idx[self.good, LEXICAL])
            texts = self.tokens.take(pa.array(forms))
            try:
                texts.cast(pa.string())
            except pa.ArrowInvalid:
                utf8 = np.ones(len(self.tokens), dtype=bool)
                utf8[forms] = [_is_utf8(t) for t in texts.to_pylist()]
                self.good &= utf8[idx[:, LEXICAL]]


def _is_utf8(token: bytes) -> bool:
    try:
        token.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
