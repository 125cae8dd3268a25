"""The production server behind ``adtrace serve`` and ``adtrace demo``: gunicorn, pre-fork.

Why not Flask's built-in server: it is one process (one core for all Python work, the
GIL shared by every request) and was never meant to face load. Here gunicorn's master
binds the port and forks ``workers`` processes (default: one per core), each answering
with ``threads`` threads (gthread worker), and writes one access-log line per request.

Rules kept here:
- the app is built once in the master (so a bad configuration fails before any fork),
  but nothing in it opens a SQLite connection there: the store and the accounts file are
  opened lazily by each worker on its first request (``webui.app`` keys them by process
  id, so a connection never crosses a fork);
- SIGTERM and SIGINT (Ctrl-C, which reaches master and workers alike) both stop
  gracefully: no new connections, requests in progress finish (up to ``GRACE`` seconds);
- a port already taken is a clear error naming the address, before anything is forked;
- idle keep-alive connections are kept ``KEEPALIVE`` seconds, longer than a browser's
  think time, so a client rarely sends a request on a socket the server just closed.
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import sys
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.workers.gthread import ThreadWorker

GRACE = 20  # seconds a request in progress may take to finish at shutdown
KEEPALIVE = 75  # seconds an idle keep-alive connection stays open (nginx uses 75 too)
ACCESS_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms worker %(p)s'


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class ServeError(RuntimeError):
    """The server cannot start; the message names the address or option."""


def check_address(host: str, port: int) -> None:
    """Fail early, naming the address, when the port is taken or the host is not ours."""
    if not 0 <= port <= 65535:
        raise ServeError(f"port {port}: give a number from 0 to 65535")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: unknown host ({exc})") from exc
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            why = ("the port is already in use" if exc.errno == errno.EADDRINUSE
                   else exc.strerror or str(exc))
            raise ServeError(f"cannot listen on {host}:{port}: {why} "
                             "(is another adtrace serve running? choose --port)") from exc


class GracefulThreadWorker(ThreadWorker):
    """The gthread worker, but Ctrl-C (SIGINT, sent to the whole process group) lets the
    requests in progress finish instead of dropping them."""

    def init_signals(self) -> None:
        super().init_signals()
        signal.signal(signal.SIGINT, self.handle_exit)


class GracefulArbiter(Arbiter):
    """SIGINT stops as gracefully as SIGTERM (gunicorn's default for SIGINT is abrupt)."""

    def handle_int(self) -> None:
        raise StopIteration


class AdtraceServer(BaseApplication):  # type: ignore[misc]
    """gunicorn around an already built Flask app, configured in code (no config file)."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application

    def run(self) -> None:
        GracefulArbiter(self).run()


def options(host: str, port: int, workers: int, threads: int) -> dict[str, Any]:
    """The gunicorn settings adtrace runs with (pure: tests read them)."""
    if workers < 1:
        raise ServeError(f"--workers {workers}: give at least 1")
    if threads < 1:
        raise ServeError(f"--threads {threads}: give at least 1")
    return {
        "bind": [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"],
        "workers": workers,
        "threads": threads,
        "worker_class": "webui.server.GracefulThreadWorker",
        "keepalive": KEEPALIVE,
        "graceful_timeout": GRACE,
        "timeout": 120,  # heartbeat of a stuck worker (gthread beats from its main loop)
        "accesslog": "-",
        "access_log_format": ACCESS_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        "preload_app": True,  # built once in the master; see the module docstring
        "control_socket_disable": True,  # no control socket file left beside the data
        "proc_name": "adtrace",
    }


def run(app: Any, host: str, port: int, workers: int, threads: int) -> int:
    """Serve ``app`` until SIGTERM or Ctrl-C; the exit status."""
    opts = options(host, port, workers, threads)
    check_address(host, port)
    try:
        AdtraceServer(app, opts).run()
    except SystemExit as stop:  # the arbiter ends with sys.exit
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.stdout.flush()
    return 0
