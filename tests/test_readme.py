"""README's tour runs as written (issue 20, item 7): its shell block command by command and its
Python blocks top to bottom, in a fresh folder holding the repository's examples, with a fresh
``$KGNLU_HOME``. A README edit that breaks a snippet fails here.

Not run: the first block (``make run`` / ``make test``: this suite is part of ``make test``). The
"Pretrain and train" block runs too (about two minutes on 2 cores: 100 pretraining steps, QA on the
example graph)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
TOUR = "## A 5-minute tour"


def tour_blocks() -> list[tuple[str, str]]:
    """(language, code) of every fenced block in the tour section, in order."""
    text = README.read_text(encoding="utf-8")
    start = text.index(TOUR)
    end = text.find("\n## ", start + len(TOUR))
    section = text[start:end if end > 0 else None]
    return re.findall(r"```(bash|python)\n(.*?)```", section, flags=re.S)


def test_the_tour_has_shell_and_python_blocks():
    kinds = [k for k, _ in tour_blocks()]
    assert kinds.count("bash") >= 1 and kinds.count("python") >= 1, kinds


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme")
    shutil.copytree(REPO / "examples", root / "examples")
    shutil.copytree(REPO / "configs", root / "configs")
    return root


@pytest.fixture(scope="module")
def env(workdir):
    out = dict(os.environ)
    out["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{out.get('PATH', '')}"
    out["KGNLU_HOME"] = str(workdir / "home")
    out.pop("KGNLU_CACHE", None)
    out["PYTHONPATH"] = str(REPO)
    return out


def run(cmd, workdir, env, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, f"{cmd}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_the_tour_runs_as_written(workdir, env):
    blocks = tour_blocks()
    ran_python = 0
    for kind, code in blocks:
        if kind == "bash":
            for line in code.splitlines():
                words = shlex.split(line, comments=True)  # a quoted "#" stays, a trailing comment goes
                if words:
                    run(words, workdir, env)
        else:
            run([sys.executable, "-c", code], workdir, env)
            ran_python += 1
    assert ran_python >= 2
    assert (workdir / "my-graph" / "manifest.json").is_file()
    assert (workdir / "my-graph" / "embeddings" / "transe").is_dir()
    assert (workdir / "runs" / "fused").is_dir()
    assert (workdir / "my-model").is_dir() and (workdir / "runs" / "tour-bert").is_dir()
