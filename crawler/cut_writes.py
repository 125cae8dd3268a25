"""After a killed crawl: the next crawl of the source finishes the writes the kill cut short.

A kill stops a store write part-way. SQLite rolls it back; Elasticsearch keeps what it
had been sent (``Store.finish_cut_writes`` says what that leaves and how it is mended).
The crawl that opens the store next for the source mends it, before it writes anything,
from the start of the oldest of the runs just before it that began and never ended (as
this crawl holds the source's lock, those were killed, not running).

A mend that fails (the store gone again) is owed: its start is kept in
``crawling/<source id>.mend`` in the archive, beside the source's lock, and the next
crawl of the source mends from there, whether or not a run was killed in between. The
file is written before the mend and removed once it is done, so a mend killed half-way
is owed too. The spool's lock is held meanwhile: an ``adtrace spool replay`` beside the
crawl would otherwise write observations of the killed run while they are being judged.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.source_lock import LOCK_DIR
from indexer.archive.lookup import CapturesSince
from indexer.crawl_runs import killed_since
from indexer.model import from_iso, to_iso
from indexer.store.base import Mended

log = logging.getLogger(__name__)
RUNS_LOOKED_AT = 20  # runs killed one after another that the next crawl finishes together


def owed_path(archive_dir: str | Path, source_id: str) -> Path:
    return Path(archive_dir) / LOCK_DIR / f"{source_id}.mend"


def owed_since(archive_dir: str | Path, source_id: str) -> datetime | None:
    """The start of a mend owed by an earlier crawl (None: none, or a file that cannot
    be read, which is said)."""
    path = owed_path(archive_dir, source_id)
    try:
        return from_iso(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.error("%s: cannot read %s (%s): the mend it owes is not done", source_id, path, exc)
        return None


def _owe(archive_dir: str | Path, source_id: str, since: datetime) -> None:
    path = owed_path(archive_dir, source_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(to_iso(since) + "\n", encoding="ascii")
    os.replace(tmp, path)  # whole or not at all


def finish_killed_runs(store: Any, source_id: str, archive_dir: str | Path, started: datetime,
                       spool: Any) -> tuple[datetime, Mended] | None:
    """Mend what killed runs of the source left (None: nothing was owed). Raises the
    store's StoreError, and the mend stays owed."""
    starts = [t for t in (killed_since(store.crawl_runs(source_id, RUNS_LOOKED_AT), started),
                          owed_since(archive_dir, source_id)) if t is not None]
    if not starts:
        return None
    since = min(starts)
    _owe(archive_dir, source_id, since)
    with spool.locked():
        mended = store.finish_cut_writes(source_id, since, CapturesSince(archive_dir, since))
    owed_path(archive_dir, source_id).unlink(missing_ok=True)
    return since, mended
