"""``adtrace demo-site``: the truth command and the real server in a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

from adtrace.cli import main
from demosite.world import World

from .conftest import ROOT, fetch


def test_truth_command_writes_the_worlds_truth(tmp_path):
    out = tmp_path / "truth.json"
    assert main(["demo-site", "truth", "--seed", "4", "--ads", "50", "--days", "3",
                 "--day", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text("utf-8")) == json.loads(
        json.dumps(World(seed=4, n_ads=50, days=3).truth(2)))


def test_truth_command_names_a_bad_day(capsys):
    assert main(["demo-site", "truth", "--days", "3", "--day", "5"]) == 2
    assert "--day 5" in capsys.readouterr().err


def test_demo_site_serves_until_interrupted():
    proc = subprocess.Popen(
        [sys.executable, "-m", "adtrace.cli", "demo-site", "--port", "0", "--ads", "40",
         "--day", "1"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # printed once the socket is listening
        url = re.search(r"http://127\.0\.0\.1:\d+", line).group(0)
        status, _, body = fetch(url + "/__demo__/state")
        assert status == 200 and json.loads(body)["day"] == 1 and json.loads(body)["n_ads"] == 40
        assert fetch(url + "/velvet/city/amsterdam/")[0] == 200
    finally:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 130
