"""The query model and the search result: plain data, the same for every backend.

``parse`` (request args → Query) lives in ``indexer.search.parse``; each backend compiles
a Query with pure functions (SQL for SQLite, a request body for Elasticsearch) and
returns a SearchResult. Nothing here knows about HTTP or a backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

# Facet name → label. The order is the order of the sidebar.
FACETS: dict[str, str] = {
    "site": "Site",
    "theme": "Theme",
    "city": "Place",
    "province": "Province",
    "phone": "Phone number",
    "indicator": "Indicator",
    "signal": "Cross-ad signal",
    "lang": "Language",
    "risk": "Risk band",
    "status": "Status",
    "assessment": "Assessment",
    "first_seen": "First seen (week)",
}
DEFAULT_FACETS: tuple[str, ...] = ("site", "city", "phone", "indicator", "signal", "lang", "risk",
                                   "status")

SORTS: dict[str, str] = {
    "relevance": "Relevance",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "risk": "Highest risk",
}

# Risk bands: (name, lower bound inclusive, upper bound exclusive).
RISK_BANDS: tuple[tuple[str, float, float], ...] = (
    ("none", float("-inf"), 0.5),
    ("low", 0.5, 2.0),
    ("medium", 2.0, 4.0),
    ("high", 4.0, float("inf")),
)

MAX_PER_PAGE = 200
# Matches counted exactly before a search says "more than": bounds the work of a word that
# matches every ad (as Elasticsearch's track_total_hits does). Chosen on the reference
# machine (2 cores): with 5,000, the web UI's search p95 under 10 users at 100k ads was
# 323 ms, with 3,000 240 ms (benchmarks/ui_load_bench.py; the target is 300 ms); at 1M ads
# the slowest shape (a phrase and a place) had a p95 of 192 ms with 5,000.
COUNT_LIMIT = 3_000


@dataclass(frozen=True)
class Term:
    """One element of the parsed query text.

    kind: word | phrase | prefix; field: '' for full text, else a filter field
    (phone, site, city, province, indicator, lang, email, handle …). ``negate`` for -x.
    ``any_of`` groups alternatives joined by OR.
    """

    kind: str
    value: str
    field: str = ""
    negate: bool = False


@dataclass(frozen=True)
class Clause:
    """Terms joined by OR; a query's clauses are joined by AND."""

    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Query:
    text: str = ""  # the query as typed, kept for display and URLs
    clauses: tuple[Clause, ...] = ()  # parsed text
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # facet → selected values
    date_from: date | None = None  # first seen on or after
    date_to: date | None = None  # first seen on or before
    as_of: date | None = None  # the ads as they stood at the end of this day (UTC)
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    facets: tuple[str, ...] = DEFAULT_FACETS
    facet_size: int = 10
    themes: tuple[str, ...] | None = None  # None: all themes; else only these (theme walls)
    # Matches counted exactly; beyond, the total is "at least". None: the store's own
    # limit (search_count_limit); a request that needs more (an export) asks for more.
    count_limit: int | None = None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def toggled(self, facet: str, value: str) -> Query:
        """The same query with one facet value switched on or off, back on page 1."""
        selected = list(self.filters.get(facet, ()))
        if value in selected:
            selected.remove(value)
        else:
            selected.append(value)
        filters = {k: v for k, v in self.filters.items() if k != facet}
        if selected:
            filters[facet] = tuple(selected)
        return replace(self, filters=filters, page=1)

    def with_page(self, page: int) -> Query:
        return replace(self, page=page)


@dataclass(frozen=True)
class Highlighted:
    """Text with matched ranges; templates escape the text and mark the ranges."""

    text: str
    ranges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Hit:
    ad_id: str
    version_id: str
    source_id: str
    url: str
    title: str
    snippet: Highlighted
    places: tuple[str, ...]
    phones: tuple[str, ...]
    indicators: tuple[str, ...]
    risk_score: float
    language: str
    first_seen: datetime  # of the ad
    last_seen: datetime
    version_first_seen: datetime
    removed_at: datetime | None
    versions: int
    score: float = 0.0
    thumbnail: str = ""  # sha256 of the first archived image


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class FacetResult:
    name: str
    label: str
    values: tuple[FacetValue, ...]
    truncated: bool = False  # more values exist than shown
    timed_out: bool = False
    sampled: bool = False  # counted over the first count_limit matches only, not all


@dataclass(frozen=True)
class SearchResult:
    query: Query
    total: int
    hits: tuple[Hit, ...]
    facets: tuple[FacetResult, ...]
    took_ms: float = 0.0
    # More matches exist than ``total`` (then the limit applied): the store stopped
    # counting there. In the embedded store the page and sampled facets then come from
    # those first matches: the most recently recorded ones (the earliest for "oldest").
    total_is_lower_bound: bool = False
    # The page was sorted among the first query.count_limit matches only (not needed when
    # those are taken in the order asked: newest or oldest first without text).
    order_sampled: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


class QueryError(ValueError):
    """A query the analyst typed that cannot be run; the message says why."""
