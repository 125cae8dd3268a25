"""Single sign-on through a trusted reverse proxy: off unless configured.

The proxy authenticates the user and passes the name in a header (setting
trusted_header). The header is believed only on requests whose peer address is one of
the listed proxies (setting trusted_proxies); from anywhere else it is ignored — anyone
can type a header, so a header from an untrusted address proves nothing. A name the
proxy vouches for must still be an enabled, unlocked local account (for its role and
themes), and the notice must still be accepted at every login.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(value: str | Iterable[str]) -> tuple[Network, ...]:
    """'10.0.0.5, 192.168.0.0/24' → networks; a bad entry raises ValueError naming it."""
    items = value.split(",") if isinstance(value, str) else list(value)
    nets = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"trusted_proxies entry {item!r} is not an address or network"
                             ) from exc
    return tuple(nets)


def trusted_peer(remote_addr: str | None, proxies: tuple[Network, ...]) -> bool:
    if not remote_addr or not proxies:
        return False
    try:
        addr = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(addr in net for net in proxies)


def asserted_name(config: Any, remote_addr: str | None, headers: Any) -> str:
    """The user name the proxy vouches for on this request, or '' (off, absent, untrusted)."""
    header = str(config.get("TRUSTED_HEADER") or "")
    if not header:
        return ""
    value = str(headers.get(header, "")).strip()
    if not value:
        return ""
    if not trusted_peer(remote_addr, config.get("TRUSTED_PROXIES") or ()):
        log.warning("ignored %s header from untrusted address %s", header, remote_addr)
        return ""
    return value[:64]
