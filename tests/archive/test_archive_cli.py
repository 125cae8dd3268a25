"""``adtrace archive verify`` reports intact and damaged archives."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adtrace.cli import main
from indexer.archive import Fetched, WarcWriter
from tests.archive.warc_tamper import edit_block, rewrite_record


def test_verify_ok_then_partial(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with WarcWriter(tmp_path) as w:
        cap = w.write(Fetched("http://x.test/1", 200, [], b"a" * 3000, datetime.now(UTC)))
    assert main(["archive", "verify", "--archive", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 WARC file(s), 2 record(s)" in out and out.strip().endswith("OK")
    path = tmp_path / cap.warc_file
    path.write_bytes(path.read_bytes()[:-40])
    assert main(["archive", "verify", "--archive", str(tmp_path)]) == 1
    assert "PARTIAL" in capsys.readouterr().out
    assert main(["archive", "verify", "--archive", str(tmp_path / "nope")]) == 2
    assert f"--archive {tmp_path / 'nope'}: not a folder" in capsys.readouterr().err


def test_verify_of_an_archive_never_made_says_where_it_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """No --archive given: the message names the archive the settings chose, not an
    option nobody passed."""
    monkeypatch.delenv("ADTRACE_ARCHIVE_DIR", raising=False)
    monkeypatch.setenv("ADTRACE_DATA_DIR", str(tmp_path / "data"))
    assert main(["archive", "verify", "--no-store"]) == 2
    err = capsys.readouterr().err
    assert f"archive {tmp_path / 'data' / 'archive'}: not a folder: nothing was archived " \
        "there yet (set --archive or ADTRACE_ARCHIVE_DIR)" in err, err
    assert "--archive " not in err.split("(")[0], err


def test_what_a_kill_left_is_a_leftover_not_a_bad_image(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from indexer.archive import image_packs, store_image

    ref = store_image(tmp_path, b"not really an image", "http://x.test/i.jpg", "image/jpeg")
    sha = hashlib.sha256(b"x").hexdigest()
    older = tmp_path / "images" / sha[:2] / f"{sha}.jpg"  # an archive made before packs
    older.parent.mkdir(parents=True)
    older.write_bytes(b"x")
    tmp = older.with_name(f".{sha}.jpg.4242.tmp")
    tmp.write_bytes(b"half")  # what a SIGKILL between an image's write and rename left
    stray = tmp_path / image_packs.PACK_DIR / "20260101000000-4242-abcdef-00001.pack"
    stray.write_bytes(b"half")  # a pack made by a crawl killed before its first line
    assert main(["archive", "verify", "--archive", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0 WARC file(s), 0 record(s), 2 image(s)" in out and out.strip().endswith("OK")
    assert f"LEFTOVER  images/{sha[:2]}/.{sha}.jpg.4242.tmp" in out
    assert "LEFTOVER  images/packs/20260101000000-4242-abcdef-00001.pack" in out
    packed = image_packs.PackIndex(tmp_path).get(ref.sha256)
    assert packed is not None
    with open(image_packs.pack_path(tmp_path, packed.pack), "r+b") as fh:
        fh.write(b"tampered")
    assert main(["archive", "verify", "--archive", str(tmp_path)]) == 1
    assert f"content does not match image {ref.sha256}" in capsys.readouterr().out


def test_what_a_purge_killed_before_its_journal_left_is_a_leftover(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A purge writes rewritten WARC files and its journal beside what they replace; a
    kill before the journal is renamed in leaves them, named by nothing."""
    with WarcWriter(tmp_path) as w:
        cap = w.write(Fetched("http://x.test/1", 200, [], b"a" * 3000, datetime.now(UTC)))
    rewritten = tmp_path / f"{cap.warc_file}.purge-tmp"
    rewritten.write_bytes((tmp_path / cap.warc_file).read_bytes()[:50])
    temps = [".purge-journal.json.4242.tmp", ".purge-images.json.4242.tmp",
             ".captures.jsonl.4242.tmp"]
    for name in temps:
        (tmp_path / name).write_bytes(b'{"half')
    assert main(["archive", "verify", "--archive", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "1 WARC file(s), 2 record(s)" in out and out.strip().endswith("OK")
    leftovers = [line for line in out.splitlines() if line.startswith("LEFTOVER")]
    assert len(leftovers) == 4, out
    assert f"LEFTOVER  {cap.warc_file}.purge-tmp: " in out
    for name in temps:
        assert f"LEFTOVER  {name}: left by a killed crawl or purge" in out


def test_a_record_changed_in_place_is_bad_with_its_address_escaped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A record's problem names its file, offset, type and target URI, which a hostile
    site chose: printed escaped, on one line."""
    url = "http://x.test/\x1b[2Jad"
    with WarcWriter(tmp_path) as w:
        cap = w.write(Fetched(url, 404, [], b"gone", datetime.now(UTC), reason="Not Found"))
    rewrite_record(tmp_path / cap.warc_file, cap.warc_offset,
                   *(edit_block(b"HTTP/1.1 404 Not Found", forged) for forged in (
                       b"HTTP/1.1 200 OK", b"HTTP/1.1 200 Found", b"HTTP/1.1 200 ")))
    assert main(["archive", "verify", "--archive", str(tmp_path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert (f"BAD  {cap.warc_file}@{cap.warc_offset}: response record of "
            "http://x.test/\\x1b[2Jad: block digest does not match (the record's HTTP head or "
            "body was changed)") in out
    assert "\x1b" not in out and out.strip().endswith("PROBLEMS FOUND")
