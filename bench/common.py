"""Shared benchmark plumbing: a result record, the final JSON line, and a timer.

Every ``bench/<name>.py`` prints exactly one JSON line last::

    {"bench": NAME, "results": [{"case", "metric", "ours", "peer", "ratio", "higher_is_better"}, ...]}

``ratio`` > 1 always means ours is better: ours/peer for rates and scores, peer/ours for times
and memory.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    case: str
    metric: str
    ours: float
    peer: float
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        if self.ours == self.peer:  # includes both 0: a tie, not an infinite win
            return 1.0
        if self.higher_is_better:
            return self.ours / self.peer if self.peer else float("inf")
        return self.peer / self.ours if self.ours else float("inf")

    def to_json(self) -> dict:
        return {"case": self.case, "metric": self.metric, "ours": round(self.ours, 4), "peer": round(self.peer, 4),
                "ratio": round(self.ratio, 4), "higher_is_better": self.higher_is_better}


REPORTS = Path(__file__).resolve().parent.parent / "reports" / "bench"


def emit(bench: str, results: list[Result]) -> None:
    """Print the one JSON line that ends every benchmark's output, and keep it, with the command
    and machine, as ``reports/bench/NAME[-quick].json`` (the artefact behind README's table)."""
    sys.stdout.flush()
    line = {"bench": bench, "results": [r.to_json() for r in results]}
    record = {**line, "command": " ".join(["python", f"bench/{bench}.py", *sys.argv[1:]]),
              "date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}}
    name = bench + ("-quick" if "--quick" in sys.argv else "")
    try:
        REPORTS.mkdir(parents=True, exist_ok=True)
        tmp = REPORTS / f".{name}.json.tmp"
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, REPORTS / f"{name}.json")
    except OSError as err:  # a read-only checkout still prints its line
        note(f"could not write {REPORTS / name}.json: {err}")
    print(json.dumps(line), flush=True)


def note(message: str) -> None:
    """Progress and side figures go to stderr, so stdout's last line stays the JSON."""
    print(message, file=sys.stderr, flush=True)


def time_call(fn: Callable[[], object], repeat: int = 3, warmup: int = 1,
              sync: Callable[[], None] | None = None) -> float:
    """Median wall seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs; ``sync`` (e.g.
    ``torch.cuda.synchronize``) runs before each clock read so asynchronous work is counted."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        if sync:
            sync()
        start = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved(ours: Callable[[], object], peer: Callable[[], object], rounds: int = 3, warmup: int = 1,
                sync: Callable[[], None] | None = None) -> tuple[float, float]:
    """Median seconds of ours and peer, alternated round by round so drift on a shared machine
    hits both equally."""
    for _ in range(warmup):
        ours()
        peer()
    ours_times, peer_times = [], []
    for _ in range(rounds):
        ours_times.append(time_call(ours, repeat=1, warmup=0, sync=sync))
        peer_times.append(time_call(peer, repeat=1, warmup=0, sync=sync))
    return statistics.median(ours_times), statistics.median(peer_times)
