"""The Linux kernel documentation (Debian ``linux-doc-6.1``) as a corpus of technical prose.

One document per ``Documentation/**/*.rst.gz`` file (3,183 files, sorted by path): RST markup is
stripped to prose paragraphs (:mod:`kgnlu.data.corpora.rst`), each paragraph sentence-split, and
the sentences kept in paragraph order — multi-sentence documents with real discourse order, which
is what NSP and SOP learn from.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from kgnlu.data.corpora.base import CORPORA, Corpus, Document
from kgnlu.data.corpora.rst import rst_paragraphs
from kgnlu.data.corpora.sentences import SENTENCE_SPLITTERS
from kgnlu.errors import DataMissingError

DEFAULT_DIR = Path("/usr/share/doc/linux-doc-6.1/Documentation")


@CORPORA.register("linux_doc")
class LinuxDocCorpus(Corpus):
    name = "linux_doc"

    def __init__(self, directory: str | Path = DEFAULT_DIR, splitter: str = "rules", min_sentences: int = 2):
        self.directory = Path(directory)
        self.split = SENTENCE_SPLITTERS.get(splitter)
        self.min_sentences = min_sentences
        if not self.directory.is_dir():
            raise DataMissingError(
                f"kernel documentation not found at {self.directory}. Install it with "
                "`sudo apt-get install --no-install-recommends linux-doc-6.1` (or pass directory=)")

    def files(self) -> list[Path]:
        return sorted(p for p in self.directory.rglob("*") if p.name.endswith((".rst.gz", ".rst")))

    def __iter__(self) -> Iterator[Document]:
        for path in self.files():
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8", errors="replace") as f:
                source = f.read()
            sentences = [paragraph[a:b] for paragraph in rst_paragraphs(source)
                         for a, b in self.split(paragraph)]
            if len(sentences) >= self.min_sentences:
                yield Document(str(path.relative_to(self.directory)), sentences)
