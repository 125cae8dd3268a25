"""The settings registry: defaults, config file, environment, clear errors."""

from __future__ import annotations

import pytest

from adtrace import settings


def test_defaults_work_with_no_configuration(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for s in settings.SETTINGS:
        monkeypatch.delenv(s.env, raising=False)
    monkeypatch.delenv("ADTRACE_CONFIG", raising=False)
    assert settings.get("port") == 5000
    assert settings.store_url().endswith("adtrace.sqlite3")
    assert settings.sources_dir().joinpath("demo-velvet.yaml").exists()


def test_config_file_then_environment_win(monkeypatch, tmp_path):
    cfg = tmp_path / "adtrace.yaml"
    cfg.write_text("port: 6000\nhost: 0.0.0.0\n")
    monkeypatch.setenv("ADTRACE_CONFIG", str(cfg))
    monkeypatch.delenv("ADTRACE_PORT", raising=False)
    assert settings.get("port") == 6000
    monkeypatch.setenv("ADTRACE_PORT", "7000")
    assert settings.get("port") == 7000
    assert settings.get("host") == "0.0.0.0"


def test_unknown_setting_in_config_file_is_named(monkeypatch, tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("prot: 6000\n")
    monkeypatch.setenv("ADTRACE_CONFIG", str(cfg))
    with pytest.raises(ValueError, match=r"bad\.yaml: unknown settings \['prot'\]"):
        settings.get("port")
