"""``kgnlu kge``: train, evaluate and query knowledge-graph embeddings stored beside a graph."""

from __future__ import annotations

import json
import sys
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
    from kgnlu.kge.job import run_kge_training

    flags = {"model.name": model, "model.dim": dim, "epochs": epochs, "batch_size": batch_size, "lr": lr,
             "sampling.num_negatives": negatives, "loss.name": loss, "loss.margin": margin, "mode": mode,
             "sampling.weighting": "self_adversarial" if adversarial else None, "eval_every": eval_every,
             "patience": patience, "seed": seed, "device": device, "checkpoint_every": checkpoint_every}
    run = run_kge_training(build_train_config(config, overrides or [], flags), graph=graph, name=name,
                           checkpoint_dir=checkpoint_dir, resume=resume, text_init=text_init)
    if run.path is None:  # not rank 0 under torchrun
        return
    summary, test = run.summary, run.test
    if as_json:
        _print_json(summary)
    else:
        typer.echo(f"saved {run.path}")
        typer.echo(f"  epochs {summary['epochs_run']}  loss {summary['final_loss']:.4f}  "
                   f"{summary['triples_per_second']:,.0f} triples/s")
        if test:
            typer.echo(f"  test MRR {test.mrr:.4f}  Hits@1 {test.hits[1]:.4f}  Hits@3 {test.hits[3]:.4f}  "
                       f"Hits@10 {test.hits[10]:.4f}")


@app.command("eval")
def eval_cmd(
    graph: GraphDir,
    name: NameOpt = None,
    split: Annotated[str, typer.Option(help="valid or test.")] = "test",
    unfiltered: Annotated[bool, typer.Option("--unfiltered", help="Raw ranks (no filtering).")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 256,
    as_json: JsonFlag = False,
) -> None:
    """Filtered MRR and Hits@1/3/10 (both sides, realistic ranks) of stored embeddings.

    The same evaluator as ``kgnlu eval kge`` (:func:`kgnlu.eval.kge.evaluate_embeddings`), for one embedding."""
    from kgnlu.errors import CheckpointError
    from kgnlu.eval.kge import evaluate_embeddings
    from kgnlu.kge.storage import list_embeddings

    if name is None:  # the only embeddings there
        names = list_embeddings(graph)
        if len(names) != 1:
            raise CheckpointError(f"{graph} has {len(names)} embeddings ({', '.join(names) or 'none'}); "
                                  "name one with --name (train some with `kgnlu kge train`)")
        name = names[0]
    (row,) = evaluate_embeddings(graph, [name], split, filtered=not unfiltered, batch_size=batch_size,
                                 verify=True)["embeddings"]
    if as_json:
        _print_json(kge_eval_json(row, split))
    else:
        typer.echo(f"{row['path']} on {split} ({row['num_ranks']:,} ranks, {row['seconds']:.3f} s)")
        typer.echo(f"  MRR {row['mrr']:.4f}  Hits@1 {row['hits@1']:.4f}  Hits@3 {row['hits@3']:.4f}  "
                   f"Hits@10 {row['hits@10']:.4f}  MR {row['mean_rank']:.1f}")


def kge_eval_json(row: dict, split: str) -> dict:
    """``kgnlu kge eval --json``: one row of ``kgnlu eval kge``'s report, in this command's shape."""
    keys = ("mrr", "hits@1", "hits@3", "hits@10", "mean_rank", "num_ranks", "seconds", "side")
    return {"embeddings": row["path"], "split": split, **{k: row[k] for k in keys}}


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
