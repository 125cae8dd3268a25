"""``adtrace demo``: the main job in one command.

Starts the bundled demo ad world, crawls several simulated days of it into a fresh
embedded store (every fetch archived as WARC), creates a demo login and serves the web
UI. The demo lives in its own folder, which is wiped only when it carries the demo marker
file, so pointing it at real data can never destroy evidence.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adtrace import settings

MARKER = ".adtrace-demo"
DEMO_START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="crawl the bundled demo ad world for several simulated days and serve the UI",
        description="Start the demo ad sites, crawl DAYS simulated days into a fresh "
        "embedded store in DIR, create a demo login and serve the web UI.",
    )
    p.add_argument("--dir", default="./adtrace-demo", help="demo folder (default ./adtrace-demo)")
    p.add_argument("--days", type=int, default=5, help="simulated days to crawl (default 5)")
    p.add_argument("--ads", type=int, default=300, help="ads in the demo world (default 300)")
    p.add_argument("--seed", type=int, default=1, help="seed of the demo world (default 1)")
    p.add_argument("--host", default=settings.get("host"), help="address of the web UI")
    p.add_argument("--port", type=int, default=settings.get("port"), help="port of the web UI")
    p.add_argument("--no-serve", action="store_true", help="crawl only, do not serve the UI")
    from webui.cli import add_server_options

    add_server_options(p)
    p.set_defaults(func=run)


def prepare_dir(folder: Path) -> None:
    """Start from an empty demo folder; refuse to wipe anything that is not a demo."""
    from adtrace.cli import CommandError

    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise CommandError(
                f"{folder} exists and is not an adtrace demo folder (no {MARKER}); "
                "choose another --dir"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("This folder is an adtrace demo and may be wiped.\n")


def demo_sources(site_url: str) -> list:
    """The bundled demo source files, pointed at the running demo server."""
    from crawler.register import load_sources

    sources = [s for s in load_sources(settings.sources_dir()) if s.id.startswith("demo-")]
    out = []
    for src in sources:
        path = src.base_url.split("//", 1)[-1].split("/", 1)[-1]
        out.append(dataclasses.replace(src, base_url=f"{site_url}/{path}"))
    return out


def run(args: argparse.Namespace) -> int:
    from adtrace.after_crawl import after_crawl
    from crawler.run import crawl
    from demosite.server import DemoServer
    from demosite.world import World
    from indexer.store import open_store

    folder = Path(args.dir).resolve()
    if not args.no_serve:  # a taken port is named now, not after minutes of crawling
        from adtrace.cli import CommandError
        from webui.server import ServeError, check_address

        try:
            check_address(args.host, args.port)
        except ServeError as exc:
            raise CommandError(str(exc)) from exc
    try:
        world = World(seed=args.seed, n_ads=args.ads, days=args.days)
    except ValueError as exc:  # --days 0, --ads -1: said before the folder is touched
        from adtrace.cli import CommandError

        raise CommandError(str(exc)) from exc
    prepare_dir(folder)
    store_url = str(folder / "adtrace.sqlite3")
    archive = folder / "archive"
    server = DemoServer(world)
    server.start()
    print(f"demo ad world: {args.ads} ads, {args.days} days, at {server.url}", file=sys.stderr)
    try:
        sources = demo_sources(server.url)
        for day in range(args.days):
            server.set_day(day)
            stats = crawl(sources, store_url, archive,
                          clock=DEMO_START + timedelta(days=day), progress=True)
            print(f"day {day + 1}/{args.days}: {stats.summary()}", file=sys.stderr)
    finally:
        server.stop()
    after_crawl(store_url, alerts=False)  # cross-ad signals need every ad in place
    store = open_store(store_url)
    counts = store.stats()
    store.close()
    print("store: " + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)
    if args.no_serve:
        return 0
    return serve_demo(folder, store_url, archive, args.host, args.port,
                      getattr(args, "workers", None), getattr(args, "threads", None))


def serve_demo(folder: Path, store_url: str, archive: Path, host: str, port: int,
               workers: int | None = None, threads: int | None = None) -> int:
    from webui import db
    from webui.accounts import add_user
    from webui.cli import serve

    password = secrets.token_urlsafe(9)
    conn = db.connect(folder)
    try:
        add_user(conn, "demo", password, role="admin", themes=("*",))
    finally:
        conn.close()
    print(
        f"\n  adtrace is ready: open http://{host}:{port}/\n"
        f"  log in as: demo   password: {password}\n"
        f"  data: {folder}\n  (Ctrl-C stops the server)\n",
        file=sys.stderr,
    )
    return serve(host, port, {"STORE_URL": store_url, "ARCHIVE_DIR": str(archive),
                              "DATA_DIR": str(folder)}, workers=workers, threads=threads)
