"""Files the archive replaces whole: written beside, synced, then renamed over."""

from __future__ import annotations

import os
from pathlib import Path


def replace_synced(path: Path, data: bytes) -> None:
    """``path`` holds ``data`` whole or as it was: a crash leaves at most a temporary file
    beside it (``.<name>.<pid>.tmp``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
