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
from kgnlu.commands.senses import train_senses as train_senses_command
from kgnlu.commands.serve import serve as serve_command
from kgnlu.errors import KgnluError


def _hide_flag_types() -> None:
    """The pinned typer's rich help prints a type for every option, so flags (``--json``,
    ``--help``) showed a stray ``<bool>`` though they take no value: show no type for flags."""
    from typer.core import TyperOption

    if getattr(TyperOption.display_type_rich, "_kgnlu_flags_hidden", False):
        return
    shown = TyperOption.display_type_rich

    def display_type_rich(self, ctx):
        return None if self.is_flag else shown(self, ctx)

    display_type_rich._kgnlu_flags_hidden = True
    TyperOption.display_type_rich = display_type_rich


_hide_flag_types()

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
app.command("train-senses")(train_senses_command)
app.command("serve")(serve_command)


def main(argv: list[str] | None = None) -> int:
    """Entry point: KgnluErrors become one clear line on stderr and exit code 2."""
    _escape_unencodable_output()
    try:
        if app(args=argv, prog_name="kgnlu", standalone_mode=False) == 130:
            # typer turns Ctrl-C into Exit(130) and, outside standalone mode, returns that code
            # instead of raising: without this check an interrupted command would exit 0.
            raise KeyboardInterrupt
    except KgnluError as err:
        print(f"kgnlu: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kgnlu: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return int(exc.code or 0)
    except Exception as exc:
        code = _usage_error(exc)
        if code is None:
            raise
        return code
    return 0


def _usage_error(exc: Exception) -> int | None:
    """A command-line mistake (unknown command or option, a bad value, a missing argument) as one
    ``kgnlu ...: error: ...`` line and a help hint on stderr, exit 2 — no traceback. The pinned typer
    raises its bundled ``typer._click`` exceptions, not click's, so both families are handled; None
    for anything else (a real bug keeps its traceback)."""
    import click
    from typer import _click as bundled
    from typer.exceptions import Abort

    if isinstance(exc, (bundled.exceptions.NoArgsIsHelpError, click.exceptions.NoArgsIsHelpError)):
        # bare `kgnlu` or `kgnlu qa`: the help is the message (rich help has printed it already)
        if exc.format_message().strip():
            print(exc.format_message(), file=sys.stderr)
        return 2
    if isinstance(exc, (bundled.exceptions.UsageError, click.exceptions.UsageError)):
        ctx = exc.ctx
        where = ctx.command_path if ctx is not None else "kgnlu"
        print(f"{where}: error: {exc.format_message()}", file=sys.stderr)
        print(f"Try '{where} --help' for help.", file=sys.stderr)
        return 2
    if isinstance(exc, (bundled.exceptions.ClickException, click.exceptions.ClickException)):
        print(f"kgnlu: error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, (Abort, click.exceptions.Abort)):
        print("kgnlu: aborted", file=sys.stderr)
        return 1
    return None


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
