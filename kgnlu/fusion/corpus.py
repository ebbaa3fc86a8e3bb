"""The linked pretraining corpus: WordNet glosses and GeoNames-derived descriptions, linked onto the graph.

    summary = build_linked_corpus(kg, "data/linked", LinkedCorpusConfig())   # cached: reruns reuse it
    for record in read_linked("data/linked"):        # {"id", "source", "text", "links", "entities"}
        ...
    open_corpus("text", paths=["data/linked/corpus.jsonl"])   # the same text as Documents with entity spans

Text sources:

- WordNet: one record per synset, ``"lemma, lemma: definition."`` plus its example sentences
  (:func:`kgnlu.data.corpora.wordnet.synset_sentences`, the text the plain pretraining runs use).
- GeoNames: one record per place, sentences made from its graph facts (country, capital,
  continent, neighbours, US state; population from the place's description) with templates varied
  by a hash of the fact, e.g. "Lyon is a city in France. About 520,774 people live in Lyon."

Held-out facts (see :mod:`kgnlu.data.probe_data`): every sentence that names both the subject
and the answer of a held-out probe fact (word-boundary, case-insensitive) is dropped before
linking — from the GeoNames descriptions and the WordNet glosses alike — so a fused model's gain
on those facts can only come from the graph embeddings. The held-out pairs are written beside
the corpus (``probe_facts.jsonl``) and the probe reads them from there.

Each record's text is linked by :class:`kgnlu.kg.linker.EntityLinker` (``links`` =
``Link.to_json()``; ``entities`` = ``[start, end, entity]`` so the plain ``text`` corpus reads the
file with entity spans). Records of the two sources are interleaved in proportion, so any prefix
of the file (a short run) sees both. The folder is written atomically and reused while its
``meta.json`` matches the graph and the config.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kgnlu.config import to_dict
from kgnlu.data.corpora.wordnet import POS_NAMES, synset_sentences
from kgnlu.data.probe_data import ProbeDataConfig, ProbeFact, heldout_pairs, probe_facts, unit_hash
from kgnlu.errors import ConfigError, DataMissingError
from kgnlu.io import atomic_directory
from kgnlu.kg.sources.wordnet_format import data_files, read_data_file
from kgnlu.progress import track

CORPUS_FILE, FACTS_FILE, META_FILE = "corpus.jsonl", "probe_facts.jsonl", "meta.json"
FORMAT_VERSION = 1

# GeoNames relation → sentence templates ({s} subject, {o} object); one is picked per fact by hash
FACT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "gnrel:country": ("{s} is a city in {o}.", "{s} lies in {o}.", "The city of {s} is located in {o}.",
                      "{s} is a town in {o}.", "{s} is one of the cities of {o}."),
    "gnrel:capital": ("The capital of {s} is {o}.", "{o} is the capital city of {s}.",
                      "{s} has its capital at {o}.", "The seat of government of {s} is {o}."),
    "gnrel:continent": ("{s} is a country in {o}.", "{s} is located in {o}.", "{s} lies on the continent of {o}."),
    "gnrel:neighbour": ("{s} shares a border with {o}.", "{s} borders {o}.", "{s} and {o} are neighbouring countries."),
    "gnrel:us_state": ("{s} is a city in the state of {o}.", "{s} is in {o}.", "{s} lies in the US state of {o}."),
}
STATE_TEMPLATES = ("{s} is a state of {o}.", "{s} is one of the states of {o}.")  # gnrel:country of a US state
POPULATION_TEMPLATES = ("{s} has a population of {p}.", "About {p} people live in {s}.",
                        "{s} is home to {p} inhabitants.")
_POPULATION = re.compile(r"population ([\d,]+)")


@dataclass
class LinkedCorpusConfig:
    wordnet_dir: str | None = "/usr/share/wordnet"  # None: GeoNames descriptions only
    parts_of_speech: tuple[str, ...] = ("noun",)  # nouns name things the graph links to; verbs add little
    max_synsets: int | None = None  # None = all (82k nouns); tests and quick runs cap it
    geonames: bool = True
    max_places: int | None = None  # None = every place in the graph (34k cities, 252 countries)
    max_neighbours: int = 6  # neighbour sentences per country (China has 14 borders)
    linker_mode: str = "fast"  # "fast" links ~3,000 sentences/s; "neural" ~500/s for a few points of accuracy
    link_batch_size: int = 256
    probe: ProbeDataConfig = field(default_factory=ProbeDataConfig)  # which facts are held out of the text
    seed: int = 0  # template choice

    def __post_init__(self) -> None:
        bad = [p for p in self.parts_of_speech if p not in POS_NAMES]
        if bad:
            raise ConfigError(f"unknown parts of speech {bad}; use some of {', '.join(POS_NAMES)}")
        if self.wordnet_dir is None and not self.geonames:
            raise ConfigError("the linked corpus needs a source: set wordnet_dir or geonames: true")


# ------------------------------------------------------------------ held-out filter
class CoMentionFilter:
    """Drops sentences that name both sides of a held-out (subject, answer) pair."""

    def __init__(self, pairs: Iterable[tuple[str, str]]):
        self.partners: dict[str, set[str]] = {}
        for a, b in pairs:
            a, b = a.casefold(), b.casefold()
            self.partners.setdefault(a, set()).add(b)
            self.partners.setdefault(b, set()).add(a)
        names = sorted(self.partners, key=len, reverse=True)
        # lookarounds instead of \b: labels may start or end with non-word characters ("St. Louis")
        self.pattern = re.compile("(?<!\\w)(?:" + "|".join(map(re.escape, names)) + ")(?!\\w)",
                                  re.IGNORECASE) if names else None

    def names_in(self, sentence: str) -> set[str]:
        if self.pattern is None:
            return set()
        found: set[str] = set()
        # overlapping matches ("New York" inside "New York City") count too: scan from every start
        position = 0
        while (match := self.pattern.search(sentence, position)) is not None:
            found.add(match.group().casefold())
            position = match.start() + 1
        return found

    def allows(self, sentence: str) -> bool:
        names = self.names_in(sentence)
        return not any(self.partners[name] & names for name in names)


# ------------------------------------------------------------------ sources
def geonames_descriptions(kg, config: LinkedCorpusConfig) -> Iterator[tuple[str, list[str]]]:
    """(record id, sentences) for every GeoNames place of the graph, facts rendered by templates."""
    kinds = [i for i, kind in enumerate(kg.kinds) if kind.startswith("geonames:")]
    if not kinds:
        return
    import numpy as np

    rows = np.flatnonzero(np.isin(np.asarray(kg.entity_kinds), kinds))
    if config.max_places is not None:
        rows = rows[:config.max_places]
    for e in rows.tolist():
        subject = kg.entity_label(e)
        if not subject:
            continue
        ext, kind = kg.entity_id(e), kg.entity_kind(e)
        sentences: list[str] = []
        neighbours = 0
        for step in kg.neighbors(e, direction="out"):
            relation = kg.relation_id(step.relation)
            templates = FACT_TEMPLATES.get(relation)
            obj = kg.entity_label(step.tail)
            if templates is None or not obj:
                continue
            if relation == "gnrel:neighbour":
                neighbours += 1
                if neighbours > config.max_neighbours:
                    continue
            if relation == "gnrel:country" and kind == "geonames:us_state":
                templates = STATE_TEMPLATES
            sentences.append(_pick(templates, config.seed, ext, relation, obj).format(s=subject, o=obj))
        population = _POPULATION.search(kg.entity_text(e) or "")
        if population and population.group(1) != "0":
            sentences.append(_pick(POPULATION_TEMPLATES, config.seed, ext, "population").format(
                s=subject, p=population.group(1)))
        if sentences:
            yield ext, sentences


def wordnet_glosses(config: LinkedCorpusConfig) -> Iterator[tuple[str, list[str]]]:
    """(record id, sentences) per synset: the lemma-prefixed definition and the examples."""
    if config.wordnet_dir is None:
        return
    directory = Path(config.wordnet_dir)
    files = [p for p in data_files(directory) if p.name.split(".", 1)[1] in config.parts_of_speech]
    missing = [p for p in files if not p.is_file()]
    if missing or not files:
        raise DataMissingError(f"WordNet data files missing under {directory}: install them with `sudo apt-get "
                               "install --no-install-recommends wordnet-base`, or set wordnet_dir: null")
    count = 0
    for path in files:
        for synset in read_data_file(path):
            if config.max_synsets is not None and count >= config.max_synsets:
                return
            count += 1
            sentences = [text for text, _ in synset_sentences(synset)]
            if sentences:
                yield synset.id, sentences


def _pick(templates: Sequence[str], *key: object) -> str:
    return templates[int(unit_hash(*key) * len(templates))]


def interleave(a: Sequence, b: Sequence) -> Iterator:
    """Items of ``a`` and ``b`` merged in proportion (Bresenham), each in its own order."""
    i = j = 0
    while i < len(a) or j < len(b):
        if j >= len(b) or (i < len(a) and (i + 1) * len(b) <= (j + 1) * len(a)):
            yield a[i]
            i += 1
        else:
            yield b[j]
            j += 1


# ------------------------------------------------------------------ building and reading
def build_linked_corpus(kg, out_dir: str | Path, config: LinkedCorpusConfig | None = None, *,
                        force: bool = False, linker=None) -> dict:
    """Write ``out_dir/{corpus.jsonl, probe_facts.jsonl, meta.json}`` (atomic); reuse a matching folder."""
    from kgnlu.kg.linker import EntityLinker

    config = config or LinkedCorpusConfig()
    out = Path(out_dir)
    fingerprint = {"format_version": FORMAT_VERSION, "graph": kg.manifest.get("created"),
                   "graph_counts": kg.manifest.get("counts"), "config": to_dict(config)}
    meta_path = out / META_FILE
    if not force and meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("fingerprint") == json.loads(json.dumps(fingerprint)):
            return meta
    facts = probe_facts(kg, config.probe)
    keep = CoMentionFilter(heldout_pairs(facts))
    dropped = {"geonames": 0, "wordnet": 0}
    records: dict[str, list[tuple[str, str, str]]] = {"geonames": [], "wordnet": []}
    for source, stream in (("geonames", geonames_descriptions(kg, config) if config.geonames else iter(())),
                           ("wordnet", wordnet_glosses(config))):
        for record_id, sentences in stream:
            kept = [s for s in sentences if keep.allows(s)]
            dropped[source] += len(sentences) - len(kept)
            if kept:
                records[source].append((source, record_id, " ".join(kept)))
    ordered = list(interleave(records["geonames"], records["wordnet"]))
    linker = linker or EntityLinker.from_graph(kg, mode=config.linker_mode)
    counts = {"records": 0, "links": 0, "characters": 0}
    with atomic_directory(out) as staging:
        with open(staging / CORPUS_FILE, "w", encoding="utf-8") as f:
            links_stream = linker.link_batch((text for _, _, text in ordered), batch_size=config.link_batch_size)
            for (source, record_id, text), links in track(zip(ordered, links_stream, strict=True), total=len(ordered),
                                                   desc="link corpus", unit="record"):
                f.write(json.dumps({"id": record_id, "source": source, "text": text,
                                    "links": [link.to_json() for link in links],
                                    "entities": [[link.start, link.end, link.entity] for link in links]},
                                   ensure_ascii=False) + "\n")
                counts["records"] += 1
                counts["links"] += len(links)
                counts["characters"] += len(text)
        with open(staging / FACTS_FILE, "w", encoding="utf-8") as f:
            for fact in facts:
                f.write(json.dumps(fact.to_json(), ensure_ascii=False) + "\n")
        meta = {"fingerprint": fingerprint, **counts,
                "sources": {k: len(v) for k, v in records.items()},
                "sentences_dropped_for_heldout_facts": dropped,
                "probe_facts": len(facts), "heldout_facts": sum(f.split == "heldout" for f in facts)}
        (staging / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def corpus_file(path: str | Path) -> Path:
    """``corpus.jsonl`` of a linked-corpus folder (or the file itself)."""
    path = Path(path)
    file = path / CORPUS_FILE if path.is_dir() else path
    if not file.is_file():
        raise DataMissingError(f"no linked corpus at {path}; build one with "
                               "`python scripts/fusion_evidence.py corpus` or build_linked_corpus()")
    return file


def read_linked(path: str | Path) -> Iterator[dict]:
    """The records of a linked corpus, in file order: ``{"id", "source", "text", "links", "entities"}``."""
    from kgnlu.errors import ParseError
    from kgnlu.io import iter_json_lines

    file = corpus_file(path)
    expected = 'a JSON object with "text" and "links"'
    for lineno, record in iter_json_lines(file, expected):
        if not isinstance(record.get("text"), str):
            raise ParseError(file, lineno, 1, expected)
        yield record


def read_probe_facts(path: str | Path) -> list[ProbeFact]:
    """The probe facts saved beside a linked corpus (or a probe_facts.jsonl file)."""
    path = Path(path)
    file = path / FACTS_FILE if path.is_dir() else path
    if not file.is_file():
        raise DataMissingError(f"no probe facts at {path}; they are written by build_linked_corpus()")
    with open(file, encoding="utf-8") as f:
        return [ProbeFact.from_json(json.loads(line)) for line in f if line.strip()]
