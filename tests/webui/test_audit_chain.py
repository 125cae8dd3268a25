"""The audit log chained by hashes: verify finds and names a changed, deleted or cut row
even when the append-only triggers were dropped; admins search and export it in the UI and
with ``adtrace audit``; and every kind of use the rules name leaves its row."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from webui_world import PASSWORD, login, token_from

from adtrace.cli import main
from webui import audit, db


def _log(tmp_path, n: int = 5) -> None:  # type: ignore[no-untyped-def]
    conn = db.connect(tmp_path)
    try:
        for i in range(1, n + 1):
            audit.append(conn, f"user{i % 2}", "search", f"q{i}", {"total": i})
    finally:
        conn.close()


def _raw(tmp_path) -> sqlite3.Connection:  # type: ignore[no-untyped-def]
    """The file opened around the web UI, as an intruder with file access would."""
    conn = sqlite3.connect(db.accounts_path(tmp_path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def _verify(tmp_path) -> audit.ChainReport:  # type: ignore[no-untyped-def]
    conn = db.connect(tmp_path)
    try:
        return audit.verify(conn)
    finally:
        conn.close()


def test_each_row_chains_to_the_one_before(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _log(tmp_path)
    raw = _raw(tmp_path)
    rows = raw.execute("SELECT * FROM audit ORDER BY id").fetchall()
    assert rows[0]["prev_hash"] == "" and all(len(r["hash"]) == 64 for r in rows)
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    report = _verify(tmp_path)
    assert report.ok and report.rows == 5 and report.head == rows[-1]["hash"]


def test_a_changed_row_is_named_even_with_the_trigger_dropped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _log(tmp_path)
    raw = _raw(tmp_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE audit SET target = 'nothing to see' WHERE id = 3")
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET target = 'nothing to see' WHERE id = 3")
    report = _verify(tmp_path)
    assert not report.ok and report.broken_id == 3 and "changed" in report.reason


def test_a_row_changed_with_its_hash_recomputed_breaks_the_next_link(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _log(tmp_path)
    raw = _raw(tmp_path)
    raw.execute("DROP TRIGGER audit_no_update")
    r = raw.execute("SELECT * FROM audit WHERE id = 2").fetchone()
    forged = audit.row_hash(2, r["at"], "someone-else", r["action"], r["target"], r["details"],
                            r["prev_hash"])
    raw.execute("UPDATE audit SET user = 'someone-else', hash = ? WHERE id = 2", (forged,))
    report = _verify(tmp_path)
    assert not report.ok and report.broken_id == 3 and "does not follow" in report.reason


def test_a_deleted_row_is_detected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _log(tmp_path)
    raw = _raw(tmp_path)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE id = 2")
    report = _verify(tmp_path)
    assert not report.ok and report.broken_id == 3


def test_a_cut_off_end_is_detected(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _log(tmp_path)
    raw = _raw(tmp_path)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE id >= 4")
    report = _verify(tmp_path)
    assert not report.ok and report.broken_id == 4 and "cut" in report.reason


def test_triggers_dropped_by_an_intruder_are_back_on_the_next_open(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _log(tmp_path)
    _raw(tmp_path).execute("DROP TRIGGER audit_no_delete")
    db.connect(tmp_path).close()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        _raw(tmp_path).execute("DELETE FROM audit WHERE id = 1")


def test_audit_verify_command(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    assert main(["audit", "verify"]) == 2  # no accounts file yet: named, not created
    assert "accounts.sqlite3" in capsys.readouterr().err
    _log(tmp_path)
    assert main(["audit", "verify"]) == 0
    assert "intact: 5 rows" in capsys.readouterr().out
    raw = _raw(tmp_path)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET details = '{\"total\": 0}' WHERE id = 4")
    assert main(["audit", "verify"]) == 1
    assert "row 4" in capsys.readouterr().err


def test_audit_search_and_export_commands(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    _log(tmp_path)
    conn = db.connect(tmp_path)
    audit.append(conn, "=HYPERLINK(\"x\")", "login_failed", "=cmd")
    conn.close()
    assert main(["audit", "search", "--user", "user1", "--action", "search"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("\t")[4] for ln in lines] == ["q5", "q3", "q1"]
    assert main(["audit", "search", "--since", "2000-01-01", "--until", "2000-12-31"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["audit", "search", "--since", "last tuesday"]) == 2
    assert "'last tuesday'" in capsys.readouterr().err

    conn = db.connect(tmp_path)  # a query typed in the UI: tabs, a newline, a terminal escape
    audit.append(conn, "user1", "search", "anna\n999\t2026\tadmin\tpurge\t{}\x1b[2K\\x")
    conn.close()
    assert main(["audit", "search", "--user", "user1", "--limit", "1"]) == 0
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and line.count("\t") == 5 and "\x1b" not in line
    assert line.split("\t")[4] == "anna\\n999\\t2026\\tadmin\\tpurge\\t{}\\x1b[2K\\\\x"

    out = tmp_path / "audit.csv"
    assert main(["audit", "export", "--format", "csv", "-o", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    # the three searches of the log from this command line are in it too
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 11)]
    assert [r["action"] for r in rows].count("audit_search") == 3
    assert rows[5]["user"].startswith("'=") and rows[5]["target"] == "'=cmd"
    assert len(rows[0]["hash"]) == 64
    capsys.readouterr()
    assert main(["audit", "export", "--action", "search", "--user", "user0"]) == 0
    exported = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert [e["target"] for e in exported] == ["q2", "q4"]
    assert exported[0]["details"] == {"total": 2}
    # The export itself is on the record, and the chain still holds.
    assert audit.events(db.connect(tmp_path), action="audit_export")
    assert _verify(tmp_path).ok


def test_a_log_from_before_chaining_is_migrated_and_still_verifies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    old = sqlite3.connect(tmp_path / db.FILENAME, isolation_level=None)
    old.executescript("""
        CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('analyst', 'admin')), themes TEXT NOT NULL
            DEFAULT '', disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
        CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
            user TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL DEFAULT '',
            details TEXT NOT NULL DEFAULT '{}');
        INSERT INTO users VALUES ('olga', 'x', 'admin', '*', 0, '2025-01-01T00:00:00Z');
        INSERT INTO audit (at, user, action) VALUES ('2025-01-01T00:00:00.000000Z', 'olga', 'login');
    """)
    old.close()
    conn = db.connect(tmp_path)
    try:
        assert conn.execute("SELECT name, role FROM users").fetchall()[0][:] == ("olga", "admin")
        conn.execute("INSERT INTO users (name, password_hash, role, created_at) "
                     "VALUES ('tom', 'x', 'trends', 'now')")  # the new role is allowed now
        audit.append(conn, "olga", "search", "q")
        report = audit.verify(conn)
    finally:
        conn.close()
    assert report.ok and report.legacy == 1 and report.rows == 2


# --------------------------------------------------------------------------- the admin page
def test_admins_search_and_export_the_log_in_the_ui(client, analyst, audit_rows) -> None:  # type: ignore[no-untyped-def]
    analyst.get("/search?q=utrecht")
    page = client.get("/admin/audit?user=ann&action=search")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Hash chain intact" in html and "utrecht" in html
    assert "ada" not in html.split("<tbody>")[1].split("</tbody>")[0]
    assert client.get("/admin/audit?since=yesterday").status_code == 400
    jsonl = client.get("/admin/audit/export.jsonl?user=ann&action=search")
    assert jsonl.mimetype == "application/x-ndjson"
    rows = [json.loads(ln) for ln in jsonl.get_data(as_text=True).splitlines()]
    assert rows and {r["user"] for r in rows} == {"ann"} and rows[-1]["target"] == "utrecht"
    csv_rows = list(csv.DictReader(io.StringIO(
        client.get("/admin/audit/export.csv?action=search").get_data(as_text=True))))
    assert csv_rows and set(csv_rows[0]) >= {"id", "at", "user", "action", "hash", "prev_hash"}
    assert audit_rows("audit_export", user="ada")[0].details["rows"] == len(rows)
    assert audit_rows("audit_search", user="ada")
    # Not an admin: the log does not exist for you.
    assert analyst.get("/admin/audit").status_code == 404
    assert analyst.get("/admin/audit/export.csv").status_code == 404


# --------------------------------------------------------------------------- every use leaves a row
def test_every_kind_of_use_is_on_the_record(app, world, audit_rows) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": "ada", "password": "not it", "csrf_token": token})
    assert audit_rows("login_failed")[0].target == "ada"
    login(client)
    assert audit_rows("login", user="ada") and audit_rows("notice_accepted", user="ada")

    client.get("/search?q=utrecht&site=demo-velvet")
    search = audit_rows("search", user="ada")[0]
    assert search.target == "utrecht" and search.details["args"] and "total" in search.details

    client.get(f"/ad/{world.anna_id}")
    assert audit_rows("view_ad", user="ada")[0].target == world.anna_id
    client.get("/phone/+31612345678")
    assert audit_rows("view_identifier", user="ada")[0].target == "phone:+31612345678"
    body = client.get("/export.csv?q=utrecht").get_data()
    assert body and audit_rows("export", user="ada")[0].details["rows"] >= 1

    token = token_from(client.get(f"/ad/{world.anna_id}").get_data(as_text=True))
    client.post(f"/ad/{world.anna_id}/assess", data={"label": "unsure", "note": "check",
                                                      "csrf_token": token})
    assert audit_rows("assessment", user="ada")[0].target == world.anna_id
    client.post("/saved/new", data={"q": "utrecht", "name": "Utrecht watch", "csrf_token": token})
    assert audit_rows("saved_search", user="ada")[0].target == "Utrecht watch"

    client.post("/logout", data={"csrf_token": token})
    assert audit_rows("logout", user="ada")
    conn = db.connect(world.data_dir)
    try:
        assert audit.verify(conn).ok  # and all of it chained
    finally:
        conn.close()


def test_the_password_never_reaches_the_log(app, world) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    token = token_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"name": "ada", "password": "Secret-Guess-42", "csrf_token": token})
    login(client)
    raw = db.accounts_path(world.data_dir).read_bytes()
    assert b"Secret-Guess-42" not in raw and PASSWORD.encode() not in raw
