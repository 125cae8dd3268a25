"""A custom spider: the demo board read through its app's JSON feed, not its HTML.

The model for a site that needs code. Some sites load their listings from a JSON API
that no CSS or XPath selector reads; their spider subclasses GenericSpider and replaces
the one step that differs, ``read_listing``. Everything else is the generic spider's:
sections and revisits from the source file, the ad pages read with its selectors, the
archive, completeness of the listings, the pipeline. A source file chooses it with
``spider: demo-board-api`` (sources/examples/demo-board-api.yaml).

The feed (``/board/api/list?region=…&offset=…``, demosite.pages_board.listing_api)::

    {"ads": [{"adid": "K7X2Q", "href": "../view?adid=K7X2Q", …}, …], "total": 57,
     "next": "list?…" | null}

A feed that is not that shape raises, so the run's listings count as incomplete and the
reason is kept with the run: a changed API is said, not taken for a board with no ads.
An empty ``ads`` is the board saying the region has none only with ``"total": 0``; an
empty list alone (a soft block, a rate limit answering 200) leaves the listings
incomplete, as an HTML listing without the ``empty_listing`` notice does.
"""

from __future__ import annotations

import json
from typing import Any

from scrapy.http import TextResponse

from crawler.extract import http_url
from crawler.spiders.generic import GenericSpider, Listing

MAX_FEED_ADS = 10_000  # more in one page is not this feed


class BoardApiSpider(GenericSpider):
    name = "demo-board-api"

    def read_listing(self, response: TextResponse) -> Listing:
        """The feed's ad links and next page: absolute http(s) URLs, each once, as
        ``links()`` gives them from HTML (no ``javascript:``, no fragments)."""
        feed = json.loads(response.text)
        ads = _field(feed, "ads", list)
        if len(ads) > MAX_FEED_ADS:
            raise ValueError(f"feed lists {len(ads)} ads, more than {MAX_FEED_ADS}")
        urls = [http_url(response.url, _field(ad, "href", str)) for ad in ads]
        following = http_url(response.url, _field(feed, "next", (str, type(None))) or "")
        return Listing(list(dict.fromkeys(u for u in urls if u)),
                       [following] if following else [],
                       says_empty=not ads and feed.get("total") == 0)


def _field(data: Any, key: str, kind: type | tuple[type, ...]) -> Any:
    """``data[key]``, or a ValueError that says what the feed had instead."""
    if not isinstance(data, dict) or key not in data:
        raise ValueError(f"feed item has no {key!r}: {str(data)[:200]!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is str and not value.strip()):
        raise ValueError(f"feed {key!r} is {value!r:.200}, not what the board sends")
    return value
