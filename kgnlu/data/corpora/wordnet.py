"""WordNet 3.0 glosses and example sentences as a pretraining corpus.

Documents: a run of up to ``synsets_per_document`` consecutive synsets of one lexicographer file
(``noun.animal``, ``verb.motion``, ...). The ``data.*`` files are sorted by lexicographer file,
so the runs stream in file order without holding WordNet in memory. Why not one document per
synset: a synset is one definition and a few examples (~15 tokens), too short for NSP/SOP pairs
or packed 128-token MLM instances. Why not one document per whole lexicographer file: there are
only 45 (``noun.artifact`` alone holds 11k synsets), too few to shard evenly over DDP ranks and
DataLoader workers. Runs of 64 related synsets give ~1,900 topical multi-sentence documents.

Sentences of a synset: ``"lemma, lemma: definition."`` then each quoted example. Every lemma
written in the definition sentence, and the first lemma found in each example, is an
:class:`EntitySpan` for the synset (``wn:02084071-n``), so entity masking has real mentions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from kgnlu.data.corpora.base import CORPORA, Corpus, Document, EntitySpan
from kgnlu.errors import ConfigError, DataMissingError
from kgnlu.kg.sources.wordnet_format import Synset, data_files, read_data_file, split_gloss

DEFAULT_DIR = Path("/usr/share/wordnet")
POS_NAMES = ("noun", "verb", "adj", "adv")


@CORPORA.register("wordnet")
class WordNetCorpus(Corpus):
    name = "wordnet"

    def __init__(self, directory: str | Path = DEFAULT_DIR, synsets_per_document: int = 64,
                 with_lemmas: bool = True, parts_of_speech: tuple[str, ...] = POS_NAMES):
        if synsets_per_document < 1:
            raise ConfigError(f"synsets_per_document must be >= 1, got {synsets_per_document}")
        unknown = [p for p in parts_of_speech if p not in POS_NAMES]
        if unknown:
            raise ConfigError(f"unknown WordNet parts of speech {unknown}; use some of {', '.join(POS_NAMES)}")
        self.directory = Path(directory)
        self.synsets_per_document = synsets_per_document
        self.with_lemmas = with_lemmas
        self.parts_of_speech = tuple(parts_of_speech)
        missing = [p for p in self._files() if not p.is_file()]
        if missing:
            raise DataMissingError(
                f"WordNet data files are missing: {', '.join(map(str, missing))}. Install them with "
                "`sudo apt-get install --no-install-recommends wordnet-base` (or point directory= at a "
                "WordNet 3.0 dict folder)")

    def _files(self) -> list[Path]:
        return [p for p in data_files(self.directory) if p.name.split(".", 1)[1] in self.parts_of_speech]

    def __iter__(self) -> Iterator[Document]:
        for path in self._files():
            run: list[Synset] = []
            for synset in read_data_file(path):
                if run and (synset.lexfile != run[0].lexfile or len(run) == self.synsets_per_document):
                    yield self._document(run)
                    run = []
                run.append(synset)
            if run:
                yield self._document(run)

    def _document(self, run: list[Synset]) -> Document:
        sentences: list[str] = []
        entities: list[list[EntitySpan]] = []
        for synset in run:
            for text, spans in synset_sentences(synset, self.with_lemmas):
                sentences.append(text)
                entities.append(spans)
        return Document(f"wordnet:{run[0].lexname}:{run[0].id}", sentences, entities)


def synset_sentences(synset: Synset, with_lemmas: bool = True) -> list[tuple[str, list[EntitySpan]]]:
    """The definition sentence and the example sentences of one synset, with lemma mention spans."""
    definition, examples = split_gloss(synset.gloss)
    out: list[tuple[str, list[EntitySpan]]] = []
    words = [lemma.name.replace("_", " ") for lemma in synset.lemmas]
    if definition:
        definition = definition[0].upper() + definition[1:]
        if definition[-1] not in ".!?":
            definition += "."
        if with_lemmas:
            spans, position = [], 0
            for i, word in enumerate(words):
                spans.append(EntitySpan(position, position + len(word), synset.id))
                position += len(word) + (2 if i < len(words) - 1 else 0)
            out.append((", ".join(words) + ": " + definition, spans))
        else:
            out.append((definition, []))
    for example in examples:
        if not example:
            continue
        spans = []
        for word in words:
            match = re.search(r"\b" + re.escape(word) + r"\w*", example, flags=re.IGNORECASE)
            if match:
                spans = [EntitySpan(match.start(), match.end(), synset.id)]
                break
        out.append((example, spans))
    return out
