"""``adtrace settings``: every setting, its environment variable, value and help."""

from __future__ import annotations

import argparse

from adtrace import settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("settings", help="list every setting with its current value")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for env, value, default, help_text in settings.describe():
        print(f"{env}={value!s}\n    {help_text} (default: {default!s})")
    return 0
