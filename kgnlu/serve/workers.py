"""Run the app: one process, or ``--workers N`` processes forked from a parent that has loaded
the graph and models once (as ``gunicorn --preload``).

The parent binds the listening socket, loads everything, freezes the garbage collector's view of
those objects (``gc.freeze()``: collections in the workers then never touch, and so never copy,
the parent's pages) and forks. Each worker runs a ``uvicorn.Server`` on the inherited socket; the
kernel hands each new connection to one of them. Graph arrays are memory-mapped files and model
weights are pages the workers only read, so an extra worker costs its own Python heap and buffers,
not another copy of the graph (reports/serve/memory.json, docs/serving.md).

SIGTERM (or Ctrl-C) to the parent: it sends SIGTERM to every worker, each stops accepting,
finishes its in-flight requests (up to ``graceful_seconds``) and exits 0; then the parent does.
A worker that dies on its own is restarted (at most :data:`MAX_RESTARTS` a minute).
"""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
import time
import traceback

from kgnlu.errors import ServeStartError
from kgnlu.serve.settings import ServeSettings

MAX_RESTARTS = 5
POLL_SECONDS = 0.1


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket every worker inherits; a taken port is a clear error, not a traceback."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, proto, _, address = infos[0]
        # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
        # without it each response (headers, then body) waits ~40 ms for the client's delayed ACK
        sock = socket.socket(family, socket.SOCK_STREAM, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as err:
        raise ServeStartError(f"cannot listen on {host}:{port} ({err.strerror or err}); pick another --port, "
                              "or stop the program using it") from None
    sock.set_inheritable(True)
    return sock


def _uvicorn_server(app, settings: ServeSettings):
    import uvicorn

    config = uvicorn.Config(app, lifespan="off", log_level="info", server_header=False,
                            timeout_graceful_shutdown=max(1, round(settings.graceful_seconds)))
    return uvicorn.Server(config)


def _settle(signum, frame) -> None:
    """Installed before uvicorn runs: uvicorn re-raises the SIGTERM it handled once it has shut
    down gracefully, and with the default action that re-raise would kill the process (exit -15)."""


def run_worker(app, settings: ServeSettings, sock: socket.socket) -> None:
    """Serve ``app`` on ``sock`` in this process until SIGTERM / Ctrl-C, draining in-flight requests."""
    signal.signal(signal.SIGTERM, _settle)
    _uvicorn_server(app, settings).run(sockets=[sock])


def serve(app, settings: ServeSettings, sock: socket.socket, report=print) -> int:
    """Serve until stopped; the exit code (0: stopped cleanly)."""
    if settings.workers <= 1:
        run_worker(app, settings, sock)
        return 0
    return Prefork(app, settings, sock, report).run()


class Prefork:
    def __init__(self, app, settings: ServeSettings, sock: socket.socket, report):
        self.app, self.settings, self.sock, self.report = app, settings, sock, report
        self.children: dict[int, int] = {}  # pid → worker number
        self.stopping = False
        self.restarts: list[float] = []

    def run(self) -> int:
        gc.collect()
        gc.freeze()  # the loaded graph and models stay out of the workers' collections (no copy on write)
        for n in range(self.settings.workers):
            self._spawn(n)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        failed = False
        stop_sent = deadline = None
        while self.children:
            if self.stopping and stop_sent is None:
                stop_sent = time.monotonic()
                deadline = stop_sent + self.settings.graceful_seconds + 5
                self._signal_all(signal.SIGTERM)
            if deadline is not None and time.monotonic() > deadline:
                self._signal_all(signal.SIGKILL)
                deadline = None
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(POLL_SECONDS)
                continue
            n = self.children.pop(pid, None)
            code = os.waitstatus_to_exitcode(status)
            if self.stopping or n is None:
                failed |= code != 0
                continue
            self.report(f"kgnlu serve: worker {n} (pid {pid}) exited with {code}; restarting it")
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < 60] + [now]
            if len(self.restarts) > MAX_RESTARTS:
                self.report(f"kgnlu serve: workers keep dying ({MAX_RESTARTS} restarts in a minute); stopping")
                self.stopping, failed = True, True
                continue
            self._spawn(n)
        if failed:
            raise ServeStartError("a worker failed (its error is in the log above); the server stopped")
        return 0

    def _stop(self, signum, frame) -> None:
        self.stopping = True

    def _signal_all(self, sig: int) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def _spawn(self, n: int) -> None:
        pid = os.fork()
        if pid:
            self.children[pid] = n
            return
        code = 1
        try:  # the worker: never returns into the parent's code
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us in order
            _set_threads(self.settings.threads)
            run_worker(self.app, self.settings, self.sock)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (``mallopt(M_ARENA_MAX)``) before the request threads start.

    Each thread of the request pool otherwise gets an arena of its own, and freed request memory
    stays spread over them. ``bench/serve.py --quick`` on the default graph, RSS from warm-up to
    the end of three load rounds: one worker +68% with glibc's default, +42% with two arenas; two
    workers +42% and +19% (docs/serving.md).
    Returns whether the cap was set (False off glibc)."""
    import ctypes

    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(-8, arenas))  # -8: M_ARENA_MAX in malloc.h
    except (OSError, AttributeError):
        return False


def _set_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
