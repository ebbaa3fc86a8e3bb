"""Pretraining text corpora, streamed as :class:`Document` s; ``CORPORA`` resolves them by name.

``open_corpus("wordnet")``, ``open_corpus("linux_doc")``, ``open_corpus("text", paths=[...])``.
"""

from __future__ import annotations

from typing import Any

from kgnlu.data.corpora.base import CORPORA, Corpus, Document, EntitySpan
from kgnlu.data.corpora.linux_doc import LinuxDocCorpus
from kgnlu.data.corpora.sentences import SENTENCE_SPLITTERS, sentence_texts, split_sentences
from kgnlu.data.corpora.text import TextFilesCorpus
from kgnlu.data.corpora.wordnet import WordNetCorpus


def open_corpus(name: str, **options: Any) -> Corpus:
    """The corpus registered as ``name``, built with ``options`` (its constructor's keywords)."""
    return CORPORA.get(name)(**options)


__all__ = ["CORPORA", "SENTENCE_SPLITTERS", "Corpus", "Document", "EntitySpan", "LinuxDocCorpus",
           "TextFilesCorpus", "WordNetCorpus", "open_corpus", "sentence_texts", "split_sentences"]
