"""Search page under load: p50/p95/throughput with 10 concurrent users at 100k ads.

Issue 6, item 10: the search page's p95 under 10 concurrent users at 100k ads on the
embedded store must stay at or under 300 ms. This builds a 100k-ad SQLite store from
generated data (``SqliteStore.write_many``, batches of 5,000), starts the real server
(``adtrace serve``) in a subprocess, signs in 10 users, and lets 10 threads with
keep-alive ``http.client`` connections on loopback fetch search pages: varied words,
places, sites, numbers, sorts and pages, so the store's count cache cannot answer them
all. Each scenario is bounded in requests and in time. A baseline scenario (a static
file: the same server, threads and sockets, no store and no template) runs in the same
session, and the report gives the search page's p95 as a multiple of it, and the server's
CPU time per request (its processes' user + system time from /proc), the figure that
stays comparable when other work shares the machine. A request that gets no answer is
named with its exception and how long it waited.

    .venv/bin/python benchmarks/ui_load_bench.py [--ads 100000] [--users 10]
        [--requests 600] [--seconds 90] [--keep DIR] [--serve-args "--workers 2 --threads 4"]

Exit status 0 when the search p95 meets the target, 1 when it does not.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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

TARGET_P95_MS = 300.0
PASSWORD = "load-bench-password"
CITIES = [("Amsterdam", "Noord-Holland"), ("Utrecht", "Utrecht"), ("Rotterdam", "Zuid-Holland"),
          ("Den Haag", "Zuid-Holland"), ("Eindhoven", "Noord-Brabant"), ("Breda", "Noord-Brabant"),
          ("Groningen", "Groningen"), ("Arnhem", "Gelderland"), ("Nijmegen", "Gelderland"),
          ("Antwerpen", "Antwerpen"), ("Gent", "Oost-Vlaanderen"), ("Brussel", "Brussel")]
WORDS = ["lieve", "nieuw", "discreet", "massage", "sexy", "jong", "vriendelijk", "privé", "hotel", "weekend", "escort", "ontspanning", "sweet", "real", "girl", "new", "town", "only", "days", "trustworthy", "latina", "student"]
# Ad text draws from a Zipf-distributed vocabulary (the common words above, then 3,000
# rarer made-up words), so a query word matches a realistic share of ads, not nearly all.
RARE = [f"{a}{b}{c}" for a in "bdfgklmnprstvz" for b in ("a", "e", "i", "o", "u", "aa", "ie")
        for c in ("n", "r", "s", "l", "k", "t", "m", "x", "nd", "rt", "sk", "lm", "ng",
                  "ch", "st", "ff", "zz", "p", "d", "g", "v", "w", "y", "b", "c", "j", "q",
                  "h", "rn", "lt", "mp")][:3000]
VOCAB = WORDS + RARE
ZIPF = [1 / (rank + 1) for rank in range(len(VOCAB))]
INDICATORS = ("youth", "new_in_town", "trustworthy", "obscured_phone", "third_person")
SITES = 5
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------------- the data
def synthetic(i: int, rng: random.Random) -> tuple[Observation, Enrichment]:
    """One ad: a phone shared by ~4 ads, a city, 0–2 indicators, 30–60 words."""
    city, province = CITIES[rng.randrange(len(CITIES))]
    phone = f"+316{20_000_000 + i // 4:08d}"
    words = rng.choices(VOCAB, weights=ZIPF, k=rng.randint(30, 60))
    text = " ".join(words) + f" bel {phone}"
    at = START + timedelta(minutes=i * 2)
    cap = Capture(f"http://bench/ad/{i}", at, 200, f"{i:064x}", "bench.warc.gz", i * 1000)
    fields = AdFields(f"{rng.choice(WORDS).title()} {i} in {city}", text, {"city": city})
    hits = tuple(IndicatorHit(x, x.replace("_", " "), "bench", 1.0, "commonly_cited", "bench")
                 for x in rng.sample(INDICATORS, rng.randint(0, 2)))
    enr = Enrichment(phones=(Phone(phone, phone, "NL"),),
                     places=(Place(city, city, province, "NL", 52.0, 5.0),),
                     indicators=hits, language=rng.choice(("nl", "en")))
    return Observation(f"bench-{i % SITES}", str(i), cap.url, cap, fields), enr


def build_store(path: Path, n: int) -> float:
    """Write n ads through the store contract; seconds taken."""
    from indexer.store.sqlite import SqliteStore

    rng = random.Random(6)
    t0 = time.perf_counter()
    with SqliteStore(path) as store:
        for s in range(SITES):
            store.upsert_source(SourceInfo(f"bench-{s}", f"Bench site {s}", "trafficking", "NL",
                                           f"http://bench/{s}/"))
        for lo in range(0, n, 5000):
            store.write_many([synthetic(i, rng) for i in range(lo, min(n, lo + 5000))])
            print(f"  {min(n, lo + 5000):,} ads written", file=sys.stderr, flush=True)
    return time.perf_counter() - t0


def search_paths(rng: random.Random, count: int, n_ads: int) -> list[tuple[str, str]]:
    """Varied search pages as analysts ask them, each with its kind (for the breakdown)."""
    out = []
    for _ in range(count):
        args: list[tuple[str, str]] = []
        kind = rng.random()
        if kind < 0.45:
            label = "words"
            args.append(("q", " ".join(rng.choices(VOCAB, weights=ZIPF, k=rng.randint(1, 2)))))
        elif kind < 0.6:
            label = "phone"
            args.append(("q", f"phone:+316{20_000_000 + rng.randrange(n_ads // 4):08d}"))
        elif kind < 0.75:
            label = "phrase"
            args.append(("q", f'"{rng.choice(VOCAB[:60])} {rng.choice(VOCAB[:60])}"'))
        else:
            label = "no text"
        if rng.random() < 0.4:
            args.append(("f.city", rng.choice(CITIES)[0]))
        if rng.random() < 0.2:
            args.append(("f.site", f"bench-{rng.randrange(SITES)}"))
        if rng.random() < 0.2:
            args.append(("f.indicator", rng.choice(INDICATORS)))
        if rng.random() < 0.3:
            args.append(("sort", rng.choice(("newest", "oldest", "risk"))))
        if rng.random() < 0.2:
            args.append(("page", str(rng.randint(2, 5))))
        out.append((label, "/search?" + urllib.parse.urlencode(args)))
    return out


# ---------------------------------------------------------------------- HTTP client
class Client:
    """One signed-in user on one keep-alive connection (cookies kept by hand)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(self, method: str, path: str, form: dict[str, str] | None = None
                ) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
        for raw in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp.status, data

    def login(self, name: str) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, "login page has no CSRF token"
        status, _ = self.request("POST", "/login", {"name": name, "password": PASSWORD,
                                                    "csrf_token": token.group(1)})
        assert status == 302, f"login of {name} failed: {status}"
        _, page = self.request("GET", "/notice")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if token:  # the notice, accepted once per session
            self.request("POST", "/notice", {"accept": "yes", "csrf_token": token.group(1)})


@dataclass
class Outcome:
    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float
    by_kind: dict[str, list[float]] | None = None
    failures: dict[int, int] | None = None  # HTTP status (0: no answer) → count

    def line(self) -> str:
        lat = sorted(self.latencies_ms)
        p50 = statistics.median(lat) if lat else float("nan")
        p95 = lat[max(0, int(len(lat) * 0.95) - 1)] if lat else float("nan")
        rate = len(lat) / self.seconds if self.seconds else 0.0
        why = ", ".join(f"{n}× {code or 'no answer'}" for code, n in
                        sorted((self.failures or {}).items()))
        return (f"{self.name:>10}: {len(lat):5d} requests, {self.errors} errors"
                f"{f' ({why})' if why else ''}, "
                f"p50 {p50:7.1f} ms, p95 {p95:7.1f} ms, max {lat[-1] if lat else 0:7.1f} ms, "
                f"{rate:6.1f} req/s")

    @property
    def p95(self) -> float:
        lat = sorted(self.latencies_ms)
        return lat[max(0, int(len(lat) * 0.95) - 1)] if lat else float("inf")


def load(name: str, clients: list[Client], paths: list[tuple[str, str]],
         seconds: float) -> Outcome:
    """Each client takes the next path until the paths or the time run out."""
    lock, latencies, errors = threading.Lock(), [], [0]
    failures: dict[int, int] = {}
    by_kind: dict[str, list[float]] = {}
    queue = list(reversed(paths))
    deadline = time.monotonic() + seconds

    def worker(client: Client) -> None:
        while time.monotonic() < deadline:
            with lock:
                if not queue:
                    return
                kind, path = queue.pop()
            t0 = time.perf_counter()
            reason = ""
            try:
                status, _ = client.request("GET", path)
            except (OSError, http.client.HTTPException) as exc:
                status, reason = 0, f"{type(exc).__name__} after {time.perf_counter() - t0:.1f} s"
                client.reconnect()  # the socket is unusable now: a browser opens a new one
            ms = (time.perf_counter() - t0) * 1000
            with lock:
                if status == 200:
                    latencies.append(ms)
                    by_kind.setdefault(kind, []).append(ms)
                else:
                    errors[0] += 1
                    failures[status] = failures.get(status, 0) + 1
                    if reason:
                        print(f"  no answer to {path}: {reason}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Outcome(name, latencies, errors[0], time.perf_counter() - t0, by_kind, failures)


# ---------------------------------------------------------------------- the server
def _cpu_of(pid: int) -> tuple[float, int]:
    """(user + system CPU seconds, parent pid) of one live process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), int(fields[1])


def server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes: on a shared
    machine wall-clock latency is noisy, CPU per request is not."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cpu, parent = _cpu_of(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if int(entry.name) == pid or parent == pid:
            total += cpu
    return total


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(store: Path, data: Path, port: int, extra: list[str] | None = None
                 ) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ADTRACE_DATA_DIR": str(data), "ADTRACE_STORE": str(store),
           "ADTRACE_ARCHIVE_DIR": str(data / "archive"), "ADTRACE_SECRET_KEY": "load-bench"}
    log = (data / "server.log").open("ab")  # why a request failed, named after the run
    proc = subprocess.Popen(
        [sys.executable, "-m", "adtrace.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         *(extra or [])],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    log.close()  # the child keeps its own handle
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"adtrace serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("adtrace serve did not start within 60 s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ads", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--requests", type=int, default=600, help="search requests (bound)")
    ap.add_argument("--seconds", type=float, default=90.0, help="time bound per scenario")
    ap.add_argument("--keep", default="", help="folder to build in and keep (reused if built)")
    ap.add_argument("--serve-args", default="", help="more arguments for adtrace serve")
    args = ap.parse_args(argv)

    root = Path(args.keep or tempfile.mkdtemp(prefix="adtrace-uibench-"))
    store_path, data = root / f"bench-{args.ads}.sqlite3", root / "data"
    if not store_path.exists():
        print(f"building {args.ads:,} ads in {store_path} …", flush=True)
        took = build_store(store_path, args.ads)
        print(f"built in {took:.1f} s ({args.ads / took:,.0f} ads/s)")
    from webui import db
    from webui.accounts import add_user, get_user

    conn = db.connect(data)
    for u in range(args.users):
        if get_user(conn, f"user{u}") is None:
            add_user(conn, f"user{u}", PASSWORD, role="analyst", themes=("trafficking",))
    conn.close()

    port = free_port()
    proc = start_server(store_path, data, port, shlex.split(args.serve_args))
    try:
        clients = [Client(port) for _ in range(args.users)]
        for u, c in enumerate(clients):
            c.login(f"user{u}")
        rng = random.Random(10)
        load("warm-up", clients, search_paths(rng, args.users * 3, args.ads), args.seconds)
        cpu0 = server_cpu(proc.pid)
        baseline = load("static", clients, [("static", "/static/style.css")] * args.requests, args.seconds)
        cpu1 = server_cpu(proc.pid)
        search = load("search", clients, search_paths(rng, args.requests, args.ads), args.seconds)
        cpu2 = server_cpu(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    print(f"{args.ads:,} ads, {args.users} concurrent users, loopback, threads + http.client")
    print(baseline.line())
    print(search.line())
    for kind, lat in sorted((search.by_kind or {}).items()):
        print("  " + Outcome(kind, lat, 0, search.seconds).line().split(", max")[0].strip())
    if search.errors:
        errors = [ln for ln in (data / "server.log").read_text(errors="replace").splitlines()
                  if "ERROR" in ln or "Error:" in ln]
        print("server errors (first 5):", *errors[:5], sep="\n  ")
    for outcome, cpu in ((baseline, cpu1 - cpu0), (search, cpu2 - cpu1)):
        done = len(outcome.latencies_ms) + outcome.errors
        print(f"{outcome.name:>10}: server CPU {cpu:.1f} s, "
              f"{cpu * 1000 / max(1, done):.1f} ms per request")
    load_avg = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load_avg[0]:.1f} "
          "(other work on the machine shows here)")
    ratio = search.p95 / baseline.p95 if baseline.p95 else float("inf")
    ok = search.p95 <= TARGET_P95_MS and search.errors == 0
    print(f"search p95 is {ratio:.1f}x the static file's p95; target p95 <= "
          f"{TARGET_P95_MS:.0f} ms: {'MET' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
