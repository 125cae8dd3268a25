"""``adtrace index init|status|migrate``: the Elasticsearch indices behind their aliases.

Registered by the integrator in ``adtrace.cli.AREAS``. Only meaningful when the store
is an Elasticsearch URL (``--store`` or ADTRACE_STORE); SQLite needs none of this.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    parser = sub.add_parser("index", help="Elasticsearch indices: create, report, migrate.")
    parser.add_argument("--store", default="", help="Elasticsearch URL (default: ADTRACE_STORE)")
    parser.add_argument("--prefix", default="", help="index prefix (default: ADTRACE_ES_PREFIX)")
    actions = parser.add_subparsers(dest="index_action", metavar="ACTION")
    actions.required = True
    actions.add_parser("init", help="create templates, indices and aliases if missing"
                       ).set_defaults(func=run_init)
    actions.add_parser("status", help="show aliases, index versions and document counts"
                       ).set_defaults(func=run_status)
    actions.add_parser("migrate", help="reindex into newer mapping versions, swap aliases"
                       ).set_defaults(func=run_migrate)


def _client(args: argparse.Namespace) -> tuple[Any, str]:
    from adtrace import settings
    from adtrace.cli import CommandError
    from indexer.store.elastic import ElasticStore

    url = args.store or str(settings.get("store"))
    if not url.startswith(("http://", "https://")):
        raise CommandError(f"store {url!r} is not an Elasticsearch URL (http://…)")
    from indexer.store.base import StoreError

    try:
        store = ElasticStore(url, prefix=args.prefix or str(settings.get("es_prefix")))
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    return store, store.prefix


def run_init(args: argparse.Namespace) -> int:
    store, prefix = _client(args)  # opening the store creates what is missing
    print(f"indices for prefix {prefix!r} are in place")
    return run_status(args, store)


def run_status(args: argparse.Namespace, store: Any = None) -> int:
    from indexer.store import elastic_indices

    store = store or _client(args)[0]
    for row in elastic_indices.status(store.es, store.prefix):
        flag = "  MIGRATE" if row.needs_migration else ""
        print(f"{row.read_alias:<32} -> {','.join(row.read_indices) or '-':<36} "
              f"write={row.write_index or '-'} v{row.live_version}/v{row.shipped_version} "
              f"docs={row.docs}{flag}")
    return 0


def run_migrate(args: argparse.Namespace) -> int:
    from indexer.store import elastic_indices

    store, prefix = _client(args)
    moved = elastic_indices.migrate(store.es, prefix)
    for old, new in moved:
        print(f"{old} -> {new}: reindexed, aliases swapped")
    if not moved:
        print("every index already has the shipped mapping version")
    return 0
