"""Index life cycle: create versioned indices behind aliases, report them, migrate them.

``init`` is idempotent and cheap once the indices exist (the store calls it on open). ``migrate`` builds the index for a
newer mapping version next to the live one, reindexes into it, swaps both aliases in one
atomic request (readers and writers never see a gap), then copies again with
``op_type: create`` to catch documents written during the first copy. The old index is
kept for a rollback; delete it by hand once the new one is trusted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from indexer.store.elastic_bodies import (
    KINDS,
    create_index_body,
    index_name,
    mapping_version,
    read_alias,
    reindex_body,
    swap_alias_actions,
    template_body,
    template_name,
    write_alias,
)


@dataclass(frozen=True)
class IndexStatus:
    kind: str
    read_alias: str
    read_indices: tuple[str, ...]
    write_index: str
    live_version: int  # 0: not created
    shipped_version: int
    docs: int

    @property
    def needs_migration(self) -> bool:
        return 0 < self.live_version < self.shipped_version


def _version_of(index: str) -> int:
    tail = index.rsplit("-v", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def write_index_version(client: Any, alias: str) -> int:
    """The mapping version of the index a write alias points at (0: none found)."""
    index = _write_target(client, alias)
    return _version_of(index) if index else 0


def _alias_targets(client: Any, alias: str) -> list[str]:
    if not client.indices.exists_alias(name=alias):
        return []
    return sorted(client.indices.get_alias(name=alias).body)


def _write_target(client: Any, alias: str) -> str:
    if not client.indices.exists_alias(name=alias):
        return ""
    found = client.indices.get_alias(name=alias).body
    for index, info in found.items():
        if not isinstance(info, dict):  # not an index's entry
            continue
        meta = info.get("aliases", {}).get(alias, {})
        if meta.get("is_write_index", len(found) == 1):
            return index
    return ""


def init(client: Any, prefix: str) -> list[str]:
    """For each kind missing, its template and first index version with both aliases.

    The store calls this on every open (the web UI opens one per request), so a kind
    already in place costs one read and no cluster-state write; ``migrate`` puts the
    template of a newer mapping version itself.
    """
    created: list[str] = []
    for kind in KINDS:
        if client.indices.exists_alias(name=read_alias(prefix, kind)):
            continue
        client.indices.put_index_template(name=template_name(prefix, kind),
                                          **template_body(prefix, kind))
        name = index_name(prefix, kind, mapping_version(kind))
        body = create_index_body(prefix, kind, with_aliases=True)
        resp = client.options(ignore_status=400).indices.create(index=name, **body)
        if resp.meta.status == 200:
            created.append(name)
        elif "resource_already_exists" not in str(resp.body):
            raise RuntimeError(f"creating index {name} failed: {resp.body}")
    return created


def status(client: Any, prefix: str) -> list[IndexStatus]:
    rows = []
    for kind in KINDS:
        alias = read_alias(prefix, kind)
        targets = _alias_targets(client, alias)
        write = _write_target(client, write_alias(prefix, kind))
        docs = int(client.count(index=alias)["count"]) if targets else 0
        rows.append(IndexStatus(kind, alias, tuple(targets), write,
                                _version_of(write) if write else 0, mapping_version(kind), docs))
    return rows


def migrate(client: Any, prefix: str, kinds: tuple[str, ...] = KINDS) -> list[tuple[str, str]]:
    """Move every kind whose shipped mapping is newer onto a new index; (old, new) pairs."""
    moved = []
    for row in status(client, prefix):
        if row.kind not in kinds or not row.needs_migration:
            continue
        old = row.write_index
        new = index_name(prefix, row.kind, row.shipped_version)
        client.indices.put_index_template(name=template_name(prefix, row.kind),
                                          **template_body(prefix, row.kind))
        if not client.indices.exists(index=new):
            client.indices.create(index=new,
                                  **create_index_body(prefix, row.kind, with_aliases=False))
        client.reindex(**reindex_body(old, new), wait_for_completion=True, refresh=True)
        client.indices.update_aliases(**swap_alias_actions(prefix, row.kind, old, new))
        client.reindex(**reindex_body(old, new), wait_for_completion=True, refresh=True)
        moved.append((old, new))
    return moved


def drop(client: Any, prefix: str) -> None:
    """Delete every index and template of a prefix (test runs, pilot data wiped whole)."""
    for kind in KINDS:
        found = client.options(ignore_status=404).indices.get(index=f"{prefix}-{kind}-v*")
        for name in sorted(found.body or {}):  # by name: wildcard deletes are refused
            client.options(ignore_status=404).indices.delete(index=name)
        client.options(ignore_status=404).indices.delete_index_template(
            name=template_name(prefix, kind))
