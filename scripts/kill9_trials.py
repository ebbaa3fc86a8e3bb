"""Randomized kill -9 trials across graph build, training, linker index saves and raw directory swaps
(issue 19, item 7): each write is killed at a seeded random moment, then checked for the old or the
new complete artefact and a clean next run (tests/faults/kill9_harness.py). Writes
reports/faults/kill9.md and kill9.json; exits 1 if any trial lost data or did not recover.

    .venv/bin/python scripts/kill9_trials.py              # 210 trials, seed 0, about 12 minutes on 2 busy cores
    .venv/bin/python scripts/kill9_trials.py --trials 30  # a quick look
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.faults is not installed: run from a checkout

from tests.faults.kill9_harness import as_json, run_trials, table  # noqa: E402

# share of the trials per phase: the fast writes get most, training (seconds per run) fewer
WEIGHTS = {"build": 0.13, "rebuild": 0.16, "rebuild-fallback": 0.11, "train": 0.06, "index": 0.07,
           "swap": 0.24, "swap-fallback": 0.23}


def split(total: int) -> dict[str, int]:
    counts = {k: max(1, int(total * w)) for k, w in WEIGHTS.items()}
    counts["swap"] += total - sum(counts.values())
    return counts


def markdown(rows: list[dict], meta: dict) -> str:
    head = list(rows[0])
    lines = ["# kill -9 trials", "",
             f"`{meta['command']}` — seed {meta['seed']}, {meta['trials']} trials, {meta['seconds']:.0f} s wall "
             f"({meta['cpu_seconds']:.0f} CPU s in the killed and rerun processes), "
             f"{meta['platform']}, renameat2 exchange: {meta['exchange']}.", "",
             "Each trial kills (SIGKILL) a real write at a random moment (most after the write began, a fifth "
             "from the start), then checks that the target holds "
             "the old or the new complete artefact (graphs load with checksums verified and keep their derived "
             "folders; checkpoints, embeddings and linker indexes load; a swap target holds the last finished "
             "payload or the next) and that the next run succeeds and leaves no staging folder or lock behind. "
             "*restored on open*: the two-rename fallback was cut between its renames and the next open put "
             "the old folder back.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(r[k]) for k in head) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=210)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "faults")
    args = parser.parse_args()
    from kgnlu.dirswap import _renameat2

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kgnlu-kill9-") as scratch:
        outcomes = run_trials(split(args.trials), args.seed, Path(scratch),
                              log=lambda o: print(f"{o.phase:45} {o.trial:3} {'+' if o.after_begin else ' '}{o.delay:6.2f}s "
                                                  f"{'killed' if o.killed else 'done  '} {o.state:12} "
                                                  f"{'ok' if o.survived else 'FAILED ' + o.detail}", flush=True))
    rows = table(outcomes)
    meta = {"command": f"python scripts/kill9_trials.py --trials {args.trials} --seed {args.seed}",
            "seed": args.seed, "trials": len(outcomes), "seconds": time.monotonic() - start,
            "cpu_seconds": resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
            + resource.getrusage(resource.RUSAGE_CHILDREN).ru_stime,
            "platform": platform.platform(), "exchange": _renameat2 is not None}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kill9.json").write_text(json.dumps({**meta, "table": rows, "trials_detail": as_json(outcomes)},
                                                    indent=1) + "\n", encoding="utf-8")
    (args.out / "kill9.md").write_text(markdown(rows, meta), encoding="utf-8")
    print(markdown(rows, meta))
    return 0 if rows[-1]["data lost"] == 0 and rows[-1]["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
