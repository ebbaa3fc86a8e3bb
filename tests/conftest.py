"""Shared fixtures: small graphs the tests build themselves."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("KGNLU_PROGRESS", "0")

REPO = Path(__file__).resolve().parents[1]
WORDNET_DIR = Path(os.environ.get("WORDNET_DIR", "/usr/share/wordnet"))

# A family graph with a cycle, two relations, a hub and an isolated pair, as TSV.
FAMILY_TSV = """head\trelation\ttail
alice\tparent_of\tbob
alice\tparent_of\tcarla
bob\tparent_of\tdora
carla\tparent_of\teve
dora\tfriend_of\talice
eve\tfriend_of\tfrank
frank\tfriend_of\tgina
hub\tknows\talice
hub\tknows\tbob
hub\tknows\tcarla
xavier\tknows\tyves
"""


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tests run tiny models, two xdist workers on two cores: intra-op threads would only spin
    against each other (measured under load: 0.02 s vs 4 s a step), so each test runs one thread."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True, scope="session")
def linker_cache(tmp_path_factory):
    """Linker indexes and entity embeddings are cached per user ($KGNLU_CACHE, kgnlu.kg.linker.cache):
    tests cache into a throwaway folder, so nothing piles up in the real $KGNLU_HOME."""
    os.environ.setdefault("KGNLU_CACHE", str(tmp_path_factory.mktemp("kgnlu-cache")))


@pytest.fixture(scope="session")
def family_tsv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("family") / "family.tsv"
    path.write_text(FAMILY_TSV, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def family_graph(family_tsv, tmp_path_factory):
    from kgnlu.kg import KnowledgeGraph
    from kgnlu.kg.build import build_graph

    out = build_graph([str(family_tsv)], tmp_path_factory.mktemp("graphs") / "family")
    return KnowledgeGraph.load(out)


@pytest.fixture(scope="session")
def people_graph(tmp_path_factory):
    """An RDF graph without labels on most things, with classes and a sameAs pair (tests/qa/people_graph.py)."""
    from tests.qa.people_graph import build_people_graph

    return build_people_graph(tmp_path_factory.mktemp("people"))


def assert_imports_without(modules: str, forbidden: tuple[str, ...]) -> None:
    """``import modules`` (comma-separated) in a fresh interpreter loads none of ``forbidden``."""
    import subprocess
    import sys

    code = (f"import sys, {modules}; bad = [m for m in {forbidden!r} if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def require_wordnet() -> Path:
    if not (WORDNET_DIR / "data.noun").is_file():
        pytest.skip(f"WordNet 3.0 not installed at {WORDNET_DIR} (make test installs it with apt-get)")
    return WORDNET_DIR
