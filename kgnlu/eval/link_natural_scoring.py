"""Scoring the hand-written linking sets (:mod:`kgnlu.eval.natural_link`) with the linker.

Each sentence is linked as a user would link it (``linker.link_batch``: mentions found by the
linker, NIL threshold applied), then every gold mention is scored against the links that overlap
its span:

- a gold entity is **right** when the overlapping link (the one overlapping most, if several) names
  it, after ``owl:sameAs`` canonicalisation (the linker reports a cluster's representative);
  no overlapping link, or another entity, is wrong;
- a NIL gold mention is right when no link overlaps it. *NIL precision* is the share of gold
  mentions left unlinked that are NIL in the gold; *NIL recall* the share of NIL gold mentions left
  unlinked.

``wordnet`` is a lexical sample (only the target words carry gold), so it is scored on the gold
spans only: accuracy = gold spans with an overlapping link to the gold synset, plus the accuracy
with the gold spans given to the linker (``link(text, spans=...)``: disambiguation alone, no
mention detection or NIL cut). ``geonames`` gold lives in GeoNames; links to other entities of the
default graph (a WordNet common noun over "Ontario") do not count as covering a span, as in
:func:`kgnlu.eval.linking.evaluate_geonames`. ``orchestras`` counts every link.

Beside the fast and neural modes, the **prior** baseline is the fast linker with every weight but
the prior at 0 (and the label cue off): most frequent sense for WordNet, most populous place for
GeoNames, the alias prior on an own graph.

Dev reports list the wrong mentions (for reading); test reports hold only the figures, never a
sentence's predictions (test is scored once per release and not read).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kgnlu.errors import ConfigError, DataMissingError
from kgnlu.eval.natural_link import SETS, SPLITS, LinkSentence, graph_source, read_set

MODES = ("fast", "neural")
BASELINE = "prior"
# The prior baseline: every cue but p(e|m) switched off (``match`` stays: it only matters for fuzzy
# candidates, where it is the surface similarity the prior is multiplied by).
PRIOR_WEIGHTS = {"lexical": 0.0, "neural": 0.0, "coherence": 0.0, "case": 0.0, "label": 0.0, "pos": 0.0,
                 "qualifier": 0.0}


# ---------------------------------------------------------------------- graphs
def graph_for(name: str, default_graph: Path | None = None, home: Path | None = None) -> Path:
    """The graph a set's gold ids live in: ``default_graph`` (else ``$KGNLU_HOME/graphs/default``)
    for wordnet/geonames, or the set's Turtle file built into ``$KGNLU_HOME/graphs/NAME``, rebuilt
    when the file or the builder's short-name rules (:mod:`kgnlu.kg.short_names`) changed."""
    from kgnlu.integrity import source_checksum as file_sha256  # "sha256:HEX", as manifests record
    from kgnlu.kg.build import build_graph, default_graph_path, kgnlu_home
    from kgnlu.kg.graph_files import graph_exists, read_manifest
    from kgnlu.kg.short_names import RULES_VERSION

    ttl = graph_source(name)
    if ttl is None:
        path = Path(default_graph or default_graph_path()).expanduser()
        if not graph_exists(path):
            raise DataMissingError(f"the default graph is not built at {path}; run `make run` or "
                                   "`kgnlu graph build wordnet geonames:15000 --out ...`")
        return path
    out = Path(home or kgnlu_home()) / "graphs" / name
    if graph_exists(out):
        recorded = {s.get("checksum") for s in read_manifest(out).get("sources", [])}
        if {file_sha256(ttl), RULES_VERSION} <= recorded:
            return out
    build_graph([str(ttl)], out, force=True, name=name)
    return out


def in_scope(set_name: str) -> Callable[[str], bool]:
    """Which links count as covering a gold span in ``set_name``."""
    if set_name == "geonames":
        return lambda entity: entity.startswith("geonames:")
    return lambda entity: True


# ---------------------------------------------------------------------- scoring
def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def _covering(links, start: int, end: int, scope: Callable[[str], bool]):
    """The in-scope link overlapping [start, end) most (the first on ties), or None."""
    best, most = None, 0
    for link in links:
        if not scope(link.entity):
            continue
        n = _overlap(start, end, link.start, link.end)
        if n > most:
            best, most = link, n
    return best


def score_sentences(linker, set_name: str, sentences: Sequence[LinkSentence], *,
                    keep_errors: bool = False, given_spans: bool = False) -> dict:
    """Accuracy on non-NIL gold mentions and NIL precision/recall of ``linker`` on ``sentences``
    (see the module doc); ``given_spans`` adds the accuracy with the gold spans given;
    ``keep_errors`` lists each wrong mention (dev only: never for test)."""
    scope = in_scope(set_name)
    kg, canon = linker.kg, linker.canonical_id

    def label(entity: str | None) -> str | None:
        if entity is None:
            return None
        e = kg.index_of(entity)
        return kg.entity_label(e) if e >= 0 else None

    start = time.perf_counter()
    predicted = list(linker.link_batch([s.text for s in sentences]))
    seconds = time.perf_counter() - start
    entity_n = entity_right = missed = nil_n = nil_right = unlinked = 0
    by_pos: dict[str, list[int]] = {}
    errors = []
    for sentence, links in zip(sentences, predicted, strict=True):
        for m in sentence.mentions:
            link = _covering(links, m.start, m.end, scope)
            if link is None:
                unlinked += 1
            if m.is_nil:
                nil_n += 1
                right = link is None
                nil_right += right
            else:
                entity_n += 1
                right = link is not None and link.entity == canon(m.gold)
                entity_right += right
                missed += link is None
                if set_name == "wordnet":
                    tally = by_pos.setdefault(m.gold[-1], [0, 0])
                    tally[0] += 1
                    tally[1] += right
            if keep_errors and not right:
                errors.append({"id": sentence.id, "text": sentence.text, "surface": m.surface,
                               "gold": m.gold, "gold_label": label(m.gold),
                               "predicted": None if link is None else link.entity,
                               "predicted_label": None if link is None else label(link.entity),
                               "predicted_span": None if link is None else link.surface,
                               "score": None if link is None else round(link.score, 4)})
    out: dict = {
        "sentences": len(sentences), "mentions": entity_n + nil_n, "entity_mentions": entity_n,
        "accuracy": entity_right / entity_n if entity_n else None,
        "unlinked_entity_mentions": missed,
        "seconds": round(seconds, 3),
        "sentences_per_s": round(len(sentences) / seconds, 1) if seconds else None,
    }
    if nil_n:
        out.update({"nil_mentions": nil_n,
                    "nil_precision": nil_right / unlinked if unlinked else None,
                    "nil_recall": nil_right / nil_n,
                    "overall_accuracy": (entity_right + nil_right) / (entity_n + nil_n)})
    if by_pos:
        out["by_pos"] = {pos: {"mentions": n, "accuracy": r / n} for pos, (n, r) in sorted(by_pos.items())}
    if given_spans:
        out["given_span_accuracy"] = _given_span_accuracy(linker, sentences)
    if keep_errors:
        out["errors"] = errors
    return out


def _given_span_accuracy(linker, sentences: Sequence[LinkSentence]) -> float | None:
    """Accuracy with the gold spans handed to the linker (disambiguation alone) on non-NIL mentions."""
    n = right = 0
    for sentence in sentences:
        spans = [(m.start, m.end) for m in sentence.mentions if not m.is_nil]
        if not spans:
            continue
        got = {(link.start, link.end): link.entity for link in linker.link(sentence.text, spans=spans)}
        for m in sentence.mentions:
            if not m.is_nil:
                n += 1
                right += got.get((m.start, m.end)) == linker.canonical_id(m.gold)
    return right / n if n else None


# ---------------------------------------------------------------------- the whole evaluation
def evaluate_natural_sets(names: Sequence[str], split: str, modes: Sequence[str] = MODES, *,
                          default_graph: Path | None = None, encoder=None, sense_model=None,
                          report: Callable[[str], None] | None = None) -> dict:
    """Every set in ``names`` on ``split``, in each of ``modes`` plus the prior baseline; a
    JSON-ready dict. ``encoder``: neural mode's :class:`~kgnlu.kg.linker.dense_index.TextEncoder`
    (default the packaged MiniLM); ``sense_model``: a word-sense model joining both modes."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker, Weights

    if split not in SPLITS:
        raise ConfigError(f"--natural-split must be one of {', '.join(SPLITS)}, got {split!r}")
    for mode in modes:
        if mode not in MODES:
            raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    for name in names:
        if name not in SETS:
            raise ConfigError(f"no hand-written link set {name!r}; known: {', '.join(SETS)}")
    out: dict = {"split": split, "sets": {}}
    graphs: dict[Path, object] = {}
    for name in dict.fromkeys(names):
        path = graph_for(name, default_graph)
        if path not in graphs:
            graphs[path] = KnowledgeGraph.load(path, verify=False)
        kg = graphs[path]
        sentences = [s for s in read_set(name) if s.split == split]
        res: dict = {"graph": str(path), "sentences": len(sentences),
                     "mentions": sum(len(s.mentions) for s in sentences),
                     "nil_mentions": sum(m.is_nil for s in sentences for m in s.mentions), "modes": {}}
        for mode in (*modes, BASELINE):
            if report:
                report(f"{name} ({split}): {mode} ...")
            start = time.perf_counter()
            if mode == BASELINE:
                linker = EntityLinker.from_graph(kg, "fast", weights=Weights(**PRIOR_WEIGHTS))
            else:
                linker = EntityLinker.from_graph(kg, mode, encoder=encoder if mode == "neural" else None,
                                                 sense_model=sense_model)
            load_s = time.perf_counter() - start
            res["modes"][mode] = score_sentences(linker, name, sentences, keep_errors=split == "dev",
                                                 given_spans=name == "wordnet")
            res["modes"][mode]["load_seconds"] = round(load_s, 2)
        out["sets"][name] = res
    return out


def _f(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def markdown_natural(report: dict) -> str:
    """The figures as tables (one row per set and mode), then, for dev, the wrong mentions."""
    split = report["split"]
    lines = [f"# Entity linking on the hand-written sets ({split} split)", "",
             "Accuracy: gold entity mentions with an overlapping link to the gold entity (no link = "
             "wrong). NIL P/R: gold mentions left unlinked that are NIL / NIL mentions left unlinked. "
             "`prior` is the baseline: the alias prior alone (most frequent sense, most populous place).",
             "", "| set | mode | sentences | mentions | accuracy | gold-span accuracy | NIL P | NIL R | "
             "overall | sentences/s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for name, res in report["sets"].items():
        for mode, r in res["modes"].items():
            lines.append(f"| {name} | {mode} | {r['sentences']} | {r['mentions']} | {_f(r['accuracy'])} | "
                         f"{_f(r.get('given_span_accuracy'))} | {_f(r.get('nil_precision'))} | "
                         f"{_f(r.get('nil_recall'))} | {_f(r.get('overall_accuracy'))} | "
                         f"{r['sentences_per_s'] if r['sentences_per_s'] is not None else '–'} |")
    for name, res in report["sets"].items():
        for mode, r in res["modes"].items():
            if r.get("by_pos"):
                parts = ", ".join(f"{pos}: {p['accuracy']:.3f} ({p['mentions']})" for pos, p in r["by_pos"].items())
                lines.append(f"\n{name} {mode} by part of speech: {parts}")
    for name, res in report["sets"].items():
        for mode, r in res["modes"].items():
            if r.get("errors"):
                lines += ["", f"## {name}, {mode}: wrong mentions ({len(r['errors'])})", "",
                          "| id | mention | gold | predicted |", "|---|---|---|---|"]
                for e in r["errors"]:
                    gold = "NIL" if e["gold"] is None else f"{e['gold_label']} (`{e['gold']}`)"
                    pred = "none" if e["predicted"] is None else \
                        f"{e['predicted_label']} (`{e['predicted']}`, over {e['predicted_span']!r})"
                    lines.append(f"| {e['id']} | {e['surface']} | {gold} | {pred} |")
    return "\n".join(lines) + "\n"
