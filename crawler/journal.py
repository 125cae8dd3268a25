"""The run's journal: what the spider read from each page, on disk until the store has it.

Every page is in the WARC before the spider reads it, but what the spider read reaches
the store later: after the ad's photos are fetched, in a batch of ads, through the
ingest worker. A crawl killed in between (SIGKILL, the OOM killer, a power cut) leaves
the page archived and its ad not stored. The next crawl fetches the ad again, but if the
page changed meanwhile, the version the killed run saw was in the WARC only: in no
search and no history.

So each ad page is written to the run's journal as the archive writes it (a ``page``
line: its capture and what its request knew; the archive middleware tells the spider,
``GenericSpider.on_archived``), before it waits its turn for the spider: a crawl at full
speed holds a few dozen pages there at any moment (15 to 31, of the two demo sources, at
five kills of the benchmark's world). The spider then writes each ad it read, and each
removal a page told, before it fetches the photos (its ``ad`` or ``removal`` line
supersedes the page's; a page that gives nothing to store is noted ``done``). One JSON
line, one ``write``: a kill leaves at most a partial last line, which is skipped. The
ingest side writes a ``done`` line with the capture ids of each batch once the store (or
the spool) took it. A run whose ads were all handed over and written deletes its journal
when it closes. The next crawl of the source replays what a journal left behind still
lacks (crawler.journal_replay) before it writes anything of its own, reading again from
the archive a page no line superseded, then deletes it.

File: ``crawling/<source id>.<run start>.<pid>.journal.jsonl`` in the archive, beside
the source's lock. Lines: ``{"run": {"source_id", "started"}}`` first, then
``{"page": {...}}``, ``{"ad": {...}}``, ``{"removal": {...}}`` and ``{"done": [...]}``
(pages and ads by capture id, removals by ``removal_key``).
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.source_lock import LOCK_DIR
from indexer.archive.files import write_all
from indexer.model import Capture, ad_id_for, to_dict, to_iso

log = logging.getLogger(__name__)
SUFFIX = ".journal.jsonl"


def journal_path(archive_dir: str | Path, source_id: str, started: datetime, pid: int) -> Path:
    """The journal of the run of ``source_id`` begun at ``started`` by process ``pid``
    (the pid tells apart two runs given one start by a test clock)."""
    stamp = "".join(c for c in to_iso(started) if c.isalnum())  # no dot: journals_of counts them
    return Path(archive_dir) / LOCK_DIR / f"{source_id}.{stamp}.{pid}{SUFFIX}"


def removal_key(site_ad_id: str, at: datetime) -> str:
    """How a removal is named in a ``done`` line (it has no capture of its own in the
    item: the ad and the time say which)."""
    return f"removal {site_ad_id} {to_iso(at)}"


def journals_of(archive_dir: str | Path, source_id: str) -> list[Path]:
    """The journals runs of ``source_id`` left, oldest run first (their names begin with
    the run's start)."""
    folder = Path(archive_dir) / LOCK_DIR
    if not folder.is_dir():
        return []
    prefix = f"{source_id}."
    return sorted(p for p in folder.iterdir()
                  if p.name.startswith(prefix) and p.name.endswith(SUFFIX)
                  and p.name[len(prefix):].count(".") == 3)  # <stamp>.<pid>.journal.jsonl


class Journal:
    """Appends lines to one run's journal. A line that cannot be written (a full disk) is
    said once and the crawl goes on: the journal only guards against a kill."""

    def __init__(self, path: str | Path, source_id: str = "", started: datetime | None = None
                 ) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._header = ({"run": {"source_id": source_id, "started": to_iso(started)}}
                        if started is not None else None)
        self._failed = False

    def ad(self, site_ad_id: str, url: str, capture: Capture, title: str, text: str,
           attributes: dict[str, str], image_urls: list[str]) -> None:
        self._append({"ad": {"site_ad_id": site_ad_id, "url": url, "capture": to_dict(capture),
                             "title": title, "text": text, "attributes": attributes,
                             "images": image_urls}})

    def page(self, url: str, capture: Capture, site_ad_id: str, from_listing: bool,
             redirect_urls: list[str], truncated: bool) -> None:
        """An ad page as the archive wrote it, not read yet: ``url`` as the spider gets
        it (where redirects led), with what its request knew."""
        self._append({"page": {"url": url, "capture": to_dict(capture),
                               "site_ad_id": site_ad_id, "from_listing": from_listing,
                               "redirect_urls": redirect_urls, "truncated": truncated}})

    def removal(self, site_ad_id: str, url: str, at: datetime, reason: str,
                page: str = "") -> None:
        """A removal a page told: ``page``, the capture id of that page (its ``page``
        line is then superseded)."""
        self._append({"removal": {"site_ad_id": site_ad_id, "url": url, "at": to_iso(at),
                                  "reason": reason, "page": page}})

    def done(self, keys: list[str]) -> None:
        """Note written (ads by capture id, removals by ``removal_key``), or a page read
        that gives nothing to store (by capture id)."""
        if keys:
            self._append({"done": keys})

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            if self._fd is None:
                self._open()
            assert self._fd is not None
            write_all(self._fd, line)
        except OSError as exc:
            if not self._failed:
                self._failed = True
                log.error("journal %s: cannot write (%s); a kill now may keep what this run "
                          "read from pages out of the store until they are fetched again",
                          self.path, exc)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if self._header is not None and os.fstat(fd).st_size == 0:
            write_all(fd, (json.dumps(self._header) + "\n").encode("ascii"))
        self._fd = fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def discard(self) -> None:
        """The run handed everything over and it was written: nothing to replay."""
        self.close()
        self.path.unlink(missing_ok=True)


def purge(archive_dir: str | Path, source_id: str, before: datetime | None,
          held: set[str]) -> int:
    """Take out of the journals killed runs of ``source_id`` left what a purge takes out of
    the archive: the pages, ads and removals fetched before ``before`` (all of them for
    None, a wipe), but those of the held ads (``held``: ad ids; a page whose link named no
    ad cannot be told held, and goes with its page). A journal left with nothing
    to replay is deleted; one written since is left alone. Returns the lines taken out.

    A replay passes over a line whose page was purged anyway, but the line itself holds
    what the ad said: a journal of a source never crawled again would keep it past its
    retention. A crawl of the source under way raises SourceBusy (its replay deletes the
    journals it read once they are written). The source's lock is probed, not taken
    (taken, it would name this process as the source's crawl): a crawl that starts
    meanwhile reads a journal whole, before or after its rewrite (``os.replace``), and
    passes over the purged lines either way, since the archive no longer has their
    pages."""
    from crawler.source_lock import SourceBusy, under_way

    paths = journals_of(archive_dir, source_id)
    if not paths:
        return 0
    if (holder := under_way(archive_dir, source_id)) is not None:
        raise SourceBusy(f"{source_id} is being crawled ({holder.describe()})")
    return sum(_purge_one(path, source_id, before, held) for path in paths)


def _purge_one(path: Path, source_id: str, before: datetime | None, held: set[str]) -> int:
    floor = to_iso(before) if before is not None else None
    kept: list[bytes] = []
    dropped = replayable = 0
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw if raw.endswith(b"\n") else raw + b"\n"
            try:
                record = json.loads(raw)
                body = record.get("ad") or record.get("removal") or record.get("page")
                if body is not None:
                    at = str(body["at"] if "removal" in record else body["capture"]["fetched_at"])
                    ad_id = ad_id_for(source_id, str(body["site_ad_id"]))
            except (ValueError, AttributeError, KeyError, TypeError):
                dropped += 1  # cut short by the kill: replayed never, and may hold text
                continue
            if body is None:
                kept.append(line)
                continue
            if (floor is None or at < floor) and ad_id not in held:
                dropped += 1
                continue
            kept.append(line)
            replayable += 1
    if not replayable:
        path.unlink(missing_ok=True)
    elif dropped:
        tmp = path.with_name(f".{path.name}.purge.tmp")
        tmp.write_bytes(b"".join(kept))
        os.replace(tmp, path)
    return dropped
