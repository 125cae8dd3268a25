"""Store benchmark: ingest rate and search latency for one backend, with baselines.

    .venv/bin/python benchmarks/store_bench.py --store /tmp/bench.sqlite3 --ads 2000
    .venv/bin/python benchmarks/store_bench.py --store http://localhost:9200 --ads 2000

Ratios are against baselines measured in the same run on the same machine, so numbers
from different machines compare: ingest against a raw SQLite insert loop of the same
rows, search against the cheapest query the store can answer (no text, no facets, one
hit). An Elasticsearch run writes under a throw-away prefix and deletes it afterwards;
a SQLite run refuses to touch an existing file.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexer.model import (  # noqa: E402
    AdFields,
    Capture,
    Enrichment,
    IndicatorHit,
    Observation,
    Phone,
    Place,
    SourceInfo,
)
from indexer.search.query import FACETS, Clause, Query, Term  # noqa: E402

CITIES = [("Amsterdam", "Noord-Holland", 52.37, 4.90), ("Utrecht", "Utrecht", 52.09, 5.12),
          ("Rotterdam", "Zuid-Holland", 51.92, 4.48), ("Breda", "Noord-Brabant", 51.59, 4.78)]
WORDS = ["lieve", "nieuw", "discreet", "massage", "sexy", "jong", "vriendelijk", "privé", "hotel", "weekend"]
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def synthetic(i: int, rng: random.Random) -> tuple[Observation, Enrichment]:
    """One ad with a phone shared by ~5 ads, a city, and sometimes an indicator."""
    city, province, lat, lon = CITIES[i % len(CITIES)]
    phone = f"+316{10_000_000 + i // 5:08d}"
    text = " ".join(rng.choice(WORDS) for _ in range(40)) + f" bel {phone}"
    at = START + timedelta(hours=i)
    cap = Capture(f"http://bench/ad/{i}", at, 200, f"{i:064x}", "bench.warc.gz", i * 1000)
    source = f"bench-{i % 3}"
    obs = Observation(source, str(i), cap.url, cap, AdFields(f"Ad {i} in {city}", text))
    indicators = (IndicatorHit("youth", "Youth", "age", 2.5, "validated", "young"),) if i % 4 else ()
    enr = Enrichment(phones=(Phone(phone, phone, "NL"),),
                     places=(Place(city, city, province, "NL", lat, lon),),
                     indicators=indicators, language="nl")
    return obs, enr


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def raw_sqlite_rate(n: int) -> float:
    """Rows per second for a plain INSERT loop: the machine's speed, not the store's."""
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "raw.sqlite3")
        conn.execute("CREATE TABLE ads (id TEXT PRIMARY KEY, title TEXT, text TEXT)")
        t0 = time.perf_counter()
        for i in range(n):
            obs, _ = synthetic(i, rng)
            with conn:
                conn.execute("INSERT INTO ads VALUES (?, ?, ?)",
                             (obs.ad_id, obs.fields.title, obs.fields.text))
        rate = n / (time.perf_counter() - t0)
        conn.close()
    return rate


def open_bench_store(url: str):  # noqa: ANN201 - Store or ElasticStore
    if url.startswith(("http://", "https://")):
        from indexer.store.elastic import ElasticStore

        return ElasticStore(url, prefix=f"adtrace-bench-{uuid.uuid4().hex[:8]}")
    if Path(url).exists():
        raise SystemExit(f"{url}: exists; the benchmark only writes to a new SQLite file")
    from indexer.store import open_store

    return open_store(url)


def shapes(phone: str) -> dict[str, Query]:
    every = tuple(FACETS)
    return {
        "browse, all facets": Query(facets=every),
        "one word": Query(text="massage", clauses=(Clause((Term("word", "massage"),)),),
                          facets=every),
        "phrase + facet": Query(text='"lieve nieuw"', clauses=(Clause((Term("phrase",
                                "lieve nieuw"),)),), filters={"city": ("Utrecht",)}, facets=every),
        "phone": Query(clauses=(Clause((Term("word", phone, field="phone"),)),), facets=every),
        "as of, by risk": Query(as_of=date(2026, 2, 1), sort="risk", facets=every),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="SQLite path (new) or Elasticsearch URL")
    parser.add_argument("--ads", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    store = open_bench_store(args.store)
    rng = random.Random(42)
    try:
        for k in range(3):
            store.upsert_source(SourceInfo(f"bench-{k}", f"Bench {k}", "trafficking", "NL",
                                           "http://bench"))
        items = [synthetic(i, rng) for i in range(args.ads)]
        t0 = time.perf_counter()
        for obs, enr in items:
            store.write(obs, enr)
        rate = args.ads / (time.perf_counter() - t0)
        base_rate = raw_sqlite_rate(args.ads)
        print(f"ingest: {rate:,.0f} ads/s  (raw SQLite insert loop {base_rate:,.0f}/s, "
              f"ratio {rate / base_rate:.3f})")
        base = timed(lambda: store.search(Query(facets=(), per_page=1)), args.repeat)
        base_p50 = statistics.median(base)
        print(f"baseline search (no text, no facets, 1 hit): p50 {base_p50:.1f} ms")
        for name, q in shapes(items[0][1].phones[0].e164).items():
            lat = sorted(timed(lambda q=q: store.search(q), args.repeat))
            p50, p95 = statistics.median(lat), lat[max(0, int(len(lat) * 0.95) - 1)]
            total = store.search(q).total
            print(f"{name:<20} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  x{p50 / base_p50:5.1f}  "
                  f"({total} hits)")
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (RSS): {peak_mb:.0f} MB; store stats: {store.stats()}")
    finally:
        if hasattr(store, "drop"):
            store.drop()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
