"""Entity linker benchmark: speed (sentences/s) and link F1 against dictionary baselines.

    python bench/linker.py [--quick] [--graph PATH] [--device cpu|cuda] [--rounds 3] [--threads 1]

Rows (``kind``, bench/common.py), ours and peers in this process on the same sentences:

* ``baseline`` (speed): kgnlu's mention detection (``fuzzy=False``) vs spaCy's
  ``PhraseMatcher(attr="LOWER")`` over **all** the same alias keys, longest non-overlapping spans
  kept (kgnlu also tries lemma variants and drops stop-word spans, so the work is close, not
  identical); fast and neural linking vs two dictionary linkers: the evaluation's max-prior
  baseline (``kgnlu eval link``'s "prior" row: kgnlu's mention detection, every cue weight 0 but
  the prior, ``kgnlu.eval.linking.PRIOR_ONLY``) and a spacy-entity-linker-style linker
  (PhraseMatcher spans, each linked to its highest-prior entity). Speed sentences: WordNet
  example sentences and GeoNames shared-name sentences, any split (speed only).
* ``quality``: link F1 on GeoNames shared-name sentences of the **test** split (split by a hash
  of the name, never tuned on; the same task and sampling as ``kgnlu eval link``, whose held-out
  report is reports/link/heldout/linking.md), fast and neural vs the max-prior baseline. Every
  linker is built as the evaluation builds it (entity texts = definitions only).

Speeds are interleaved rounds (``--rounds``, ≥ 3): median and best. The graph (WordNet + GeoNames)
is ``--graph`` or built once into ``$KGNLU_HOME/bench/linker-graph``. Prints one JSON line last,
stored as reports/bench/linker[-quick].json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("KGNLU_PROGRESS", "0")

from common import Result, emit, interleaved_samples, note  # noqa: E402


def graph_path(arg: str | None) -> Path:
    from kgnlu.kg.build import kgnlu_home

    if arg:
        return Path(arg)
    path = kgnlu_home() / "bench" / "linker-graph"
    if not (path / "manifest.json").is_file():
        from kgnlu.kg.build import build_graph
        from kgnlu.kg.sources.geonames import GeoNamesSource
        from kgnlu.kg.sources.wordnet import WordNetSource

        note(f"building WordNet + GeoNames into {path} (once)")
        build_graph([WordNetSource(), GeoNamesSource()], path, force=True, store=False)
    return path


class DictionaryLinker:
    """The peer: PhraseMatcher spans, longest first, each linked to its max-prior entity."""

    def __init__(self, kg, nlp, keys: list[str]):
        from spacy.matcher import PhraseMatcher

        self.kg, self.nlp = kg, nlp
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for lo in range(0, len(keys), 10_000):
            self.matcher.add("ALIAS", list(nlp.tokenizer.pipe(keys[lo:lo + 10_000])))

    def match(self, doc):
        from spacy.util import filter_spans

        return filter_spans([doc[s:e] for _, s, e in self.matcher(doc)])

    def link(self, text: str) -> list[tuple[int, int, str]]:
        out = []
        for span in self.match(self.nlp.tokenizer(text)):
            found = self.kg.aliases(span.text)
            if found:
                out.append((span.start_char, span.end_char, self.kg.entity_id(found[0][0])))
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--graph", default=None)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds, ≥ 3")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch intra-op threads on CPU (the peers are single-threaded; on a shared machine "
                         "extra threads only spin)")
    args = ap.parse_args()
    if args.rounds < 3:
        ap.error("--rounds must be ≥ 3: ratios are reported as median and best of the rounds")

    import spacy
    import torch

    from kgnlu.eval.linking import (
        PRIOR_ONLY,
        _sample,
        definition_texts,
        evaluate_geonames,
        geonames_sentences,
        wordnet_examples,
    )
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker, Weights
    from kgnlu.kg.linker.index import read_morphology, wordnet_directories

    if args.device == "cpu":
        torch.set_num_threads(args.threads)  # spaCy's PhraseMatcher runs on one thread too
    kg = KnowledgeGraph.load(graph_path(args.graph), verify=False)
    n_fast, n_neural, n_geo = (1000, 300, 200) if args.quick else (5000, 1500, 600)

    geo_all = geonames_sentences(kg)
    speed_geo = _sample(geo_all, n_geo, key=lambda s: s.text)
    wn = [x.text for x in _sample(wordnet_examples(wordnet_directories(kg)[0], spacy.blank("en"), read_morphology(kg)),
                                  n_fast, key=lambda x: x.text)]
    sentences = wn[: n_fast - len(speed_geo)] + [s.text for s in speed_geo]
    note(f"{len(sentences)} speed sentences ({len(sentences) - len(speed_geo)} WordNet examples, {len(speed_geo)} "
         f"GeoNames), avg {sum(map(len, sentences)) / len(sentences):.0f} chars")

    texts = definition_texts(kg)  # as kgnlu.eval.linking.run_linking_eval builds its linkers
    fast = EntityLinker.from_graph(kg, "fast", entity_texts=texts)
    prior = EntityLinker.from_graph(kg, "fast", weights=Weights(**PRIOR_ONLY), entity_texts=texts)
    keys = list(fast.index.aliases.keys)
    start = time.perf_counter()
    peer = DictionaryLinker(kg, fast.nlp, keys)
    note(f"PhraseMatcher with all {len(keys):,} alias keys built in {time.perf_counter() - start:.1f}s")
    results: list[Result] = []
    rounds = args.rounds

    def speed(case: str, metric: str, ours, theirs, items: list[str], peer_name: str) -> Result:
        ours(items[:50])  # warm caches on both sides
        theirs(items[:50])
        ours_s, peer_s = interleaved_samples(lambda: ours(items), lambda: theirs(items), rounds=rounds, warmup=0)
        result = Result.from_seconds(case, metric, len(items), ours_s, peer_s, kind="baseline", peer_name=peer_name)
        note(f"{case}: ours {result.ours:.1f}/s, peer {result.peer:.1f}/s (medians of {rounds})")
        return result

    tok = fast.nlp.tokenizer
    matcher = "spaCy PhraseMatcher(attr=LOWER), same alias keys, filter_spans"
    dictionary = "PhraseMatcher spans -> max-prior entity (spacy-entity-linker style)"
    baseline = "kgnlu eval link's max-prior baseline (PRIOR_ONLY weights)"
    results.append(speed("matching/alias_spans", "sentences_per_s, mention spans only",
                         lambda xs: [fast.detector.detect(tok(x), fuzzy=False) for x in xs],
                         lambda xs: [peer.match(tok(x)) for x in xs], sentences, matcher))
    results.append(speed("link/fast_vs_max_prior", "sentences_per_s, end-to-end linking",
                         lambda xs: list(fast.link_batch(xs)), lambda xs: list(prior.link_batch(xs)),
                         sentences, baseline))
    results.append(speed("link/fast_vs_phrasematcher_dictionary", "sentences_per_s, end-to-end linking",
                         lambda xs: list(fast.link_batch(xs)), lambda xs: [peer.link(x) for x in xs],
                         sentences, dictionary))

    neural = EntityLinker.from_graph(kg, "neural", device=args.device, dense=False, entity_texts=texts)
    neural_sents = sentences[:n_neural]
    test = _sample([s for s in geo_all if s.split == "test"], n_geo, key=lambda s: s.text)
    list(neural.link_batch(neural_sents + [s.text for s in test]))  # entity embeddings for every candidate, once
    results.append(speed("link/neural_vs_max_prior", "sentences_per_s, end-to-end linking",
                         lambda xs: list(neural.link_batch(xs)), lambda xs: list(prior.link_batch(xs)),
                         neural_sents, baseline))

    # quality: the evaluation's own scorer (kgnlu.eval.linking.evaluate_geonames), test split
    scores = {name: evaluate_geonames(linker, test)["linking"]["f1"]
              for name, linker in (("fast", fast), ("neural", neural), ("prior", prior))}
    case = f"geonames_shared_names/test-{len(test)}"
    for mode in ("fast", "neural"):
        results.append(Result(case, f"link_f1 {mode} (test split, never tuned on)", scores[mode], scores["prior"],
                              kind="quality", peer_name=baseline))
    note(f"{case}: link F1 {scores}")
    emit("linker", results, packages=("spacy",),
         notes=[f"speed: {len(sentences)} sentences ({len(neural_sents)} for neural), {rounds} interleaved rounds",
                f"quality: {len(test)} GeoNames shared-name sentences, test split (hash of the name)",
                f"PhraseMatcher patterns: all {len(keys)} alias keys", f"device {args.device}",
                f"torch threads {torch.get_num_threads()}"])


if __name__ == "__main__":
    main()
