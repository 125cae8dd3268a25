"""The spool: observations kept in a file while the store is unavailable.

When the store is down (Elasticsearch unreachable, SQLite read-only, locked or corrupt)
a crawl goes on: each page is already in the WARC archive, and what the store would have
received — the source, each observation, each removal — is appended here as one JSON line
(a single write, so a kill leaves at most one partial last line, which is skipped).
``replay`` writes the lines to the store in order and keeps the ones it could not write,
so nothing is lost; it runs at the start of the next crawl and by ``adtrace spool replay``.
Replaying twice is harmless: store writes are idempotent, and a removal older than the
ad's last sighting changes nothing (replayed again, it does not undo the ad's return). A
line that is not a record the store can take (cut short by a kill, or broken) is moved,
byte for byte, to ``<spool>.damaged.jsonl`` beside it, never dropped; and a file named on
the command line in which no line is a spool record (another file named by mistake) is
refused untouched.

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
from collections.abc import Callable, Iterator
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


KINDS = frozenset({"source", "obs", "removal"})


class NotASpool(ValueError):
    """The file holds no spool record: it is not a spool, and is left as it is."""


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
    def locked(self) -> Iterator[None]:
        """This process alone appends to, rewrites or replays the spool until the block
        ends (a crawl mending a killed crawl's writes holds it: crawler.cut_writes)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
        with self.locked():
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

    def pending_ads(self, source_id: str) -> set[str]:
        """The site ad ids of ``source_id`` that lines of the spool still hold (an
        observation or a removal): their next writes must come after those lines."""
        held = set()
        for line in self.lines():
            record = _record(line.encode("utf-8"))
            if record is None:
                continue
            if record.get("kind") == "obs":
                obs = record.get("obs") or {}
                sid, ad = obs.get("source_id"), obs.get("site_ad_id")
            else:
                sid, ad = record.get("source_id"), record.get("site_ad_id")
            if sid == source_id and isinstance(ad, str):
                held.add(ad)
        return held

    @property
    def damaged_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}.damaged{self.path.suffix}")

    def replay(self, ingestor: Any, named: bool = False,
               on_line: Callable[[int, int], None] | None = None) -> ReplayResult:
        """Write spooled lines through ``ingestor``; keep what could not be written.

        Stops at the first StoreError (the store is still down: writing on would only
        reorder history); damaged lines are logged with their number and moved to
        ``damaged_path``. A file a user ``named`` in which no line is a record raises
        NotASpool and is left as it is (the crawl's own spool is always a spool).
        ``on_line(done, total)`` follows a long replay (a night's crawls spooled): the
        ingest worker tells the crawl it is still at work, the CLI shows progress.
        """
        if not self.path.exists():
            return ReplayResult()
        with self.locked():
            return self._replay(ingestor, named, on_line or _ignore)

    def _replay(self, ingestor: Any, named: bool,
                on_line: Callable[[int, int], None]) -> ReplayResult:
        result = ReplayResult()
        raw = [ln for ln in self.path.read_bytes().splitlines() if ln.strip()]
        records = [_record(ln) for ln in raw]
        if named and raw and not any(records):
            raise NotASpool(f"{self.path}: no line is a spool record; left as it is")
        keep: list[bytes] = []
        damaged: list[bytes] = []
        for n, (line, record) in enumerate(zip(raw, records, strict=True), 1):
            if keep:
                keep.append(line)
                continue
            try:
                if record is None:
                    raise ValueError("not a spool record")
                _apply(ingestor, record)
                result.replayed += 1
            except StoreError as exc:
                result.error = str(exc)
                keep.append(line)
            except (ValueError, KeyError, TypeError) as exc:
                damaged.append(line)
                log.error("spool %s line %d is damaged, moved to %s: %s", self.path, n,
                          self.damaged_path, exc)
            on_line(n, len(raw))
        result.damaged, result.left = len(damaged), len(keep)
        self._set_aside(damaged)
        self._rewrite(keep)
        return result

    def _set_aside(self, damaged: list[bytes]) -> None:
        """Append damaged lines, as they were, to the file beside the spool."""
        if not damaged:
            return
        with open(self.damaged_path, "ab") as fh:
            fh.write(b"".join(line + b"\n" for line in damaged))
            fh.flush()
            os.fsync(fh.fileno())

    def _rewrite(self, keep: list[bytes]) -> None:
        if not keep:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(b"".join(line + b"\n" for line in keep))
        os.replace(tmp, self.path)


def _ignore(done: int, total: int) -> None:
    """No one follows this replay."""


def _record(line: bytes) -> dict[str, Any] | None:
    """A spool record (a JSON object of a known kind), or None."""
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("kind") in KINDS else None


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
