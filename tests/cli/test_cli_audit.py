"""Searches, views, exports and account changes from the command line are in the audit
log, as they are from the web UI (as ``cli:<operating-system user>``)."""

from __future__ import annotations

from adtrace.cli import main
from indexer.model import SourceInfo
from indexer.store import open_store
from webui import audit, db


def _rows(data) -> list:  # type: ignore[no-untyped-def]
    conn = db.connect(data)
    try:
        return audit.events(conn)
    finally:
        conn.close()


def test_every_command_that_reads_ads_or_changes_an_account_is_audited(tmp_path, monkeypatch,
                                                                       capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    store = open_store(str(tmp_path / "adtrace.sqlite3"))
    store.upsert_source(SourceInfo("alpha", "Alpha Ads", "trafficking", "NL", "http://a.test"))
    store.close()
    out = tmp_path / "ads.jsonl"
    commands = [
        (["search", "anna"], ("search", "anna")),
        (["export", "--out", str(out)], ("export", str(out))),
        (["assessments", "--out", str(tmp_path / "labels.jsonl")],
         ("export", str(tmp_path / "labels.jsonl"))),
        (["signals", "--ad", "0123456789abcdef"], ("view_ad", "0123456789abcdef")),
        (["users", "add", "anna", "--role", "analyst", "--themes", "trafficking",
          "--password", "a long enough passphrase 1"], ("account_added", "anna")),
        (["users", "disable", "anna"], ("account_disabled", "anna")),
        (["users", "enable", "anna"], ("account_enabled", "anna")),
        (["users", "passwd", "anna", "--password", "another long passphrase 2"],
         ("password_set", "anna")),
        (["audit", "search", "--user", "anna"], ("audit_search", "")),
    ]
    for argv, (action, target) in commands:
        before = len(_rows(tmp_path))
        assert main(argv) == 0, argv
        rows = _rows(tmp_path)
        assert len(rows) == before + 1, argv
        newest = max(rows, key=lambda e: e.id)
        assert (newest.action, newest.target) == (action, target), argv
        assert newest.user.startswith("cli"), argv
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0  # the chain holds the new rows
