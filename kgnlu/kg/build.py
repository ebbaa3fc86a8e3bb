"""Build one graph directory from any mix of sources (the library side of ``kgnlu graph build``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from kgnlu.kg.graph_builder import GraphBuilder
from kgnlu.kg.graph_files import check_target, write_graph
from kgnlu.kg.sources import parse_source
from kgnlu.kg.sources.base import Source

log = logging.getLogger(__name__)


def kgnlu_home() -> Path:
    """``$KGNLU_HOME``, default ``~/.cache/kgnlu``."""
    return Path(os.environ.get("KGNLU_HOME", Path.home() / ".cache" / "kgnlu")).expanduser()


def default_graph_path() -> Path:
    return kgnlu_home() / "graphs" / "default"


DEFAULT_SOURCES = ("wordnet", "geonames")


def build_graph(
    sources: Sequence[str | Source],
    out: str | Path,
    *,
    force: bool = False,
    name: str | None = None,
    store: bool = True,
    equivalences: bool = True,
    short_names: bool = True,
    keep_derived: bool = True,
    report=None,
) -> Path:
    """Read every source, merge, link equivalent entities across sources, give people and
    organisations their short names (:mod:`kgnlu.kg.short_names`), write ``out`` atomically.

    ``sources`` are spec strings (see :func:`kgnlu.kg.sources.parse_source`) or Source objects.
    Nothing is written to ``out`` unless the whole build succeeds. Replacing a graph keeps its
    embeddings and linker indexes (:mod:`kgnlu.kg.derived`) unless ``keep_derived`` is False;
    ``report`` is told which.
    """
    out = Path(out)
    check_target(out.absolute(), force)  # fail before reading gigabytes, not after
    resolved: list[Source] = []
    for s in sources:
        resolved.extend(parse_source(s) if isinstance(s, str) else [s])
    builder = GraphBuilder(name or out.name)
    for source in resolved:
        _emit(source, builder)
    if equivalences and len(resolved) > 1:
        from kgnlu.kg.equivalence import link_equivalents

        builder.begin_source("equivalence", "equivalence")
        link_equivalents(builder)
    if short_names:
        from kgnlu.kg.short_names import add_short_names

        add_short_names(builder)
    data = builder.finalize()
    del builder  # data has what writing needs: the id tables, alias dicts and triple chunks go now
    if len(data.triples) == 0:  # legal (a graph of labels only), but almost always a wrong input
        message = (f"warning: no triples were read from {', '.join(s.spec for s in resolved) or 'no sources'}; "
                   "the graph will have no edges (check the files' format and contents)")
        (report or log.warning)(message)
    return write_graph(data, out, force=force, store=store, keep_derived=keep_derived, report=report)


def _emit(source: Source, builder: GraphBuilder) -> None:
    """``source.emit`` with a damaged or truncated gzip file reported as the file's ParseError (every
    file source reads .gz through the gzip module, so this one place covers them all)."""
    import gzip
    import zlib

    from kgnlu.errors import ParseError

    try:
        source.emit(builder)
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        where = getattr(source, "path", getattr(source, "spec", "input"))
        raise ParseError(where, None, None, f"a complete gzip file; it is truncated or damaged "
                                            f"({err or type(err).__name__}). Re-create or re-download it") from None

