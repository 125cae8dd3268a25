"""One crawl of a source at a time, and a crawl under way told from one that was killed.

Two crawls of one source at once (the scheduler's and one started by hand) would fetch
every page twice and record two runs that each judge the listings. So the crawl process
holds a lock per source, ``crawling/<source id>.lock`` in the archive, for as long as it
crawls that source. The lock is an ``flock``: the kernel drops it with the process,
killed or not, so a lock that is free means no crawl of the source is under way here,
whatever the store's run records say. The file keeps the holder's pid and start, to
name it when a second crawl is refused.

What this tells:
- a second crawl of the source is refused at once, naming the one under way; the other
  sources of its job are crawled;
- the scheduler leaves a source alone while a crawl of it is under way, and starts a
  source whose last run was recorded as begun but never ended (killed) again at once;
- ``adtrace crawl status`` and the Crawls page say "running now" or "killed".

The lock is local to one machine and one archive: crawls of one source on two machines
(each with its own archive, one Elasticsearch) are not kept apart by it.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from indexer.archive.lock import release  # the same flock: closing gives it back

__all__ = ["Holder", "SourceBusy", "ever_crawled_here", "hold", "lock_path", "release",
           "under_way"]

LOCK_DIR = "crawling"
# a status probe holds the lock for microseconds: a crawl that meets one tries again
# for this long before it takes the lock for held by another crawl
PROBE_GRACE_S = 1.0
_RETRY_S = 0.05


class SourceBusy(RuntimeError):
    """The source is being crawled by another process."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a source's lock: what its file says."""

    pid: int
    since: str  # ISO time the crawl began

    def describe(self) -> str:
        return f"crawl process {self.pid}, since {self.since[:19]}Z" if self.pid else "?"


def lock_path(archive_dir: str | Path, source_id: str) -> Path:
    return Path(archive_dir) / LOCK_DIR / f"{source_id}.lock"


def hold(archive_dir: str | Path, source_id: str, since: str) -> int:
    """Take the source's lock for this process, or raise SourceBusy naming who holds it.
    Returns the descriptor that holds it (``release`` gives it back; so does the end of
    the process)."""
    path = lock_path(archive_dir, source_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + PROBE_GRACE_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = _read(fd)
                os.close(fd)
                raise SourceBusy(f"{source_id} is being crawled ({holder.describe()}): "
                                 "a source is not crawled twice at once") from None
            time.sleep(_RETRY_S)
    line = f"{os.getpid()} {since}\n".encode("ascii")
    os.pwrite(fd, line, 0)  # then cut what an older holder's longer line left: a probe
    os.ftruncate(fd, len(line))  # meanwhile reads a whole line, never an empty file
    return fd


def under_way(archive_dir: str | Path, source_id: str) -> Holder | None:
    """The holder when a crawl of the source holds its lock now, else None. Probed by
    taking the lock for an instant (a crawl starting meanwhile waits: PROBE_GRACE_S)."""
    try:
        fd = os.open(lock_path(archive_dir, source_id), os.O_RDONLY)
    except OSError:
        return None  # never crawled into this archive, or no archive here
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return None
    except BlockingIOError:
        return _read(fd)
    finally:
        os.close(fd)


def ever_crawled_here(archive_dir: str | Path, source_id: str) -> bool:
    """Whether a crawl of the source ever took its lock in this archive: only then does a
    free lock say that an unfinished run was killed (else it ran elsewhere, or before
    the locks were kept)."""
    return lock_path(archive_dir, source_id).exists()


def _read(fd: int) -> Holder:
    try:
        pid, _, since = os.pread(fd, 200, 0).decode("ascii", "replace").strip().partition(" ")
        return Holder(int(pid), since)
    except (OSError, ValueError):
        return Holder(0, "")
