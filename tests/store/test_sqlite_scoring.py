"""Text scores computed on a second connection (indexer.store.sqlite_scoring) give the
page the same order and scores as scoring in line, and any doubt falls back to that."""

from __future__ import annotations

import sqlite3
from concurrent.futures import Future
from dataclasses import replace

import pytest
from contract_data import at, enr, obs

from indexer.search.parse import parse_text
from indexer.search.query import FACETS, Query
from indexer.search.sql import compile_scores
from indexer.store import sqlite_scoring
from indexer.store.sqlite import SqliteStore

WORDS = ["lieve", "nieuw", "discreet", "massage", "sexy", "jong"]


@pytest.fixture
def texts(tmp_path):  # type: ignore[no-untyped-def]
    """120 ads whose texts repeat the words a different number of times each."""
    s = SqliteStore(tmp_path / "t.sqlite3")
    s.write_many([(obs("alpha" if i % 2 else "beta", f"t{i}", at(1, minute=i % 60),
                       " ".join(WORDS[(i + k) % len(WORDS)] for k in range(3 + i % 7)), f"ad {i}"),
                   enr((), ("Utrecht" if i % 3 else "Amsterdam",))) for i in range(120)])
    yield s
    s.close()


QUERIES = [Query(text=t, clauses=parse_text(t), facets=tuple(FACETS), count_limit=limit, filters=f)
           for t in ('"lieve nieuw"', '"sexy massage" OR jong', '"nieuw discreet" lieve')
           for limit in (10, 5000) for f in ({}, {"city": ("Utrecht",)})]


def _page(store: SqliteStore, q: Query) -> list[tuple[str, float]]:
    store.forget_answers()
    r = store.search(q)
    return [(h.ad_id, round(h.score, 9)) for h in r.hits]


@pytest.mark.parametrize("q", QUERIES, ids=lambda q: f"{q.text}-{q.count_limit}-{bool(q.filters)}")
def test_scores_apart_equal_scores_in_line(texts, monkeypatch, q):
    in_line = _page(texts, q)
    assert in_line and any(score != 0 for _, score in in_line)  # a ranked page
    filled = []
    real_fill = sqlite_scoring.fill
    monkeypatch.setattr(sqlite_scoring, "APART_MIN_ADS", 0)
    monkeypatch.setattr(sqlite_scoring, "fill", lambda *a: filled.append(real_fill(*a)) or filled[-1])
    assert _page(texts, q) == in_line
    assert filled == [True]  # the scores did come from the second connection


def _fake_apart(result: object):  # type: ignore[no-untyped-def]
    def run(sql: str, params: list[object]) -> Future:
        f: Future = Future()
        if isinstance(result, BaseException):
            f.set_exception(result)
        else:
            f.set_result(result)
        return f
    return run


@pytest.mark.parametrize("case", ["other data", "failed", "rows missing"])
def test_any_doubt_scores_in_line_after_all(texts, monkeypatch, case):
    q = QUERIES[0]
    in_line = _page(texts, q)
    monkeypatch.setattr(sqlite_scoring, "APART_MIN_ADS", 0)
    with texts._borrow() as conn:
        gen = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        rows = [(vrow, 99.0) for vrow, _ in conn.execute(*compile_scores(replace(
            q, count_limit=10))).fetchall()]  # every row, each with a wrong score
    answer = {"other data": (gen + "0", rows), "failed": sqlite3.OperationalError("locked"),
              "rows missing": (gen, rows[:1])}[case]
    monkeypatch.setattr(texts, "_run_apart", _fake_apart(answer))
    assert _page(texts, q) == in_line


def test_not_apart_for_small_stores_unranked_pages_or_one_core(texts, monkeypatch):
    ranked = QUERIES[0]
    with texts._borrow() as conn:
        assert not sqlite_scoring.worth_apart(conn, ranked)  # 120 ads: in line
        monkeypatch.setattr(sqlite_scoring, "APART_MIN_ADS", 100)
        assert sqlite_scoring.worth_apart(conn, ranked)
        for unranked in ('"x y"', "x y"):  # by date; words only
            sort = "newest" if '"' in unranked else "relevance"
            assert not sqlite_scoring.worth_apart(conn, Query(text=unranked, sort=sort,
                                                              clauses=parse_text(unranked)))
        monkeypatch.setattr(sqlite_scoring.os, "cpu_count", lambda: 1)
        assert not sqlite_scoring.worth_apart(conn, ranked)


def test_close_waits_for_a_scoring_in_flight(texts, monkeypatch):
    monkeypatch.setattr(sqlite_scoring, "APART_MIN_ADS", 0)
    texts.search(QUERIES[0])
    assert texts._apart is not None
    texts.close()
    assert texts._apart is None and not texts._idle


def test_with_every_scoring_thread_busy_the_page_is_scored_in_line(texts, monkeypatch):
    q = QUERIES[0]
    in_line = _page(texts, q)
    monkeypatch.setattr(sqlite_scoring, "APART_MIN_ADS", 0)
    filled: list[bool] = []
    real_fill = sqlite_scoring.fill
    monkeypatch.setattr(sqlite_scoring, "fill", lambda *a: filled.append(True) or real_fill(*a))
    texts._apart_busy = max(1, (sqlite_scoring.os.cpu_count() or 1) - 1)  # others scoring
    assert _page(texts, q) == in_line and filled == []
    texts._apart_busy = 0
    assert _page(texts, q) == in_line and filled == [True]
