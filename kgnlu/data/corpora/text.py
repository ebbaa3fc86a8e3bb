"""Plain text files as a corpus: ``.txt`` (one document per file, or per blank-line block) and
``.jsonl`` (one document per line).

``.txt``, ``documents="file"``: the whole file is one document; paragraphs (blank-line blocks)
are sentence-split in order. ``documents="blank_line"``: BERT's ``create_pretraining_data``
layout — each blank-line block is a document (one sentence per line there is fine: lines are
joined, then split again).

``.jsonl``: ``{"id": ..., "text": "..."}`` (sentence-split) or ``{"sentences": [...]}``; an optional
``"entities": [[start, end, "entity id"], ...]`` gives character spans in ``text`` (only with
``text``), carried into the sentences they fall in (spans crossing a sentence break are dropped).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from kgnlu.data.corpora.base import CORPORA, Corpus, Document, EntitySpan
from kgnlu.data.corpora.sentences import SENTENCE_SPLITTERS
from kgnlu.errors import ConfigError, DataMissingError, ParseError
from kgnlu.io import iter_json_lines


@CORPORA.register("text")
class TextFilesCorpus(Corpus):
    name = "text"

    def __init__(self, paths: str | Path | Sequence[str | Path], documents: str = "file",
                 splitter: str = "rules", text_field: str = "text"):
        if documents not in ("file", "blank_line"):
            raise ConfigError(f"documents must be 'file' or 'blank_line', got {documents!r}")
        self.files = _expand(paths)
        self.documents, self.text_field = documents, text_field
        self.split = SENTENCE_SPLITTERS.get(splitter)

    def __iter__(self) -> Iterator[Document]:
        for path in self.files:
            if path.suffix == ".jsonl":
                yield from self._jsonl(path)
            else:
                yield from self._txt(path)

    def _txt(self, path: Path) -> Iterator[Document]:
        if self.documents == "file":
            text = path.read_text(encoding="utf-8")
            sentences = [text[a:b] for a, b in self.split(text)]
            if sentences:
                yield Document(str(path), sentences)
            return
        block: list[str] = []
        number = 0
        with open(path, encoding="utf-8") as f:
            for line in [*f, ""]:  # a final empty line flushes the last block
                if line.strip():
                    block.append(line.strip())
                    continue
                if block:
                    text = "\n".join(block)
                    sentences = [text[a:b].replace("\n", " ") for a, b in self.split(text)]
                    yield Document(f"{path}#{number}", sentences)
                    number += 1
                    block = []

    def _jsonl(self, path: Path) -> Iterator[Document]:
        for lineno, record in iter_json_lines(path, "a JSON object per line"):
            doc_id = str(record.get("id", f"{path}#{lineno}"))
            if "sentences" in record:
                sentences = [str(s) for s in record["sentences"] if str(s).strip()]
                if sentences:
                    yield Document(doc_id, sentences)
                continue
            text = record.get(self.text_field)
            if not isinstance(text, str):
                raise ParseError(path, lineno, 1, f"a string field {self.text_field!r} or a list 'sentences'")
            spans = self.split(text)
            if spans:
                yield Document(doc_id, [text[a:b] for a, b in spans],
                               _assign(record.get("entities", []), spans, path, lineno))


def _assign(entities: list, spans: list[tuple[int, int]], path: Path, lineno: int) -> list[list[EntitySpan]]:
    """Document-level char spans → per-sentence spans (offsets relative to the sentence)."""
    out: list[list[EntitySpan]] = [[] for _ in spans]
    for item in entities:
        if not (isinstance(item, list | tuple) and len(item) in (2, 3)):
            raise ParseError(path, lineno, 1, "entities as [start, end] or [start, end, entity] lists")
        start, end = int(item[0]), int(item[1])
        entity = str(item[2]) if len(item) == 3 else ""
        for i, (a, b) in enumerate(spans):
            if a <= start and end <= b and start < end:
                out[i].append(EntitySpan(start - a, end - a, entity))
                break
    return out


def _expand(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """Files and folders (searched recursively for *.txt and *.jsonl) → sorted file list."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    files: list[Path] = []
    for item in items:
        item = Path(item)
        if item.is_dir():
            files.extend(sorted(p for p in item.rglob("*") if p.suffix in (".txt", ".jsonl") and p.is_file()))
        elif item.is_file():
            files.append(item)
        else:
            raise DataMissingError(f"corpus file {item} does not exist")
    if not files:
        raise DataMissingError(f"no .txt or .jsonl files in {', '.join(map(str, items))}")
    return files
