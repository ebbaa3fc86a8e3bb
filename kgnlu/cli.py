"""``kgnlu`` — the command line. Each command group lives in ``kgnlu/commands/``."""

from __future__ import annotations

import sys

import typer

from kgnlu.commands import eval_suite
from kgnlu.commands.data import app as data_app
from kgnlu.commands.distill import distill as distill_command
from kgnlu.commands.eval import app as eval_app
from kgnlu.commands.graph import app as graph_app
from kgnlu.commands.kge import app as kge_app
from kgnlu.commands.link import link as link_command
from kgnlu.commands.pretrain import pretrain as pretrain_command
from kgnlu.commands.qa import app as qa_app
from kgnlu.commands.run import run as run_command
from kgnlu.errors import KgnluError

app = typer.Typer(
    name="kgnlu",
    help="Knowledge-graph-aware language understanding: build graphs, link text, embed, fuse, answer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(graph_app, name="graph")
app.add_typer(kge_app, name="kge")
app.command("run")(run_command)
app.command("link")(link_command)
eval_app.command("kge")(eval_suite.kge)
eval_app.command("all")(eval_suite.all_)
app.add_typer(eval_app, name="eval")
app.add_typer(data_app, name="data")
app.command("pretrain")(pretrain_command)
app.add_typer(qa_app, name="qa")
app.command("distill")(distill_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: KgnluErrors become one clear line on stderr and exit code 2."""
    _escape_unencodable_output()
    try:
        app(args=argv, standalone_mode=False)
    except KgnluError as err:
        print(f"kgnlu: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kgnlu: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            return exc.exit_code
        if isinstance(exc, click.exceptions.Abort):
            return 1
        raise
    return 0


def _escape_unencodable_output() -> None:
    """User text may hold lone surrogates (read with surrogateescape, or JSON's "\\ud800"): they
    are written as backslash escapes — inside a JSON string exactly the escape that reads back to the
    same character, so offsets stay true — instead of ending the run with UnicodeEncodeError."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


if __name__ == "__main__":
    sys.exit(main())
