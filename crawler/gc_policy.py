"""Garbage collection for the long-running crawl and ingest worker processes.

CPython runs its cycle collector after every 700 net new container objects, and every
tenth of those runs also sweeps generation 1; a full sweep walks every object alive.
A crawl allocates thousands of short-lived objects per request (Twisted Deferreds,
asyncio handles, Scrapy headers), so the collector ran about 2,000 times in a
3,000-ad crawl and took 12% of the crawl process's CPU, most of it walking the same
long-lived objects (Scrapy, Twisted, spaCy's vocabulary) again and again.

``for_long_run()`` is called once a process is set up: what exists by then is frozen
(``gc.freeze``: kept out of every later sweep; those objects live as long as the
process anyway), and the young generation is swept after 50,000 new objects rather than
700; the older ones keep their ratios (every tenth sweep also sweeps the next). Cycles
are still collected, later: crawl_bench's end-to-end peak memory was 202–210 MB in the
runs that measured this (208 MB before).
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 10, 10)  # generation 0 objects; gen-0 runs per gen 1; gen-1 per gen 2


def for_long_run() -> None:
    """Freeze what the process holds after its setup and collect less often."""
    gc.collect()  # what setup left as garbage goes now, not into the frozen set
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
