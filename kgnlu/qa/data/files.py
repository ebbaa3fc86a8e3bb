"""A QA data set folder: ``{train,dev,test,paraphrase_dev}.jsonl`` + ``meta.json``, written atomically."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from kgnlu.errors import QAError
from kgnlu.io import atomic_directory
from kgnlu.qa.data.split import PARAPHRASE, SPLITS

SPLIT_NAMES = (*SPLITS, PARAPHRASE)


def write_dataset(dataset, out: str | Path) -> Path:
    """Write every split and meta.json into ``out``; a failure leaves ``out`` as it was."""
    out = Path(out).expanduser()
    with atomic_directory(out) as staging:
        for name in SPLIT_NAMES:
            with open(staging / f"{name}.jsonl", "w", encoding="utf-8") as f:
                for record in dataset.splits.get(name, []):
                    f.write(json.dumps(record, ensure_ascii=False) + "\n")
        (staging / "meta.json").write_text(json.dumps(dataset.meta, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    return out


def load_meta(folder: str | Path) -> dict:
    path = Path(folder).expanduser() / "meta.json"
    if not path.is_file():
        raise QAError(f"{path.parent} is not a QA data set (no meta.json); make one with "
                      "`kgnlu data make-qa GRAPH --out DIR`")
    return json.loads(path.read_text(encoding="utf-8"))


def load_split(folder: str | Path, split: str) -> list[dict]:
    """The questions of one split (train, dev, test or paraphrase_dev), one dict each."""
    if split not in SPLIT_NAMES:
        raise QAError(f"split must be one of {', '.join(SPLIT_NAMES)}, got {split!r}")
    return [record for _, record in split_lines(Path(folder).expanduser() / f"{split}.jsonl")]


def split_lines(path: str | Path) -> Iterator[tuple[int, dict]]:
    """The one reader of a split file: (line number, question record) for each question.
    :func:`load_split` keeps the records; :func:`kgnlu.qa.dataset.read_split` types them."""
    from kgnlu.io import iter_json_lines

    path = Path(path).expanduser()
    if not path.is_file():
        raise QAError(f"{path} is missing; generate the data set with `kgnlu data make-qa GRAPH --out {path.parent}`")
    yield from iter_json_lines(path, "a JSON object per question (kgnlu data make-qa's format)")
