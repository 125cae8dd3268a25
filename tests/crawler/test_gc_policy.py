"""The crawl and ingest worker processes collect garbage for a long run (gc_policy)."""

from __future__ import annotations

import json
import subprocess
import sys

from crawler.gc_policy import THRESHOLDS

PROBE = """
import gc, json
gc.disable()                                 # nothing collects before for_long_run
held = [[i] for i in range(1000)]            # what a process holds after its setup
freed = []
class Node:
    def __del__(self):
        freed.append(True)
node = Node(); node.me = node; del node      # garbage the setup left, in a cycle
before = gc.get_freeze_count()
from crawler.gc_policy import for_long_run
for_long_run()
print(json.dumps({"frozen": gc.get_freeze_count() - before, "threshold": gc.get_threshold(),
                  "setup_garbage_freed": bool(freed)}))
"""


def test_setup_is_frozen_its_garbage_freed_and_collections_are_rarer() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True).stdout
    got = json.loads(out)
    assert got["frozen"] >= 1000  # the held lists are out of every later sweep
    assert got["setup_garbage_freed"]  # collected first, not frozen for the process's life
    assert tuple(got["threshold"]) == THRESHOLDS and THRESHOLDS[0] > 700
