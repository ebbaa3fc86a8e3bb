"""PyKEEN's bundled benchmark graphs (nations, kinships, umls), with their train/valid/test split.

The files ship inside the ``pykeen`` wheel; we read them straight from the installed package
(``importlib.util.find_spec``) without importing PyKEEN itself, so a ``--no-deps`` install is enough.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from kgnlu.errors import DataMissingError, SourceError
from kgnlu.integrity import source_checksum
from kgnlu.kg.graph_builder import SPLITS, GraphBuilder
from kgnlu.kg.sources.base import SOURCES, Source
from kgnlu.kg.sources.tsv import TsvSource

DATASETS = ("nations", "kinships", "umls")


def pykeen_dataset_dir(name: str) -> Path:
    spec = importlib.util.find_spec("pykeen")
    if spec is None or not spec.submodule_search_locations:
        raise DataMissingError(
            "PyKEEN's data sets need the pykeen package: `pip install --no-deps pykeen==1.11.1` "
            "(make test / make run install it)."
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not all((folder / f"{s}.txt").is_file() for s in SPLITS):
        raise DataMissingError(f"{folder} lacks train/valid/test.txt; reinstall pykeen==1.11.1")
    return folder


@SOURCES.register("pykeen")
class PykeenSource(Source):
    name = "pykeen"

    def __init__(self, dataset: str):
        if dataset not in DATASETS:
            raise SourceError(f"pykeen:{dataset}: unknown data set; use one of {', '.join(DATASETS)}")
        self.dataset = dataset

    @classmethod
    def from_spec(cls, argument: str | None) -> PykeenSource:
        if not argument:
            raise SourceError(f"name the data set: pykeen:NAME with NAME one of {', '.join(DATASETS)}")
        return cls(argument.lower())

    @property
    def spec(self) -> str:
        return f"pykeen:{self.dataset}"

    def _files(self) -> list[Path]:
        folder = pykeen_dataset_dir(self.dataset)
        return [folder / f"{s}.txt" for s in SPLITS]

    def checksum(self) -> str:
        return source_checksum(self._files())

    def emit(self, builder: GraphBuilder) -> None:
        counts = builder.begin_source(self.spec, self.name, self.checksum())
        # Each split file is a plain TSV; the TSV reader does the parsing, errors and minting.
        for split, path in zip(SPLITS, self._files(), strict=True):
            reader = TsvSource(path, namespace=self.dataset, split=split)
            before = counts.triples
            reader.emit_rows(builder)
            counts.extra[f"{split}_triples"] = counts.triples - before

