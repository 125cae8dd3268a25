"""The same page asked again, with the data unchanged, is answered from memory; any write
(another generation) or another page is searched again."""

from __future__ import annotations

from contract_data import at, enr, obs

from indexer.search.parse import parse_args
from indexer.store import sqlite_search


def test_the_same_page_is_kept_until_the_data_changes(store, monkeypatch):
    ran: list[int] = []
    real = sqlite_search.search
    monkeypatch.setattr(sqlite_search, "search", lambda conn, q, *a: ran.append(q.page) or real(conn, q, *a))
    q = parse_args({"q": "girl"})
    first = store.search(q)
    again = store.search(q)
    assert ran == [1] and again.hits == first.hits and again.facets == first.facets
    assert again.total == first.total and again.took_ms == 0.0

    store.search(parse_args({"q": "girl", "page": "2"}))  # another page: searched
    assert ran == [1, 2]

    store.write(obs("alpha", "new", at(9), "Another girl, just arrived", "New"), enr((), ("Utrecht",)))
    fresh = store.search(q)  # a write made another generation: searched, and it shows
    assert ran == [1, 2, 1] and fresh.total == first.total + 1
    assert "New" in {h.title for h in fresh.hits}

    store.forget_answers()
    store.search(q)
    assert ran == [1, 2, 1, 1]
