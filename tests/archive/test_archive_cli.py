"""``adtrace archive verify`` reports intact and damaged archives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adtrace.cli import main
from indexer.archive import Fetched, WarcWriter


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


def test_a_killed_image_write_is_a_leftover_not_a_bad_image(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from indexer.archive import store_image

    ref = store_image(tmp_path, b"not really an image", "http://x.test/i.jpg", "image/jpeg")
    tmp = tmp_path / "images" / ref.sha256[:2] / f".{ref.sha256}.jpg.4242.tmp"
    tmp.write_bytes(b"half")  # what a SIGKILL between write and rename leaves
    assert main(["archive", "verify", "--archive", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "0 WARC file(s), 0 record(s), 1 image(s)" in out and out.strip().endswith("OK")
    assert f"LEFTOVER  images/{ref.sha256[:2]}/.{ref.sha256}.jpg.4242.tmp" in out
    (tmp_path / "images" / ref.sha256[:2] / f"{ref.sha256}.jpg").write_bytes(b"tampered")
    assert main(["archive", "verify", "--archive", str(tmp_path)]) == 1
    assert "content does not match its name" in capsys.readouterr().out
