"""The store as one signed-in user may see it: every read behind their theme wall.

``webui.app.get_store`` hands views this wrapper whenever the user has a wall, so a
view cannot forget it: search gets ``Query.themes``; get_ad, ads_for_identifier,
ads_showing_image, iter_ads, entity_summary, aggregates and suppressions get
``themes=``; reads and writes keyed by an ad id (assessments, signal reasons, legal
holds …) first check that the ad is visible and otherwise behave as for an unknown ad.
Everything else (the source register, crawl runs) passes through: it names sources, not
ads or people.

For the trends-only role (``people=False``) the wrapper also answers every per-ad or
per-person read as empty and takes the phone numbers out of aggregates and facets: such a
user sees figures, never an ad or a person — even on a page that forgot to hide them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from indexer.model import AdRecord
from indexer.search.query import Hit, Query, SearchResult

# Methods whose first argument is an ad (or version) id: visible ads only.
AD_KEYED = frozenset({"assessments", "set_assessment", "signal_reasons", "set_hold",
                      "release_hold", "suppress_extraction", "unsuppress"})


PERSON_FACETS = frozenset({"phone", "email", "handle", "url"})


def narrowed(asked: tuple[str, ...] | None, wall: tuple[str, ...] | None
             ) -> tuple[str, ...] | None:
    """A caller may narrow the wall further, never widen it."""
    if wall is None:
        return asked
    return wall if asked is None else tuple(t for t in asked if t in wall)


class WalledStore:
    """Wraps a Store; ``themes`` is the user's wall (None: all themes), ``people`` False
    for the trends-only role."""

    def __init__(self, store: Any, themes: tuple[str, ...] | None, people: bool = True) -> None:
        self._store = store
        self.themes = None if themes is None else tuple(themes)
        self.people = people
        self._seen: dict[str, bool] = {}  # ad id -> visible, asked once per wrapper

    def search(self, query: Query) -> SearchResult:
        result = self._store.search(replace(query, themes=narrowed(query.themes, self.themes)))
        if self.people:
            return result
        return replace(result, hits=(),
                       facets=tuple(f for f in result.facets if f.name not in PERSON_FACETS))

    def get_ad(self, ad_id: str, themes: tuple[str, ...] | None = None) -> AdRecord | None:
        if not self.people:
            return None
        return self._store.get_ad(ad_id, themes=narrowed(themes, self.themes))

    def ads_for_identifier(self, kind: str, value: str,
                           themes: tuple[str, ...] | None = None) -> list[Hit]:
        if not self.people:
            return []
        return self._store.ads_for_identifier(kind, value, themes=narrowed(themes, self.themes))

    def ads_showing_image(self, sha256: str, themes: tuple[str, ...] | None = None,
                          limit: int = 20) -> list[str]:
        if not self.people:
            return []
        return self._store.ads_showing_image(sha256, themes=narrowed(themes, self.themes),
                                             limit=limit)

    def iter_ads(self, themes: tuple[str, ...] | None = None) -> Iterator[AdRecord]:
        if not self.people:
            return iter(())
        return self._store.iter_ads(themes=narrowed(themes, self.themes))

    def entity_summary(self, kind: str, value: str, themes: tuple[str, ...] | None = None
                       ) -> Any:
        if not self.people:
            raise KeyError(f"no {kind} {value!r}")
        return self._store.entity_summary(kind, value, themes=narrowed(themes, self.themes))

    def aggregates(self, themes: tuple[str, ...] | None = None, **kwargs: Any) -> Any:
        result = self._store.aggregates(themes=narrowed(themes, self.themes), **kwargs)
        return result if self.people else replace(result, top_numbers=())

    def suppressions(self, ad_id: str | None = None,
                     themes: tuple[str, ...] | None = None) -> Any:
        if not self.people or (ad_id is not None and not self._visible(ad_id)):
            return []
        return self._store.suppressions(ad_id, themes=narrowed(themes, self.themes))

    def _visible(self, ad_id: str) -> bool:
        """Only an ad id the user can see passes (a version id is refused behind a wall:
        resolving it would need the backend's internals)."""
        if not self.people:
            return False
        if self.themes is None:
            return True
        if ad_id not in self._seen:
            self._seen[ad_id] = self._store.get_ad(ad_id, themes=self.themes) is not None
        return self._seen[ad_id]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name not in AD_KEYED:
            return attr

        def checked(target_id: str, *args: Any, **kwargs: Any) -> Any:
            if not self._visible(target_id):
                raise KeyError(f"no ad {target_id!r}")
            return attr(target_id, *args, **kwargs)

        return checked
