"""Start a real ``kgnlu serve`` as a subprocess for the HTTP tests (and the browser tests).

    with start_server(graph, "--token", "t") as server:
        httpx.get(server.url + "/health")

The server binds 127.0.0.1 on a free port unless the extra arguments say otherwise; its stdout and
stderr go to ``server.log`` (a file, so a chatty server never blocks on a full pipe)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

START_TIMEOUT = 180.0  # the first start embeds the zero-shot path descriptions; later ones read the cache


@dataclass
class Server:
    url: str  # base URL, no trailing slash: "http://127.0.0.1:54321"
    graph: Path
    proc: subprocess.Popen
    port: int
    log: Path

    def output(self) -> str:
        """Everything the server wrote to stdout and stderr so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment, offline, without a stray $KGNLU_TOKEN, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "KGNLU_TOKEN"}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "KGNLU_PROGRESS": "0", **(extra or {})}


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT,
                 headers: dict | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kgnlu serve exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/health", timeout=2.0, headers=headers).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"kgnlu serve did not answer /health in {timeout:g} s:\n{log.read_text(errors='replace')}")


def stop(proc: subprocess.Popen, timeout: float = 30.0) -> int:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout``; the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def launch(graph: str | Path, *args: str, env: dict[str, str] | None = None, host: str = "127.0.0.1") -> Server:
    """Start ``kgnlu serve GRAPH --port FREE *args`` without waiting for it (several servers can
    then load side by side); :func:`wait_healthy` it, and :func:`stop` it when done."""
    port = free_port()
    fd, log_name = tempfile.mkstemp(prefix="kgnlu-serve-", suffix=".log")
    log = Path(log_name)
    with os.fdopen(fd, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kgnlu.cli", "serve", str(graph), "--port", str(port), *args],
                                stdout=out, stderr=subprocess.STDOUT, env=server_env(env))
    return Server(f"http://{host}:{port}", Path(graph), proc, port, log)


@contextlib.contextmanager
def start_server(graph: str | Path, *args: str, env: dict[str, str] | None = None, host: str = "127.0.0.1",
                 timeout: float = START_TIMEOUT) -> Iterator[Server]:
    """A running ``kgnlu serve GRAPH --port FREE *args``; stopped (SIGTERM) when the block ends.
    ``host`` is where the tests connect (pass ``--host`` in ``args`` to bind elsewhere)."""
    server = launch(graph, *args, env=env, host=host)
    try:
        wait_healthy(server.url, server.proc, server.log, timeout)
        yield server
    finally:
        stop(server.proc)
