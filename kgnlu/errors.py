"""Every error kgnlu raises, in one place.

Each error has a stable code (``E###``) and a message that says what went wrong *and what to do*.
Callers catch :class:`KgnluError` (the CLI turns it into a one-line message and exit code 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches
from pathlib import Path


class KgnluError(Exception):
    """Base class: ``code`` identifies the error kind, ``str(err)`` is the full message."""

    code = "E000"

    def __init__(self, message: str):
        super().__init__(f"[{self.code}] {message}")


class ConfigError(KgnluError, ValueError):
    """A configuration value is invalid."""

    code = "E001"


class UnknownNameError(KgnluError, KeyError):
    """A registry lookup or CLI choice named something that is not registered."""

    code = "E002"

    def __init__(self, kind: str, name: str, known: Iterable[str]):
        known = sorted(known)
        close = get_close_matches(name, known, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        super().__init__(f"unknown {kind} {name!r}.{hint} Known: {', '.join(known)}.")
        self.name = name

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0]


class ParseError(KgnluError, ValueError):
    """A source file is malformed: says where (file, line, column) and what was expected."""

    code = "E010"

    def __init__(self, file: str | Path, line: int | None, column: int | None, expected: str):
        self.file, self.line, self.column, self.expected = str(file), line, column, expected
        where = str(file)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {expected}. Fix the file (or drop it from the build) and retry.")


class SourceError(KgnluError, ValueError):
    """A graph source cannot be read (missing folder, bad spec, unreachable endpoint)."""

    code = "E011"


class DataMissingError(KgnluError, FileNotFoundError):
    """Real data a feature needs is not installed; the message says how to install it."""

    code = "E012"


class GraphExistsError(KgnluError, FileExistsError):
    """``--out`` already holds a graph and ``--force`` was not given."""

    code = "E020"


class GraphIntegrityError(KgnluError, OSError):
    """A graph directory was truncated, tampered with, or written by an incompatible version."""

    code = "E021"


class UnknownEntityError(KgnluError, KeyError):
    """An entity id/IRI/label/alias matched nothing; lists the closest known names."""

    code = "E022"

    def __init__(self, query: str, close_matches: Iterable[str] = ()):
        close = list(close_matches)
        hint = f" Close matches: {', '.join(close)}." if close else " No close matches."
        super().__init__(f"no entity matches {query!r}.{hint}")
        self.query, self.close_matches = query, close

    def __str__(self) -> str:
        return self.args[0]


class QueryError(KgnluError, ValueError):
    """A SPARQL query failed to parse or evaluate."""

    code = "E023"


class ExportError(KgnluError, ValueError):
    """A model or graph cannot be exported to the requested format (says why and what works)."""

    code = "E030"


class CheckpointError(KgnluError, OSError):
    """A checkpoint is missing, unsafe, or does not match the model it is loaded into."""

    code = "E031"


# Errors added by later parts of the library go below, one class each, with the next free code.


class TrainingError(KgnluError, RuntimeError):
    """Training cannot go on (non-finite loss, a data stream that yields nothing, ranks out of step)."""

    code = "E060"


class LinkerIndexError(KgnluError, OSError):
    """The entity linker's saved indexes (GRAPH/linker/) are missing, stale or corrupt."""

    code = "E050"


class FusionError(KgnluError, ValueError):
    """Entity inputs do not fit the fused encoder (spans outside the sequence, unknown injection layer, table size)."""

    code = "E070"


class DistillationError(KgnluError, ValueError):
    """A teacher and student cannot be distilled as configured (layer map, widths, missing MLM head)."""

    code = "E080"


class QAError(KgnluError, ValueError):
    """A question-answering model, data set or request is unusable (says what is missing and how to make it)."""

    code = "E090"


class TargetBusyError(KgnluError, OSError):
    """Another process is writing the same graph or folder (its lock is held) past the wait limit."""

    code = "E024"


class InputTooLargeError(KgnluError, ValueError):
    """An input is over a size limit that keeps memory bounded; says the limit and how to split or raise it."""

    code = "E051"


# `kgnlu serve` (the HTTP API, kgnlu/serve/): E100–E109. kgnlu.serve.problems maps each to its HTTP status.


class RequestInvalidError(KgnluError, ValueError):
    """An HTTP request's body or parameters do not fit the endpoint (bad JSON, a missing or mistyped field)."""

    code = "E100"


class RequestTextTooLongError(RequestInvalidError):
    """A text or question in a request is longer than the server's limit; says the limit and how to raise it."""

    code = "E101"


class RequestBodyTooLargeError(KgnluError, ValueError):
    """A request body is over the server's size limit (1 MB by default)."""

    code = "E102"


class RequestUnauthorizedError(KgnluError, PermissionError):
    """The server wants a bearer token (--token / $KGNLU_TOKEN) and the request has none or a wrong one."""

    code = "E103"


class RequestTimeoutError(KgnluError, TimeoutError):
    """A request ran past the server's per-request time limit (--timeout); the server stays up."""

    code = "E104"


class RouteNotFoundError(KgnluError, LookupError):
    """No endpoint at that path or for that method; /docs lists them."""

    code = "E105"


class ServerInternalError(KgnluError, RuntimeError):
    """A request failed on a bug inside the server; the server log has the traceback."""

    code = "E106"


class ServeStartError(KgnluError, OSError):
    """`kgnlu serve` cannot start (the port is taken, the address cannot be bound, the workers do not start)."""

    code = "E107"
