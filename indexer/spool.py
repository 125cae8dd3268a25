"""The spool: observations kept in a file while the store is unavailable.

When the store is down (Elasticsearch unreachable, SQLite read-only, locked or corrupt)
a crawl goes on: each page is already in the WARC archive, and what the store would have
received — the source, each observation, each removal — is appended here as one JSON line
(a single write, so a kill leaves at most one partial last line, which is skipped).
``replay`` writes the lines to the store in order and keeps the ones it could not write,
so nothing is lost; it runs at the start of the next crawl and by ``adtrace spool replay``.
Replaying twice is harmless: store writes are idempotent.

Several processes may share one spool (a crawl's ingest worker per source, an
``adtrace spool replay`` beside a crawl): appends and a replay's read-write-rewrite take
an exclusive lock on a file beside it, so a line appended while another process replays
is never rewritten away.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.model import (
    Observation,
    SourceInfo,
    capture_from_dict,
    fields_from_dict,
    from_iso,
    to_dict,
    to_iso,
)
from indexer.store.base import StoreError

log = logging.getLogger(__name__)
SPOOL_FILE = "spool.jsonl"


@dataclass
class ReplayResult:
    replayed: int = 0
    left: int = 0
    damaged: int = 0
    error: str = ""


class Spool:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """This process alone appends to or rewrites the spool until the block ends."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with self._locked():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def add_source(self, info: SourceInfo) -> None:
        self._append({"kind": "source", "source": to_dict(info)})

    def add(self, obs: Observation) -> None:
        self._append({"kind": "obs", "obs": to_dict(obs)})

    def add_removal(self, source_id: str, site_ad_id: str, at: Any, reason: str) -> None:
        self._append({"kind": "removal", "source_id": source_id, "site_ad_id": site_ad_id,
                      "at": to_iso(at), "reason": reason})

    def lines(self) -> list[str]:
        if not self.path.exists():
            return []
        return self.path.read_text(encoding="utf-8", errors="replace").splitlines()

    def __len__(self) -> int:
        return sum(1 for line in self.lines() if line.strip())

    def replay(self, ingestor: Any) -> ReplayResult:
        """Write spooled lines through ``ingestor``; keep what could not be written.

        Stops at the first StoreError (the store is still down: writing on would only
        reorder history); damaged lines are logged with their number and dropped.
        """
        if not self.path.exists():
            return ReplayResult()
        with self._locked():
            return self._replay(ingestor)

    def _replay(self, ingestor: Any) -> ReplayResult:
        result = ReplayResult()
        lines = [ln for ln in self.lines() if ln.strip()]
        if not lines:
            return result
        keep: list[str] = []
        for n, line in enumerate(lines, 1):
            if keep:
                keep.append(line)
                continue
            try:
                record = json.loads(line)
                _apply(ingestor, record)
                result.replayed += 1
            except StoreError as exc:
                result.error = str(exc)
                keep.append(line)
            except (ValueError, KeyError, TypeError) as exc:
                result.damaged += 1
                log.error("spool %s line %d is damaged and dropped: %s", self.path, n, exc)
        result.left = len(keep)
        self._rewrite(keep)
        return result

    def _rewrite(self, keep: list[str]) -> None:
        if not keep:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text("".join(line + "\n" for line in keep), encoding="utf-8")
        os.replace(tmp, self.path)


def _apply(ingestor: Any, record: dict[str, Any]) -> None:
    kind = record["kind"]
    if kind == "source":
        ingestor.register_source(SourceInfo(**record["source"]))
    elif kind == "obs":
        o = record["obs"]
        ingestor.ingest(Observation(o["source_id"], o["site_ad_id"], o["url"],
                                    capture_from_dict(o["capture"]),
                                    fields_from_dict(o["fields"])))
    elif kind == "removal":
        ingestor.mark_removed(record["source_id"], record["site_ad_id"],
                              from_iso(record["at"]), record["reason"])
    else:
        raise ValueError(f"unknown spool record kind {kind!r}")
