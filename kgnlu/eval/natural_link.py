"""Hand-written entity-linking sets: sentences people would write, gold links chosen by a person.

Three sets ship in ``kgnlu/eval/natural/``, written before the linker was tuned on any of them
(docs/linking-eval.md says how and what is annotated):

- ``wordnet``: ambiguous nouns and verbs ("the river burst its banks"), gold = the WordNet 3.0
  synset a human annotator picked from the glosses, as the default graph's id (``wn:09213565-n``);
- ``geonames``: places whose names several places share ("Paris, Texas", "Perth in Scotland"),
  gold = ``geonames:GEONAMEID`` in the default graph, or null (NIL) for a place the graph lacks;
- ``orchestras``: people, orchestras, labels and works of a hand-written Turtle graph
  (``natural/graphs/orchestras.ttl``) named the way people name them ("Karajan", "Deutsche
  Grammophon"), gold = the entity IRI, or null for a person the graph lacks.

One sentence a line:

    {"id": "wn-0001", "text": "The river burst its banks ...", "split": "test",
     "mentions": [{"start": 20, "end": 25, "surface": "banks", "gold": "wn:09213565-n"}]}

``start``/``end`` are Python string offsets and ``surface == text[start:end]``. A NIL mention may
carry ``ref``: what it names outside the graph (``geonames:4303602`` for a town under the
population cut, ``fictional``, ``village``, ``region``). ``note`` is free text. ``split`` is fixed
when a sentence is written, by :func:`split_of` of its id: tune on dev, score test once per release.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kgnlu.errors import DataMissingError, ParseError, UnknownNameError

SETS_DIR = Path(__file__).with_name("natural")
SPLITS = ("dev", "test")
# name → (set file, the graph its gold ids live in: None = the default graph, built by `make run`
# from wordnet + geonames:15000; else a Turtle file under natural/)
SETS = {
    "wordnet": ("link_wordnet.jsonl", None),
    "geonames": ("link_geonames.jsonl", None),
    "orchestras": ("link_own_graph.jsonl", "graphs/orchestras.ttl"),
}
RECORD_FIELDS = ("id", "text", "mentions", "split", "note")
MENTION_FIELDS = ("start", "end", "surface", "gold", "ref")


@dataclass(frozen=True)
class GoldMention:
    start: int
    end: int
    surface: str
    gold: str | None  # external id (wn:..., geonames:..., an IRI); None = NIL
    ref: str | None = None  # for a NIL mention: what it names outside the graph

    @property
    def is_nil(self) -> bool:
        return self.gold is None


@dataclass(frozen=True)
class LinkSentence:
    id: str
    text: str
    mentions: tuple[GoldMention, ...]
    split: str
    note: str | None = None


def split_of(sentence_id: str) -> str:
    """"dev" when the first byte of sha256(id) is below 128, else "test": about half each, fixed by
    the id alone (the same rule as :func:`kgnlu.eval.natural_qa.split_for`)."""
    from kgnlu.eval.natural_qa import split_for

    return split_for(sentence_id)  # u < 0.5 over the first 8 bytes: the first byte below 128


def set_path(name: str) -> Path:
    if name not in SETS:
        raise UnknownNameError("hand-written link set", name, SETS)
    return SETS_DIR / SETS[name][0]


def graph_source(name: str) -> Path | None:
    """The Turtle file a set's gold ids live in, or None for the default graph."""
    set_path(name)
    source = SETS[name][1]
    return None if source is None else SETS_DIR / source


def read_set(path: str | Path) -> list[LinkSentence]:
    """Every sentence of a set file (or a shipped set by name), validated: a bad line raises
    :class:`~kgnlu.errors.ParseError` naming the file, the line and what was expected."""
    if isinstance(path, str) and path in SETS:
        path = set_path(path)
    path = Path(path)
    if not path.is_file():
        raise DataMissingError(f"{path}: no such link set; shipped sets: {', '.join(SETS)}")
    from kgnlu.io import iter_json_lines

    out, seen = [], set()
    for lineno, obj in iter_json_lines(path, "a JSON object per sentence"):
        sentence = _sentence(obj, path, lineno)
        if sentence.id in seen:
            raise ParseError(path, lineno, None, f"a new id, got duplicate {sentence.id!r}")
        seen.add(sentence.id)
        out.append(sentence)
    return out


def _sentence(obj: dict, path: Path, lineno: int) -> LinkSentence:
    def bad(expected: str) -> ParseError:
        return ParseError(path, lineno, None, expected)

    unknown = sorted(set(obj) - set(RECORD_FIELDS))
    if unknown:
        raise bad(f"fields {', '.join(RECORD_FIELDS)}, got unknown {', '.join(map(repr, unknown))}")
    sid, text = obj.get("id"), obj.get("text")
    if not (isinstance(sid, str) and sid):
        raise bad("a non-empty string 'id'")
    if not (isinstance(text, str) and text.strip()):
        raise bad(f"a non-empty string 'text' in sentence {sid!r}")
    split = obj.get("split", split_of(sid))
    if split not in SPLITS:
        raise bad(f"'split' dev or test in sentence {sid!r}, got {split!r}")
    note = obj.get("note")
    if note is not None and not isinstance(note, str):
        raise bad(f"a string 'note' in sentence {sid!r}")
    raw = obj.get("mentions")
    if not (isinstance(raw, list) and raw):
        raise bad(f"a non-empty list 'mentions' in sentence {sid!r}")
    mentions = tuple(_mention(m, text, f"sentence {sid!r} mention {i}", bad) for i, m in enumerate(raw))
    for a, b in zip(mentions, mentions[1:], strict=False):
        if b.start < a.end:
            raise bad(f"mentions in text order without overlap in sentence {sid!r}, got "
                      f"{a.surface!r} at {a.start} then {b.surface!r} at {b.start}")
    return LinkSentence(sid, text, mentions, split, note)


def _mention(m, text: str, where: str, bad) -> GoldMention:
    if not isinstance(m, dict):
        raise bad(f"an object for {where}")
    unknown = sorted(set(m) - set(MENTION_FIELDS))
    if unknown:
        raise bad(f"{where} fields {', '.join(MENTION_FIELDS)}, got unknown {', '.join(map(repr, unknown))}")
    if "gold" not in m:
        raise bad(f"'gold' (an id, or null for NIL) in {where}")
    start, end, surface, gold, ref = m.get("start"), m.get("end"), m.get("surface"), m["gold"], m.get("ref")
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (start, end)):
        raise bad(f"integer 'start' and 'end' in {where}")
    if not 0 <= start < end <= len(text):
        raise bad(f"0 <= start < end <= {len(text)} (the text's length) in {where}, got {start}..{end}")
    if surface != text[start:end]:
        raise bad(f"'surface' equal to text[{start}:{end}] = {text[start:end]!r} in {where}, got {surface!r}")
    if gold is not None and not (isinstance(gold, str) and gold.strip()):
        raise bad(f"'gold' a non-empty id or null in {where}, got {gold!r}")
    if ref is not None and (gold is not None or not (isinstance(ref, str) and ref)):
        raise bad(f"'ref' only on a NIL mention (gold null), as a non-empty string, in {where}")
    return GoldMention(start, end, surface, gold, ref)


def gold_mentions(records: list[LinkSentence], split: str | None = None) -> list[tuple[LinkSentence, GoldMention]]:
    """(sentence, mention) for every gold mention of ``records`` in ``split`` (None: both), in file
    order: what an evaluation scores, gold spans given or spans found."""
    if split is not None and split not in SPLITS:
        raise UnknownNameError("split", split, SPLITS)
    return [(r, m) for r in records if split is None or r.split == split for m in r.mentions]
