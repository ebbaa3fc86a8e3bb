"""kill -9 at seeded random moments of graph builds, training, linker index saves and raw swaps: the
target always holds the old or the new complete artefact, nothing is lost, and the next run succeeds
and clears what the killed one left (issue 19, item 7; tests/faults/kill9_harness.py does the work).

A few trials per phase here (about 40 in all; KGNLU_KILL9_TRIALS=N multiplies them by N/40);
`python scripts/kill9_trials.py` runs 210 and writes the report README quotes."""

from __future__ import annotations

import os

import pytest

from tests.faults.kill9_harness import run_trials, table

TRIALS = {"build": 5, "rebuild": 6, "rebuild-fallback": 5, "train": 1, "index": 2, "swap": 11, "swap-fallback": 10}
SCALE = int(os.environ.get("KGNLU_KILL9_TRIALS", "40")) / 40


@pytest.mark.parametrize("phase", list(TRIALS))
def test_kill9_loses_nothing(phase, tmp_path):
    n = max(1, round(TRIALS[phase] * SCALE))
    outcomes = run_trials({phase: n}, seed=sum(map(ord, phase)), scratch=tmp_path)
    failed = [o for o in outcomes if not o.survived]
    assert not failed, [(o.trial, o.delay, o.state, o.detail) for o in failed]
    row = table(outcomes)[0]
    assert row["tried"] == n and row["data lost"] == 0 and row["survived"] == n
