"""A child process that ends with its parent (Linux ``PR_SET_PDEATHSIG``).

A crawl process whose ``adtrace crawl`` or ``adtrace schedule`` was killed would
otherwise go on crawling unseen, holding its sources' locks, so that the crawl started
again is refused until it ends; an ingest worker whose crawl process died would store
ads after the next crawl read which ads it knows. The kernel sends the signal when the
thread that started the child ends; the callers start children from a thread that waits
for them.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys

PR_SET_PDEATHSIG = 1


def end_with_parent(parent_pid: int, signum: int) -> None:
    """Be sent ``signum`` when the parent dies, however it dies; a parent already gone
    (it died before this call, and another process adopted this one) ends this process
    at once. Elsewhere than Linux nothing is asked (an ingest worker still ends when its
    pipe closes; a crawl process when it is done)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signum)
    if os.getppid() != parent_pid:
        os._exit(1)
