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
