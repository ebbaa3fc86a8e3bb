"""Entity linker benchmark: speed (sentences/s) and accuracy against simple peers.

Peers, run in this process on the same sentences:
- spaCy's ``PhraseMatcher(attr="LOWER")`` over the same alias keys: raw mention matching speed;
- the max-prior dictionary linker (what spacy-entity-linker does: PhraseMatcher spans, longest
  non-overlapping kept, each linked to its highest-prior entity): end-to-end speed and accuracy.

Sentences: GeoNames ambiguity sentences (dev split, gold known) and WordNet example sentences
(speed only). The graph (WordNet + GeoNames) is ``--graph`` or built once into
``$KGNLU_HOME/bench/linker-graph``. Prints one JSON line last.

    python bench/linker.py --quick            # < 1 minute once the graph is cached
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

from common import Result, emit, note  # noqa: E402


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


def geo_f1(pairs_pred: list[set], gold: list[set]) -> float:
    tp = sum(len(p & g) for p, g in zip(pairs_pred, gold, strict=True))
    n_pred, n_gold = sum(map(len, pairs_pred)), sum(map(len, gold))
    p, r = (tp / n_pred if n_pred else 0.0), (tp / n_gold if n_gold else 0.0)
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--graph", default=None)
    args = ap.parse_args()

    import spacy
    import torch

    from kgnlu.eval.linking import _sample, geonames_sentences, wordnet_examples
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker
    from kgnlu.kg.linker.index import read_morphology, wordnet_directories

    if args.device == "cpu":
        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    kg = KnowledgeGraph.load(graph_path(args.graph), verify=False)
    n_fast, n_neural, n_geo = (1000, 300, 200) if args.quick else (5000, 1500, 600)

    geo = _sample([s for s in geonames_sentences(kg) if s.split == "dev"], n_geo, key=lambda s: s.text)
    wn = [x.text for x in _sample([x for x in wordnet_examples(wordnet_directories(kg)[0], spacy.blank("en"),
                                                               read_morphology(kg)) if x.split == "dev"],
                                  n_fast, key=lambda x: x.text)]
    sentences = wn[: n_fast - len(geo)] + [s.text for s in geo]
    note(f"{len(sentences)} sentences ({len(sentences) - len(geo)} WordNet examples, {len(geo)} GeoNames), "
         f"avg {sum(map(len, sentences)) / len(sentences):.0f} chars")

    fast = EntityLinker.from_graph(kg, "fast")
    keys = fast.index.aliases.keys
    if args.quick:  # PhraseMatcher takes ~1 min per 500k patterns to build; match speed barely depends on it
        seen = {v.key for x in sentences for m in fast.detector.detect(fast.nlp.tokenizer(x), fuzzy=False)
                for v in m.variants}  # every alias the sentences use, so the peer misses none
        keys = sorted(seen | set([k for k in keys if k.isascii()][:100_000]))
    start = time.perf_counter()
    peer = DictionaryLinker(kg, fast.nlp, keys)
    note(f"PhraseMatcher with {len(keys):,} patterns built in {time.perf_counter() - start:.1f}s")
    results: list[Result] = []

    def rate(fn, items, repeat=3) -> float:
        fn(items[: min(50, len(items))])  # warm caches
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            fn(items)
            best = min(best, time.perf_counter() - t)
        return len(items) / best

    tok = fast.nlp.tokenizer
    ours_match = rate(lambda xs: [fast.detector.detect(tok(x), fuzzy=False) for x in xs], sentences)
    peer_match = rate(lambda xs: [peer.match(tok(x)) for x in xs], sentences)
    results.append(Result("matching/alias_spans", "sentences_per_s", ours_match, peer_match))

    peer_rate = rate(lambda xs: [peer.link(x) for x in xs], sentences)
    fast_rate = rate(lambda xs: list(fast.link_batch(xs)), sentences)
    results.append(Result("link/fast_vs_dictionary", "sentences_per_s", fast_rate, peer_rate))
    note(f"fast {fast_rate:.0f} sentences/s (goal >= 2000), dictionary peer {peer_rate:.0f}")

    gold = [{(s, e, fast.canonical_id(x)) for s, e, x in g.gold} for g in geo]
    texts = [g.text for g in geo]

    def geo_pred(linker):
        out = []
        for links in linker.link_batch(texts):
            out.append({(lk.start, lk.end, lk.entity) for lk in links
                        if lk.entity.startswith("geonames:")})
        return out

    peer_pred = [{(s, e, c) for s, e, c in ((s, e, fast.canonical_id(x)) for s, e, x in peer.link(t))
                  if c.startswith("geonames:")} for t in texts]
    peer_f1 = geo_f1(peer_pred, gold)
    results.append(Result("geonames_ambiguity/fast", "link_f1", geo_f1(geo_pred(fast), gold), peer_f1))

    neural = EntityLinker.from_graph(kg, "neural", device=args.device, dense=False)
    neural_sents = sentences[:n_neural]
    list(neural.link_batch(neural_sents + texts))  # entity embeddings for every candidate, once
    neural_rate = rate(lambda xs: list(neural.link_batch(xs)), neural_sents, repeat=2)
    results.append(Result("link/neural_vs_dictionary", "sentences_per_s", neural_rate, peer_rate))
    note(f"neural {neural_rate:.0f} sentences/s on {args.device} (goal >= 150)")
    results.append(Result("geonames_ambiguity/neural", "link_f1", geo_f1(geo_pred(neural), gold), peer_f1))
    emit("linker", results)


if __name__ == "__main__":
    main()
