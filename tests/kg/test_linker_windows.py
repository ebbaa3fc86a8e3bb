"""Long texts are linked window by window (issue 19, item 5): memory per character stays small and
flat, offsets stay exact, a text over the size limit is refused with what to do."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import spacy

from kgnlu.errors import InputTooLargeError
from kgnlu.kg.linker import EntityLinker
from kgnlu.kg.linker.windows import windows
from tests.conftest import REPO
from tests.kg.linker_graph import build_fixture_graph
from tests.kg.long_text import text_of

WINDOW = 5_000  # small windows: a 60k text crosses a dozen cuts


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    return build_fixture_graph(tmp_path_factory.mktemp("win") / "fixture")


@pytest.fixture(scope="module")
def linker(kg):
    return EntityLinker.from_graph(kg, mode="fast", window_chars=WINDOW)


@pytest.fixture(scope="module")
def text():
    return text_of(60_000)


def test_windows_cut_between_tokens_and_own_every_character_once(text):
    parts = windows(text, WINDOW, 1_000)
    assert len(parts) >= 12
    assert parts[0].own_start == 0 and parts[-1].own_end == len(text)
    for a, b in zip(parts, parts[1:], strict=False):
        assert a.own_end == b.own_start  # own parts tile the text
        assert text[b.own_start - 1].isspace() and not text[b.own_start].isspace()  # no word is cut
    for w in parts:
        assert w.start <= w.own_start - (1_000 if w.own_start else 0)  # context before ...
        assert w.end >= min(len(text), w.own_end + 1_000)  # ... and after its own part
        assert w.end - w.start <= WINDOW + 4_000


def test_a_long_text_links_as_its_windows_do_with_exact_offsets(linker, kg, text):
    got = linker.link(text)
    assert len(got) > 2_000 and all(text[lk.start:lk.end] == lk.surface for lk in got)
    separately = []  # the definition: each window linked alone, its own links kept, shifted
    for w in windows(text, WINDOW):
        for lk in linker.link(text[w.start:w.end]):
            if w.own_start <= lk.start + w.start < w.own_end:
                separately.append((lk.start + w.start, lk.end + w.start, lk.entity))
    assert [(lk.start, lk.end, lk.entity) for lk in got] == separately
    # the margin holds every mention whole and its context: the same links as one huge window
    whole = EntityLinker.from_graph(kg, mode="fast", window_chars=10 * len(text)).link(text)
    assert got == whole


def test_link_batch_docs_and_gold_spans_window_too(linker, text):
    expected = linker.link(text)
    assert list(linker.link_batch(["Paris", text, "", "London"], batch_size=2))[1] == expected
    nlp = spacy.blank("en")
    assert linker.link_docs([nlp(text)])[0] == expected  # the spaCy component's path
    spans = [(lk.start, lk.end) for lk in expected[::7]]
    gold = linker.link(text, spans=spans)
    assert [(lk.start, lk.end) for lk in gold] == spans


def test_a_text_over_the_limit_is_refused_with_what_to_do(kg):
    small = EntityLinker.from_graph(kg, mode="fast", max_text_chars=10_000)
    small.link("Paris " * 1_000)  # at the limit: linked
    with pytest.raises(InputTooLargeError) as err:
        small.link("Paris " * 2_000)
    assert err.value.code == "E051" and "10,000" in str(err.value) and "max_text_chars" in str(err.value)
    with pytest.raises(InputTooLargeError):
        list(small.link_batch(["Paris", "Paris " * 2_000]))


def test_linking_memory_per_character_is_bounded(kg):
    """Peak memory growth while linking 1 MB, beyond the loaded graph and linker, is at most
    50 bytes a character (it was ~130 here and ~1,200 on WordNet+GeoNames before windows)."""
    out = subprocess.run([sys.executable, "-m", "tests.kg.long_text", str(kg.path), "1000000"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["links"] > 35_000
    assert probe["bytes_per_char"] <= 50, probe


def test_streamed_links_equal_the_list_and_hold_no_more_than_a_window(linker, kg, text):
    assert list(linker.iter_links(text)) == linker.link(text)
    out = subprocess.run([sys.executable, "-m", "tests.kg.long_text", str(kg.path), "1000000", "--stream"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["links"] > 35_000 and probe["stream"]
    assert probe["bytes_per_char"] <= 5, probe  # one window's work, not the text's
