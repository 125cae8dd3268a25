"""``adtrace users`` through the real command line entry point."""

from __future__ import annotations

from adtrace.cli import main
from webui import db
from webui.accounts import authenticate


def test_users_add_list_disable(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    assert main(["users", "add", "ada", "--role", "admin", "--password", "s3cret-words"]) == 0
    assert main(["users", "add", "ann", "--themes", "trafficking",
                 "--password", "other-words"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split("\t")[:4] == ["ada", "admin", "*", "active"]
    assert out[1].split("\t")[:4] == ["ann", "analyst", "trafficking", "active"]
    assert main(["users", "disable", "ann"]) == 0
    conn = db.connect(tmp_path)
    assert authenticate(conn, "ann", "other-words") is None
    assert authenticate(conn, "ada", "s3cret-words") is not None
    conn.close()


def test_users_errors_name_the_input(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    assert main(["users", "add", "ada", "--password", "short"]) == 2
    assert "password for 'ada'" in capsys.readouterr().err
    assert main(["users", "add", "ada", "--password", "long enough"]) == 0
    assert main(["users", "add", "ada", "--password", "long enough"]) == 2
    assert "'ada' already exists" in capsys.readouterr().err
    assert main(["users", "disable", "ghost"]) == 2
    assert "'ghost' does not exist" in capsys.readouterr().err


def test_a_password_on_the_command_line_is_warned_about_and_stdin_is_not(
        tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import io

    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    assert main(["users", "add", "ada", "--password", "typed where ps shows it"]) == 0
    assert "other users of this machine can read it" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("piped in, not on argv\n"))
    assert main(["users", "passwd", "ada", "--password", "-"]) == 0
    assert "warning" not in capsys.readouterr().err
    conn = db.connect(tmp_path)
    assert authenticate(conn, "ada", "piped in, not on argv") is not None
    conn.close()
