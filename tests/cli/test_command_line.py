"""The one command line: every subcommand answers --help, errors are clear."""

from __future__ import annotations

import subprocess
import sys

import pytest

from adtrace.cli import build_parser, main

EXPECTED = {"demo", "demo-site", "crawl", "sources", "archive", "enrich", "search", "export",
            "serve", "users", "settings"}


def subcommands() -> dict[str, object]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return dict(action.choices)


def test_every_expected_subcommand_is_registered():
    missing = EXPECTED - set(subcommands())
    assert not missing, f"subcommands not registered: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: adtrace " + name)


def test_console_script_runs_and_lists_commands():
    out = subprocess.run([sys.executable, "-m", "adtrace.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for name in EXPECTED:
        assert name in out


def test_settings_command_shows_environment_overrides(monkeypatch, capsys):
    monkeypatch.setenv("ADTRACE_PORT", "5123")
    assert main(["settings"]) == 0
    assert "ADTRACE_PORT=5123" in capsys.readouterr().out


def test_a_bad_setting_or_config_file_is_named_not_a_traceback(monkeypatch, capsys, tmp_path):
    from indexer.store import open_store

    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    open_store(str(tmp_path / "adtrace.sqlite3")).close()
    monkeypatch.setenv("ADTRACE_SEARCH_COUNT_LIMIT", "abc")
    assert main(["search", "anna"]) == 2
    assert "ADTRACE_SEARCH_COUNT_LIMIT: 'abc' is not a whole number" in capsys.readouterr().err
    monkeypatch.delenv("ADTRACE_SEARCH_COUNT_LIMIT")
    monkeypatch.setenv("ADTRACE_CONFIG", str(tmp_path / "missing.yaml"))
    assert main(["stats"]) == 2
    assert "missing.yaml (ADTRACE_CONFIG): No such file" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("store: [1,\n", encoding="utf-8")
    monkeypatch.setenv("ADTRACE_CONFIG", str(tmp_path / "bad.yaml"))
    assert main(["stats"]) == 2
    assert "bad.yaml: not valid YAML" in capsys.readouterr().err


def test_a_corrupt_database_is_named_not_a_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path))
    (tmp_path / "accounts.sqlite3").write_bytes(b"not a database at all " * 200)
    assert main(["audit", "verify"]) == 2
    assert "adtrace audit: a database (the store or the accounts file) cannot be used" in \
        capsys.readouterr().err


def test_reading_a_store_that_is_not_there_is_an_error_not_an_empty_answer(monkeypatch, capsys,
                                                                           tmp_path):
    """A mistyped store path used to be made, empty, and every search answered "0 ads"."""
    monkeypatch.setenv("ADTRACE_STORE", str(tmp_path / "typo" / "x.sqlite3"))
    for command in (["search", "anna"], ["stats"], ["export"], ["assessments"]):
        assert main(command) == 2, command
        assert "x.sqlite3: no such file" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()


def test_demo_refuses_a_world_without_days_before_touching_its_folder(capsys, tmp_path):
    folder = tmp_path / "demo"
    assert main(["demo", "--no-serve", "--days", "0", "--dir", str(folder)]) == 2
    assert "days=0: must be at least 1" in capsys.readouterr().err
    assert not folder.exists()
