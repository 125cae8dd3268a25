"""``adtrace demo-site``: serve the demo ad world, or print its ground truth."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo-site",
        help="serve the synthetic demo ad sites on 127.0.0.1 (or print their ground truth)",
        description="Serve the deterministic demo ad world (sites velvet and board) until "
                    "Ctrl-C. 'adtrace demo-site truth' prints the ground truth as JSON.",
    )
    _world_args(p)
    p.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--day", type=int, default=0, help="day to start on (0-based)")
    p.set_defaults(func=run_serve)
    inner = p.add_subparsers(dest="demo_command", metavar="ACTION")
    t = inner.add_parser("truth", help="print the ground truth of one day as JSON")
    _world_args(t)
    t.add_argument("--day", type=int, default=0, help="day (0-based)")
    t.add_argument("--out", default="", help="write to this file instead of stdout")
    t.set_defaults(func=run_truth)


def _world_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=1, help="world seed (default 1)")
    p.add_argument("--ads", type=int, default=300, help="number of ads (default 300)")
    p.add_argument("--days", type=int, default=7, help="number of days (default 7)")


def _world(args: argparse.Namespace) -> Any:
    from adtrace.cli import CommandError
    from demosite.world import World

    try:
        world = World(seed=args.seed, n_ads=args.ads, days=args.days)
    except ValueError as exc:
        raise CommandError(f"--ads/--days: {exc}") from exc
    if not 0 <= args.day < world.days:
        raise CommandError(f"--day {args.day}: must be between 0 and {world.days - 1}")
    return world


def run_serve(args: argparse.Namespace) -> int:
    from adtrace.cli import CommandError
    from demosite.server import DemoServer

    world = _world(args)
    try:
        server = DemoServer(world, host=args.host, port=args.port, day=args.day)
    except OSError as exc:
        raise CommandError(f"--port {args.port}: cannot listen on {args.host}: {exc}") from exc
    print(f"demo sites on {server.url}/ (day {args.day} of {world.days}, seed {world.seed}, "
          f"{world.n_ads} ads); set the day with: curl -X POST {server.url}/__demo__/day/N",
          flush=True)
    try:
        server.serve_forever()
    finally:
        server.stop()
    return 0


def run_truth(args: argparse.Namespace) -> int:
    from adtrace.cli import CommandError

    world = _world(args)
    truth = world.truth(args.day)
    text = json.dumps(truth, ensure_ascii=False, indent=1)
    if not args.out:
        sys.stdout.write(text + "\n")
        return 0
    from adtrace.output_file import OutputRefused, written_whole

    try:
        with written_whole(args.out) as fh:
            fh.write(text + "\n")
    except (OSError, OutputRefused) as exc:
        raise CommandError(f"--out {args.out}: {exc}") from exc
    print(f"wrote the truth of day {args.day} ({len(truth['ads'])} ads) "
          f"to {args.out}", file=sys.stderr)
    return 0
