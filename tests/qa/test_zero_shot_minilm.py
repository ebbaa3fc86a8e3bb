"""Zero-shot answering with the packaged MiniLM (data): `kgnlu run`'s bring-your-own-graph tour on
the shipped examples/inventors.ttl, and the description bank cached under $KGNLU_HOME for the next
start. Everything lands in a throwaway $KGNLU_HOME."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        path = tmp_path_factory.mktemp("home")
        mp.setenv("KGNLU_HOME", str(path))
        yield path


@pytest.fixture(scope="module")
def tour(home):
    import io
    from contextlib import redirect_stdout

    from kgnlu.commands.run import EXAMPLE_GRAPH, _own_graph_tour

    assert EXAMPLE_GRAPH.is_file()  # shipped in examples/; make setup installs the MiniLM it needs
    out = io.StringIO()
    with redirect_stdout(out):
        _own_graph_tour()
    return out.getvalue()


def test_the_tour_answers_the_example_graph_zero_shot(tour, home):
    assert "A: Smiljan" in tour and "evidence: Nikola Tesla --born in--> Smiljan" in tour
    assert "A: Alexander Graham Bell" in tour
    assert (home / "graphs" / "inventors" / "manifest.json").is_file()


def test_the_bank_is_cached_for_the_next_start(tour, home):
    from kgnlu.qa import KGQA

    (cache,) = (home / "cache" / "qa").iterdir()
    assert cache.name.endswith("-minilm") and (cache / "meta.json").is_file()
    said = []
    qa = KGQA.from_graph(home / "graphs" / "inventors", report=said.append)
    assert said == []  # read from the cache: nothing embedded
    result = qa.answer("Who founded General Electric?", k=1)
    assert result[0].label == "Thomas Edison"
