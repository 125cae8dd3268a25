"""Connections that outlive a request: one SQLite store per worker process, one accounts
connection per worker thread.

Why: opening the store on every request threw away its count cache (a page of the same
search recounted everything) and closing the last connection of a WAL database runs a
checkpoint (tens of milliseconds on a 100k-ad store); the accounts file likewise. A
``SqliteStore`` is made for sharing (a pool of connections, one per thread at a time),
so each worker keeps one; the accounts connection is not shared between threads, so
each thread keeps its own.

Nothing is opened before it is first asked for, and everything is keyed by process id:
the server builds the app in its master and forks workers, and a SQLite connection must
never cross a fork (the child would share the parent's file locks and page cache).
An Elasticsearch store keeps today's life cycle (one per request): it caches the source
list and what it wrote, which other processes may change at any time.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any

from webui import db

# Connections found after a fork belong to the parent: kept referenced (never closed or
# collected here), so the child cannot disturb the parent's locks or its WAL file.
_INHERITED: list[Any] = []
_CREATING = threading.Lock()


def shared_store_url(url: str) -> bool:
    """The embedded SQLite store is shared by a process; a server backend is not."""
    return not url.strip().startswith(("http://", "https://"))


class Resources:
    """What one process of one app keeps open between requests."""

    def __init__(self, store_url: str, data_dir: str) -> None:
        self.pid = os.getpid()
        self.store_url = store_url
        self.data_dir = data_dir
        self._store: Any = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def store(self) -> Any:
        """This process's store, opened on first use (a failure is raised each time)."""
        if self._store is None:
            with self._lock:
                if self._store is None:
                    from indexer.store import open_store

                    self._store = open_store(self.store_url)
        return self._store

    def accounts(self) -> sqlite3.Connection:
        """This thread's connection to the accounts file (the schema is made once in
        create_app); a thread's connection is closed when the thread ends."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = db.connect(self.data_dir, schema=False)
        return conn

    def end_request(self) -> None:
        """A request never leaves this thread's accounts connection in a transaction."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.in_transaction:
            conn.execute("ROLLBACK")

    def abandon(self) -> None:
        """After a fork: keep what the parent opened, untouched, and start afresh."""
        _INHERITED.append((self._store, getattr(self._local, "conn", None)))
        self._store = None
        self._local = threading.local()


def for_app(extensions: dict[str, Any], store_url: str, data_dir: str) -> Resources:
    """The app's resources in this process (new ones after a fork)."""
    res = extensions.get("adtrace_resources")
    if res is not None and res.pid == os.getpid():
        return res
    with _CREATING:  # two first requests at once still make one
        res = extensions.get("adtrace_resources")
        if res is None or res.pid != os.getpid():
            if res is not None:
                res.abandon()
            res = extensions["adtrace_resources"] = Resources(store_url, data_dir)
        return res
