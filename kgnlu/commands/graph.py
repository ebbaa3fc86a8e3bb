"""``kgnlu graph``: build, inspect, query, walk and export knowledge graphs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from kgnlu.errors import ConfigError

app = typer.Typer(help="Build, inspect, query, walk and export knowledge graphs.",
                  no_args_is_help=True)

GraphDir = Annotated[Path, typer.Argument(help="A graph directory made by `kgnlu graph build`.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _load(path: Path):
    from kgnlu.kg import KnowledgeGraph

    return KnowledgeGraph.load(path)


@app.command()
def build(
    sources: Annotated[list[str], typer.Argument(
        help="Files or globs (RDF: .nt .nq .ttl .trig .rdf .owl .jsonld .n3, TSV: .tsv; .gz ok), "
             "`wordnet[:DIR]`, `geonames[:MIN_POPULATION]`, `pykeen:NAME`, `sparql:URL`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the graph to.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing graph at --out (its embeddings and "
                                                        "linker indexes are kept).")] = False,
    name: Annotated[str | None, typer.Option(help="Graph name (default: the --out folder name).")] = None,
    no_store: Annotated[bool, typer.Option("--no-store", help="Skip the SPARQL store.")] = False,
    drop_derived: Annotated[bool, typer.Option("--drop-derived", help="With --force: do not keep the old graph's "
                                                                       "embeddings and linker indexes.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Read SOURCES, merge them into one graph and write it atomically to --out."""
    from kgnlu.kg.build import build_graph
    from kgnlu.kg.summary import graph_summary, print_graph_summary

    start = time.perf_counter()
    path = build_graph(sources, out, force=force, name=name, store=not no_store, keep_derived=not drop_derived,
                       report=lambda line: print(line, file=sys.stderr))
    kg = _load(path)
    summary = graph_summary(kg) | {"seconds": round(time.perf_counter() - start, 3)}
    if as_json:
        _print_json(summary)
    else:
        print_graph_summary(summary)


@app.command()
def info(graph: GraphDir, as_json: JsonFlag = False) -> None:
    """Counts per graph and per source."""
    from kgnlu.kg.summary import graph_summary, print_graph_summary

    kg = _load(graph)
    if as_json:
        _print_json(graph_summary(kg))
    else:
        print_graph_summary(graph_summary(kg))


@app.command()
def query(
    graph: GraphDir,
    sparql: Annotated[str, typer.Argument(help="A SPARQL query; the graph's prefixes (wn:, geonames:, rdfs:, ...) are predeclared.")],
    bind: Annotated[list[str] | None, typer.Option(
        "--bind", help="NAME=VALUE, bound (never pasted) into the query: <iri>, prefix:local, \"text\" or a number.")] = None,
    allow_service: Annotated[bool, typer.Option("--allow-service", help="Allow SERVICE (federated queries make "
                                                                         "outbound requests; refused by default).")] = False,
    max_rows: Annotated[int, typer.Option(min=1, help="Refuse a result longer than this (add LIMIT).")] = 100_000,
    timeout: Annotated[float, typer.Option(min=0, help="Stop the query after this many seconds (0: no limit).")] = 60.0,
    max_memory: Annotated[int, typer.Option(min=0, help="Stop the query past this many MB of memory (0: no limit).")] = 4096,
    as_json: JsonFlag = False,
) -> None:
    """Run a read-only SPARQL query against the graph's store (updates and SERVICE refused)."""
    from kgnlu.kg.sparql_values import parse_binding

    kg = _load(graph)
    bindings = {}
    for item in bind or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--bind {item!r}: expected NAME=VALUE")
        bindings[name] = parse_binding(value, kg.prefixes)
    result = kg.sparql(sparql, bindings, allow_service=allow_service, max_rows=max_rows,
                      timeout=timeout or None, max_memory_mb=max_memory or None)
    if as_json:
        _print_json(result)
    elif isinstance(result, bool):
        print("yes" if result else "no")
    else:
        for row in result:
            print("\t".join(str(v) for v in (row.values() if isinstance(row, dict) else row)))


@app.command()
def neighbors(
    graph: GraphDir,
    entity: Annotated[str, typer.Argument(help="Entity id (wn:02084071-n), IRI, label or alias.")],
    hops: Annotated[int, typer.Option(min=1, max=6, help="Walk this many hops.")] = 1,
    relation: Annotated[list[str] | None, typer.Option(help="Only these relations (id or label).")] = None,
    direction: Annotated[str, typer.Option(help="out, in or both.")] = "both",
    limit: Annotated[int, typer.Option(help="Print at most this many triples.")] = 50,
    plot: Annotated[Path | None, typer.Option(help="Also draw the neighbourhood to this PNG.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The k-hop neighbourhood of an entity."""
    if direction not in ("out", "in", "both"):
        raise ConfigError(f"--direction must be out, in or both, not {direction!r}")
    kg = _load(graph)
    e = kg.lookup(entity)
    sub = kg.subgraph([e], hops, direction=direction, relations=relation)
    rows = [{"head": kg.entity_id(h), "head_label": kg.entity_label(h),
             "relation": kg.relation_id(r), "relation_label": kg.relation_label(r),
             "tail": kg.entity_id(t), "tail_label": kg.entity_label(t)}
            for h, r, t in sub.triples[:limit].tolist()]
    if plot is not None:
        from kgnlu.kg.plot import plot_subgraph

        plot_subgraph(kg, sub, plot, title=f"{kg.entity_label(e) or kg.entity_id(e)}: {hops} hop(s)")
    if as_json:
        _print_json({"entity": kg.entity_id(e), "label": kg.entity_label(e), "hops": hops,
                     "entities": int(len(sub.nodes)), "triples": int(len(sub.triples)),
                     "shown": rows, "plot": str(plot) if plot else None})
        return
    print(f"{kg.entity_id(e)}  {kg.entity_label(e)}  [{kg.entity_kind(e)}]")
    text = kg.entity_text(e)
    if text:
        print(f"  {text[:200]}")
    print(f"{hops}-hop neighbourhood: {len(sub.nodes):,} entities, {len(sub.triples):,} triples")
    for row in rows:
        print(f"  {row['head_label'] or row['head']} --{row['relation_label']}--> "
              f"{row['tail_label'] or row['tail']}")
    if len(sub.triples) > limit:
        print(f"  ... {len(sub.triples) - limit:,} more (--limit)")
    if plot is not None:
        print(f"plot: {plot}")


@app.command()
def export(
    graph: GraphDir,
    fmt: Annotated[str, typer.Option("--format", help="nt, tsv or graphml.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
) -> None:
    """Export the graph: N-Triples (every store fact), TSV (external ids) or GraphML."""
    from kgnlu.kg.export import export_graph

    kg = _load(graph)
    n = export_graph(kg, fmt, out)
    print(f"wrote {n:,} {'triples' if fmt != 'graphml' else 'edges'} to {out}")
