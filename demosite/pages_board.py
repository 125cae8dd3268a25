"""HTML of ``board``: offset paging, query-string ads, JSON-LD, lazy-loaded photos.

Layout: ``/board/list?region=<town>&offset=40`` (and the app's JSON feed of it at
``/board/api/list?…``), ads at ``/board/view?adid=K7X2Q``,
photos at ``/board/media/<photo>.jpg`` behind ``data-src`` / ``srcset``. A removed ad
answers 200 with a "removed" notice (the removed marker). Links are relative, as on
many real boards. Every piece of ad content passes through ``html.escape``; JSON-LD is
escaped so no ``</script>`` can close its element early.
"""

from __future__ import annotations

import json
from html import escape as e

from demosite.data import SITE_TOWNS, TOWN_BY_SLUG
from demosite.truth import image_path
from demosite.world import Ad, Version, World

PER_PAGE = 20
BLANK_GIF = "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="


def _page(title: str, body: str, head: str = "") -> str:
    return (
        "<!doctype html>\n<html>\n<head>\n"
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        f"<title>{e(title)} - Prikbord</title>\n{head}</head>\n<body>\n"
        '<div id="wrap"><div class="top"><a href="./">Prikbord</a> | zoekertjes</div>\n'
        f"{body}\n</div>\n</body>\n</html>\n"
    )


def home(world: World, day: int) -> str:
    items = "".join(
        f'<a class="region" href="list?region={t}">{e(TOWN_BY_SLUG[t].name)}</a><br>\n'
        for t in SITE_TOWNS["board"])
    return _page("Regio's", f'<div class="regions">\n{items}</div>')


def _region_page(world: World, day: int, town: str, offset: int, per_page: int
                 ) -> tuple[int, list[tuple[Ad, Version]]] | None:
    """(live ads in the region, those shown from ``offset`` on); None if it is unknown."""
    if town not in SITE_TOWNS["board"] or offset < 0:
        return None
    ids = world.live_ads("board", day, town)
    shown = []
    for i in ids[offset: offset + per_page]:
        ad = world.ad(i)
        v = world.version_on(ad, day)
        assert v is not None
        shown.append((ad, v))
    return len(ids), shown


def listing(world: World, day: int, town: str, offset: int, per_page: int = PER_PAGE) -> str | None:
    """Ads of a region from ``offset`` on; None if the region is unknown."""
    page = _region_page(world, day, town, offset, per_page)
    if page is None:
        return None
    total, shown = page
    rows = [
        f'<div class="row" data-id="{ad.site_ad_id}"><h3><a href="view?adid={ad.site_ad_id}">'
        f'{e(v.title)}</a></h3><p class="meta">{e(v.town_written)} &middot; {v.age}</p></div>\n'
        for ad, v in shown]
    pager = ""
    if offset > 0:
        pager += f'<a rel="prev" href="list?region={town}&amp;offset={max(0, offset - per_page)}">Vorige</a> '
    if offset + per_page < total:
        pager += f'<a rel="next" href="list?region={town}&amp;offset={offset + per_page}">Volgende</a>'
    name = TOWN_BY_SLUG[town].name
    if not rows:  # as real boards do: a notice, not just an empty list
        rows.append('<p class="empty">Geen zoekertjes in deze regio.</p>\n')
    body = (f"<h2>Zoekertjes {e(name)}</h2>\n<div class=\"results\">\n{''.join(rows)}</div>\n"
            f'<div class="pager">{pager}</div>')
    return _page(name, body)


def listing_api(world: World, day: int, town: str, offset: int,
                per_page: int = PER_PAGE) -> dict[str, object] | None:
    """The board app's JSON feed of the same listing (``/board/api/list?region=…``), which
    no selector reads: what the custom spider crawler.spiders.board_api is for. None if
    the region is unknown."""
    page = _region_page(world, day, town, offset, per_page)
    if page is None:
        return None
    total, shown = page
    ads = [{"adid": ad.site_ad_id, "href": f"../view?adid={ad.site_ad_id}", "title": v.title,
            "age": v.age} for ad, v in shown]
    more = offset + per_page < total
    return {"region": TOWN_BY_SLUG[town].name, "total": total, "ads": ads,
            "next": f"list?region={town}&offset={offset + per_page}" if more else None}


def _json_ld(ad: Ad, v: Version) -> str:
    data = {"@context": "https://schema.org", "@type": "Product", "sku": ad.site_ad_id,
            "name": v.title, "description": v.text,
            "image": [image_path("board", p) for p in v.photos],
            "offers": {"@type": "Offer", "priceCurrency": "EUR", "price": v.price}}
    text = json.dumps(data, ensure_ascii=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(ch, esc)
    return f'<script type="application/ld+json">{text}</script>\n'


def _img(n: int, photo: str) -> str:
    url = image_path("board", photo)
    if n % 2 == 0:  # lazy loader: real URL in data-src, a blank placeholder in src
        return f'<li><img class="lazy" src="{BLANK_GIF}" data-src="{url}" alt="foto"></li>'
    return f'<li><img class="resp" srcset="{url} 240w" sizes="240px" alt="foto"></li>'


def ad_page(world: World, day: int, ad: Ad, v: Version) -> str:
    rows = [("Regio", "prop-city", v.town_written), ("Leeftijd", "prop-age", str(v.age)),
            ("Tarief", "prop-price", v.price), ("Talen", "prop-lang", v.languages),
            ("Contact", "prop-contact", v.phone_field)]
    if v.email:
        rows.append(("E-mail", "prop-email", v.email))
    if v.handle:
        rows.append((v.handle_platform, "prop-handle", v.handle))
    table = "".join(f'<tr><th>{e(k)}</th><td class="{c}">{e(val)}</td></tr>\n' for k, c, val in rows)
    photos = "".join(_img(n, p) for n, p in enumerate(v.photos))
    body = (
        f'<section class="listing-detail" data-adid="{ad.site_ad_id}">\n'
        f'<h2 class="ad-title">{e(v.title)}</h2>\n<table class="props">\n{table}</table>\n'
        f'<div id="ad-body"><p>{e(v.text)}</p></div>\n<ul class="photos">{photos}</ul>\n'
        f'<p class="since">Online sinds {world.date_of(ad.listed_since(day)).isoformat()}\n'
        "</section>"
    )
    return _page(v.title, body, head=_json_ld(ad, v))


def removed_page(ad: Ad) -> str:
    body = (f'<section class="listing-detail" data-adid="{ad.site_ad_id}">\n'
            '<div class="notice removed">Deze advertentie is verwijderd. '
            "This ad has been removed.</div>\n</section>")
    return _page("Verwijderd", body)


def not_found() -> str:
    return _page("Niet gevonden", "<h2>Niet gevonden</h2>")
