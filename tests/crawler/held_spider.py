"""A spider for tests: the generic spider, whose callback never reads an ad page whose
address holds HELD (it waits until the process is killed). The page is archived and waits unread, as
pages wait their turn for the spider in a crawl at full speed when a kill comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from crawler.spiders.generic import GenericSpider

HELD = "/ad/2"


class HeldSpider(GenericSpider):
    async def parse_ad(self, response: Any) -> AsyncIterator[Any]:
        if HELD in response.url:
            await asyncio.Event().wait()  # never set: held until the process is killed
        async for item in super().parse_ad(response):
            yield item
