"""SHA-256 digests in the two spellings the archive uses.

Captures carry the hex digest (what analysts cite); WARC headers carry the
``sha256:<base32>`` form warcio writes. Both name the same bytes.
"""

from __future__ import annotations

import base64
import hashlib


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def warc_digest_of(digest: bytes) -> str:
    """The WARC header value for a SHA-256 ``digest`` (raw bytes): ``sha256:`` + base32,
    as warcio writes it."""
    return "sha256:" + base64.b32encode(digest).decode("ascii")


def hex_from_warc_digest(value: str) -> str:
    """Turn a ``sha256:…`` header value (base32 or hex) into hex; '' if not sha256."""
    algo, _, encoded = value.partition(":")
    if algo.lower() != "sha256" or not encoded:
        return ""
    if len(encoded) == 64:
        return encoded.lower()
    try:
        return base64.b32decode(encoded.upper()).hex()
    except ValueError:
        return ""
