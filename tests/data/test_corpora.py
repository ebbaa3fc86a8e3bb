"""Corpora: sentence splitting, RST stripping, text/jsonl files, WordNet glosses, kernel docs."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from pathlib import Path

import pytest

from kgnlu.data.corpora import CORPORA, open_corpus, sentence_texts, split_sentences
from kgnlu.data.corpora.rst import inline_text, rst_paragraphs
from kgnlu.errors import DataMissingError, ParseError, UnknownNameError
from tests.conftest import require_wordnet

LINUX_DOC = Path("/usr/share/doc/linux-doc-6.1/Documentation")


@pytest.mark.parametrize("text, expected", [
    ("Dogs bark. Cats meow! Do birds sing? Yes.", ["Dogs bark.", "Cats meow!", "Do birds sing?", "Yes."]),
    ("See e.g. Smith et al. for details. It works.", ["See e.g. Smith et al. for details.", "It works."]),
    ("Dr. Jones met J. R. R. Tolkien in the U.S. Army. Then 3.5 km later he left.",
     ["Dr. Jones met J. R. R. Tolkien in the U.S. Army.", "Then 3.5 km later he left."]),
    ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
    ("a heading\n\nand a paragraph", ["a heading", "and a paragraph"]),
    ("version 2.6.32 of the kernel. ok", ["version 2.6.32 of the kernel. ok"]),
    ("   ", []),
])
def test_rule_splitter(text, expected):
    assert sentence_texts(text) == expected
    for start, end in split_sentences(text):  # offsets point into the text, trimmed
        assert text[start:end] == text[start:end].strip() and text[start:end]


def test_spacy_splitter_is_registered():
    assert sentence_texts("One sentence here. Another one there.", "spacy") == [
        "One sentence here.", "Another one there."]


RST = """\
.. SPDX-License-Identifier: GPL-2.0

==========
The Title
==========

This is the *first* paragraph with ``code`` and a :c:func:`kmalloc` call.
It continues here, see `the docs <https://kernel.org>`_ for more.

Subsection
----------

Example usage::

    int x = 1;
    return x;

.. code-block:: c

    foo();

.. note::
   Notes are prose and are kept in the text.

- A list item that is long enough.
- Another list item, also long enough.

+------+------+
| a    | b    |
+------+------+

.. toctree::
   :maxdepth: 2

   intro

Final words of the document here.
"""


def test_rst_paragraphs_keep_prose_and_drop_markup():
    paragraphs = rst_paragraphs(RST)
    assert paragraphs == [
        "This is the first paragraph with code and a kmalloc call. It continues here, see the docs for more.",
        "Example usage:",
        "Notes are prose and are kept in the text.",
        "A list item that is long enough.",
        "Another list item, also long enough.",
        "Final words of the document here.",
    ]
    assert inline_text("a **bold** |sub| ref_ [#]_ x") == "a bold sub ref x"


def test_text_corpus_files_blank_lines_and_jsonl(tmp_path):
    (tmp_path / "a.txt").write_text("First sentence. Second one.\n\nNew paragraph here.\n", encoding="utf-8")
    records = [{"id": "d1", "text": "Paris is in France. Berlin is big.", "entities": [[0, 5, "geo:paris"],
                                                                                      [20, 26, "geo:berlin"]]},
               {"sentences": ["Given one.", "Given two."]}]
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    docs = list(open_corpus("text", paths=tmp_path))
    assert [d.sentences for d in docs] == [
        ["First sentence.", "Second one.", "New paragraph here."],
        ["Paris is in France.", "Berlin is big."],
        ["Given one.", "Given two."]]
    paris, berlin = docs[1].entities
    assert [(s.start, s.end, s.entity) for s in paris] == [(0, 5, "geo:paris")]
    assert docs[1].sentences[1][berlin[0].start:berlin[0].end] == "Berlin"
    blocks = list(open_corpus("text", paths=tmp_path / "a.txt", documents="blank_line"))
    assert [d.sentences for d in blocks] == [["First sentence.", "Second one."], ["New paragraph here."]]


def test_text_corpus_errors(tmp_path):
    with pytest.raises(DataMissingError):
        open_corpus("text", paths=tmp_path / "missing.txt")
    (tmp_path / "bad.jsonl").write_text('{"text": "ok."}\n{not json\n', encoding="utf-8")
    with pytest.raises(ParseError, match="bad.jsonl:2"):
        list(open_corpus("text", paths=tmp_path / "bad.jsonl"))
    with pytest.raises(UnknownNameError, match="wordnet"):
        open_corpus("wordnett")
    assert {"wordnet", "linux_doc", "text"} <= set(CORPORA)


@pytest.mark.data
def test_wordnet_glosses_grouped_by_lexicographer_file():
    directory = require_wordnet()
    corpus = open_corpus("wordnet", directory=directory, synsets_per_document=16, parts_of_speech=("noun",))
    docs = list(itertools.islice(corpus, 40))
    assert docs[0].id.startswith("wordnet:noun.Tops:wn:00001740-n")
    assert docs[0].sentences[0].startswith("entity: That which is perceived")
    lexfiles = [d.id.split(":")[1] for d in docs]
    assert lexfiles == sorted(lexfiles, key=lexfiles.index)  # contiguous runs per lexicographer file
    for doc in docs:
        assert doc.sentences and len(doc.entities) == len(doc.sentences)
        for sentence, spans in zip(doc.sentences, doc.entities, strict=True):
            for span in spans:
                assert span.entity.startswith("wn:") and sentence[span.start:span.end].strip()
    head = docs[0].entities[0][0]
    assert docs[0].sentences[0][head.start:head.end] == "entity"


@pytest.mark.data
def test_linux_doc_documents_are_prose():
    if not LINUX_DOC.is_dir():
        pytest.skip("linux-doc-6.1 is not installed (make test installs it with apt-get)")
    docs = list(itertools.islice(open_corpus("linux_doc"), 5))
    assert len(docs) == 5
    for doc in docs:
        assert len(doc.sentences) >= 2 and doc.id.endswith(".rst.gz")
        text = " ".join(doc.sentences)
        assert "``" not in text and ":c:func:" not in text and not re.search(r"\.\. [\w-]+::", text)


def test_linux_doc_reads_a_folder_of_rst_gz(tmp_path):
    (tmp_path / "sub").mkdir()
    with gzip.open(tmp_path / "sub" / "x.rst.gz", "wt", encoding="utf-8") as f:
        f.write(RST)
    docs = list(open_corpus("linux_doc", directory=tmp_path))
    assert docs[0].id == "sub/x.rst.gz" and docs[0].sentences[0] == "This is the first paragraph with code and a kmalloc call."
    with pytest.raises(DataMissingError, match="linux-doc"):
        open_corpus("linux_doc", directory=tmp_path / "nope")
