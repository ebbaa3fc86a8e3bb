"""``kgnlu serve`` as a command: help, usage errors (exit 2, one line), a taken port (E107 before
anything loads), and which hosts count as this machine only."""

from __future__ import annotations

import socket

import pytest

from kgnlu.cli import main
from kgnlu.serve.settings import is_loopback


def test_help_lists_the_options(capsys):
    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--workers", "--token", "--cors", "--timeout", "--model"):
        assert option in out


@pytest.mark.parametrize("args", [["--workers", "0"], ["--port", "70000"], ["--no-such-option"], []])
def test_usage_errors_exit_2(serve_graph, args, capsys):
    argv = ["serve", *([str(serve_graph)] if args else []), *args]
    assert main(argv) == 2
    assert "error" in capsys.readouterr().err


def test_model_and_zero_shot_together_is_an_error(serve_graph, capsys):
    assert main(["serve", str(serve_graph), "--model", str(serve_graph), "--zero-shot"]) == 2
    assert "[E001]" in capsys.readouterr().err


def test_missing_graph_is_one_line(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "no such graph directory" in err and "Traceback" not in err


def test_a_taken_port_fails_fast_with_E107(serve_graph, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", str(serve_graph), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "[E107]" in err and f"127.0.0.1:{port}" in err and "--port" in err


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                           ("localhost", True), ("0.0.0.0", False), ("::", False),
                                           ("192.168.1.5", False), ("example.org", False)])
def test_which_hosts_are_this_machine_only(host, loopback):
    assert is_loopback(host) is loopback


def test_malloc_arenas_are_capped_where_glibc_runs():
    """`kgnlu serve` caps glibc's malloc arenas (docs/serving.md, memory under load); mallopt
    returns 1 when glibc accepts the setting."""
    import platform

    from kgnlu.serve.workers import limit_malloc_arenas

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt(M_ARENA_MAX) exists in glibc only")
    assert limit_malloc_arenas(2) is True
