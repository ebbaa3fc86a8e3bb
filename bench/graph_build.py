"""Graph building and loading, ours vs the peers, in one process.

Cases (ratio > 1 means kgnlu is better):
  * ingest: the same generated N-Triples file into kgnlu's arrays (parse + intern + CSR, no store)
    vs ``rdflib.Graph().parse(format="nt")``; and the full build with the Oxigraph store.
  * memory: resident bytes per triple of a loaded (memory-mapped, fully paged-in) graph vs a
    networkx MultiDiGraph holding the same edges.
  * walk: 2-hop walks around the same WordNet nouns (both directions), p50 latency per round
    over 3 alternating rounds; the result (nodes and edges walked) is checked equal for every
    seed. Equal work: kgnlu's CSR walker vs a breadth-first walk over networkx's adjacency dicts
    (no copy); as users call it: ``networkx.ego_graph``, which also copies the induced subgraph
    (same node set checked). Needs WordNet; skipped with a note when absent.

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
                   max(ours, 1.0), peer, False, kind="memory", peer_name="networkx MultiDiGraph, same edges")]


def nx_walk(g, seed: int, hops: int) -> tuple[set[int], set[tuple[int, int, int]]]:
    """The networkx peer doing kgnlu's walk: breadth-first over the MultiDiGraph's adjacency dicts
    (out- and in-edges, relation = edge key), no subgraph copy; returns the nodes reached and
    every edge walked (h, r, t) — the same result as ``CSRWalker.subgraph(direction="both")``."""
    succ, pred = g._succ, g._pred
    visited, frontier, edges = {seed}, [seed], set()
    for _ in range(hops):
        fresh = []
        for u in frontier:
            for v, keys in succ[u].items():
                edges.update((u, r, v) for r in keys)
                if v not in visited:
                    visited.add(v)
                    fresh.append(v)
            for v, keys in pred[u].items():
                edges.update((v, r, u) for r in keys)
                if v not in visited:
                    visited.add(v)
                    fresh.append(v)
        frontier = fresh
    return visited, edges


def bench_subgraph(work: Path, quick: bool, rounds: int = 3) -> list[Result]:
    """2-hop walks around the same WordNet nouns on both sides, checked to give the same nodes
    and edges; p50 latency per round, ``rounds`` rounds alternating ours/peer."""
    import networkx as nx

    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    if not Path("/usr/share/wordnet/data.noun").is_file():
        print("WordNet not installed: skipping the subgraph case", file=sys.stderr)
        return []
    kg = KnowledgeGraph.load(build_graph(["wordnet"], work / "wordnet", store=False))
    nouns = [e for e in range(kg.num_entities) if kg.entity_kind(e).startswith("wordnet:noun")]
    sample = random.Random(0).sample(nouns, 200 if quick else 1000)
    hops = 2
    triples = np.asarray(kg.triples).tolist()
    multi = nx.MultiDiGraph()  # relation as the edge key: the walk's result carries relations
    multi.add_nodes_from(range(kg.num_entities))
    multi.add_edges_from((h, t, r) for h, r, t in triples)
    simple = nx.Graph()  # what ego_graph users build: undirected, no relations
    simple.add_nodes_from(range(kg.num_entities))
    simple.add_edges_from((h, t) for h, _, t in triples)
    for e in sample:  # same result, every seed (also the warm-up of all three)
        sub = kg.walker.subgraph([e], hops)
        nodes, edges = nx_walk(multi, e, hops)
        ego = nx.ego_graph(simple, e, radius=hops)
        ours_edges = set(map(tuple, sub.triples.tolist()))
        if set(sub.nodes.tolist()) != nodes or ours_edges != edges or set(ego.nodes) != nodes:
            raise AssertionError(f"walks from {e} differ: kgnlu {len(sub.nodes)} nodes / {len(ours_edges)} edges, "
                                 f"BFS {len(nodes)} / {len(edges)}, ego_graph {ego.number_of_nodes()} nodes")

    def p50_ms(walk) -> float:
        times = []
        for e in sample:
            t = time.perf_counter()
            walk(e)
            times.append(time.perf_counter() - t)
        return statistics.median(times) * 1e3

    ours, bfs, ego = [], [], []
    for _ in range(rounds):
        ours.append(p50_ms(lambda e: kg.walker.subgraph([e], hops)))
        bfs.append(p50_ms(lambda e: nx_walk(multi, e, hops)))
        ego.append(p50_ms(lambda e: nx.ego_graph(simple, e, radius=hops)))
    print(f"wordnet {hops}-hop walks from {len(sample)} nouns, p50 ms per round: ours {ours}, "
          f"networkx BFS {bfs}, ego_graph {ego}", file=sys.stderr)
    case = f"wordnet-{hops}hop-{len(sample)}-nouns"
    return [Result.from_samples(case, "walk_p50_ms, nodes + edges walked, same seeds and result", ours, bfs,
                                higher_is_better=False,
                                peer_name="networkx BFS over MultiDiGraph adjacency dicts (no copy)"),
            Result.from_samples(case, "walk_p50_ms vs networkx.ego_graph (copies the subgraph), same nodes", ours,
                                ego, higher_is_better=False, kind="as users run it",
                                peer_name="networkx.ego_graph(Graph, radius=2)")]


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
    emit("graph_build", results, packages=("rdflib", "networkx", "pyoxigraph"),
         notes=["walk rows: p50 over the seeds per round, median and best of the rounds"])


if __name__ == "__main__":
    main()
