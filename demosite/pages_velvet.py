"""HTML of ``velvet``: city listings with numbered pages, one page per ad.

Layout: ``/velvet/city/<town>/`` (page 1), ``/velvet/city/<town>/page/<n>/``, ads at
``/velvet/ad/<id>-<name>.html``, photos at ``/velvet/img/<photo>.png``. A removed ad
answers 404. Every piece of ad content passes through ``html.escape``.
"""

from __future__ import annotations

from html import escape as e

from demosite.data import SITE_TOWNS, TOWN_BY_SLUG
from demosite.truth import ad_path, image_path
from demosite.world import Ad, Version, World

PER_PAGE = 20


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)} | Velvet Nights</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n</head>\n'
        '<body>\n<header class="site"><a href="/velvet/">Velvet Nights</a> '
        "<small>escorts &amp; privé ontvangst</small></header>\n"
        f"<main>\n{body}\n</main>\n<footer>&copy; Velvet Nights (demo)</footer>\n"
        "</body>\n</html>\n"
    )


def home(world: World, day: int) -> str:
    items = "".join(
        f'<li><a class="city" href="/velvet/city/{t}/">{e(TOWN_BY_SLUG[t].name)}</a></li>\n'
        for t in SITE_TOWNS["velvet"])
    return _page("Steden", f"<h1>Kies je stad</h1>\n<ul class=\"cities\">\n{items}</ul>")


def listing_url(town: str, page: int) -> str:
    return f"/velvet/city/{town}/" if page == 1 else f"/velvet/city/{town}/page/{page}/"


def listing(world: World, day: int, town: str, page: int, per_page: int = PER_PAGE) -> str | None:
    """One page of a city's ads, newest first; None if the town or page does not exist."""
    if town not in SITE_TOWNS["velvet"] or page < 1:
        return None
    ids = world.live_ads("velvet", day, town)
    pages = max(1, -(-len(ids) // per_page))
    if page > pages:
        return None
    cards = []
    for i in ids[(page - 1) * per_page: page * per_page]:
        ad = world.ad(i)
        v = world.version_on(ad, day)
        assert v is not None  # live_ads lists only ads online that day
        # <li> left unclosed, as many real templates do
        cards.append(
            f'<li class="ad-card"><a class="ad-link" href="{e(ad_path("velvet", ad, v))}">'
            f'<img class="thumb" src="{image_path("velvet", v.photos[0])}" alt="">'
            f"{e(v.title)}</a> <span class=\"c\">{e(v.town_written)}</span>\n")
    nav = [f'<span class="current">{n}</span>' if n == page else
           f'<a href="{listing_url(town, n)}">{n}</a>' for n in range(1, pages + 1)]
    if page < pages:
        nav.append(f'<a class="next" rel="next" href="{listing_url(town, page + 1)}">volgende &raquo;</a>')
    name = TOWN_BY_SLUG[town].name
    empty = "" if cards else '<p class="empty">Nog geen advertenties in deze stad.</p>\n'
    body = (f"<h1>Escorts in {e(name)}</h1>\n<p class=\"count\">{len(ids)} advertenties</p>\n"
            f"<ul class=\"ads\">\n{''.join(cards)}</ul>\n{empty}"
            f"<nav class=\"pagination\">{' '.join(nav)}</nav>")
    return _page(f"{name} - pagina {page}", body)


def ad_page(world: World, day: int, ad: Ad, v: Version) -> str:
    extra = ""
    if v.email:
        extra += f'<li>E-mail: <span class="email">{e(v.email)}</span></li>\n'
    if v.handle:
        extra += f'<li>{e(v.handle_platform)}: <span class="handle">{e(v.handle)}</span></li>\n'
    imgs = "".join(f'<img src="{image_path("velvet", p)}" alt="foto {n + 1}">'
                   for n, p in enumerate(v.photos))
    posted = world.date_of(ad.listed_since(day)).isoformat()
    body = (
        f'<article class="ad" id="ad-{ad.site_ad_id}">\n'
        f'<h1 class="title">{e(v.title)}</h1>\n<ul class="facts">\n'
        f'<li>Stad: <span class="city">{e(v.town_written)}</span></li>\n'
        f'<li>Leeftijd: <span class="age">{v.age}</span></li>\n'
        f'<li>Prijs: <span class="price">{e(v.price)}</span></li>\n'
        f'<li>Talen: <span class="languages">{e(v.languages)}</span></li>\n'
        f'<li>Telefoon: <span class="phone">{e(v.phone_field)}</span></li>\n{extra}</ul>\n'
        f'<div class="description">{e(v.text)}</div>\n'
        f'<div class="gallery">{imgs}</div>\n'
        f'<p class="posted">Geplaatst op {posted}</p>\n</article>'
    )
    return _page(v.title, body)


def not_found() -> str:
    return _page("Niet gevonden", '<h1 class="error">404 - Deze pagina bestaat niet</h1>')
