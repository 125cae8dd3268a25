"""Query → SQL for the SQLite store: pure functions, no connection, tested without I/O.

The rows searched are one version per ad: the current version, or with ``as_of`` the
version valid at the end of that day (UTC) of the ads live on that day. Text goes to
FTS5 (every term quoted, so operators in typed text are never FTS syntax); fields and
facet filters become ``IN`` subqueries on the indexed ``entities`` table. Facet counts
leave out the facet's own selection (multi-select: a selection does not narrow its own
counts).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from indexer.model import to_iso
from indexer.search.query import COUNT_LIMIT, RISK_BANDS, Clause, Query, QueryError, Term
from indexer.store.sqlite_schema import MARK_CLOSE, MARK_OPEN

Params = list[object]

# Field / facet name → entity kind in the entities table.
ENTITY_KINDS: dict[str, str] = {
    "phone": "phone", "city": "place", "province": "province", "indicator": "indicator",
    "email": "email", "handle": "handle", "url": "url",
    "signal": "signal",  # cross-ad signals (indexer.store.sqlite_signals)
}
RISK_EXPR = "CASE " + " ".join(
    f"WHEN v.risk < {hi} THEN '{name}'" for name, _lo, hi in RISK_BANDS if hi != float("inf")
) + f" ELSE '{RISK_BANDS[-1][0]}' END"
WEEK_EXPR = "date(substr(a.first_seen, 1, 10), '-6 days', 'weekday 1')"
THEME_EXPR = "(SELECT s.theme FROM sources s WHERE s.id = a.source_id)"
# The ad's newest assessment label (indexer.store.sqlite_assessments); NULL if none.
ASSESSMENT_EXPR = "(SELECT x.label FROM ad_assessment x WHERE x.ad_rowid = a.rowid)"
SCORE_SQL = "-bm25(versions_fts, 10.0, 1.0, 0.5)"  # title counts most, then body, then attributes
SNIPPET_SQL = "snippet(versions_fts, 1, ?, ?, '…', 32)"  # from the body: the title is shown whole
SORT_SQL: dict[str, str] = {
    "newest": "a.first_seen DESC, a.id",
    "oldest": "a.first_seen ASC, a.id",
    "risk": "v.risk DESC, a.first_seen DESC, a.id",
}


def day_end(d: date) -> str:
    """The first instant after day d (UTC) as stored text: "≤ end of d" is "< this"."""
    return to_iso(datetime.combine(d + timedelta(days=1), time(0), UTC))


def _quote(value: str) -> str:
    """An FTS5 string; NUL would end the query string early in SQLite, so it is a space."""
    return '"' + value.replace("\x00", " ").replace('"', '""') + '"'


def fts_term(t: Term) -> str:
    """One text term as FTS5 syntax; quoting keeps typed operators literal."""
    return _quote(t.value) + (" *" if t.kind == "prefix" else "")


def _is_pure_text(c: Clause) -> bool:
    return all(not t.field and not t.negate for t in c.terms)


def fts_expression(q: Query) -> str:
    """The FTS5 MATCH for the clauses made only of plain text terms ('' if none)."""
    parts = []
    for c in q.clauses:
        if _is_pure_text(c):
            inner = " OR ".join(fts_term(t) for t in c.terms)
            parts.append(f"({inner})" if len(c.terms) > 1 else inner)
    return " AND ".join(parts)


def _in(values: tuple[str, ...] | list[str]) -> str:
    return ",".join("?" * len(values))


# Conditions to check per row rather than list matches by: (entity kind, values) known to
# match many ads, or ("site", values) when a rarer entity should drive instead; an entity
# condition as (kind, values, HELD) is checked per row against its versions held in memory.
HELD = "held"
Dense = frozenset[tuple[str, tuple[str, ...]] | tuple[str, tuple[str, ...], str]]


def _walked(dense: Dense, kind: str, values: tuple[str, ...]) -> tuple[bool, bool]:
    """(checked per row, against a set held in memory) for one entity condition."""
    held = (kind, values, HELD) in dense
    return held or (kind, values) in dense, held


def entity_cond(kind: str, op: str, dense: bool, row: str = "v.rowid", held: bool = False) -> str:
    """Versions with an entity of ``kind`` whose value passes ``op`` (params: kind, values).

    A selective value (a phone number) drives the query: its few versions are looked up
    first. A dense one (a big city) is probed per row instead, so a walk in sort order
    stops once it has enough rows, rather than first listing and sorting every match.
    ``row``: the version's rowid as the driving table has it (the full-text index's own
    rowid lets SQLite probe before it reads the version row). ``held``: instead of a
    probe of the entities index per row, the value's versions are listed once into a set
    in memory (the unary + keeps SQLite from driving by them), and each row is looked up
    there: about a third of a probe's cost, paid for by listing them, so for conditions
    with far fewer versions than the walk reads rows.
    """
    if held:
        return f"+{row} IN (SELECT version_rowid FROM entities WHERE kind = ? AND value {op})"
    if dense:
        return f"EXISTS (SELECT 1 FROM entities e WHERE e.version_rowid = {row} AND e.kind = ? AND e.value {op})"
    return f"v.rowid IN (SELECT version_rowid FROM entities WHERE kind = ? AND value {op})"


def entity_filters(q: Query) -> list[tuple[str, tuple[str, ...]]]:
    """The (kind, values) of q's exact entity conditions, whose density the store may probe."""
    out = [(ENTITY_KINDS[f], tuple(v)) for f, v in q.filters.items() if v and f in ENTITY_KINDS]
    for c in q.clauses:
        out += [(ENTITY_KINDS[t.field], (t.value,)) for t in c.terms
                if t.field in ENTITY_KINDS and t.kind != "prefix"]
    return out


def _field_cond(t: Term, dense: Dense = frozenset(), row: str = "v.rowid") -> tuple[str, Params]:
    """One field term as a condition on v / a (before negation)."""
    like = t.kind == "prefix"
    value = _like(t.value) if like else t.value
    op = "LIKE ? ESCAPE '\\'" if like else "= ? COLLATE NOCASE"
    if t.field == "site":
        return f"a.source_id {op}", [value]
    if t.field == "theme":
        return f"a.source_id IN (SELECT id FROM sources WHERE theme {op})", [value]
    if t.field == "lang":
        return f"v.language {op}", [value]
    kind = ENTITY_KINDS.get(t.field)
    if kind is None:
        raise QueryError(f"unknown field {t.field!r}")
    walked, held = _walked(dense, kind, (t.value,))
    return entity_cond(kind, op, walked and not like, row, held and not like), [kind, value]


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _term_cond(t: Term, dense: Dense, row: str) -> tuple[str, Params]:
    if t.field:
        sql, params = _field_cond(t, dense, row)
    else:
        sql, params = "v.rowid IN (SELECT rowid FROM versions_fts WHERE versions_fts MATCH ?)", [fts_term(t)]
    return (f"NOT ({sql})", params) if t.negate else (sql, params)


def _clause_conds(q: Query, dense: Dense, row: str) -> list[tuple[str, Params]]:
    out = []
    for c in q.clauses:
        if _is_pure_text(c):
            continue
        parts = [_term_cond(t, dense, row) for t in c.terms]
        sql = " OR ".join(p[0] for p in parts)
        out.append((f"({sql})", [x for p in parts for x in p[1]]))
    return out


def _status_expr(q: Query) -> str:
    if q.as_of:
        return "'live'"
    return "CASE WHEN a.removed_at IS NULL THEN 'live' ELSE 'removed' END"


def facet_expr(q: Query, facet: str) -> str | None:
    """The SQL value of a column facet, or None for entity facets."""
    return {
        "site": "a.source_id", "theme": THEME_EXPR, "risk": RISK_EXPR, "lang": "v.language",
        "status": _status_expr(q), "first_seen": WEEK_EXPR, "assessment": ASSESSMENT_EXPR,
    }.get(facet)


def _filter_cond(q: Query, facet: str, values: tuple[str, ...], dense: Dense,
                  row: str) -> tuple[str, Params]:
    if facet in ENTITY_KINDS:
        kind = ENTITY_KINDS[facet]
        walked, held = _walked(dense, kind, values)
        return entity_cond(kind, f"IN ({_in(values)})", walked, row, held), [kind, *values]
    if facet == "theme":
        return f"a.source_id IN (SELECT id FROM sources WHERE theme IN ({_in(values)}))", list(values)
    if facet == "site" and (facet, values) in dense:  # the unary + keeps its index idle
        return f"+a.source_id IN ({_in(values)})", list(values)
    expr = facet_expr(q, facet)
    if expr is None:  # a facet this backend cannot filter on matches nothing
        return "0", []
    return f"{expr} IN ({_in(values)})", list(values)


def _scope(q: Query) -> list[tuple[str, Params]]:
    """Which ad versions are searched at all: time (current / as of), themes, date range."""
    conds: list[tuple[str, Params]] = []
    if q.as_of:
        end = day_end(q.as_of)
        conds.append((
            "v.first_seen < ? AND (v.valid_to IS NULL OR v.valid_to >= ?) AND a.first_seen < ? "
            "AND NOT EXISTS (SELECT 1 FROM absences x WHERE x.ad_rowid = a.rowid AND x.removed_at < ? "
            "AND (x.returned_at IS NULL OR x.returned_at >= ?))", [end, end, end, end, end]))
    else:
        conds.append(("v.rowid = a.current_rowid", []))
    if q.themes is not None:
        # The wall filters rows, it does not pick them: the unary + keeps SQLite from
        # driving the query by the source index, which would sort every ad of the theme
        # (350 ms at 100k ads) instead of walking the newest-first index to one page.
        conds.append((f"+a.source_id IN (SELECT id FROM sources WHERE theme IN ({_in(q.themes)}))",
                      list(q.themes)) if q.themes else ("0", []))
    if q.date_from:
        conds.append(("a.first_seen >= ?", [day_end(q.date_from - timedelta(days=1))]))
    if q.date_to:
        conds.append(("a.first_seen < ?", [day_end(q.date_to)]))
    return conds


def _where(q: Query, skip_facet: str = "", dense: Dense = frozenset()) -> tuple[str, str, Params]:
    """(FROM, WHERE, params) for the matching set; skip_facet's own selection left out."""
    fts = fts_expression(q)
    conds = _scope(q)
    if fts:
        frm = ("versions_fts JOIN versions v ON v.rowid = versions_fts.rowid "
               "JOIN ads a ON a.rowid = v.ad_rowid")
        conds.insert(0, ("versions_fts MATCH ?", [fts]))
    else:  # both ways in open: from ads (browse, sort) or from versions (selective filters)
        frm = "ads a JOIN versions v ON v.ad_rowid = a.rowid"
    # the driving table's own copy of the version's rowid, so a probe runs before the
    # version row is read (the current version: the ad's current_rowid)
    row = "versions_fts.rowid" if fts else "v.rowid" if q.as_of else "a.current_rowid"
    conds += _clause_conds(q, dense, row)
    for facet, values in q.filters.items():
        if facet != skip_facet and values:
            conds.append(_filter_cond(q, facet, values, dense, row))
    where = " AND ".join(f"({c[0]})" for c in conds) or "1"
    return frm, where, [p for c in conds for p in c[1]]


def compile_search(q: Query) -> tuple[str, Params]:
    """SQL for one page of hits; columns are what the store turns into Hit."""
    frm, where, params = _where(q)
    fts = bool(fts_expression(q))
    if fts:  # snippet from the body: the title is shown whole beside it
        # scored only when ranked by it, as in compile_matches
        snippet, score = SNIPPET_SQL, SCORE_SQL if q.sort not in SORT_SQL else "0.0"
        head: Params = [MARK_OPEN, MARK_CLOSE]
    else:
        snippet, score, head = "substr(v.body, 1, 240)", "0.0", []
    removed = "NULL" if q.as_of else "a.removed_at"
    versions = "v.seq" if q.as_of else "a.versions"  # as of a day: the versions up to then
    order = SORT_SQL.get(q.sort)
    if order is None:
        order = "score DESC, a.first_seen DESC, a.id" if fts else SORT_SQL["newest"]
    sql = (
        f"SELECT a.id AS ad_id, v.id AS version_id, a.source_id, a.url, v.title, {snippet} AS snippet, "
        f"v.summary, v.risk, v.language, a.first_seen, a.last_seen, v.first_seen AS version_first_seen, "
        f"{removed} AS removed_at, {versions} AS versions, {score} AS score "
        f"FROM {frm} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
    )
    return sql, [*head, *params, q.per_page, q.offset]


def _facet_order(q: Query, facet: str) -> tuple[str, Params]:
    selected = list(q.filters.get(facet, ()))
    # entity values are selected case-insensitively (as the entities table compares
    # them), whichever table the counts come from
    value = "value COLLATE NOCASE" if facet in ENTITY_KINDS else "value"
    first = f"{value} IN ({_in(selected)}) DESC, " if selected else ""
    # Weeks read best newest first; every other facet by count.
    order = f"{first}value DESC" if facet == "first_seen" else f"{first}n DESC, value"
    return order, [*selected, q.facet_size + 1]


# ----------------------------------------------------------------- the shared match set
# Facets without a selection of their own all count the same set of matching versions,
# so the store computes it once into a temporary table (with the column-facet values)
# instead of running the text match and joins again for every facet.
def _match_columns(q: Query) -> dict[str, str]:
    """Cheap per-row values kept with the match set; theme and week derive from them."""
    return {"site": "a.source_id", "lang": "v.language", "risk": RISK_EXPR,
            "status": _status_expr(q), "day": "substr(a.first_seen, 1, 10)"}


def sample_order(q: Query) -> str:
    """Which matches are kept when more than count_limit match: the most recently
    recorded (the earliest for "oldest first"). Both orders are ones SQLite walks without
    sorting: the full-text index by rowid, or the ads by their first-seen index."""
    way = "ASC" if q.sort == "oldest" else "DESC"
    if fts_expression(q):
        return f"versions_fts.rowid {way}"
    return f"a.first_seen {way}, a.id"


def count_limit(q: Query) -> int:
    """The most matches q counts: its own limit, else the default (the store sets its own)."""
    limit = COUNT_LIMIT if q.count_limit is None else q.count_limit
    if limit < 1:
        raise QueryError(f"count limit {limit} must be at least 1")
    return limit


def in_sample_order(q: Query) -> bool:
    """True if the kept matches are exactly the first ones in q's own order, so a page
    sorted from them is the page sorting all matches would give."""
    return not fts_expression(q) and q.sort != "risk"  # without text, relevance is newest


def ranked(q: Query, skip_facet: str = "") -> bool:
    """True if q's kept matches carry a text score: only for a page by relevance (bm25
    of a phrase costs more than matching it), so never for a facet's own set."""
    return bool(fts_expression(q)) and q.sort not in SORT_SQL and not skip_facet


def compile_matches(q: Query, skip_facet: str = "", dense: Dense = frozenset(),
                    scored: bool = True) -> tuple[str, Params]:
    """SELECT of the matching (version, ad) rows with the column-facet values, for a temp
    table: at most ``q.count_limit`` + 1 of them (``sample_order`` says which; the one more
    says there are more), so a word that matches every ad costs no more than one that
    matches count_limit ads. ``skip_facet``:
    that facet's own selection left out (to count it, multi-select). ``dense``: entity
    conditions to probe per row (see entity_cond). ``scored``: False leaves the score
    0.0 where ``ranked`` would give one (it is then filled from ``compile_scores``)."""
    limit = count_limit(q)
    frm, where, params = _where(q, skip_facet, dense)
    cols = "".join(f", {expr} AS {name}" for name, expr in _match_columns(q).items())
    # the sort keys too, so one page is taken from the set without matching again
    score = SCORE_SQL if scored and ranked(q, skip_facet) else "0.0"
    keys = f", {score} AS score, v.risk AS rsk, a.first_seen AS fs, a.id AS aid"
    return (f"SELECT v.rowid AS vrow, a.rowid AS arow{cols}{keys} FROM {frm} WHERE {where} "
            f"ORDER BY {sample_order(q)} LIMIT ?", [*params, limit + 1])


def compile_scores(q: Query, dense: Dense = frozenset()) -> tuple[str, Params]:
    """(vrow, score) of exactly the rows ``compile_matches(q, dense=dense)`` keeps, on
    the same data: the same FROM, WHERE, order (a total one) and limit. Run on a second
    connection, the text scores are computed while the first counts the facets."""
    frm, where, params = _where(q, "", dense)
    return (f"SELECT v.rowid AS vrow, {SCORE_SQL} AS score FROM {frm} WHERE {where} "
            f"ORDER BY {sample_order(q)} LIMIT ?", [*params, count_limit(q) + 1])


def compile_facet_from(q: Query, facet: str, table: str) -> tuple[str, Params] | None:
    """One facet's (value, count) rows, facet_size + 1 of them (the extra one says the list
    was cut), counted over a match-set table made by compile_matches; None when this
    backend has nothing to count for the facet.

    The set must have been made without the facet's own selection (compile_matches with
    skip_facet) if the facet has one. Theme and week are counted per source and per day
    first: a handful of groups, so the per-row work is one GROUP BY on a short column.
    """
    order, tail = _facet_order(q, facet)
    if facet in ENTITY_KINDS:
        sql = (f"SELECT e.value AS value, count(*) AS n FROM {table} m CROSS JOIN entities e "
               f"ON e.version_rowid = m.vrow AND e.kind = ? GROUP BY e.value ORDER BY {order} LIMIT ?")
        return sql, [ENTITY_KINDS[facet], *tail]
    if facet == "theme":
        sql = (f"SELECT s.theme AS value, sum(g.n) AS n FROM (SELECT site, count(*) AS n FROM {table} "
               f"GROUP BY site) g JOIN sources s ON s.id = g.site GROUP BY 1 ORDER BY {order} LIMIT ?")
        return sql, tail
    if facet == "first_seen":
        sql = (f"SELECT date(g.day, '-6 days', 'weekday 1') AS value, sum(g.n) AS n FROM "
               f"(SELECT day, count(*) AS n FROM {table} GROUP BY day) g GROUP BY 1 ORDER BY {order} LIMIT ?")
        return sql, tail
    if facet == "assessment":  # one primary-key lookup per matching ad, unassessed left out
        sql = (f"SELECT x.label AS value, count(*) AS n FROM {table} m JOIN ad_assessment x "
               f"ON x.ad_rowid = m.arow GROUP BY 1 ORDER BY {order} LIMIT ?")
        return sql, tail
    if facet not in _match_columns(q):
        return None
    return f"SELECT {facet} AS value, count(*) AS n FROM {table} GROUP BY 1 ORDER BY {order} LIMIT ?", tail
