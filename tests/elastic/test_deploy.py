"""docker-compose.yml, Dockerfile and CI workflow: parsed and checked; the store's errors."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

from indexer.store.base import StoreError

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_services_health_checks_and_ordering() -> None:
    services = _compose()["services"]
    assert set(services) == {"elasticsearch", "web", "crawler"}
    for name, svc in services.items():
        assert svc["healthcheck"]["test"], name
    for app in ("web", "crawler"):
        assert services[app]["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
        assert "adtrace-archive:/archive" in services[app]["volumes"]
    es = services["elasticsearch"]
    assert es["environment"]["xpack.security.enabled"] == "true"
    assert "ports" not in es  # never published outside the host
    assert "adtrace serve" in " ".join(services["web"]["command"])
    assert services["crawler"]["command"] == ["adtrace", "schedule"]


def test_compose_config_validates_with_docker_compose() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker client not installed")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("docker client has no compose plugin (docker compose version failed)")
    env = dict(os.environ, ELASTIC_PASSWORD="test-password")
    out = subprocess.run([docker, "compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr


def test_dockerfile_installs_the_package_on_python_311_slim() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.splitlines()[1].startswith("FROM python:3.11-slim")
    assert "pip install ." in text and "COPY mappings" in text


def test_ci_runs_the_suite_against_an_elasticsearch_8_service() -> None:
    wf = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    job = wf["jobs"]["test"]
    es = job["services"]["elasticsearch"]
    assert ":8." in es["image"] and es["env"]["discovery.type"] == "single-node"
    assert "--health-cmd" in es["options"]
    # The job runs in a Debian 12 / Python 3.11 container, which reaches the service by name.
    assert job["container"].startswith("python:3.11-bookworm")
    assert job["env"]["ADTRACE_TEST_ES_URL"] == "http://elasticsearch:9200"
    assert any(s.get("run") == "bash .ci/run" for s in job["steps"])


def test_unreachable_server_is_a_store_error_naming_the_url_without_password() -> None:
    from indexer.store.elastic import ElasticStore

    with socket.socket() as s:  # a port that was free a moment ago: nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StoreError) as err:
        ElasticStore(f"http://elastic:hunter2@127.0.0.1:{port}", backoff_s=0.01)
    assert f"127.0.0.1:{port}" in str(err.value) and "hunter2" not in str(err.value)
