"""The Source contract: one class per kind of input, each in its own file, all in ``SOURCES``.

A source is made from the text of a CLI spec (``wordnet:/usr/share/wordnet``, ``geonames:15000``,
``pykeen:nations``, ``sparql:URL``, or a file path) and writes its records into a
:class:`~kgnlu.kg.graph_builder.GraphBuilder`. ``checksum()`` identifies the exact input (recorded in
the manifest so a rebuild from changed inputs is visible).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from kgnlu.errors import SourceError
from kgnlu.integrity import source_checksum
from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.registry import Registry


class Source(ABC):
    #: registry name, also the spec prefix (``wordnet`` in ``wordnet:/dir``)
    name: ClassVar[str]

    @classmethod
    @abstractmethod
    def from_spec(cls, argument: str | None) -> Source:
        """Build from the part of the spec after ``NAME:`` (None when the spec is just ``NAME``)."""

    @property
    @abstractmethod
    def spec(self) -> str:
        """The canonical spec string this source was made from (round-trips through parse_source)."""

    @abstractmethod
    def checksum(self) -> str:
        """A content hash of the input ("sha256:..."), or a description where none can be computed."""

    @abstractmethod
    def emit(self, builder: GraphBuilder) -> None:
        """Write every entity, relation, triple, alias and text into ``builder``.

        Call ``builder.begin_source(self.spec, self.name, self.checksum())`` first. Raise
        :class:`~kgnlu.errors.ParseError` (file, line, column, what was expected) on bad input and
        :class:`~kgnlu.errors.SourceError` / :class:`~kgnlu.errors.DataMissingError` when the input
        cannot be reached; show a progress bar (``kgnlu.progress``) for anything slow.
        """


class FileSource(Source):
    """A source read from one file: the spec is the path, the checksum the file's sha256."""

    path: Path

    @classmethod
    def from_spec(cls, argument: str | None) -> Source:
        if not argument:
            raise SourceError(f"the {cls.name} source needs a file: {cls.name}:PATH")
        return cls(argument)

    @property
    def spec(self) -> str:
        return str(self.path)

    def checksum(self) -> str:
        return source_checksum(require_file(self.path))


SOURCES: Registry[type[Source]] = Registry("graph source")


def require_file(path: Path) -> Path:
    """``path`` when it is a readable file; else a SourceError that says what it is instead."""
    if path.is_dir():
        raise SourceError(f"{path} is a directory; give the files in it (a glob such as {path}/*.ttl)")
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    return path

