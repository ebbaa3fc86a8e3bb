"""A built graph's counts per graph and per source, as a dict and as a table (``kgnlu graph info``, ``kgnlu run``)."""

from __future__ import annotations


def graph_summary(kg) -> dict:
    """Path, name, counts, kinds, sources and creation time from ``kg``'s manifest (JSON-ready)."""
    m = kg.manifest
    return {"path": str(kg.path), "name": kg.name, **m["counts"], "kinds": m["kinds"],
            "sources": m["sources"], "created": m["created"]}


def print_graph_summary(summary: dict) -> None:
    """Print a :func:`graph_summary` as a header line and a per-source table (rich)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{summary['name']}[/bold]  {summary['path']}")
    console.print(f"entities {summary['entities']:,}   relations {summary['relations']:,}   "
                  f"triples {summary['triples']:,}   aliases {summary['aliases']:,}   "
                  f"store quads {summary['store_quads']:,}")
    table = Table("source", "kind", "entities", "relations", "triples", "aliases", "literals")
    for s in summary["sources"]:
        table.add_row(s["spec"], s["kind"], *(f"{s.get(k, 0):,}" for k in
                                              ("entities", "relations", "triples", "aliases", "literals")))
    console.print(table)
