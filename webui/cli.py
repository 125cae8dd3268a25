"""``adtrace serve`` and ``adtrace users add|list|disable|enable|passwd|unlock``
(``password`` is kept as another name for ``passwd``)."""

from __future__ import annotations

import argparse
import getpass
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from adtrace import settings
from adtrace.cli import CommandError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the web UI")
    p.add_argument("--host", default=None, help=f"listen address (setting host, "
                   f"default {settings.get('host')})")
    p.add_argument("--port", type=int, default=None, help="port (setting port)")
    add_server_options(p)
    p.set_defaults(func=run_serve)

    users = sub.add_parser("users", help="manage web UI accounts")
    usub = users.add_subparsers(dest="users_command", metavar="ACTION")
    usub.required = True
    add = usub.add_parser("add", help="create an account")
    add.add_argument("name")
    add.add_argument("--role", default="analyst", choices=("analyst", "admin", "trends"),
                     help="analyst (default), admin, or trends (aggregates only: no ad, "
                          "person, identifier or export)")
    add.add_argument("--themes", default="*",
                     help="comma-separated themes the user may see; * for all (default)")
    add.add_argument("--password", default=None,
                     help="password (else asked for; '-' reads one line from stdin)")
    add.set_defaults(func=run_users_add)
    lst = usub.add_parser("list", help="list accounts")
    lst.set_defaults(func=run_users_list)
    for action, help_text in (("disable", "lock an account out"), ("enable", "unlock it")):
        p = usub.add_parser(action, help=help_text)
        p.add_argument("name")
        p.set_defaults(func=run_users_disable, disable=action == "disable")
    pw = usub.add_parser("passwd", aliases=["password"], help="set a new password")
    pw.add_argument("name")
    pw.add_argument("--password", default=None,
                    help="password (else asked for; '-' reads one line from stdin)")
    pw.set_defaults(func=run_users_password)
    unlock = usub.add_parser("unlock", help="lift a lock-out after failed sign-ins now")
    unlock.add_argument("name")
    unlock.set_defaults(func=run_users_unlock)


def _read_password(given: str | None, name: str) -> str:
    if given == "-":
        return sys.stdin.readline().rstrip("\n")
    if given is not None:
        # a command line is visible to every user of the machine (ps, /proc) and is kept in
        # the shell's history: said, not refused, as scripts and tests pass one
        print(f"warning: the password for {name} was given on the command line, where other "
              "users of this machine can read it; '--password -' reads it from stdin",
              file=sys.stderr)
        return given
    first = getpass.getpass(f"Password for {name}: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError(f"passwords for {name!r} do not match")
    return first


@contextmanager
def _accounts() -> Iterator[sqlite3.Connection]:
    """The accounts file, open for one command and closed after it; an AccountError
    becomes the CommandError the command line reports."""
    from webui import db
    from webui.accounts import AccountError

    conn = db.connect(settings.data_dir())
    try:
        yield conn
    except AccountError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        conn.close()


def run_users_add(args: argparse.Namespace) -> int:
    from adtrace.audit_cli import record
    from webui.accounts import add_user, parse_themes

    with _accounts() as conn:
        user = add_user(conn, args.name, _read_password(args.password, args.name),
                        role=args.role, themes=parse_themes(args.themes))
        record("account_added", user.name, {"role": user.role, "themes": list(user.themes)},
               conn)
    print(f"added {user.name} ({user.role}; themes {','.join(user.themes)})")
    return 0


def run_users_list(args: argparse.Namespace) -> int:
    from webui.accounts import list_users

    with _accounts() as conn:
        users = list_users(conn)
    for u in users:
        state = "disabled" if u.disabled else f"locked until {u.locked_until}" if u.locked() \
            else "active"
        print(f"{u.name}\t{u.role}\t{','.join(u.themes) or '-'}\t{state}\t{u.created_at}")
    if not users:
        print("no users yet: adtrace users add NAME --role admin", file=sys.stderr)
    return 0


def run_users_disable(args: argparse.Namespace) -> int:
    from adtrace.audit_cli import record
    from webui.accounts import set_disabled

    with _accounts() as conn:
        set_disabled(conn, args.name, args.disable)
        record("account_disabled" if args.disable else "account_enabled", args.name,
               conn=conn)
    print(f"{args.name} {'disabled' if args.disable else 'enabled'}")
    return 0


def run_users_password(args: argparse.Namespace) -> int:
    from adtrace.audit_cli import record
    from webui.accounts import set_password

    with _accounts() as conn:
        set_password(conn, args.name, _read_password(args.password, args.name))
        record("password_set", args.name, conn=conn)
    print(f"password of {args.name} changed")
    return 0


def run_users_unlock(args: argparse.Namespace) -> int:
    from adtrace.audit_cli import record
    from webui.accounts import unlock

    with _accounts() as conn:
        unlock(conn, args.name)
        record("account_unlocked", args.name, conn=conn)
    print(f"{args.name} unlocked")
    return 0


DEFAULT_THREADS = 4


def add_server_options(p: argparse.ArgumentParser) -> None:
    """--workers and --threads, shared by ``serve`` and ``demo``."""
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per core)")
    p.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                   help=f"threads per worker (default {DEFAULT_THREADS})")


def run_serve(args: argparse.Namespace) -> int:
    host = args.host or settings.get("host")
    port = args.port if args.port is not None else int(settings.get("port"))
    return serve(host, port, None, workers=args.workers, threads=args.threads)


def serve(host: str, port: int, config: dict | None, workers: int | None = None,
          threads: int | None = None) -> int:
    """Serve the web UI with gunicorn (webui.server) until SIGTERM or Ctrl-C; used by
    ``serve`` and by ``demo``."""
    from webui import server
    from webui.app import create_app

    workers = workers if workers is not None else server.default_workers()
    threads = threads if threads is not None else DEFAULT_THREADS
    try:
        server.options(host, port, workers, threads)  # bad options fail before any work
        server.check_address(host, port)
    except server.ServeError as exc:
        raise CommandError(str(exc)) from exc
    app = create_app(config)
    print(f"adtrace web UI on http://{host}:{port}/ (store {app.config['STORE_URL']}; "
          f"{workers} workers x {threads} threads)", flush=True)
    try:
        return server.run(app, host, port, workers, threads)
    except server.ServeError as exc:
        raise CommandError(str(exc)) from exc
