"""Shared fixtures for the store tests: a seeded SQLite store, and one filled with many
look-alike ads. The contract's hand-made data (tests/contract/contract_data.py) is put
on the import path here, once for every test module of this folder."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
from contract_data import at, enr, obs, seed  # noqa: E402

from indexer.store.sqlite import SqliteStore  # noqa: E402


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    """The contract's small world in a new SQLite file (a module may define its own)."""
    s = SqliteStore(tmp_path / "seeded.sqlite3")
    seed(s)
    yield s
    s.close()


@pytest.fixture
def many_ads(tmp_path: Path) -> Iterator[Callable[..., SqliteStore]]:
    """A maker of stores holding ``n`` ads of source alpha, all in Utrecht, ad ``i`` with
    text ``f"{word} {i}"`` and the number ``phone(i)``."""
    made: list[SqliteStore] = []

    def make(n: int, word: str = "ad",
             phone: Callable[[int], str] = lambda i: f"+3161234{i:04d}") -> SqliteStore:
        s = SqliteStore(tmp_path / f"many{len(made)}.sqlite3")
        made.append(s)
        s.write_many([(obs("alpha", f"p{i}", at(1, minute=i % 60), f"{word} {i}"),
                       enr((phone(i),), ("Utrecht",))) for i in range(n)])
        return s

    yield make
    for s in made:
        s.close()
