"""The UD-style tokenizer: contractions split as UD English does, numbers and hyphenated words
whole, and no character but whitespace ever lost or invented (hypothesis)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kgnlu.text.tokens import tokenize


@pytest.mark.parametrize("text, tokens", [
    ("We don't drive 3.5 km.", ["We", "do", "n't", "drive", "3.5", "km", "."]),
    ("It's a well-known fact, isn't it?", ["It", "'s", "a", "well-known", "fact", ",", "is", "n't", "it", "?"]),
    ("I can't, we won't, they'll go.", ["I", "ca", "n't", ",", "we", "wo", "n't", ",", "they", "'ll", "go", "."]),
    ("1,000 people at 10:30 (roughly)", ["1,000", "people", "at", "10:30", "(", "roughly", ")"]),
    ("“Quoted” words", ["“", "Quoted", "”", "words"]),
    ("She’s here", ["She", "'s", "here"]),
])
def test_tokens_follow_ud_english(text, tokens):
    assert tokenize(text) == tokens


def test_empty_and_blank_texts_have_no_tokens():
    assert tokenize("") == [] and tokenize(" \n\t ") == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_tokens_rebuild_the_text_without_whitespace(text):
    tokens = tokenize(text)
    assert "".join(tokens) == re.sub(r"\s", "", text.replace("’", "'"))
    assert all(tok and not any(c.isspace() for c in tok) for tok in tokens)
