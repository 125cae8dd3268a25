"""``adtrace serve`` on gunicorn: real processes on a free loopback port.

Several worker processes and threads answer at once, each with its own SQLite
connections opened after the fork; the audit hash chain stays intact when they (and
other processes) write at the same time; SIGTERM and Ctrl-C stop the server cleanly; a
taken port is an error naming the address; every request leaves an access-log line.
"""

from __future__ import annotations

import http.cookiejar
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from support.server import ROOT, free_port, wait_until_up
from webui_world import PASSWORD, token_from

from webui import audit, db


def _env(world, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {**os.environ, "ADTRACE_DATA_DIR": str(world.data_dir),
            "ADTRACE_STORE": str(world.store_path), "ADTRACE_ARCHIVE_DIR": str(world.archive_dir),
            "ADTRACE_SECRET_KEY": "server-test", "ADTRACE_NOTICE": "Served notice.", **extra}


@contextmanager
def served(world, log: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:  # type: ignore[no-untyped-def]
    """``adtrace serve`` with ``args``, its output in ``log``, in a session of its own
    (so a signal can reach master and workers as Ctrl-C would); stopped afterwards."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "adtrace.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port), *args],
            cwd=ROOT, env=_env(world), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + "/login", proc)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def signed_in(base: str, name: str = "ada") -> urllib.request.OpenerDirector:
    """An opener with its own cookies, through the login and the notice."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def post(path: str, form: dict[str, str]) -> str:
        with opener.open(base + path, urllib.parse.urlencode(form).encode(), timeout=30) as r:
            return r.read().decode()

    with opener.open(base + "/login", timeout=30) as resp:
        page = resp.read().decode()
    page = post("/login", {"name": name, "password": PASSWORD, "csrf_token": token_from(page)})
    post("/notice", {"accept": "yes", "csrf_token": token_from(page)})
    return opener


def _worker_pids(log: Path) -> set[int]:
    return {int(p) for p in re.findall(r"Booting worker with pid: (\d+)", log.read_text())}


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_signed_in_search_with_two_workers_then_sigterm_stops_cleanly(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "serve.log"
    with served(world, log, "--workers", "2", "--threads", "2") as (base, proc):
        opener = signed_in(base)
        with opener.open(base + "/search?q=anna", timeout=30) as resp:
            html = resp.read().decode()
        assert "<mark>Anna</mark>" in html and "Velvet Nights" in html
        workers = _worker_pids(log)
        assert len(workers) == 2
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    text = log.read_text()
    assert "2 workers x 2 threads" in text
    assert re.search(r'"GET /search\?q=anna HTTP/1\.1" 200 \d+ \d+ms worker <\d+>', text), text
    assert "Shutting down" in text
    assert all(_gone(pid) for pid in workers)


def test_ctrl_c_lets_a_request_in_progress_finish_then_stops(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Ctrl-C reaches master and workers (the whole process group). gunicorn's own
    handling of SIGINT drops a request in progress; here it gets its answer, then the
    server stops with exit status 0 and no traceback. The request is held in progress by
    sending its body only after the server has taken the signal."""
    log = tmp_path / "serve.log"
    body = b"name=ada&password=wrong&csrf_token=none"
    head = (b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode())
    with served(world, log, "--workers", "2") as (base, proc):
        workers = _worker_pids(log)
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(head + body[:4])  # the app now waits for the rest of the form
            os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
            _wait_for_line(log, "Handling signal: int")
            sock.sendall(body[4:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 "), answer[:200]
        assert proc.wait(timeout=30) == 0
    assert "Traceback" not in log.read_text()
    assert all(_gone(pid) for pid in workers)


def _wait_for_line(log: Path, text: str, timeout: float = 30) -> None:
    """Until the server's log has a line with ``text`` (or fail at the deadline)."""
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, f"no {text!r} in the log: {log.read_text()}"
        time.sleep(0.02)


def test_a_taken_port_is_an_error_naming_the_address(world) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "adtrace.cli", "serve", "--host", "127.0.0.1",
             "--port", str(port)], cwd=ROOT, env=_env(world), capture_output=True, text=True,
            timeout=60)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}: the port is already in use" in done.stderr


def test_bad_worker_counts_are_refused_naming_the_option(world) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "adtrace.cli", "serve", "--port", str(free_port()),
         "--workers", "0"], cwd=ROOT, env=_env(world), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--workers 0" in done.stderr


def _append_rows(data_dir: str, who: str, n: int) -> None:
    """Another process writing the audit log as the CLI does (its own connection)."""
    conn = db.connect(data_dir)
    try:
        for i in range(n):
            audit.append(conn, who, "account_unlocked", f"row {i}")
    finally:
        conn.close()


def test_the_audit_chain_stays_intact_when_workers_and_processes_write_at_once(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    users, searches, direct = ("ada", "ann", "ada", "ann", "ada", "ann"), 12, 25
    log = tmp_path / "serve.log"
    with served(world, log, "--workers", "2", "--threads", "3") as (base, _proc):
        openers = [signed_in(base, name) for name in users]  # each lands on a search
        before = _count(world.data_dir, "search")
        failures: list[str] = []

        def hammer(opener: urllib.request.OpenerDirector, k: int) -> None:
            for i in range(searches):
                try:
                    with opener.open(f"{base}/search?q=anna+{k}x{i}", timeout=60) as resp:
                        resp.read()
                except OSError as exc:  # noqa: PERF203 -- each failure is named
                    failures.append(f"client {k} search {i}: {exc}")

        ctx = multiprocessing.get_context("spawn")
        writers = [ctx.Process(target=_append_rows, args=(str(world.data_dir), f"cli{j}", direct))
                   for j in range(2)]
        threads = [threading.Thread(target=hammer, args=(o, k)) for k, o in enumerate(openers)]
        for w in writers:
            w.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for w in writers:
            w.join(timeout=60)
        assert failures == []
        assert [w.exitcode for w in writers] == [0, 0]
    done = subprocess.run([sys.executable, "-m", "adtrace.cli", "audit", "verify"], cwd=ROOT,
                          env=_env(world), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "audit chain intact" in done.stdout
    # every search left its row, none lost or doubled, beside the other processes' rows
    assert _count(world.data_dir, "search") - before == len(users) * searches
    assert _count(world.data_dir, "account_unlocked") >= 2 * direct
    served_by = set(re.findall(r'"GET /search\?q=anna\+\S+ HTTP/1\.1" 200 .* worker <(\d+)>',
                               log.read_text()))
    assert served_by <= {str(p) for p in _worker_pids(log)} and served_by


def _count(data_dir: Path, action: str) -> int:
    conn = db.connect(data_dir)
    try:
        return len(audit.events(conn, action=action, limit=None))
    finally:
        conn.close()


@pytest.mark.parametrize("workers", [0, -1])
def test_options_refuse_nonsense(workers: int) -> None:
    from webui.server import ServeError, options

    with pytest.raises(ServeError, match=f"--workers {workers}"):
        options("127.0.0.1", 8000, workers, 4)
    opts = options("::1", 8000, 2, 4)
    assert opts["bind"] == ["[::1]:8000"] and opts["preload_app"] is True


def test_an_idle_keep_alive_connection_still_gets_its_answer(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A browser (or the load bench) sends its next request on the open connection after
    a pause; with gunicorn's default 2 s keep-alive the server had closed it by then and
    the request got no answer at all."""
    import http.client
    import time

    with served(world, tmp_path / "serve.log", "--workers", "1") as (base, _proc):
        conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=30)
        conn.request("GET", "/login")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        time.sleep(3)  # the pause under test: longer than gunicorn's default keep-alive
        conn.request("GET", "/login")
        again = conn.getresponse()
        again.read()
        assert again.status == 200 and conn.sock is sock  # answered on the same connection
        conn.close()


def test_demo_names_a_taken_port_before_it_crawls(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "adtrace.cli", "demo", "--dir", str(tmp_path / "demo"),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=_env(world), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert not (tmp_path / "demo").exists()  # nothing crawled, nothing made
