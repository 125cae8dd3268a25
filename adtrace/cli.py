"""The one command line, ``adtrace``: every capability as a subcommand.

Each area registers its own subcommands (``register(subparsers)`` in its ``cli``
module) so this file stays a table of contents. Area modules import heavy libraries
(Scrapy, spaCy, Flask) inside their command functions, so ``adtrace --help`` is quick.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sqlite3
import sys

from adtrace import __version__
from adtrace.settings import SettingsError

# Modules that define register(subparsers); the order is the order in --help.
AREAS: tuple[str, ...] = (
    "adtrace.demo_cli",
    "demosite.cli",
    "crawler.cli",
    "adtrace.schedule_cli",
    "indexer.enrich.cli",
    "indexer.cli",
    "indexer.assessment_cli",
    "adtrace.reindex_cli",
    "indexer.esindex_cli",
    "webui.cli",
    "adtrace.alerts_cli",
    "adtrace.audit_cli",
    "adtrace.settings_cli",
    "adtrace.purge_cli",
)


class CommandError(Exception):
    """An error for the user: printed without a traceback, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adtrace",
        description="Crawl, archive, enrich, index and search online sex-work ads.",
    )
    parser.add_argument("--version", action="version", version=f"adtrace {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in AREAS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()  # option defaults come from the settings
    except SettingsError as exc:
        print(f"adtrace: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"adtrace {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``adtrace export | head``): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        # a full disk, a folder given for a file, a corrupt database, a store that is down,
        # a bad setting: said in a line naming what failed (--verbose adds the traceback)
        if not isinstance(exc, _said_in_a_line()):
            raise
        logging.getLogger("adtrace").debug("%s failed", args.command, exc_info=True)
        print(f"adtrace {args.command}: {_described(exc)}", file=sys.stderr)
        return 2


def _said_in_a_line() -> tuple[type[BaseException], ...]:
    """Errors of the machine or the data, not of the code (imported only when one came:
    the store's module is not loaded for ``adtrace --help``)."""
    from indexer.store.base import StoreError

    return (OSError, sqlite3.DatabaseError, StoreError, SettingsError)


def _described(exc: BaseException) -> str:
    """An error in one line, with the file it concerns when it names one."""
    if isinstance(exc, OSError) and exc.strerror:
        names = " -> ".join(str(n) for n in (exc.filename, exc.filename2) if n)
        return f"{names}: {exc.strerror}" if names else exc.strerror
    if isinstance(exc, sqlite3.DatabaseError):
        return f"a database (the store or the accounts file) cannot be used: {exc}"
    return str(exc)


if __name__ == "__main__":
    # Run through the package module so that `CommandError` raised by area modules
    # (imported as adtrace.cli) is the class caught here, not a __main__ copy.
    from adtrace.cli import main as package_main

    sys.exit(package_main())
