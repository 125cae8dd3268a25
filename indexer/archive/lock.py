"""Who may change the archive at once: crawls share it, a purge has it alone.

Crawls only add to the archive (WARC files of their own, images by hash), so any number
may write at once. A purge rewrites WARC files and deletes images: a crawl writing
while it runs could lose records (appended to a file the purge then replaces) or refer
to an image the purge just deleted. So every process that writes to an archive (a crawl
process, an ingest worker) holds a shared lock on its ``archive.lock`` for as long as it
writes (and ``archive_verify`` and ``adtrace reindex`` while they read), and a purge
takes that lock alone: it refuses at once, having changed nothing, while a crawl holds
it, and a crawl that starts during a purge waits for it to end. The locks are
``flock``s: the kernel drops them with the process, killed or not.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "archive.lock"
JOURNAL = "purge-journal.json"  # a purge's journal (indexer.archive.purge): there until it ends
IMAGE_JOURNAL = "purge-images.json"  # the images a purge takes out: there until they are out
RECORD_JOURNAL = "purge-records.json"  # the WARC records a purge takes out: there until out
log = logging.getLogger(__name__)


class ArchiveBusy(RuntimeError):
    """The archive cannot be had now: a crawl writes to it (no purge), or a purge was
    interrupted (no crawl until it is finished)."""


def _open(root: str | Path) -> int:
    Path(root).mkdir(parents=True, exist_ok=True)
    return os.open(Path(root) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)


def hold_shared(root: str | Path, *, writes: bool = True) -> int:
    """Take a writer's share of ``root``'s lock (waiting out a purge); returns the
    descriptor that holds it, for ``release``. A purge that was killed halfway (a journal
    of it is still there) must be finished first: the capture index still points at the
    old places, and revisit records written now would refer to them; images it had yet to
    take out could be archived again for a new ad, and then be taken out under it (a
    reader, ``writes=False``, is not held up by those). The WARC records a purge has yet
    to take out (RECORD_JOURNAL) do not hold a crawl back: it writes new files only, so
    it moves none of them, and a revisit it writes of one keeps it (the purge keeps the
    original of every revisit it keeps); a WARC file too damaged to rewrite would
    otherwise stop every crawl until it is mended, which it may never be."""
    fd = _open(root)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("archive %s is being purged: waiting for the purge to end", root)
        fcntl.flock(fd, fcntl.LOCK_SH)
    for journal in (JOURNAL, IMAGE_JOURNAL) if writes else (JOURNAL,):
        if (Path(root) / journal).exists():
            os.close(fd)
            raise ArchiveBusy(f"archive {root}: a purge was interrupted ({journal} is "
                              "there); run `adtrace purge --yes` again to finish it first (it "
                              "also purges what the retention policy says is due)")
    return fd


def hold_alone(root: str | Path) -> int:
    """Take ``root``'s lock for a purge, or raise ArchiveBusy at once if a crawl (or a
    check) holds it; returns the descriptor that holds it, for ``release``."""
    fd = _open(root)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ArchiveBusy(f"archive {root} is in use by a crawl (or a check): nothing was "
                          "purged; purge when no crawl runs") from None
    return fd


def release(fd: int | None) -> None:
    """Give the lock back (closing the descriptor releases it)."""
    if fd is not None:
        os.close(fd)


@contextlib.contextmanager
def held(root: str | Path, *, alone: bool = False) -> Iterator[None]:
    """The lock for a ``with`` block: alone (a purge), else shared (a reader such as
    verify or reindex)."""
    fd = hold_alone(root) if alone else hold_shared(root, writes=False)
    try:
        yield
    finally:
        release(fd)
