"""Exports are written whole or not at all, and never over the store, the accounts file
or the archive: one mistyped path used to empty the evidence or the audit log."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from adtrace.cli import main
from adtrace.output_file import OutputRefused, check_target, written_whole
from indexer.model import SourceInfo
from indexer.store import open_store
from webui import audit, db


def test_a_failed_export_leaves_the_old_file_and_no_temporary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "ads.jsonl"
    out.write_text("the export of yesterday\n", encoding="utf-8")
    with pytest.raises(RuntimeError), written_whole(out) as fh:
        fh.write("half of today's")
        raise RuntimeError("the store went away")
    assert out.read_text(encoding="utf-8") == "the export of yesterday\n"
    assert [p.name for p in tmp_path.iterdir()] == ["ads.jsonl"]
    with written_whole(out) as fh:
        fh.write("today's\n")
    assert out.read_text(encoding="utf-8") == "today's\n"


def test_a_pipe_is_written_into_not_replaced(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A pipe or a device (/dev/stdout, /dev/full) is written into: renamed over, it
    would be replaced by a plain file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text(encoding="utf-8")),
                              daemon=True)  # a regression must not hang the run
    reader.start()
    with written_whole(fifo) as fh:
        fh.write("through the pipe\n")
    reader.join(timeout=30)
    assert got == ["through the pipe\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_evidence_is_never_a_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(str(tmp_path / "s.sqlite3"))
    store.close()
    archive = tmp_path / "archive"
    (archive / "warcs").mkdir(parents=True)
    for path, archive_dir in ((tmp_path / "s.sqlite3", None),
                              (archive / "captures.jsonl", archive),
                              (archive / "warcs" / "new.jsonl", archive),
                              (tmp_path / "x.warc.gz", None), (tmp_path, None)):
        with pytest.raises(OutputRefused):
            check_target(path, archive_dir)
    check_target(tmp_path / "fine.jsonl", archive)  # a new file elsewhere


def test_export_commands_refuse_the_store_and_the_accounts_file(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    store_path = tmp_path / "adtrace.sqlite3"
    store = open_store(str(store_path))
    store.upsert_source(SourceInfo("alpha", "Alpha Ads", "trafficking", "NL", "http://a.test"))
    store.close()
    conn = db.connect(tmp_path)
    audit.append(conn, "ann", "search", "anna")
    conn.close()
    accounts = db.accounts_path(tmp_path)

    assert main(["export", "--out", str(store_path)]) == 2
    assert "is a database" in capsys.readouterr().err
    assert main(["audit", "export", "-o", str(accounts)]) == 2
    assert "is a database" in capsys.readouterr().err
    assert main(["assessments", "--out", str(accounts)]) == 2

    store = open_store(str(store_path))  # both still whole
    try:
        assert [s.id for s in store.sources()] == ["alpha"]
    finally:
        store.close()
    assert main(["audit", "verify"]) == 0
