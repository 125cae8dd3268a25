"""Scrapy's DNS resolver, noting every name the crawl asked it for in the file that
``ADTRACE_TEST_DNS_LOG`` names: a test of a SOCKS crawl reads which names were resolved
on the crawler's side (set with ``TWISTED_DNS_RESOLVER``; the crawl runs in a child process)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from scrapy.resolver import CachingThreadedResolver


class RecordingResolver(CachingThreadedResolver):
    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Any:  # noqa: N802
        with open(os.environ["ADTRACE_TEST_DNS_LOG"], "a", encoding="utf-8") as log:
            log.write(name + "\n")
        return super().getHostByName(name, timeout)
