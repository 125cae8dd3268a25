"""One registry for every setting: name, default, help.

Values come from, in rising priority: the defaults below, an optional config file
(YAML, ``ADTRACE_CONFIG`` or ``./adtrace.yaml``), and ``ADTRACE_<NAME>`` environment
variables. Demo defaults work with no configuration at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "ADTRACE_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "./adtrace-data", "Folder for the embedded store, the archive and logs."),
    Setting("store", "", "Store: a SQLite path, or an Elasticsearch URL (http://…). "
            "Empty means <data_dir>/adtrace.sqlite3."),
    Setting("archive_dir", "", "WARC and image archive. Empty means <data_dir>/archive."),
    Setting("sources_dir", "", "Folder of source register YAML files. Empty means the bundled "
            "demo sources."),
    Setting("secret_key", "", "Flask secret key. Empty: generated once and kept in data_dir."),
    Setting("host", "127.0.0.1", "Address the web UI listens on."),
    Setting("port", 5000, "Port the web UI listens on."),
    Setting("notice", "This system holds police intelligence data. Use it only for the tasks "
            "you are authorised for. Every search, view and export is logged.",
            "Notice each user accepts at login."),
    Setting("https", False, "The web UI is reached over HTTPS (a TLS reverse proxy in front "
            "of it): the session cookie is marked Secure and browsers are told to use HTTPS "
            "only (Strict-Transport-Security)."),
    Setting("session_minutes", 480, "Idle minutes before a web session expires."),
    Setting("session_max_hours", 12, "Hours after sign-in a web session ends, active or not."),
    Setting("lockout_failures", 10, "Failed sign-ins in a row that lock an account."),
    Setting("lockout_minutes", 15, "Minutes a locked account stays locked (or until "
            "`adtrace users unlock`)."),
    Setting("trusted_header", "", "Single sign-on: request header a trusted reverse proxy "
            "sets to the signed-in user's name (e.g. X-Remote-User). Empty: off."),
    Setting("trusted_proxies", "", "Comma-separated addresses (or CIDR networks) of the "
            "reverse proxies whose trusted_header is believed; from anywhere else it is "
            "ignored."),
    Setting("retention_days", 1826, "Default days a capture is kept before purge (5 years)."),
    Setting("facet_time_limit_ms", 1000, "Time limit for one facet query."),
    Setting("search_count_limit", 3_000, "Embedded store: the most matches one search "
            "counts; beyond, the total reads \"more than\" and facets and sorting are over "
            "these first matches (the most recently recorded). Bounds the cost of a word that "
            "matches every ad."),
    Setting("es_prefix", "adtrace", "Prefix of Elasticsearch index and alias names."),
    Setting("es_mappings", "", "Folder of the Elasticsearch index templates. Empty: the "
            "mappings/ folder beside the source tree, else ./mappings."),
    Setting("smtp_host", "", "SMTP server for alert e-mail. Empty: alerts only in the inbox."),
    Setting("smtp_port", 25, "Port of the SMTP server for alert e-mail."),
    Setting("smtp_from", "adtrace@localhost", "Sender address of alert e-mail."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class SettingsError(ValueError):
    """A setting or the config file that cannot be used, named (the command line prints
    it without a traceback)."""


def _config_file() -> dict[str, Any]:
    path = os.environ.get("ADTRACE_CONFIG") or ("adtrace.yaml" if Path("adtrace.yaml").exists() else "")
    if not path:
        return {}
    # Read once per file version: many settings are read at start-up, one file serves all.
    try:
        return _read_config(str(Path(path).resolve()), os.stat(path).st_mtime_ns, path)
    except OSError as exc:
        raise SettingsError(f"config file {path} (ADTRACE_CONFIG): {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"config file {path}: not valid YAML: {exc}") from exc


@lru_cache(maxsize=8)
def _read_config(resolved: str, mtime_ns: int, path: str) -> dict[str, Any]:
    with open(resolved, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: config file must be a mapping of setting names to values")
    unknown = set(data) - set(_BY_NAME)
    if unknown:
        raise SettingsError(f"{path}: unknown settings {sorted(unknown)}")
    return data


def get(name: str) -> Any:
    """Return a setting's value, converted to the type of its default."""
    setting = _BY_NAME[name]
    raw: Any = os.environ.get(setting.env)
    where = setting.env
    if raw is None:
        raw = _config_file().get(name, setting.default)
        where = f"{name} in the config file"
    if isinstance(setting.default, bool):
        return str(raw).lower() in {"1", "true", "yes", "on"}
    if isinstance(setting.default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise SettingsError(f"{where}: {raw!r} is not a whole number") from None
    return raw


def data_dir() -> Path:
    return Path(get("data_dir"))


def store_url() -> str:
    return get("store") or str(data_dir() / "adtrace.sqlite3")


def archive_dir() -> Path:
    return Path(get("archive_dir") or data_dir() / "archive")


def sources_dir() -> Path:
    bundled = Path(__file__).resolve().parent.parent / "sources"
    return Path(get("sources_dir") or bundled)


def describe() -> list[tuple[str, str, Any, str]]:
    """(env name, current value, default, help) for `adtrace settings`."""
    return [(s.env, get(s.name), s.default, s.help) for s in SETTINGS]
