"""Native tokenising and interning of canonical N-Triples/N-Quads lines (numpy + pyarrow).

A chunk of lines is one ``bytes`` object. numpy finds the newlines, spaces and quotes, and so the
*canonical* lines: ``s p o .`` (or ``s p o g .``) with single spaces and no quote. Their tokens
become one pyarrow BinaryArray that *views* the chunk (offsets only, no copy): a token is the bytes
from its first byte up to the next token, so it keeps its trailing space (``b"<iri> "``) and every
line ends in a filler token (``b".\\n"`` plus any non-canonical lines after it). pyarrow's
``dictionary_encode`` (a C++ hash table) turns the tokens into int32 indices [lines, width + 1]
into the chunk's *distinct* tokens, and everything after that works on distinct tokens only:
RE2 validation, CURIE compaction and blank-node scoping (pyarrow kernels), and the lookup in the
builder's id table. Python never sees a token per line.

Validation is a strict subset of what pyoxigraph's parser accepts: an RE2 pattern for plain ASCII
IRIs (a conservative RFC 3987 subset) and ASCII blank-node labels; a token that pattern refuses
(non-ASCII IRIs, say) gets the exact check (Python ``re`` + pyoxigraph's own IRI check), once per
chunk. A line with a token that fails both goes to the parser, which alone decides what is valid.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyoxigraph import NamedNode

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.namespaces import PREFIXES

# -- which tokens are valid ---------------------------------------------------------------------
# RE2, on a token with its trailing space. ASCII only, no escapes; every IRI it accepts is an
# absolute RFC 3987 IRI (tests/kg/test_ntriples_native.py checks it against pyoxigraph's check).
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|{_PCT})"
_HOST = rf"(?:[A-Za-z0-9._~!$&'()*+,;=-]|{_PCT})*(?::[0-9]*)?"
_IRI_RE2 = (rf"<[A-Za-z][A-Za-z0-9+.-]*:(?://{_HOST}(?:/{_PCHAR}*)*|/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?)"
            rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?>")
_BNODE_RE2 = r"_:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
IRI_TOKEN = f"^{_IRI_RE2} $"
NODE_TOKEN = f"^(?:{_IRI_RE2}|{_BNODE_RE2}) $"

# The exact check, for tokens the RE2 patterns refuse: IRIREF without escapes (no controls,
# space or <>"{}|^`\\ inside) or an ASCII blank-node label, then pyoxigraph's IRI check.
_IRI = r'<[^\x00-\x20<>"{}|^`\\]*>'
_BNODE = r"_:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
IRI_EXACT = re.compile(_IRI)
NODE_EXACT = re.compile(f"{_IRI}|{_BNODE}")


def exact(token: bytes, pattern: re.Pattern) -> bool:
    """``token`` (without its trailing space) is a term the parser accepts in that position."""
    try:
        text = token.decode("utf-8")
    except UnicodeDecodeError:
        return False  # the parser reports where
    if not pattern.fullmatch(text):
        return False
    if text[:1] == "<":
        try:
            NamedNode(text[1:-1])  # the same RFC 3987 check the parser applies
        except ValueError:
            return False
    return True


def valid_tokens(dictionary: pa.Array, used: np.ndarray, nodes: bool) -> np.ndarray:
    """bool [len(dictionary)]: the token is a valid node (IRI or blank node) or, with
    ``nodes=False``, a valid IRI; only entries at ``used`` (int indices) are decided."""
    ok = pc.match_substring_regex(dictionary, NODE_TOKEN if nodes else IRI_TOKEN)
    ok = ok.to_numpy(zero_copy_only=False)
    doubt = np.unique(used[~ok[used]])
    if len(doubt):
        pattern = NODE_EXACT if nodes else IRI_EXACT
        tokens = dictionary.take(pa.array(doubt)).to_pylist()
        ok = ok.copy()
        ok[doubt] = [exact(t[:-1], pattern) for t in tokens]
    return ok


# -- canonical lines and their tokens -----------------------------------------------------------
def line_bounds(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int64 [n] start and end (the newline's position) of each line of a chunk ending in ``\\n``."""
    ends = np.flatnonzero(buf == 0x0A)
    starts = np.empty_like(ends)
    starts[:1] = 0
    starts[1:] = ends[:-1] + 1
    return starts, ends


def per_line(positions: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted byte positions (of spaces, say): int64 [n] index of each line's first one, and
    how many each line holds."""
    before = np.searchsorted(positions, ends)  # how many fall before each line's end
    first = np.empty_like(before)
    first[:1] = 0
    first[1:] = before[:-1]
    return first, before - first


def canonical_lines(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, spaces: np.ndarray,
                    usable: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines ``t1 t2 ... t_width .`` (single spaces, no quote anywhere) among the ``usable`` ones
    (bool [n]): (line indices [m], int32 token offsets [m * (width + 1) + 1]) for
    :func:`token_array`. ``spaces``: the positions of every space in ``buf``."""
    first, count = per_line(spaces, ends)
    rows = np.flatnonzero((count == width) & usable & (buf[ends - 1] == 0x2E))
    if len(rows) and 0x22 in buf:  # a literal: its line goes to the parser
        quoted = np.zeros(len(ends), dtype=bool)
        quoted[np.searchsorted(ends, np.flatnonzero(buf == 0x22))] = True
        rows = rows[~quoted[rows]]
    at = spaces[first[rows][:, None] + np.arange(width)]  # [m, width] space positions
    rows_ok = at[:, -1] == ends[rows] - 2  # the last token is exactly "."
    rows, at = rows[rows_ok], at[rows_ok]
    offsets = np.empty(len(rows) * (width + 1) + 1, dtype=np.int32)
    grid = offsets[:-1].reshape(len(rows), width + 1)
    grid[:, 0] = starts[rows]
    grid[:, 1:] = at + 1
    offsets[-1] = ends[rows[-1]] + 1 if len(rows) else 0
    return rows, offsets


def token_array(data: bytes, offsets: np.ndarray) -> pa.Array:
    """A BinaryArray over ``data`` (no copy): token i is ``data[offsets[i]:offsets[i + 1]]``."""
    return pa.BinaryArray.from_buffers(pa.binary(), len(offsets) - 1,
                                       [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def encode(tokens: pa.Array, width: int) -> tuple[np.ndarray, pa.Array]:
    """(int32 [m, width + 1] indices into the distinct tokens, the distinct tokens)."""
    encoded = pc.dictionary_encode(tokens)
    indices = encoded.indices.to_numpy(zero_copy_only=False).reshape(-1, width + 1)
    return indices, encoded.dictionary


def first_seen(column: np.ndarray, size: int) -> np.ndarray:
    """Distinct values of ``column`` (ints < size) in order of first appearance."""
    n = len(column)
    first = np.full(size, n, dtype=np.int64)
    np.minimum.at(first, column, np.arange(n, dtype=np.int64))
    seen = np.flatnonzero(first < n)
    return seen[np.argsort(first[seen], kind="stable")]


# -- tokens to external ids ---------------------------------------------------------------------
def token_texts(tokens: pa.Array) -> pa.Array:
    """Tokens without their trailing space, as a string array (validated tokens are UTF-8)."""
    return pc.binary_slice(tokens, 0, -1).cast(pa.string())


def external_ids(tokens: pa.Array, scope: str) -> list[str]:
    """RdfMapper.ext_id of each token (``<iri>`` or ``_:label``, trailing space already cut),
    in pyarrow: a CURIE where a known base matches (longest base wins; ties to the first in
    PREFIXES, as :func:`kgnlu.kg.namespaces.compact`), else the IRI; ``_:SCOPE_label`` for blank
    nodes."""
    iris = pc.utf8_slice_codeunits(tokens, 1, -1)
    out = iris
    done = None
    lengths = pc.binary_length(iris)
    for prefix, base in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        hit = pc.and_(pc.starts_with(iris, base), pc.greater(lengths, len(base)))
        if done is not None:
            hit = pc.and_not(hit, done)
        if not pc.any(hit).as_py():
            continue
        out = pc.if_else(hit, pc.replace_substring(iris, base, f"{prefix}:", max_replacements=1), out)
        done = hit if done is None else pc.or_(done, hit)
    blank = pc.binary_join_element_wise(f"_:{scope}_", pc.utf8_slice_codeunits(tokens, 2), "")
    return pc.if_else(pc.starts_with(tokens, "<"), out, blank).to_pylist()


def intern_nodes(builder: GraphBuilder, tokens: pa.Array, rows: np.ndarray, scope: str) -> np.ndarray:
    """int64 [len(rows)] entity ids of the node tokens ``tokens[rows]`` (distinct, first-seen
    order); new names are interned in that order. Known names are looked up with throw-away
    strings and only the new ones are made again, so the strings the builder keeps are allocated
    together rather than scattered among freed ones (which would keep the heap, and RSS, large)."""
    texts = token_texts(tokens.take(pa.array(rows)))
    ids = builder.known_entity_ids(external_ids(texts, scope))
    missing = np.flatnonzero(ids < 0)
    if len(missing):
        ids[missing] = builder.entity_ids(external_ids(texts.take(pa.array(missing)), scope))
    return ids
