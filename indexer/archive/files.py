"""Files the archive replaces whole: written beside, synced, then renamed over; the
folders whose entries must outlast a power cut before the next step is taken; and
appends written whole."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def replace_synced(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` whole or as it was: a crash leaves at most a temporary file
    beside it (``.<name>.<pid>.tmp``). The rename itself is synced too, so that what
    follows it (a purge unlinking what the new file no longer names) never outlasts it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    sync_dirs([path.parent])


def sync_dirs(folders: Iterable[Path]) -> None:
    """Sync each folder (once), so that its entries as they are now (files created,
    renamed over or unlinked in it) survive a power cut.

    fsync of a file keeps its bytes, not its name: the name lives in the folder, and the
    kernel may write folders back in any order. A purge takes steps in folders of their
    own (WARC files, packs, the index, its journal), and each step must be on disk before
    the one that relies on it, or a power cut could leave a journal that names a
    temporary file that is not there, or bring back a pack of purged photos."""
    for folder in dict.fromkeys(folders):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (a short write is retried with the rest; an error raises)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
