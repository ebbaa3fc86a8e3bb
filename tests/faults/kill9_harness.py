"""kill -9 at a random moment of a real kgnlu write, then check that nothing was lost (issue 19, item 7).

A trial copies a prepared fixture into a fresh folder, starts the write in a subprocess (the real
CLI, or a loop of raw directory swaps), kills it with SIGKILL after a seeded random delay, and
checks what is on disk:

* the target holds the old complete artefact or the new complete one: graphs load with every
  checksum verified (and keep the derived folders they carried), checkpoints, embeddings and
  linker indexes load; a raw swap target holds the last finished payload or the one after it;
* nothing was lost: the old artefact is intact whenever the new one did not land;
* the next run succeeds and leaves no staging, retired folder or lock file behind.

Used by tests/faults/test_kill9.py (a few trials per phase) and scripts/kill9_trials.py (hundreds,
writing reports/faults/kill9.{md,json}).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FALLBACK = {"KGNLU_NO_RENAME_EXCHANGE": "1"}
# a raw swap writer: each loop replaces TARGET with a folder holding payload i and its checksum, then
# prints i. With "widen", the fallback's first rename (target -> .NAME.old.*) is followed by a 20 ms
# pause, so random kills often land between its two renames, the window a crash must survive.
SWAP_WRITER = """
import hashlib, json, os, random, sys, time
from pathlib import Path
from kgnlu.io import atomic_directory
target, start, count = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
if sys.argv[4:] == ["widen"]:
    real_replace = os.replace
    def replace(src, dst):
        real_replace(src, dst)
        if ".old." in str(dst):
            time.sleep(0.02)
    os.replace = replace
for i in range(start, start + count):
    payload = random.Random(i).randbytes(32768 + i % 4096)
    with atomic_directory(target) as staging:
        (staging / "payload.bin").write_bytes(payload)
        (staging / "manifest.json").write_text(json.dumps({"i": i, "sha256": hashlib.sha256(payload).hexdigest()}))
    print(i, flush=True)
"""

# the linker's indexes built (rebuilt with "1") and saved into GRAPH/linker/, as `kgnlu link --save-index` does
LINKER_SAVE = """
import sys
from kgnlu.kg import KnowledgeGraph
from kgnlu.kg.linker import EntityLinker
EntityLinker.from_graph(KnowledgeGraph.load(sys.argv[1]), save="graph", rebuild=sys.argv[2] == "1")
"""


@dataclass
class Outcome:
    phase: str
    trial: int
    after_begin: bool  # the delay counted from the moment the write began (else from the start)
    delay: float
    killed: bool  # False: the run had finished before the kill
    state: str  # what the target held after the kill: old, new, none (nothing before, nothing now), ...
    recovered: bool  # the target was missing on disk until the next open put the old one back
    lost: bool  # neither the old nor the new artefact could be read
    survived: bool  # not lost, and the next run succeeded and cleaned up
    detail: str = ""


def env(extra: dict | None = None) -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "KGNLU_LOCK_TIMEOUT": "60", **(extra or {})}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "kgnlu.cli", *args]


def run(cmd: list[str], cwd: Path, extra_env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env(extra_env), capture_output=True, text=True, timeout=timeout)


def tsv(path: Path, n: int, seed: int) -> Path:
    rng = random.Random(seed)
    path.write_text("".join(f"e{i}\tr{rng.randrange(4)}\te{rng.randrange(n)}\n" for i in range(n)), encoding="utf-8")
    return path


def leftovers(folder: Path, name: str) -> list[str]:
    """Hidden siblings of ``name`` a write leaves while it runs: staging, retired folders, locks."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(tmp-.*|old\..*|lock|[a-z0-9_]{{8}})")
    return sorted(p.name for p in folder.glob(f".{name}.*") if pattern.fullmatch(p.name))


def graph_state(g: Path, counts: dict[str, int], marker: str | None = None) -> tuple[str, bool]:
    """(which graph ``g`` holds: a key of ``counts``, or ``none``; was it recovered). Raises if unreadable."""
    from kgnlu.kg import KnowledgeGraph

    missing = not g.exists()
    from kgnlu.dirswap import needs_recovery

    recovering = missing and needs_recovery(g)
    if missing and not recovering:
        return "none", False
    kg = KnowledgeGraph.load(g, verify=True)  # recovers a cut-short fallback swap first
    n = kg.num_triples
    assert kg.manifest["counts"]["triples"] == n
    if kg.manifest.get("has_store"):
        assert next(iter(kg.store.quads_for_pattern(None, None, None)), None) is not None
    kg.close()  # releases the pin: the next writer may delete what this read
    if marker is not None:
        assert (g / marker).is_file(), f"derived {marker} lost"
    state = next((k for k, v in counts.items() if v == n), None)
    assert state is not None, f"{n} triples: neither {counts}"
    return state, recovering


class Phase:
    """One kind of write; ``allowed`` are the states a kill may leave."""

    name = ""
    allowed: tuple[str, ...] = ()
    extra_env: dict | None = None

    def __init__(self, fixtures: Path):
        self.fixtures = fixtures

    def prepare(self) -> None: ...

    def setup(self, work: Path) -> None: ...

    def writing(self, work: Path) -> bool:
        """The write has begun (imports and reading done): kills aimed at the write wait for this."""
        return True

    def command(self, work: Path) -> list[str]:
        raise NotImplementedError

    def check(self, work: Path, stdout: str) -> tuple[str, bool]:
        raise NotImplementedError

    def rerun(self, work: Path) -> None:
        raise NotImplementedError


class Build(Phase):
    """A first graph build into an empty folder."""

    name, allowed = "graph build", ("none", "new")
    counts = {"old": 120, "new": 200}

    def prepare(self) -> None:
        tsv(self.fixtures / "old.tsv", self.counts["old"], 1)
        tsv(self.fixtures / "new.tsv", self.counts["new"], 2)

    def command(self, work: Path) -> list[str]:
        return cli("graph", "build", str(self.fixtures / "new.tsv"), "--out", "g", "--force")

    def writing(self, work: Path) -> bool:
        return (work / ".g.lock").exists()  # taken just before the staging folder is made

    def check(self, work: Path, stdout: str) -> tuple[str, bool]:
        return graph_state(work / "g", self.counts)

    def rerun(self, work: Path) -> None:
        done = run(self.command(work), work, self.extra_env)
        assert done.returncode == 0, done.stderr[-800:]
        assert graph_state(work / "g", self.counts)[0] == "new"
        assert not leftovers(work, "g"), leftovers(work, "g")


class Rebuild(Build):
    """``graph build --force`` over an existing graph with a derived folder to carry."""

    name, allowed = "graph build --force", ("old", "new")
    marker = "embeddings/kept/config.json"

    def prepare(self) -> None:
        super().prepare()
        done = run(cli("graph", "build", str(self.fixtures / "old.tsv"), "--out", "graph_old"), self.fixtures)
        assert done.returncode == 0, done.stderr
        (self.fixtures / "graph_old" / self.marker).parent.mkdir(parents=True)
        (self.fixtures / "graph_old" / self.marker).write_text("{}", encoding="utf-8")

    def setup(self, work: Path) -> None:
        shutil.copytree(self.fixtures / "graph_old", work / "g")

    def check(self, work: Path, stdout: str) -> tuple[str, bool]:
        return graph_state(work / "g", self.counts, self.marker)

    def rerun(self, work: Path) -> None:
        super().rerun(work)
        assert (work / "g" / self.marker).is_file()


class RebuildFallback(Rebuild):
    name, extra_env = "graph build --force (two-rename fallback)", FALLBACK


class Train(Phase):
    """`kgnlu kge train` saving a checkpoint every epoch, then the embeddings."""

    name, allowed = "kge train (checkpoints)", ("none", "checkpoints", "new")
    args = ("--dim", "8", "--epochs", "5", "--checkpoint-every", "1", "--device", "cpu", "--eval-every", "100",
            "--name", "e", "--seed", "0")

    def prepare(self) -> None:
        tsv(self.fixtures / "train.tsv", 150, 3)
        done = run(cli("graph", "build", str(self.fixtures / "train.tsv"), "--out", "graph_train", "--no-store"),
                   self.fixtures)
        assert done.returncode == 0, done.stderr

    def setup(self, work: Path) -> None:
        shutil.copytree(self.fixtures / "graph_train", work / "g")

    def command(self, work: Path) -> list[str]:
        return cli("kge", "train", "g", *self.args)

    def writing(self, work: Path) -> bool:
        return (work / "g" / "embeddings" / ".e.ckpt" / "checkpoints").exists()  # the first checkpoint is being saved

    def check(self, work: Path, stdout: str) -> tuple[str, bool]:
        from kgnlu.io import load_tensors, read_json
        from kgnlu.kge.storage import load_embeddings
        from kgnlu.training.checkpoint import list_checkpoints

        graph_state(work / "g", {"graph": 150})
        run_dir = work / "g" / "embeddings" / ".e.ckpt"
        found = [p for _, p in list_checkpoints(run_dir / "checkpoints")] if run_dir.is_dir() else []
        for step in found + [p for p in [run_dir / "best"] if p.is_dir()]:
            read_json(step / "trainer.json")
            load_tensors(step / "model.safetensors")
            load_tensors(step / "optimizer.safetensors")
        if (work / "g" / "embeddings" / "e").exists():
            load_embeddings(work / "g", "e")
            return "new", False
        return ("checkpoints" if found else "none"), False

    def rerun(self, work: Path) -> None:
        from kgnlu.training.checkpoint import list_checkpoints

        resume = ["--resume"] if list_checkpoints(work / "g" / "embeddings" / ".e.ckpt" / "checkpoints") else []
        done = run([*self.command(work), *resume], work)
        assert done.returncode == 0, done.stderr[-800:]
        assert self.check(work, "")[0] == "new"
        ckpts = work / "g" / "embeddings" / ".e.ckpt" / "checkpoints"
        assert not list(ckpts.glob(".*")), list(ckpts.glob(".*"))
        assert not leftovers(work / "g" / "embeddings", "e"), leftovers(work / "g" / "embeddings", "e")


class Index(Phase):
    """The linker's indexes rebuilt and saved inside the graph folder (GRAPH/linker/)."""

    name, allowed = "linker index save", ("old", "new")

    def prepare(self) -> None:
        tsv(self.fixtures / "link.tsv", 150, 4)
        done = run(cli("graph", "build", str(self.fixtures / "link.tsv"), "--out", "graph_link", "--no-store"),
                   self.fixtures)
        assert done.returncode == 0, done.stderr
        done = run([sys.executable, "-c", LINKER_SAVE, "graph_link", "0"], self.fixtures, self.cache(self.fixtures))
        assert done.returncode == 0 and (self.fixtures / "graph_link" / "linker").is_dir(), done.stderr

    @staticmethod
    def cache(work: Path) -> dict:
        return {"KGNLU_CACHE": str(work / "cache")}  # never the user's cache

    def setup(self, work: Path) -> None:
        shutil.copytree(self.fixtures / "graph_link", work / "g")
        (work / "g" / "linker" / "old.marker").write_text("", encoding="utf-8")
        self.extra_env = self.cache(work)

    def command(self, work: Path) -> list[str]:
        return [sys.executable, "-c", LINKER_SAVE, "g", "1"]

    def check(self, work: Path, stdout: str) -> tuple[str, bool]:
        from kgnlu.kg import KnowledgeGraph
        from kgnlu.kg.linker.index import LinkerIndex

        folder = work / "g" / "linker"
        assert folder.is_dir(), "linker index lost"
        kg = KnowledgeGraph.load(work / "g")
        LinkerIndex.load(folder, kg)
        kg.close()
        return ("old" if (folder / "old.marker").exists() else "new"), False

    def rerun(self, work: Path) -> None:
        done = run(self.command(work), work, self.cache(work))
        assert done.returncode == 0, done.stderr[-800:]
        assert self.check(work, "")[0] == "new"
        assert not leftovers(work / "g", "linker")


class Swap(Phase):
    """Raw directory swaps in a tight loop: a kill lands anywhere, between the renames included."""

    name, allowed = "raw directory swap", ("old", "new")
    widen: tuple[str, ...] = ()

    def setup(self, work: Path) -> None:
        done = run([sys.executable, "-c", SWAP_WRITER, str(work / "t"), "0", "1"], work, self.extra_env)
        assert done.returncode == 0, done.stderr

    def command(self, work: Path) -> list[str]:
        return [sys.executable, "-c", SWAP_WRITER, str(work / "t"), "1", "1000000", *self.widen]

    def check(self, work: Path, stdout: str) -> tuple[str, bool]:
        from kgnlu.dirswap import needs_recovery, recover

        finished = int(stdout.split()[-1]) if stdout.split() else 0
        target = work / "t"
        recovering = needs_recovery(target)
        assert recover(target), "no swap target left"
        manifest = json.loads((target / "manifest.json").read_text())
        payload = (target / "payload.bin").read_bytes()
        assert hashlib.sha256(payload).hexdigest() == manifest["sha256"], "payload does not match"
        assert manifest["i"] in (finished, finished + 1), f"holds {manifest['i']}, last finished {finished}"
        return ("old" if manifest["i"] == finished else "new"), recovering

    def rerun(self, work: Path) -> None:
        done = run([sys.executable, "-c", SWAP_WRITER, str(work / "t"), "10000000", "1"], work, self.extra_env)
        assert done.returncode == 0, done.stderr
        assert json.loads((work / "t" / "manifest.json").read_text())["i"] == 10000000
        assert not leftovers(work, "t"), leftovers(work, "t")


class SwapFallback(Swap):
    name, extra_env = "raw directory swap (two-rename fallback, 20 ms between renames)", FALLBACK
    widen = ("widen",)


PHASES = {"build": Build, "rebuild": Rebuild, "rebuild-fallback": RebuildFallback, "train": Train,
          "index": Index, "swap": Swap, "swap-fallback": SwapFallback}
# when to kill: a fifth of the trials anywhere from the start (imports, parsing), the rest once the
# write has begun (the phase's ``writing`` marker), to about the end (a slower run may finish first);
# both spans come from one uninterrupted run timed on this machine (a loaded machine runs slower)
EARLY = 0.2
SWAP_DELAY = (0.15, 1.2)  # the swap writer loops until killed: seconds


def calibrate(phase: Phase, scratch: Path) -> tuple[float, float]:
    """(seconds until the write begins, seconds the whole run takes) for one uninterrupted run here."""
    work = scratch / "calibrate"
    work.mkdir()
    phase.setup(work)
    started, begun = time.monotonic(), None
    proc = subprocess.Popen(phase.command(work), cwd=work, env=env(phase.extra_env), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    while proc.poll() is None:
        if begun is None and phase.writing(work):
            begun = time.monotonic() - started
        time.sleep(0.01)
    total = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr.read()[-800:]
    shutil.rmtree(work)
    return (total if begun is None else begun), total


def kill_plan(phase: Phase, rng: random.Random, timing: tuple[float, float] | None) -> tuple[bool, float]:
    """(wait for the write to begin first, then seconds to wait) for one trial."""
    if timing is None:
        return False, rng.uniform(*SWAP_DELAY)
    begun, total = timing
    if begun > 0.05 and rng.random() < EARLY:
        return False, rng.uniform(0.1 * begun, begun)
    return True, rng.uniform(0, 0.9 * (total - begun))


def trial(phase: Phase, key: str, number: int, plan: tuple[bool, float], scratch: Path) -> Outcome:
    work = scratch / f"{key}-{number}"
    work.mkdir(parents=True)
    after_begin, delay = plan
    state, recovered, lost, survived, detail, killed = "?", False, True, False, "", False
    try:
        phase.setup(work)
        proc = subprocess.Popen(phase.command(work), cwd=work, env=env(phase.extra_env), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        deadline = time.monotonic() + 600
        while after_begin and proc.poll() is None and not phase.writing(work) and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the query workers it started die too
        stdout, _ = proc.communicate(timeout=60)
        state, recovered = phase.check(work, stdout)
        assert state in phase.allowed, f"state {state}"
        lost = False
        phase.rerun(work)
        survived = True
    except Exception as err:  # the trial records the failure; the caller decides
        detail = f"{type(err).__name__}: {err}"[:500]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Outcome(phase.name, number, after_begin, round(delay, 3), killed, state, recovered, lost, survived, detail)


def run_trials(counts: dict[str, int], seed: int, scratch: Path, log=None) -> list[Outcome]:
    """``counts[key]`` trials of each phase in PHASES, seeded; fixtures built once under ``scratch``."""
    rng = random.Random(seed)
    outcomes = []
    for key, n in counts.items():
        if n <= 0:
            continue
        fixtures = scratch / f"fixtures-{key}"
        fixtures.mkdir(parents=True)
        phase = PHASES[key](fixtures)
        phase.prepare()
        timing = None if isinstance(phase, Swap) else calibrate(phase, scratch)
        for i in range(n):
            outcomes.append(trial(phase, key, i, kill_plan(phase, rng, timing), scratch))
            if log:
                log(outcomes[-1])
    return outcomes


def table(outcomes: list[Outcome]) -> list[dict]:
    rows: dict[str, dict] = {}
    for o in outcomes:
        row = rows.setdefault(o.phase, {"phase": o.phase, "tried": 0, "killed mid-write": 0, "survived": 0,
                                        "data lost": 0, "restored on open": 0, "failed": 0})
        row["tried"] += 1
        row["killed mid-write"] += o.killed
        row["survived"] += o.survived
        row["data lost"] += o.lost
        row["restored on open"] += o.recovered
        row["failed"] += not o.survived
    total = {"phase": "all"} | {k: sum(r[k] for r in rows.values()) for k in next(iter(rows.values())) if k != "phase"}
    return [*rows.values(), total]


def as_json(outcomes: list[Outcome]) -> list[dict]:
    return [asdict(o) for o in outcomes]
