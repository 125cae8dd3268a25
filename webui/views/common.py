"""Small helpers views share: the user's theme wall and source labels."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, g, request

from indexer.model import SourceInfo
from indexer.search.query import Hit, Query
from webui.app import get_store


def sources_by_id() -> dict[str, SourceInfo]:
    return {s.id: s for s in get_store().sources()}


def walled(query: Query) -> Query:
    """The query limited to the themes this user was granted (data compartments)."""
    return replace(query, themes=g.user.visible_themes)


def visible_source(source_id: str, sources: dict[str, SourceInfo]) -> bool:
    """An ad is visible if its source's theme is granted; unknown sources only to admins
    and all-theme users, since their theme cannot be checked."""
    info = sources.get(source_id)
    if info is None:
        return g.user.visible_themes is None
    return bool(g.user.may_see(info.theme))


def visible_hits(hits: list[Hit], sources: dict[str, SourceInfo]) -> list[Hit]:
    return [h for h in hits if visible_source(h.source_id, sources)]


def require_visible(source_id: str, sources: dict[str, SourceInfo]) -> None:
    """Outside the user's themes an ad does not exist for them: 404, not 403."""
    if not visible_source(source_id, sources):
        abort(404)


def loaded_into_page(destination: str) -> bool:
    """Whether the request says the browser is loading it into a page, as an ``image``
    or an ``iframe`` (its Sec-Fetch-Dest). The client writes this header, so it only sorts
    a browser's traffic and proves nothing: alone it never spares an audit row.
    An image also needs an audited page to have shown it to this session, and an
    archived page the capture page to have framed it (webui.shown_images)."""
    return request.headers.get("Sec-Fetch-Dest") == destination
