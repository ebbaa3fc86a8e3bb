"""Held-out documents for pretraining evaluations: a seeded document split written as JSON lines.

    split = write_document_split(open_corpus("linux_doc"), "runs/_data/linux_doc", heldout=0.05)
    # split.train  -> train.jsonl    (pretrain on open_corpus("text", paths=[split.train]))
    # split.heldout -> heldout.jsonl (NSP/SOP pairs, perplexity: documents no run trained on)

Why a file and not a filter on the corpus: the built-in corpora stream in file order (WordNet by
part of speech and lexicographer file, kernel docs by path), and a pretraining stream only mixes
within its shuffle buffer, so a short run would see only the first files (all adjectives, or only
``Documentation/admin-guide``). Writing the training documents once in a seeded random order
gives a short run a sample of the whole corpus; the held-out documents are a seeded random subset,
so they come from the same distribution. Sentences are kept as they are (entity spans are dropped:
the evidence runs mask whole words, not entities).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from kgnlu.data.corpora import Corpus
from kgnlu.errors import ConfigError
from kgnlu.io import atomic_write


@dataclass(frozen=True)
class DocumentSplit:
    train: Path  # train.jsonl: {"id", "sentences"} a line, shuffled
    heldout: Path  # heldout.jsonl, same format
    train_documents: int
    heldout_documents: int


def write_document_split(corpus: Corpus, folder: str | Path, heldout: float = 0.05, seed: int = 0,
                         limit: int | None = None) -> DocumentSplit:
    """Shuffle the corpus's documents (seeded), hold out ``heldout`` of them, write both as JSONL.

    Reuses the folder when a previous call wrote it with the same arguments (``split.json``).
    ``limit`` keeps only the first N documents of the corpus (tests, quick runs).
    """
    if not 0.0 < heldout < 1.0:
        raise ConfigError(f"heldout must be in (0, 1), got {heldout}")
    folder = Path(folder)
    meta_path = folder / "split.json"
    wanted = {"corpus": getattr(corpus, "name", "corpus"), "heldout": heldout, "seed": seed, "limit": limit}
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("arguments") == wanted:
            return DocumentSplit(folder / "train.jsonl", folder / "heldout.jsonl",
                                 meta["train_documents"], meta["heldout_documents"])
    documents = []
    for index, document in enumerate(corpus):
        if limit is not None and index >= limit:
            break
        if document.sentences:
            documents.append({"id": document.id, "sentences": list(document.sentences)})
    if len(documents) < 2:
        raise ConfigError(f"the corpus gave {len(documents)} documents; a split needs at least 2")
    random.Random(seed).shuffle(documents)
    n_heldout = min(len(documents) - 1, max(1, round(heldout * len(documents))))
    parts = {"heldout.jsonl": documents[:n_heldout], "train.jsonl": documents[n_heldout:]}
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in parts.items():
        with atomic_write(folder / name) as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    meta = {"arguments": wanted, "train_documents": len(documents) - n_heldout, "heldout_documents": n_heldout}
    with atomic_write(meta_path) as f:
        json.dump(meta, f, indent=2)
    return DocumentSplit(folder / "train.jsonl", folder / "heldout.jsonl", len(documents) - n_heldout, n_heldout)
