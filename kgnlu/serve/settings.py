"""What a server is allowed to do: address, workers, token, CORS and the request limits."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    token: str | None = None  # bearer token every API request must carry (None: no token)
    cors: tuple[str, ...] = ()  # origins allowed to call from a browser page elsewhere (none by default)
    timeout: float = 30.0  # seconds a request may run before it is answered 504
    max_body_bytes: int = 1_000_000  # 1 MB: a bigger body is answered 413 before it is read
    max_text_chars: int = 100_000  # /link and /api texts
    max_question_chars: int = 1_000  # /qa and /choose questions (and each choice)
    max_choices: int = 16
    max_k: int = 50  # answers a /qa request may ask for
    sparql_timeout: float = 10.0  # a query's own limit (and never past the request's)
    sparql_max_rows: int = 10_000
    threads: int = 1  # torch threads per worker
    graceful_seconds: float = 30.0  # how long SIGTERM waits for in-flight requests

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: assume it is reachable from elsewhere
