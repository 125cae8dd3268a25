"""Theme walls applied inside the store: the same rule for every read in every backend.

A source belongs to a theme; a user is granted themes. ``themes=None`` means no wall
(admins, all-theme grants, the command line); a tuple means only ads of sources whose
theme is in it — an empty tuple sees nothing. An ad whose source is not in the register
has no theme that could be checked, so behind a wall it is not visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from indexer.model import AdRecord, SourceInfo
from indexer.search.query import Hit

T = TypeVar("T", AdRecord, Hit)


def allowed_sources(sources: Callable[[], Iterable[SourceInfo]],
                    themes: tuple[str, ...] | None) -> frozenset[str] | None:
    """Source ids visible behind the wall; None when there is no wall. ``sources`` is
    called only behind a wall (an unwalled read does not list the register)."""
    if themes is None:
        return None
    wanted = set(themes)
    return frozenset(s.id for s in sources() if s.theme in wanted)


def visible(source_id: str, allowed: frozenset[str] | None) -> bool:
    return allowed is None or source_id in allowed


def keep(items: Iterable[T], allowed: frozenset[str] | None) -> Iterator[T]:
    """Only the ads (records or hits) of visible sources, in the order given."""
    return (i for i in items if visible(i.source_id, allowed))
