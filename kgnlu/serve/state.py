"""What a server holds: the graph, the fast linker and the QA model, loaded once in the parent
process before any worker is forked, so N workers share the graph's memory-mapped arrays and the
model weights page for page (copy-on-write; docs/serving.md measures it).

Model calls (linking, QA) run one at a time per worker under :attr:`ServeState.lock`: the linker
and KGQA keep lazily filled caches that are not written for concurrent threads, and two CPU-bound
calls in one process would only share its cores. A waiting request gives up at its deadline
(:func:`kgnlu.serve.limits.remaining_seconds`), so one slow request never makes later ones hang
past their own limit; ``--workers`` is how a server answers in parallel.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from kgnlu.errors import RequestTimeoutError
from kgnlu.serve.limits import remaining_seconds
from kgnlu.version import __version__

T = TypeVar("T")

WARM_UP_QUESTION = "What is this?"


@dataclass
class ServeState:
    kg: object  # KnowledgeGraph
    qa: object  # KGQA (its .linker is the fast linker /link uses)
    model: dict  # what /version says about the QA model
    lock: threading.Lock = field(default_factory=threading.Lock)
    _neural: object | None = None
    _neural_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def linker(self):
        return self.qa.linker

    def neural_linker(self):
        """The neural-mode linker (MiniLM context scores), built on first use in each worker."""
        wait = remaining_seconds()
        if not self._neural_lock.acquire(timeout=-1 if wait is None else max(0.0, wait)):
            raise RequestTimeoutError("the neural linker is still being built for an earlier request; retry soon")
        try:
            if self._neural is None:
                from kgnlu.kg.linker import EntityLinker

                self._neural = EntityLinker.from_graph(self.kg, mode="neural", save="cache")
            return self._neural
        finally:
            self._neural_lock.release()

    def compute(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """``fn(*args, **kwargs)`` under the model lock, waiting no longer than the request's deadline."""
        wait = remaining_seconds()
        if not self.lock.acquire(timeout=-1 if wait is None else max(0.0, wait)):
            raise RequestTimeoutError("the server is busy with earlier requests and this one ran out of time "
                                      "waiting; retry, or start the server with more --workers")
        try:
            left = remaining_seconds()
            if left is not None and left <= 0:
                raise RequestTimeoutError("this request ran out of time before it started")
            return fn(*args, **kwargs)
        finally:
            self.lock.release()

    def version(self) -> dict:
        from kgnlu.qa.storage import graph_checksum

        kg = self.kg
        return {"kgnlu": __version__,
                "graph": {"name": kg.name, "path": str(kg.path), "checksum": graph_checksum(kg),
                          "manifest_sha256": manifest_sha256(Path(kg.path)),
                          "entities": kg.num_entities, "relations": kg.num_relations, "triples": kg.num_triples},
                "model": self.model}


def manifest_sha256(graph: Path) -> str:
    """sha256 of the graph's manifest.json bytes: names one build of the graph exactly."""
    return hashlib.sha256((graph / "manifest.json").read_bytes()).hexdigest()


def load_state(graph: Path, model: Path | None = None, zero_shot: bool = False, threads: int = 1,
               report: Callable[[str], None] | None = None) -> ServeState:
    """The graph, linker and QA of ``kgnlu qa`` (:func:`kgnlu.qa.default.open_qa` picks the model:
    ``model``, else the default model when it was trained on this graph, else zero-shot), warmed
    up so the lazy parts (linker caches, question cues) are built before workers fork."""
    import torch

    from kgnlu.qa.default import default_model_dir, open_qa

    torch.set_num_threads(threads)
    qa = open_qa(graph, model, zero_shot, report=report)
    if qa.zero_shot:
        described = {"kind": "zero-shot", "path": None}
    else:
        described = {"kind": "trained", "path": str(Path(model or default_model_dir()).expanduser().absolute())}
    described["encoder"] = dict(getattr(qa, "encoder_spec", {}) or {})
    state = ServeState(kg=qa.kg, qa=qa, model=described)
    # a question naming an entity walks the whole answering path once (cues, linker caches, encoder)
    label = next((qa.kg.entity_label(e) for e in range(min(qa.kg.num_entities, 100)) if qa.kg.entity_label(e)), "")
    warm = f"What is {label}?" if label else WARM_UP_QUESTION
    qa.answer(warm, k=1)
    qa.linker.link(warm)
    return state


def worker_id() -> int:
    return os.getpid()
