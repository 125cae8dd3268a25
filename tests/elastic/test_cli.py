"""``adtrace index …``: user errors name their input; no traceback for a wrong store."""

from __future__ import annotations

import argparse
import socket

import pytest

from adtrace.cli import CommandError
from indexer import esindex_cli


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    esindex_cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


@pytest.mark.parametrize("action", ["init", "status", "migrate"])
def test_every_action_is_registered(action: str) -> None:
    args = _parse("index", "--store", "http://127.0.0.1:1", action)
    assert args.func.__name__ == f"run_{action}"


def test_a_sqlite_path_is_refused_by_name() -> None:
    args = _parse("index", "--store", "/tmp/adtrace.sqlite3", "status")
    with pytest.raises(CommandError, match="adtrace.sqlite3"):
        args.func(args)


def test_an_unreachable_server_is_a_command_error_naming_it() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = _parse("index", "--store", f"http://127.0.0.1:{port}", "init")
    with pytest.raises(CommandError, match=f"127.0.0.1:{port}"):
        args.func(args)
