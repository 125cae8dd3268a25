"""The one command line, ``adtrace``: every capability as a subcommand.

Each area registers its own subcommands (``register(subparsers)`` in its ``cli``
module) so this file stays a table of contents. Area modules import heavy libraries
(Scrapy, spaCy, Flask) inside their command functions, so ``adtrace --help`` is quick.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from adtrace import __version__

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
    parser = build_parser()
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


if __name__ == "__main__":
    # Run through the package module so that `CommandError` raised by area modules
    # (imported as adtrace.cli) is the class caught here, not a __main__ copy.
    from adtrace.cli import main as package_main

    sys.exit(package_main())
