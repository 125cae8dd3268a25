"""Files the command line writes (exports, labels, truth files): whole or not at all, and
never over evidence.

An export opened its output with ``open(path, "w")``: the old file was emptied at once,
so an export that failed halfway (a full disk, a store error) left half a file, and an
output path that named the store or the accounts file (one mistyped path) emptied the
evidence or the audit log before the export even read it. Here the text goes to a
temporary file beside the target and is renamed over it only when complete, and a path
that names a database (SQLite's header), a WARC file or anything in the archive folder
is refused before anything is written. The file is made readable by its owner only
(mkstemp's mode): exports hold what the store holds. A pipe or a device (``/dev/stdout``)
is written into as it is, never renamed over.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

SQLITE_HEADER = b"SQLite format 3\x00"


class OutputRefused(ValueError):
    """The output path names something an export must never replace."""


def check_target(path: str | Path, archive_dir: str | Path | None = None) -> None:
    """Refuse a path that is a database, a WARC file, or in the archive folder."""
    target = Path(path).resolve()
    if archive_dir is not None and target.is_relative_to(Path(archive_dir).resolve()):
        raise OutputRefused(f"{path} is in the archive ({archive_dir}): "
                            "an export never writes there")
    if target.name.endswith((".warc", ".warc.gz")):
        raise OutputRefused(f"{path} is a WARC file name: an export never writes one")
    if target.is_dir():
        raise OutputRefused(f"{path} is a folder")
    if not target.is_file():  # new, or a pipe or a device: nothing to read (a pipe blocks)
        return
    with contextlib.suppress(OSError), open(target, "rb") as fh:
        if fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER:
            raise OutputRefused(f"{path} is a database (a store or the accounts file?): "
                                "an export never replaces one")


@contextlib.contextmanager
def written_whole(path: str | Path, archive_dir: str | Path | None = None,
                  newline: str | None = None) -> Iterator[IO[str]]:
    """A text file for ``path`` that appears there only if the block ends without an
    error (a temporary file beside it, renamed over it); refused as ``check_target``
    says. OSError and OutputRefused reach the caller, which names the option."""
    check_target(path, archive_dir)
    target = Path(path)
    if target.exists() and not target.is_file():  # a pipe or a device: written into as is
        with open(target, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            yield fh
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
