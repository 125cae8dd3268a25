"""``adtrace audit verify|search|export``: check the hash chain, read and export the log.

Works on the web UI's accounts file in the data folder (setting data_dir), where the
audit log lives. ``verify`` exits 1 when the chain is broken, naming the first bad row,
so a cron job or a monitoring check can alert on it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from adtrace import settings
from adtrace.cli import CommandError
from adtrace.terminal import cell


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", default=None, help="only this user")
    p.add_argument("--action", default=None, help="only this action (login, search, …)")
    p.add_argument("--since", default=None, help="from this date or time (UTC, 2026-03-01)")
    p.add_argument("--until", default=None, help="up to this date or time (UTC, inclusive)")


def register(sub: argparse._SubParsersAction) -> None:
    audit = sub.add_parser("audit", help="verify, search and export the audit log")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    asub.required = True
    v = asub.add_parser("verify", help="check the hash chain; exit 1 naming the first bad row")
    v.set_defaults(func=run_verify)
    s = asub.add_parser("search", help="print matching rows, newest first")
    _filters(s)
    s.add_argument("--limit", type=int, default=100, help="at most this many rows (100)")
    s.set_defaults(func=run_search)
    e = asub.add_parser("export", help="write matching rows, oldest first, as CSV or JSON lines")
    _filters(e)
    e.add_argument("--format", default="jsonl", choices=("csv", "jsonl"))
    e.add_argument("--output", "-o", default="-", help="file to write ('-': standard output)")
    e.set_defaults(func=run_export)


def _connect():  # type: ignore[no-untyped-def]
    from webui import db

    path = db.accounts_path(settings.data_dir())
    if not path.exists():
        raise CommandError(f"no accounts file at {path} (setting data_dir): nothing audited yet")
    return db.connect(settings.data_dir())


def _events(conn, args: argparse.Namespace, limit: int | None, newest_first: bool):  # type: ignore[no-untyped-def]
    from webui import audit

    try:
        return audit.events(conn, user=args.user, action=args.action, since=args.since,
                            until=args.until, limit=limit, newest_first=newest_first)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def cli_user() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def record(action: str, target: str = "", details: dict[str, Any] | None = None,
           conn: Any = None) -> None:
    """Audit a command as the web UI audits a request: the same log (the accounts file,
    or ``conn`` when the command has it open), the operating-system user as
    ``cli:<name>``. Searches, views and exports from the command line are in the log as
    they are from the UI."""
    from webui import audit, db

    if conn is not None:
        audit.append(conn, cli_user(), action, target, details)
        return
    conn = db.connect(settings.data_dir())
    try:
        audit.append(conn, cli_user(), action, target, details)
    finally:
        conn.close()


def run_verify(args: argparse.Namespace) -> int:
    from webui import audit

    conn = _connect()
    try:
        report = audit.verify(conn)
    finally:
        conn.close()
    if not report.ok:
        print(f"audit chain BROKEN: {report.reason}", file=sys.stderr)
        return 1
    legacy = f" ({report.legacy} older rows before chaining)" if report.legacy else ""
    print(f"audit chain intact: {report.rows} rows{legacy}; head {report.head or '-'}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    import json

    conn = _connect()
    try:
        rows = _events(conn, args, max(1, args.limit), newest_first=True)
        record("audit_search", "", {"user": args.user, "action": args.action,
                                    "since": args.since, "until": args.until,
                                    "total": len(rows)}, conn)
    finally:
        conn.close()
    for e in rows:
        # a query typed in the UI can hold tabs, newlines, escapes: one cell each
        details = cell(json.dumps(e.details, sort_keys=True, ensure_ascii=False),
                       keep_backslash=True)  # JSON's own escapes
        print(f"{e.id}\t{e.at}\t{cell(e.user)}\t{cell(e.action)}\t{cell(e.target)}"
              f"\t{details}")
    if not rows:
        print("no matching audit rows", file=sys.stderr)
    return 0


def run_export(args: argparse.Namespace) -> int:
    from adtrace import settings
    from adtrace.output_file import OutputRefused, written_whole
    from webui import audit, audit_export

    conn = _connect()
    try:
        rows = _events(conn, args, None, newest_first=False)
        if args.output == "-":
            n = audit_export.write(rows, args.format, sys.stdout)
        else:
            try:
                with written_whole(args.output, settings.archive_dir(), newline="") as fh:
                    n = audit_export.write(rows, args.format, fh)
            except OutputRefused as exc:
                raise CommandError(str(exc)) from exc
            except OSError as exc:
                raise CommandError(f"cannot write {args.output!r}: {exc.strerror}") from exc
        audit.append(conn, cli_user(), "audit_export", args.output,
                     {"format": args.format, "rows": n, "user": args.user,
                      "action": args.action, "since": args.since, "until": args.until})
    finally:
        conn.close()
    if args.output != "-":
        print(f"{n} audit rows written to {args.output}", file=sys.stderr)
    return 0
