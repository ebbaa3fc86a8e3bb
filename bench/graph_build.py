"""Graph building and loading, ours vs the peers, in one process.

Cases (ratio > 1 means kgnlu is better):
  * ingest: the same generated N-Triples file into kgnlu's arrays (parse + intern + CSR, no store)
    vs ``rdflib.Graph().parse(format="nt")``; and the full build with the Oxigraph store.
  * memory: resident bytes per triple of a loaded (memory-mapped, fully paged-in) graph vs a
    networkx MultiDiGraph holding the same edges.
  * subgraph: 2-hop neighbourhood around WordNet nouns, p50 latency, kgnlu CSR vs networkx
    ``ego_graph`` on the same graph (needs WordNet; skipped with a note when absent).

    python bench/graph_build.py [--quick] [--triples N] [--device cpu]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, emit  # noqa: E402


def generate_ntriples(path: Path, n_triples: int, seed: int = 0) -> None:
    """Entity–entity triples over a power-law-ish graph plus ~10% rdfs:label literals."""
    rng = random.Random(seed)
    n_entities = max(10, n_triples // 6)
    n_relations = 40
    lines = []
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    for i in range(n_triples):
        if i % 10 == 0:
            e = rng.randrange(n_entities)
            lines.append(f'<http://example.org/e/{e}> {label} "entity number {e}"@en .\n')
            continue
        h = int(n_entities * rng.random() ** 2)  # skewed heads: some hubs
        t = rng.randrange(n_entities)
        r = rng.randrange(n_relations)
        lines.append(f"<http://example.org/e/{h}> <http://example.org/r/{r}> <http://example.org/e/{t}> .\n")
    path.write_text("".join(lines), encoding="utf-8")


def rss() -> int:
    gc.collect()
    return psutil.Process().memory_info().rss


def bench_ingest(nt: Path, work: Path, n: int, repeats: int) -> list[Result]:
    import rdflib

    from kgnlu.kg.build import build_graph

    ours, ours_store, peer = [], [], []
    for i in range(repeats):
        t = time.perf_counter()
        build_graph([str(nt)], work / f"g{i}", store=False)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        build_graph([str(nt)], work / f"s{i}", store=True)
        ours_store.append(time.perf_counter() - t)
        t = time.perf_counter()
        g = rdflib.Graph()
        g.parse(str(nt), format="nt")
        peer.append(time.perf_counter() - t)
        del g
    o, s, p = min(ours), min(ours_store), min(peer)
    case = f"ntriples-{n // 1000}k"
    return [
        Result(case, "ingest_triples_per_s (arrays+CSR) vs rdflib.parse", n / o, n / p, True),
        Result(case, "ingest_triples_per_s (arrays+CSR+Oxigraph store) vs rdflib.parse", n / s, n / p, True),
    ]


def bench_memory(graph_dir: Path) -> list[Result]:
    import networkx as nx

    from kgnlu.kg import KnowledgeGraph

    before = rss()
    kg = KnowledgeGraph.load(graph_dir)
    # page every array in: memory-mapped arrays cost nothing until touched
    touched = int(np.asarray(kg.triples).sum()) + int(np.asarray(kg.walker.in_index).sum())
    touched += int(np.asarray(kg.walker.out_indptr).sum() + np.asarray(kg.walker.in_indptr).sum())
    ours = (rss() - before) / kg.num_triples
    triples = np.array(kg.triples)
    before = rss()
    g = nx.MultiDiGraph()
    g.add_edges_from((h, t, r) for h, r, t in triples.tolist())
    peer = (rss() - before) / kg.num_triples
    del g, kg
    assert touched >= 0
    return [Result(f"loaded-{len(triples) // 1000}k", "resident_bytes_per_triple (mmap CSR) vs networkx",
                   max(ours, 1.0), peer, False)]


def bench_subgraph(work: Path, quick: bool) -> list[Result]:
    import networkx as nx

    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    if not Path("/usr/share/wordnet/data.noun").is_file():
        print("WordNet not installed: skipping the subgraph case", file=sys.stderr)
        return []
    kg = KnowledgeGraph.load(build_graph(["wordnet"], work / "wordnet", store=False))
    nouns = [e for e in range(kg.num_entities) if kg.entity_kind(e).startswith("wordnet:noun")]
    rng = random.Random(0)
    sample = rng.sample(nouns, 200 if quick else 1000)
    ours = []
    for e in sample:
        t = time.perf_counter()
        kg.walker.subgraph([e], 2)
        ours.append(time.perf_counter() - t)
    g = nx.Graph()
    g.add_edges_from((h, t) for h, _, t in np.asarray(kg.triples).tolist())
    peer = []
    for e in sample[: 100 if quick else 300]:
        t = time.perf_counter()
        nx.ego_graph(g, e, radius=2)
        peer.append(time.perf_counter() - t)
    p50o, p50p = statistics.median(ours) * 1e3, statistics.median(peer) * 1e3
    print(f"wordnet 2-hop subgraph: ours p50 {p50o:.3f} ms p99 {np.percentile(ours, 99) * 1e3:.3f} ms; "
          f"networkx ego_graph p50 {p50p:.3f} ms", file=sys.stderr)
    return [Result("wordnet-2hop", "subgraph_p50_ms vs networkx.ego_graph", p50o, p50p, False)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller inputs, same comparisons (< 1 min)")
    ap.add_argument("--triples", type=int, default=None, help="size of the generated N-Triples file")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="graph work is CPU-only")
    args = ap.parse_args()
    n = args.triples or (100_000 if args.quick else 300_000)
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        nt = work / "bench.nt"
        generate_ntriples(nt, n)
        results += bench_ingest(nt, work, n, repeats=1 if args.quick else 3)
        results += bench_memory(work / "g0")
        results += bench_subgraph(work, args.quick)
    emit("graph_build", results)


if __name__ == "__main__":
    main()
