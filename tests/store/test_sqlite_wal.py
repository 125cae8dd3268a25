"""A new SQLite file that several processes open at once is put into WAL mode for each
of them (indexer.store.sqlite_wal): the store, and the web UI's accounts file.

SQLite refuses ``PRAGMA journal_mode=WAL`` at once ("database is locked", without
waiting out the busy timeout) while another connection holds the file's write lock in
its old journal mode. The tests hold that lock with a real second connection, and free
it where the code pauses before asking again (``sqlite_wal._pause``)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from indexer.store import sqlite_wal
from indexer.store.sqlite import SqliteStore
from webui import db as accounts_db

RACERS = 4  # processes opening one new store at once
RACES = 16  # before the fix, about one race in four failed (1 - 0.75**16: 99% seen)


def _writer_holding(path: Path) -> sqlite3.Connection:
    """A connection that created ``path`` in SQLite's default (rollback) journal mode and
    holds its write lock, as the first of several processes opening a new file does
    for the moment it turns the file into WAL."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE early (x)")
    return holder


def _free_at_first_pause(monkeypatch, holder: sqlite3.Connection) -> list[float]:
    """Make the first pause between two asks commit the holder's write (freeing its
    lock); return the pauses taken."""
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if holder.in_transaction:
            holder.execute("COMMIT")

    monkeypatch.setattr(sqlite_wal, "_pause", pause)
    return pauses


def _journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


def test_sqlite_refuses_wal_at_once_while_another_connection_writes(tmp_path):
    """The behaviour the module works around: no wait, whatever the busy timeout."""
    path = tmp_path / "new.sqlite3"
    holder = _writer_holding(path)
    asker = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            asker.execute("PRAGMA journal_mode=WAL")
    finally:
        asker.close()
        holder.close()


def test_a_store_opened_while_another_process_writes_its_new_file_opens(
        tmp_path, monkeypatch):
    path = tmp_path / "adtrace.sqlite3"
    holder = _writer_holding(path)
    pauses = _free_at_first_pause(monkeypatch, holder)
    try:
        store = SqliteStore(path)
    finally:
        holder.close()
    try:
        assert store.stats()["ads"] == 0  # the schema was made after the lock was freed
    finally:
        store.close()
    assert pauses == [sqlite_wal.FIRST_PAUSE_S]  # refused once, then in WAL mode
    assert _journal_mode(path) == "wal"
    with sqlite3.connect(path) as conn:  # the other writer's table is there too
        assert conn.execute("SELECT count(*) FROM early").fetchone() == (0,)


def test_the_accounts_file_opened_while_another_process_writes_it_opens(
        tmp_path, monkeypatch):
    path = accounts_db.accounts_path(tmp_path)
    holder = _writer_holding(path)
    pauses = _free_at_first_pause(monkeypatch, holder)
    try:
        conn = accounts_db.connect(tmp_path)
    finally:
        holder.close()
    try:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    finally:
        conn.close()
    assert pauses == [sqlite_wal.FIRST_PAUSE_S]
    assert _journal_mode(path) == "wal"


def test_a_lock_held_past_the_wait_is_refused_as_sqlite_refused_it(tmp_path, monkeypatch):
    path = tmp_path / "new.sqlite3"
    holder = _writer_holding(path)
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(sqlite_wal, "_pause", pause)
    asker = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            sqlite_wal.into_wal(asker, wait_s=0.5)
    finally:
        asker.close()
        holder.close()
    # asked again after pauses that grow to the longest, until the next would pass the wait
    assert pauses[:3] == [0.001, 0.002, 0.004]
    assert max(pauses) == sqlite_wal.LONGEST_PAUSE_S
    assert sum(pauses) <= 0.5


def test_a_file_that_is_no_database_is_refused_at_once(tmp_path, monkeypatch):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"these are notes, not a database\n" * 64)
    pauses: list[float] = []
    monkeypatch.setattr(sqlite_wal, "_pause", pauses.append)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            sqlite_wal.into_wal(conn, wait_s=30.0)
    finally:
        conn.close()
    assert pauses == []  # waiting would not mend it


def test_a_file_in_wal_mode_already_answers_at_once(tmp_path, monkeypatch):
    path = tmp_path / "adtrace.sqlite3"
    SqliteStore(path).close()
    pauses: list[float] = []
    monkeypatch.setattr(sqlite_wal, "_pause", pauses.append)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN IMMEDIATE")  # a writer in WAL mode does not stand in the way
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert sqlite_wal.into_wal(conn, wait_s=30.0) == "wal"
    finally:
        conn.close()
        reader.close()
    assert pauses == []


def _open_when_told(path: str, go: Any, answers: Any) -> None:
    go.wait()
    try:
        SqliteStore(path).close()
        answers.put("opened")
    except Exception as exc:  # noqa: BLE001 - what a racer met is the test's finding
        answers.put(repr(exc))


def test_processes_opening_one_new_store_at_once_all_open_it(tmp_path):
    """The real race: processes released at one moment onto a file that does not exist."""
    ctx = multiprocessing.get_context("fork")
    failures: list[str] = []
    for race in range(RACES):
        path = str(tmp_path / f"race-{race}.sqlite3")
        go, answers = ctx.Event(), ctx.Queue()
        racers = [ctx.Process(target=_open_when_told, args=(path, go, answers))
                  for _ in range(RACERS)]
        for racer in racers:
            racer.start()
        go.set()
        found = [answers.get(timeout=60) for _ in racers]
        for racer in racers:
            racer.join(timeout=60)
        failures += [f"race {race}: {a}" for a in found if a != "opened"]
        assert _journal_mode(Path(path)) == "wal"
    assert failures == []
