"""The ``kgnlu kge train`` job as a library function: load the graph, train, test, save beside the graph.

Under torchrun every rank calls :func:`run_kge_training`; rank 0 evaluates and saves while the
others wait at a barrier, then all return (the others with ``path`` None).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kgnlu.kge.evaluation import EvalResult
from kgnlu.kge.training import TrainConfig

SUMMARY_KEYS = ("epochs_run", "final_loss", "triples_per_second", "best_valid_mrr", "world_size")


@dataclass
class KGETrainingRun:
    """What :func:`run_kge_training` did: where it saved, the provenance stored with the embeddings
    (``info``), the test metrics and the short ``summary`` the CLI prints. ``path`` is None (and the
    rest empty) on ranks other than 0."""

    path: Path | None
    info: dict
    test: EvalResult | None
    summary: dict


def run_kge_training(config: TrainConfig, *, graph, name: str | None = None,
                     checkpoint_dir: str | Path | None = None, resume: bool = False,
                     text_init: bool = False) -> KGETrainingRun:
    """Train embeddings on ``graph``'s training split (a graph directory or a loaded
    :class:`~kgnlu.kg.KnowledgeGraph`), test them, save them to ``GRAPH/embeddings/NAME`` with their
    provenance (graph, settings, timings, test metrics).

    ``name`` defaults to the model name; ``checkpoint_dir`` is the trainer's run folder (default
    ``GRAPH/embeddings/.NAME.ckpt``); ``resume`` continues from its newest checkpoint; ``text_init``
    starts entity vectors from MiniLM over the entity texts (KEPLER-style).
    """
    import torch.distributed as dist

    from kgnlu.config import to_dict
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kge.data import KGEData
    from kgnlu.kge.evaluation import evaluate
    from kgnlu.kge.storage import save_embeddings
    from kgnlu.kge.training import train

    kg = graph if isinstance(graph, KnowledgeGraph) else KnowledgeGraph.load(graph)
    data = KGEData.from_graph(kg)
    name = name or config.model.name
    ckpt = Path(checkpoint_dir) if checkpoint_dir else Path(kg.path) / "embeddings" / f".{name}.ckpt"
    entities = None
    if text_init:
        from kgnlu.kge.text_init import text_entities

        width = 2 * config.model.dim if is_complex_model(config.model.name) else config.model.dim
        entities = text_entities(kg, width, device=config.resolved_device())
    start = time.perf_counter()
    result = train(data, config, out_dir=ckpt, resume=resume, entities=entities)
    if dist.is_initialized() and dist.get_rank() != 0:
        dist.barrier()  # wait while rank 0 tests and saves
        return KGETrainingRun(None, {}, None, {})
    test = evaluate(result.model, data, "test", batch_size=config.eval_batch_size) if len(data.test) else None
    info = {"graph": kg.name, "train": to_dict(config), "text_init": text_init, "world_size": result.world_size,
            "best_epoch": result.best_epoch, "best_valid_mrr": result.best_valid_mrr,
            "train_seconds": result.train_seconds, "triples_per_second": result.triples_per_second,
            "epochs_run": result.epochs, "final_loss": result.history[-1]["loss"] if result.history else None,
            "test": test.to_dict() if test else None}
    path = save_embeddings(result.model, kg.path, name, info)
    if dist.is_initialized():
        dist.barrier()
    summary = {"path": str(path), "seconds": round(time.perf_counter() - start, 3),
               **{k: info[k] for k in SUMMARY_KEYS},
               "test": {k: v for k, v in (test.to_dict() if test else {}).items() if k != "side"}}
    return KGETrainingRun(path, info, test, summary)


def is_complex_model(model: str) -> bool:
    """Whether ``model``'s embeddings are complex-valued (ComplEx, RotatE: twice the real width)."""
    from kgnlu.kge.models import MODELS

    return MODELS.get(model).complex_valued
