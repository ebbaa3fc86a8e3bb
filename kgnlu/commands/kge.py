"""``kgnlu kge``: train, evaluate and query knowledge-graph embeddings stored beside a graph."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Knowledge-graph embeddings: train, evaluate, find similar entities.",
                  no_args_is_help=True)

GraphDir = Annotated[Path, typer.Argument(help="A graph directory made by `kgnlu graph build`.")]
NameOpt = Annotated[str | None, typer.Option("--name", help="Embeddings folder under GRAPH/embeddings/.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def build_train_config(config_file: Path | None, overrides: list[str], flags: dict):
    """YAML file (nested like TrainConfig), then key=value overrides, then explicit CLI flags
    (``{"model.dim": 200, ...}``; None = not given)."""
    from kgnlu.config import load_run_config
    from kgnlu.kge import TrainConfig

    return load_run_config(TrainConfig, config_file, [*overrides, flags])


@app.command("train")
def train_cmd(
    graph: GraphDir,
    overrides: Annotated[list[str] | None, typer.Argument(help="key=value overrides (loss.margin=6 ...).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="A YAML run config (configs/kge-*.yaml).")] = None,
    model: Annotated[str | None, typer.Option(help="transe, distmult, complex or rotate.")] = None,
    dim: Annotated[int | None, typer.Option(help="Embedding dimension (complex dimension for complex/rotate).")] = None,
    epochs: Annotated[int | None, typer.Option()] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size")] = None,
    lr: Annotated[float | None, typer.Option()] = None,
    negatives: Annotated[int | None, typer.Option(help="Negatives per positive (sLCWA).")] = None,
    loss: Annotated[str | None, typer.Option(help="margin, softplus, bce, nssa (sLCWA); ce, bce (1-n).")] = None,
    margin: Annotated[float | None, typer.Option()] = None,
    mode: Annotated[str | None, typer.Option(help="slcwa or 1-n.")] = None,
    adversarial: Annotated[bool, typer.Option("--adversarial", help="Self-adversarial negative weighting.")] = False,
    eval_every: Annotated[int | None, typer.Option("--eval-every", help="Validate every N epochs.")] = None,
    patience: Annotated[int | None, typer.Option(help="Stop after N validations without a better MRR.")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    name: NameOpt = None,
    checkpoint_dir: Annotated[Path | None, typer.Option("--checkpoint-dir", help="The run folder: checkpoints/, "
                              "best/, metrics.jsonl, curves.png (default GRAPH/embeddings/.NAME.ckpt).")] = None,
    checkpoint_every: Annotated[int | None, typer.Option("--checkpoint-every", help="Epochs between checkpoints "
                                "(0: only at the end).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from the newest checkpoint (exact: the "
                                         "same run as one never interrupted).")] = False,
    text_init: Annotated[bool, typer.Option("--text-init", help="Entity vectors from MiniLM over entity "
                                            "texts (KEPLER-style).")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train embeddings on GRAPH's training split; save them to GRAPH/embeddings/NAME."""
    import torch.distributed as dist

    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge import KGEData, evaluate, train
    from kgnlu.kge.storage import save_embeddings

    flags = {"model.name": model, "model.dim": dim, "epochs": epochs, "batch_size": batch_size, "lr": lr,
             "sampling.num_negatives": negatives, "loss.name": loss, "loss.margin": margin, "mode": mode,
             "sampling.weighting": "self_adversarial" if adversarial else None, "eval_every": eval_every,
             "patience": patience, "seed": seed, "device": device, "checkpoint_every": checkpoint_every}
    cfg = build_train_config(config, overrides or [], flags)
    kg = KnowledgeGraph.load(graph)
    data = KGEData.from_graph(kg)
    name = name or cfg.model.name
    ckpt = checkpoint_dir or Path(kg.path) / "embeddings" / f".{name}.ckpt"
    entities = None
    if text_init:
        from kgnlu.kge.text_init import text_entities

        width = 2 * cfg.model.dim if name_is_complex(cfg.model.name) else cfg.model.dim
        entities = text_entities(kg, width, device=cfg.resolved_device())
    start = time.perf_counter()
    result = train(data, cfg, out_dir=ckpt, resume=resume, entities=entities)
    if dist.is_initialized() and dist.get_rank() != 0:
        dist.barrier()
        return
    test = evaluate(result.model, data, "test", batch_size=cfg.eval_batch_size) if len(data.test) else None
    from kgnlu.config import to_dict

    info = {"graph": kg.name, "train": to_dict(cfg), "text_init": text_init, "world_size": result.world_size,
            "best_epoch": result.best_epoch, "best_valid_mrr": result.best_valid_mrr,
            "train_seconds": result.train_seconds, "triples_per_second": result.triples_per_second,
            "epochs_run": result.epochs, "final_loss": result.history[-1]["loss"] if result.history else None,
            "test": test.to_dict() if test else None}
    path = save_embeddings(result.model, kg.path, name, info)
    if dist.is_initialized():
        dist.barrier()
    summary = {"path": str(path), "seconds": round(time.perf_counter() - start, 3),
               **{k: info[k] for k in ("epochs_run", "final_loss", "triples_per_second", "best_valid_mrr",
                                       "world_size")},
               "test": {k: v for k, v in (test.to_dict() if test else {}).items() if k != "side"}}
    if as_json:
        _print_json(summary)
    else:
        typer.echo(f"saved {path}")
        typer.echo(f"  epochs {summary['epochs_run']}  loss {summary['final_loss']:.4f}  "
                   f"{summary['triples_per_second']:,.0f} triples/s")
        if test:
            typer.echo(f"  test MRR {test.mrr:.4f}  Hits@1 {test.hits[1]:.4f}  Hits@3 {test.hits[3]:.4f}  "
                       f"Hits@10 {test.hits[10]:.4f}")


def name_is_complex(model: str) -> bool:
    from kgnlu.kge.models import MODELS

    return MODELS.get(model).complex_valued


@app.command("eval")
def eval_cmd(
    graph: GraphDir,
    name: NameOpt = None,
    split: Annotated[str, typer.Option(help="valid or test.")] = "test",
    unfiltered: Annotated[bool, typer.Option("--unfiltered", help="Raw ranks (no filtering).")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 256,
    as_json: JsonFlag = False,
) -> None:
    """Filtered MRR and Hits@1/3/10 (both sides, realistic ranks) of stored embeddings."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge import KGEData, evaluate
    from kgnlu.kge.storage import load_embeddings

    kg = KnowledgeGraph.load(graph)
    stored = load_embeddings(kg.path, name)
    result = evaluate(stored.to_model(), KGEData.from_graph(kg), split, batch_size=batch_size,
                      filtered=not unfiltered)
    if as_json:
        _print_json({"embeddings": str(stored.path), "split": split, **result.to_dict()})
    else:
        typer.echo(f"{stored.path} on {split} ({result.num_ranks:,} ranks, {result.seconds:.3f} s)")
        typer.echo(f"  MRR {result.mrr:.4f}  Hits@1 {result.hits[1]:.4f}  Hits@3 {result.hits[3]:.4f}  "
                   f"Hits@10 {result.hits[10]:.4f}  MR {result.mean_rank:.1f}")


@app.command("similar")
def similar_cmd(
    graph: GraphDir,
    entity: Annotated[str, typer.Argument(help="Entity id, IRI, label or alias.")],
    k: Annotated[int, typer.Option("-k", min=1, help="How many neighbours.")] = 10,
    name: NameOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """The entities nearest to ENTITY by embedding (cosine, faiss)."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge.similarity import similar

    kg = KnowledgeGraph.load(graph)
    hits = similar(kg, entity, k, name)
    rows = [{"id": kg.entity_id(e), "label": kg.entity_label(e), "similarity": round(s, 4)} for e, s in hits]
    if as_json:
        _print_json(rows)
    else:
        for row in rows:
            typer.echo(f"{row['similarity']:.4f}  {row['id']}  {row['label']}")


@app.command("wordnet-benchmark")
def wordnet_benchmark_cmd(
    graph: Annotated[Path, typer.Argument(help="A graph built with `kgnlu graph build wordnet`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for train.txt, valid.txt, test.txt.")],
    min_degree: Annotated[int, typer.Option("--min-degree", help="WN18-style entity core.")] = 3,
    max_entities: Annotated[int | None, typer.Option("--max-entities")] = None,
) -> None:
    """Write the WordNet link-prediction benchmark (WN18RR's recipe; docs/kge.md) as TSV splits."""
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge.wordnet_benchmark import WordNetBenchmarkConfig, build_wordnet_benchmark

    bench = build_wordnet_benchmark(KnowledgeGraph.load(graph),
                                    WordNetBenchmarkConfig(min_degree=min_degree, max_entities=max_entities))
    bench.write_tsv(out)
    d = bench.data
    typer.echo(f"{out}: {d.num_entities:,} entities, {d.num_relations} relations, train {len(d.train):,}, "
               f"valid {len(d.valid):,}, test {len(d.test):,}")
