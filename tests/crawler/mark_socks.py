"""A downloader middleware for tests: marks every request for a SOCKS proxy (as a custom
spider could), in a crawl whose source names none."""

from __future__ import annotations

from typing import Any

from crawler.socks import SOCKS_KEY


class MarkForSocks:
    def process_request(self, request: Any, spider: Any = None) -> None:
        request.meta[SOCKS_KEY] = True
