"""A spider for tests: the generic spider with a ``start()`` of its own, which does not
call ``replay`` (as a custom spider written before the journal would not)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urljoin

from crawler.spiders.generic import GenericSpider


class OwnStartSpider(GenericSpider):
    async def start(self) -> AsyncIterator[Any]:
        for section in self.source.sections:
            yield self._listing_request(urljoin(self.source.base_url, section.url),
                                        section.name)
