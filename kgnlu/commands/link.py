"""``kgnlu link``: link text to a graph's entities."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from kgnlu.errors import ConfigError, ParseError
from kgnlu.io import iter_json_lines


def read_texts(path: Path) -> Iterator[str]:
    """Texts of an input file: .jsonl (``{"text": ...}`` a line) or plain text (one a line)."""
    if not path.is_file():
        raise ConfigError(f"--input {path}: no such file")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        expected = 'a JSON object with a "text" string'
        for lineno, obj in iter_json_lines(path, expected, errors="surrogateescape"):
            if not isinstance(obj.get("text"), str):
                raise ParseError(path, lineno, 1, expected)
            yield obj["text"]
        return
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            yield line.rstrip("\r\n")


def link(
    graph: Annotated[Path, typer.Argument(help="A graph directory made by `kgnlu graph build`.")],
    text: Annotated[str | None, typer.Argument(help="Text to link (or use --input, or stdin).")] = None,
    input_file: Annotated[Path | None, typer.Option(
        "--input", help=".txt (one text a line) or .jsonl ({\"text\": ...} a line).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line: {text, links}.")] = False,
    mode: Annotated[str, typer.Option(help="fast (no neural encoder) or neural (MiniLM context).")] = "fast",
    nil_threshold: Annotated[float | None, typer.Option(help="Drop links scoring below this.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Texts linked together.")] = 64,
    build_index: Annotated[bool, typer.Option(
        "--build-index", help="Embed every entity and build the faiss index (neural mode).")] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild the linker's indexes first.")] = False,
    save_index: Annotated[bool, typer.Option(
        "--save-index", help="Save indexes and entity embeddings into GRAPH/linker/ (to ship them with the "
        "graph); by default they are cached under $KGNLU_HOME/cache and the graph is never written.")] = False,
    device: Annotated[str, typer.Option(help="cpu or cuda (neural mode).")] = "cpu",
    encoder: Annotated[Path | None, typer.Option(help="Neural mode's encoder: a folder with its tokenizer, e.g. "
                                                 "a `kgnlu distill` student (default: the packaged MiniLM).")] = None,
    sense_model: Annotated[Path | None, typer.Option(help="A word-sense model (`kgnlu train-senses`) scoring "
                                                     "mentions with WordNet candidates, either mode.")] = None,
) -> None:
    """Link mentions in text to entities: character spans, entity ids, scores and candidates."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.linker import EntityLinker

    if text is not None and input_file is not None:
        raise ConfigError("give TEXT or --input, not both")
    if encoder is not None and mode != "neural":
        raise ConfigError("--encoder is used by neural mode only: add --mode neural")
    kg = KnowledgeGraph.load(graph, verify=False)
    linker = EntityLinker.from_graph(kg, mode=mode, nil_threshold=nil_threshold, rebuild=rebuild,
                                     device=device, dense=True if build_index else None, encoder=encoder,
                                     save="graph" if save_index else "cache",
                                     sense_model=sense_model)
    if text is not None:
        texts = iter([text])
    elif input_file is not None:
        texts = read_texts(input_file)
    else:
        texts = (line.rstrip("\r\n") for line in sys.stdin)
    out = sys.stdout
    batch: list[str] = []

    def flush() -> None:
        for t, links in zip(batch, linker.link_batch(batch, batch_size), strict=True):
            if as_json:
                out.write(json.dumps({"text": t, "links": [lk.to_json() for lk in links]},
                                     ensure_ascii=False) + "\n")
            else:
                out.write(t + "\n")
                for lk in links:
                    label = kg.entity_label(kg.index_of(lk.entity))
                    out.write(f"  {lk.start}-{lk.end}\t{lk.surface}\t{lk.entity}\t{label}\t{lk.score:.3f}\n")
        batch.clear()

    for t in texts:
        batch.append(t)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    linker.save_embeddings()
