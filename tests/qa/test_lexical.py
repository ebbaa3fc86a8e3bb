"""WordNet lexical substitution for QA training questions (kgnlu.qa.lexical)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.errors import ConfigError, ParseError
from kgnlu.qa.config import QAConfig
from kgnlu.qa.lexical import STOPWORDS, Lexicon, lexical_variants

# a WordNet dict folder in the real file formats: "capital" has the seat-of-government sense first
# and a financial one second; "country" shares its synset with "state" and "nation"; "kind" is a
# noun (sort, variety) and an adjective (with a long definition, which is never used)
DATA = {
    "noun": [
        "  1 license header line",
        "00001000 15 n 03 country 0 state 0 nation 0 000 | a politically organized body of people",
        "00002000 15 n 01 capital 0 000 | a seat of government",
        "00003000 21 n 02 capital 0 working_capital 0 000 | assets available for use in the production of "
        "further assets",
        "00004000 03 n 03 kind 0 sort 0 variety 0 000 | a category of things distinguished by some common "
        "characteristic",
    ],
    "verb": [],
    "adj": ["00005000 00 a 02 kind 0 genial 0 000 | having or showing a tender and considerate and helpful nature"],
    "adv": [],
}
INDEX = {
    "noun": ["  1 license header line",
             "capital n 2 1 @ 2 1 00002000 00003000  ",
             "country n 1 0 1 0 00001000  ",
             "kind n 1 0 1 0 00004000  ",
             "nation n 1 0 1 0 00001000  ",
             "state n 1 0 1 0 00001000  ",
             "working_capital n 1 0 1 0 00003000  "],
    "verb": [],
    "adj": ["genial a 1 0 1 0 00005000  ", "kind a 1 0 1 0 00005000  "],
    "adv": [],
}


def write_lexicon(folder: Path, index: dict[str, list[str]] = INDEX) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for pos, lines in DATA.items():
        (folder / f"data.{pos}").write_text("".join(line + "  \n" for line in lines))
        (folder / f"index.{pos}").write_text("".join(line + "\n" for line in index[pos]))
    (folder / "noun.exc").write_text("geese goose\n")
    return folder


@pytest.fixture
def lexicon(tmp_path: Path) -> Lexicon:
    return Lexicon.load(write_lexicon(tmp_path / "dict"), senses=2)


def test_alternatives_come_from_the_commonest_senses(lexicon: Lexicon) -> None:
    # plural de-inflected to the lemma; the synset's other lemmas; the 6-word definition is too long
    assert lexicon.alternatives("countries") == ["state", "nation"]
    # first sense's short definition, then the second sense's other lemma
    assert lexicon.alternatives("capital") == ["seat of government", "working capital"]
    # noun and adjective senses both count; the adjective's long definition does not
    assert lexicon.alternatives("kind") == ["sort", "variety", "genial"]
    assert lexicon.alternatives("zebra") == []


def test_sense_limit_drops_rarer_senses(tmp_path: Path) -> None:
    one = Lexicon.load(write_lexicon(tmp_path / "dict"), senses=1)
    assert one.alternatives("capital") == ["seat of government"]


def test_variants_swap_content_words_only(lexicon: Lexicon) -> None:
    text = "What is the capital of the country of something?"
    swapped = lexical_variants(text, lexicon, 3, random.Random(0), rate=1.0, keep=frozenset({"something"}))
    possible = {f"What is the {a} of the {b} of something?" for a in lexicon.alternatives("capital")
                for b in lexicon.alternatives("country")}
    assert len(swapped) == 3 and set(swapped) <= possible
    assert lexical_variants(text, lexicon, 2, random.Random(0), rate=0.0) == [text, text]
    again = lexical_variants(text, lexicon, 3, random.Random(0), rate=1.0, keep=frozenset({"something"}))
    assert again == swapped  # a seeded generator gives the same rewordings


def test_stopwords_keep_the_question_words() -> None:
    assert {"what", "which", "of", "the", "something"} <= STOPWORDS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_rate_zero_returns_any_text_unchanged(text: str) -> None:
    lexicon = Lexicon({}, {}, {})
    assert lexical_variants(text, lexicon, 2, random.Random(0), rate=0.0) == [text, text]
    assert lexical_variants(text, lexicon, 1, random.Random(0), rate=1.0) == [text]  # nothing to swap to


def test_bad_index_line_names_file_and_line(tmp_path: Path) -> None:
    broken = dict(INDEX, noun=[*INDEX["noun"][:2], "country n x 0 1 0 00001000"])
    folder = write_lexicon(tmp_path / "dict", broken)
    with pytest.raises(ParseError) as err:
        Lexicon.load(folder)
    assert "index.noun:3" in str(err.value)


def test_missing_dictionary_and_bad_settings_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a WordNet dict folder"):
        Lexicon.load(tmp_path)
    with pytest.raises(ConfigError):
        lexical_variants("a b", Lexicon({}, {}, {}), 1, random.Random(0), rate=1.5)
    with pytest.raises(ConfigError):
        QAConfig(lexical_variants=-1)


def test_training_rows_get_reworded_copies(tmp_path: Path, tiny_text_model) -> None:
    from kgnlu.qa.question import QuestionEncoder
    from kgnlu.qa.train import _lexical_rows

    encoder, tokenizer = tiny_text_model
    questions = QuestionEncoder(encoder, tokenizer)
    masked = ["What is the capital of something?", "What is the capital of something?", "Which kind is something?"]
    tensors = {"question": torch.from_numpy(questions.encode(masked)), "path": torch.tensor([3, 3, 5]),
               "topic_kind": torch.tensor([0, 0, 1]), "answer_kinds": torch.eye(3)}
    cfg = QAConfig(lexical_variants=2, lexical_rate=1.0, lexicon_dir=str(write_lexicon(tmp_path / "dict")))
    extra = _lexical_rows(tensors, masked, questions.encode, Lexicon.load(cfg.lexicon_dir), cfg)
    assert extra["path"].tolist() == [3, 3, 3, 3, 5, 5]  # two copies per row, labels kept
    assert extra["topic_kind"].tolist() == [0, 0, 0, 0, 1, 1]
    assert torch.equal(extra["answer_kinds"], torch.eye(3).repeat_interleave(2, dim=0))
    # a template's copies are the same two rewordings for both of its rows, and differ from it
    assert torch.equal(extra["question"][:2], extra["question"][2:4])
    assert not torch.allclose(extra["question"][0], tensors["question"][0])
    assert extra["question"].shape == (6, tensors["question"].shape[1])


def test_reworded_questions_keep_the_topic_label_at_its_new_span(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from kgnlu.qa.train import _reworded_questions

    lexicon = Lexicon.load(write_lexicon(tmp_path / "dict"), senses=2)
    # a topic label that itself holds a content word with alternatives ("kind") is never reworded
    questions = ["What is the capital of the country of Kind Country?", "Which kind of thing is Lyon?"]
    pool = [SimpleNamespace(example=SimpleNamespace(question=q, topic_span=(q.index(t), q.index(t) + len(t))))
            for q, t in zip(questions, ("Kind Country", "Lyon"), strict=True)]
    reworded = _reworded_questions(pool, lexicon, QAConfig(lexical_variants=1, lexical_rate=1.0))
    assert len(reworded) == 2
    for (question, (start, end)), label in zip(reworded, ("Kind Country", "Lyon"), strict=True):
        assert question[start:end] == label
    assert reworded[0][0] != questions[0] and "capital of the country" not in reworded[0][0]
