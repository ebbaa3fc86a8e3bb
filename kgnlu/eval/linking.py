"""Entity-linking evaluation on gold built from the graphs themselves.

- **WordNet word senses.** Every example sentence of a synset uses one of its lemmas in that
  sense (WordNet's own annotation). The lemma occurrence is found with morphology ("banks" for
  bank, "ran" for run), and the linker disambiguates that gold span (as in all-words WSD). The
  held-out split is fixed by a hash of the synset id (10%), and never used to tune anything.
  Examples leave the entity texts: the evaluated linker sees WordNet definitions only, so no
  example sentence can match itself. Baselines over the same candidate sets: most frequent
  sense (the highest cntlist prior) and random (1/|candidates|, expected).
- **GeoNames ambiguity.** Sentences from templates mention a city whose name other cities share,
  with its US state or country ("Springfield, a city in Illinois, ..."): only the context says
  which. Gold mentions are the city and the region. Scored like AIDA: mention detection (spans)
  and linking (span + entity) precision/recall/F1, over the links the linker makes to GeoNames
  entities. The split (dev/test) is by a hash of the name.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kgnlu.errors import ConfigError, DataMissingError
from kgnlu.kg.graph_builder import alias_key
from kgnlu.kg.linker.sense_split import HELDOUT_PERCENT, split_of
from kgnlu.kg.linker.sense_split import find_lemma as _find_lemma

SPLITS = ("dev", "test")
GEO_TEMPLATES = (
    "{city}, a city in {region}, has a new mayor.",
    "We drove to {city} in {region} last summer.",
    "The council of {city}, {region}, approved the budget on Monday.",
    "She was born in {city} ({region}) and moved away at eighteen.",
)


def _sample(items: list, limit: int | None, key: Callable) -> list:
    """A deterministic subset: the first ``limit`` by a hash of each item's key."""
    if limit is None or len(items) <= limit:
        return items
    ranked = sorted(items, key=lambda x: hashlib.sha256(key(x).encode("utf-8")).digest())
    return ranked[:limit]


# ---------------------------------------------------------------------- WordNet
@dataclass(frozen=True)
class SenseExample:
    text: str
    start: int
    end: int
    synset: str  # gold external id
    split: str


def wordnet_examples(directory, nlp, morphology) -> list[SenseExample]:
    """One gold span per example sentence: the first occurrence of a lemma of its synset (the
    longest lemma first), matched on normalised tokens or through morphology of the last word."""
    from kgnlu.kg.sources.wordnet_format import read_synsets

    out = []
    for s in read_synsets(directory):
        examples = s.examples
        if not examples:
            continue
        lemmas = sorted({alias_key(lemma.name.replace("_", " ")) for lemma in s.lemmas},
                        key=lambda k: (-len(k), k))  # longest first; ties by text, not set order
        for ex in examples:
            span = _find_lemma(nlp.tokenizer(ex), lemmas, s.pos, morphology)
            if span is not None:
                out.append(SenseExample(ex, span[0], span[1], s.id, split_of(s.id)))
    return out


def definition_texts(kg) -> list[str]:
    """Entity texts with WordNet's example sentences removed (the evaluation's gold)."""
    from kgnlu.kg.linker.index import entity_text, read_strings
    from kgnlu.kg.sources.wordnet_format import split_gloss

    ids = kg.entity_ids()
    labels, texts = read_strings(kg._labels), read_strings(kg._texts)
    return [entity_text(lab, split_gloss(t)[0] if i.startswith("wn:") else t)
            for i, lab, t in zip(ids, labels, texts, strict=True)]


def evaluate_wordnet(linker, examples: Sequence[SenseExample], seed: int = 0) -> dict:
    """Accuracy of the linker on gold spans vs most-frequent-sense and random, two settings:
    ``open`` (every candidate of the span) and ``pos_given`` (the gold part of speech's)."""
    rng = random.Random(seed)
    stats = {s: {"ours": 0, "mfs": 0, "random": 0.0, "random_draw": 0, "covered": 0, "n": 0}
             for s in ("open", "pos_given")}
    start = time.perf_counter()
    canon = linker.canonical_id
    for ex in examples:
        links = linker.link(ex.text, spans=[(ex.start, ex.end)])
        gold = canon(ex.synset)
        cands = list(links[0].candidates) if links else []
        pos = ex.synset[-1]
        for setting, pool in (("open", cands),
                              ("pos_given", [c for c in cands if c.entity.startswith("wn:")
                                             and c.entity[-1] == pos])):
            st = stats[setting]
            st["n"] += 1
            if not pool:
                continue
            ids = [c.entity for c in pool]
            if gold in ids:
                st["covered"] += 1
                st["random"] += 1.0 / len(pool)
            st["ours"] += max(pool, key=lambda c: c.score).entity == gold
            st["mfs"] += max(pool, key=lambda c: c.prior).entity == gold
            st["random_draw"] += rng.choice(ids) == gold
    seconds = time.perf_counter() - start
    out = {}
    for setting, st in stats.items():
        n = max(st["n"], 1)
        out[setting] = {"examples": st["n"], "accuracy": st["ours"] / n, "mfs_accuracy": st["mfs"] / n,
                        "random_accuracy": st["random"] / n, "random_draw_accuracy": st["random_draw"] / n,
                        "candidate_recall": st["covered"] / n}
    out["seconds"] = seconds
    return out


# ---------------------------------------------------------------------- GeoNames
@dataclass(frozen=True)
class GeoSentence:
    text: str
    gold: tuple[tuple[int, int, str], ...]  # (start, end, entity)
    name: str
    split: str


def geonames_sentences(kg, *, max_cities_per_name: int = 3) -> list[GeoSentence]:
    """Templated sentences for every city name shared by cities in different regions."""
    rel = kg.relation_names
    state_rel, country_rel = rel.get("gnrel:us_state"), rel.get("gnrel:country")
    if country_rel is None:
        raise DataMissingError("the graph has no GeoNames relations; build it with the geonames source")
    kinds = kg.kinds
    city_kind = kinds.index("geonames:city") if "geonames:city" in kinds else -1
    triples = np.asarray(kg.triples)
    region: dict[int, int] = {}
    for h, _r, t in triples[triples[:, 1] == country_rel].tolist():
        region.setdefault(h, t)
    if state_rel is not None:
        for h, _r, t in triples[triples[:, 1] == state_rel].tolist():
            region[h] = t  # a US city's state says more than its country
    labels = {}
    by_name: dict[str, list[int]] = {}
    for e in np.flatnonzero(np.asarray(kg.entity_kinds) == city_kind).tolist():
        label = kg.entity_label(e)
        if label and label.isascii() and e in region and "," not in label and "(" not in label:
            labels[e] = label
            by_name.setdefault(alias_key(label), []).append(e)
    out = []
    for name, cities in sorted(by_name.items()):
        regions = {region[c] for c in cities}
        if len(cities) < 2 or len(regions) < 2:
            continue
        # Cities whose region is unique within the name: the context can decide them.
        counts: dict[int, int] = {}
        for c in cities:
            counts[region[c]] = counts.get(region[c], 0) + 1
        usable = sorted((c for c in cities if counts[region[c]] == 1),
                        key=lambda c: hashlib.sha256(f"{name}{c}".encode()).digest())
        for k, city in enumerate(usable[:max_cities_per_name]):
            reg = region[city]
            template = GEO_TEMPLATES[(k + len(name)) % len(GEO_TEMPLATES)]
            city_label, region_label = labels[city], kg.entity_label(reg)
            before, _, rest = template.partition("{city}")
            mid, _, after = rest.partition("{region}")
            text = before + city_label + mid + region_label + after
            cs = len(before)
            rs = cs + len(city_label) + len(mid)
            out.append(GeoSentence(text, ((cs, cs + len(city_label), kg.entity_id(city)),
                                          (rs, rs + len(region_label), kg.entity_id(reg))),
                                   name, split_of(name)))
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def evaluate_geonames(linker, sentences: Sequence[GeoSentence]) -> dict:
    """Mention detection and linking P/R/F1 (strong match), over links to GeoNames entities
    (entities of a ``geonames:*`` kind: the knowledge base this task is about)."""
    canon = linker.canonical_id
    md_tp = el_tp = n_pred = n_gold = 0
    city_right = city_n = 0
    start = time.perf_counter()
    texts = [s.text for s in sentences]
    for sent, links in zip(sentences, linker.link_batch(texts), strict=True):
        pred = {(link.start, link.end): link.entity for link in links
                if linker.kg.entity_kind(linker.kg.index_of(link.entity)).startswith("geonames:")}
        gold = {(s, e): canon(ent) for s, e, ent in sent.gold}
        n_pred += len(pred)
        n_gold += len(gold)
        for span, ent in gold.items():
            if span in pred:
                md_tp += 1
                el_tp += pred[span] == ent
        cs, ce, city = sent.gold[0]
        city_n += 1
        city_right += pred.get((cs, ce)) == canon(city)
    seconds = time.perf_counter() - start
    return {"sentences": len(sentences), "gold_mentions": n_gold,
            "mention_detection": _prf(md_tp, n_pred, n_gold), "linking": _prf(el_tp, n_pred, n_gold),
            "ambiguous_city_accuracy": city_right / max(city_n, 1), "seconds": seconds,
            "sentences_per_s": len(sentences) / seconds if seconds else math.inf}


# ---------------------------------------------------------------------- the whole evaluation
PRIOR_ONLY = {"lexical": 0.0, "neural": 0.0, "coherence": 0.0, "case": 0.0, "pos": 0.0, "qualifier": 0.0}


def run_linking_eval(kg, *, tasks: Sequence[str] = ("wordnet", "geonames"),
                     modes: Sequence[str] = ("fast", "neural"), split: str = "test",
                     wordnet_limit: int | None = 2000, geonames_limit: int | None = 600,
                     weights: dict | None = None, encoder=None, sense_model=None) -> dict:
    """Run the tasks in every mode (plus the max-prior baseline linker); a JSON-ready dict.

    ``encoder``: the :class:`~kgnlu.kg.linker.dense_index.TextEncoder` neural mode uses (default:
    the packaged MiniLM), e.g. a distilled student (kgnlu.distill) to compare with its teacher.
    ``sense_model``: a :class:`~kgnlu.kg.linker.sense_model.SenseModel` joining both modes.
    """
    import spacy

    from kgnlu.kg.linker import EntityLinker, Weights
    from kgnlu.kg.linker.index import read_morphology, wordnet_directories

    if split not in SPLITS:
        raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
    report: dict = {"graph": str(kg.path), "split": split, "heldout_percent": HELDOUT_PERCENT,
                    "tasks": {}}
    texts = definition_texts(kg)
    linkers: dict[str, EntityLinker] = {}

    def linker(mode: str) -> EntityLinker:
        if mode not in linkers:
            w = dict(PRIOR_ONLY) if mode == "prior" else dict(weights or {})
            linkers[mode] = EntityLinker.from_graph(kg, "fast" if mode == "prior" else mode,
                                                    weights=Weights(**w), entity_texts=texts,
                                                    encoder=encoder if mode == "neural" else None,
                                                    sense_model=None if mode == "prior" else sense_model)
        return linkers[mode]

    if "wordnet" in tasks:
        dirs = [d for d in wordnet_directories(kg) if d.is_dir()]
        if not dirs:
            raise DataMissingError("the graph has no WordNet source (or its dict folder is gone)")
        examples = [x for x in wordnet_examples(dirs[0], spacy.blank("en"), read_morphology(kg))
                    if x.split == split]
        examples = _sample(examples, wordnet_limit, key=lambda x: f"{x.synset}\x00{x.text}")
        res = {"examples": len(examples), "synsets": len({x.synset for x in examples})}
        for mode in modes:
            res[mode] = evaluate_wordnet(linker(mode), examples)
        report["tasks"]["wordnet"] = res
    if "geonames" in tasks:
        sentences = [s for s in geonames_sentences(kg) if s.split == split]
        sentences = _sample(sentences, geonames_limit, key=lambda s: s.text)
        res = {"sentences": len(sentences), "names": len({s.name for s in sentences})}
        for mode in (*modes, "prior"):
            res[mode] = evaluate_geonames(linker(mode), sentences)
        report["tasks"]["geonames"] = res
    return report


def markdown_report(report: dict) -> str:
    lines = [f"# Entity linking evaluation ({report['split']} split)", "",
             f"Graph: `{report['graph']}`", ""]
    wn = report["tasks"].get("wordnet")
    if wn:
        lines += [f"## WordNet word senses ({wn['examples']} examples, {wn['synsets']} synsets, "
                  f"held-out {report['heldout_percent']}% by synset hash)", "",
                  "| mode | setting | accuracy | most frequent sense | random | candidate recall |",
                  "|---|---|---|---|---|---|"]
        for mode in ("fast", "neural"):
            if mode in wn:
                for setting in ("open", "pos_given"):
                    r = wn[mode][setting]
                    lines.append(f"| {mode} | {setting} | {r['accuracy']:.3f} | {r['mfs_accuracy']:.3f} | "
                                 f"{r['random_accuracy']:.3f} | {r['candidate_recall']:.3f} |")
        lines.append("")
    geo = report["tasks"].get("geonames")
    if geo:
        lines += [f"## GeoNames ambiguity ({geo['sentences']} sentences, {geo['names']} shared names)", "",
                  "| linker | MD P | MD R | MD F1 | link P | link R | link F1 | ambiguous-city acc |",
                  "|---|---|---|---|---|---|---|---|"]
        for mode in ("fast", "neural", "prior"):
            if mode in geo:
                r = geo[mode]
                md, el = r["mention_detection"], r["linking"]
                name = "max prior (baseline)" if mode == "prior" else mode
                lines.append(f"| {name} | {md['precision']:.3f} | {md['recall']:.3f} | {md['f1']:.3f} | "
                             f"{el['precision']:.3f} | {el['recall']:.3f} | {el['f1']:.3f} | "
                             f"{r['ambiguous_city_accuracy']:.3f} |")
        lines.append("")
    return "\n".join(lines)
