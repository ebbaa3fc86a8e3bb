"""Shared benchmark plumbing: a result record, the final JSON line, the stored report, timers.

Every ``bench/<name>.py`` prints exactly one JSON line last::

    {"bench": NAME, "results": [{"case", "metric", "kind", "ours", "peer", "ratio", "ratio_best",
                                 "ours_best", "peer_best", "repeats", "higher_is_better", ...}, ...]}

``ratio`` > 1 always means ours is better: ours/peer for rates and scores, peer/ours for times
and memory. ``ours``/``peer``/``ratio`` are medians over ``repeats`` (ours and peer measured in
alternation, so drift on a shared machine hits both); ``*_best`` are the best repeat of each
side (the minimum time, the maximum rate) and ``ratio_best`` their ratio. ``kind`` says what a
row compares (``KINDS``): reviewers should read the equal-work rows first.

:func:`emit` also stores the record, with the command, the date, the git commit and the machine
(CPU model, cores, torch threads, library versions, load average at start and end) as
``reports/bench/NAME[-quick].json``; ``scripts/bench_table.py`` builds README's and
docs/benchmarks.md's tables from those files.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

# Load average when the bench started (this module is imported first thing), stored with the
# result: the shared machine's load explains noisy absolute figures; only ratios are compared.
LOAD_AT_START = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
STARTED = time.time()

KINDS = {
    "equal work": "same data, same work, same timed region (after set-up, warm-up excluded), same threads",
    "kgnlu saving": "kgnlu's own algorithmic saving (e.g. shared negatives) against the peer doing the equal work",
    "as users run it": "each library called the way its users call it, set-up included",
    "quality": "a score on a split nobody tuned on (the case names the split)",
    "memory": "resident memory of the same data",
    "baseline": "a simpler peer doing related, not identical work (the metric says what differs): a reference line",
    "goal": "ours against a target value (the issue's goal), not against a peer",
}


@dataclass
class Result:
    case: str
    metric: str
    ours: float  # median over the repeats (the only value when there is one)
    peer: float
    higher_is_better: bool = True
    kind: str = "equal work"  # one of KINDS
    ours_samples: list[float] = field(default_factory=list)  # every repeat, in the metric's unit
    peer_samples: list[float] = field(default_factory=list)
    peer_name: str = ""  # what the peer is, e.g. "PyKEEN 1.11.1 SLCWATrainingLoop"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {sorted(KINDS)}, got {self.kind!r}")

    @classmethod
    def from_samples(cls, case: str, metric: str, ours: Sequence[float], peer: Sequence[float],
                     higher_is_better: bool = True, kind: str = "equal work", peer_name: str = "") -> Result:
        """A row from every repeat of both sides; ``ours``/``peer`` become the medians."""
        return cls(case, metric, statistics.median(ours), statistics.median(peer), higher_is_better, kind,
                   list(ours), list(peer), peer_name)

    @classmethod
    def from_seconds(cls, case: str, metric: str, work: float, ours_s: Sequence[float], peer_s: Sequence[float],
                     kind: str = "equal work", peer_name: str = "") -> Result:
        """A rate row (``work`` items per second) from the seconds of each repeat of both sides."""
        return cls.from_samples(case, metric, [work / s for s in ours_s], [work / s for s in peer_s], True, kind,
                                peer_name)

    @property
    def repeats(self) -> int:
        return min(len(self.ours_samples), len(self.peer_samples)) or 1

    def _best(self, samples: list[float], fallback: float) -> float:
        if not samples:
            return fallback
        return max(samples) if self.higher_is_better else min(samples)

    @property
    def ours_best(self) -> float:
        return self._best(self.ours_samples, self.ours)

    @property
    def peer_best(self) -> float:
        return self._best(self.peer_samples, self.peer)

    def _ratio(self, ours: float, peer: float) -> float:
        if ours == peer:  # includes both 0: a tie, not an infinite win
            return 1.0
        if self.higher_is_better:
            return ours / peer if peer else float("inf")
        return peer / ours if ours else float("inf")

    @property
    def ratio(self) -> float:
        return self._ratio(self.ours, self.peer)

    @property
    def ratio_best(self) -> float:
        return self._ratio(self.ours_best, self.peer_best)

    def to_json(self) -> dict:
        out = {"case": self.case, "metric": self.metric, "kind": self.kind, "ours": _round(self.ours),
               "peer": _round(self.peer), "ratio": _round(self.ratio), "ratio_median": _round(self.ratio),
               "ours_best": _round(self.ours_best), "peer_best": _round(self.peer_best),
               "ratio_best": _round(self.ratio_best), "repeats": self.repeats,
               "higher_is_better": self.higher_is_better}
        if self.ours_samples:
            out["ours_samples"] = [_round(x) for x in self.ours_samples]
            out["peer_samples"] = [_round(x) for x in self.peer_samples]
        if self.peer_name:
            out["peer_name"] = self.peer_name
        return out


def _round(x: float) -> float | None:
    """4 decimals, or 4 significant digits below 1; None for inf/nan (a zero peer), which JSON lacks."""
    if not math.isfinite(x):
        return None
    return round(x, 4) if abs(x) >= 1 else float(f"{x:.4g}")


REPORTS = Path(__file__).resolve().parent.parent / "reports" / "bench"


def machine(packages: Sequence[str] = ()) -> dict:
    """The facts a reader needs to judge a timing: CPU, cores, threads, versions, load."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("torch", "transformers", *packages):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    facts = {"cpu_model": cpu, "cpus": os.cpu_count(),
             "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
             "platform": platform.platform(), "python": platform.python_version(), "versions": versions,
             "load_average_start": [round(x, 2) for x in LOAD_AT_START],
             "load_average_end": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None}
    if "torch" in sys.modules:
        import torch

        facts["torch_threads"] = torch.get_num_threads()
        facts["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return facts


def _git(*args: str) -> str | None:
    try:  # read-only queries: which commit, and whether the tree held uncommitted edits
        out = subprocess.run(["git", *args], cwd=REPORTS.parent.parent, capture_output=True, text=True, timeout=10)
        return out.stdout if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _source() -> dict:
    """The commit measured, and the tracked files that differed from it (a run on a working tree)."""
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no")
    changed = None if status is None else sorted(line[3:] for line in status.splitlines() if line.strip())
    return {"commit": commit.strip() if commit else None, "uncommitted_files": changed}


def emit(bench: str, results: list[Result], packages: Sequence[str] = (), notes: Sequence[str] = ()) -> None:
    """Print the one JSON line that ends every benchmark's output, and keep it, with the command,
    the machine (``packages``: the peers whose versions matter) and ``notes`` (what each side
    does), as ``reports/bench/NAME[-quick].json`` (the artefact behind README's table)."""
    sys.stdout.flush()
    line = {"bench": bench, "results": [r.to_json() for r in results]}
    home = str(Path.home())  # ~ as the README's commands write it, not this machine's home
    args = [a.replace(home, "~", 1) if a.startswith(home) else a for a in sys.argv[1:]]
    record = {**line, "command": " ".join(["python", f"bench/{bench}.py", *args]),
              "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
              "wall_seconds": round(time.time() - STARTED, 1), **_source(),
              "machine": machine(packages), "notes": list(notes)}
    name = bench + ("-quick" if "--quick" in sys.argv else "")
    try:
        from kgnlu.atomic_files import atomic_write

        REPORTS.mkdir(parents=True, exist_ok=True)
        with atomic_write(REPORTS / f"{name}.json") as out:
            out.write(json.dumps(record, indent=1) + "\n")
    except (OSError, ImportError) as err:  # a read-only checkout still prints its line
        note(f"could not write {REPORTS / name}.json: {err}")
    print(json.dumps(line), flush=True)


def note(message: str) -> None:
    """Progress and side figures go to stderr, so stdout's last line stays the JSON."""
    print(message, file=sys.stderr, flush=True)


def time_call(fn: Callable[[], object], repeat: int = 3, warmup: int = 1,
              sync: Callable[[], None] | None = None) -> float:
    """Median wall seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs; ``sync`` (e.g.
    ``torch.cuda.synchronize``) runs before each clock read so asynchronous work is counted."""
    return statistics.median(time_samples(fn, repeat, warmup, sync))


def time_samples(fn: Callable[[], object], repeat: int = 3, warmup: int = 1,
                 sync: Callable[[], None] | None = None) -> list[float]:
    """Wall seconds of each of ``repeat`` runs of ``fn()`` after ``warmup`` untimed runs."""
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
    return times


def interleaved_samples(ours: Callable[[], object], peer: Callable[[], object], rounds: int = 3,
                        warmup: int = 1, sync: Callable[[], None] | None = None) -> tuple[list[float], list[float]]:
    """Seconds of every round of ours and peer, alternated round by round (after ``warmup``
    untimed rounds of each) so drift on a shared machine hits both equally."""
    for _ in range(warmup):
        ours()
        peer()
    ours_times, peer_times = [], []
    for _ in range(rounds):
        ours_times += time_samples(ours, repeat=1, warmup=0, sync=sync)
        peer_times += time_samples(peer, repeat=1, warmup=0, sync=sync)
    return ours_times, peer_times


def interleaved(ours: Callable[[], object], peer: Callable[[], object], rounds: int = 3, warmup: int = 1,
                sync: Callable[[], None] | None = None) -> tuple[float, float]:
    """Median seconds of ours and peer from :func:`interleaved_samples`."""
    ours_times, peer_times = interleaved_samples(ours, peer, rounds, warmup, sync)
    return statistics.median(ours_times), statistics.median(peer_times)
