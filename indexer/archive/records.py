"""WARC response and request records built straight to bytes: one gzip member each.

warcio's record builder wraps every record in header objects, streams, digesters and a
gzip wrapper, which cost a crawl more CPU than the bytes themselves (the WARC writer
was a sixth of the crawl process's time). The two record kinds every fetch writes are
built here instead, with the same headers, in the same order, and the HTTP header
block encoded by warcio itself (``StatusAndHeaders.to_ascii_bytes``, which %-encodes
what is not ASCII), so readers see what warcio wrote; revisit records stay with warcio.

Each member's compressor is sized to its record (``_compressor``): zlib's default 32 KiB
window and its match tables are set up for every member, which cost three times the
compressing of a small record (every fetch writes a request record of a few hundred
bytes). A window at least as long as the record finds every match the default could (no
match reaches back past the record's start), and any gzip reader inflates it the same.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import Sequence
from typing import Any

from warcio.statusandheaders import StatusAndHeaders

from indexer.archive.digest import warc_digest_of

WARC_VERSION = "WARC/1.1"
EMPTY_PAYLOAD_DIGEST = warc_digest_of(hashlib.sha256(b"").digest())
_END = b"\r\n\r\n"
MIN_WBITS = 9  # zlib's smallest window (512 bytes)


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def http_head(status_line: str, headers: Sequence[tuple[str, str]], *,
              request: bool = False) -> bytes:
    """The HTTP status (or request) line and headers as warcio writes them."""
    head = StatusAndHeaders(status_line, list(headers), protocol="" if request else "HTTP/1.1",
                            is_http_request=request)
    return head.to_ascii_bytes()


def response_record(url: str, record_id: str, warc_date: str, payload_digest: str,
                    head: bytes, body: bytes, truncated: str = "") -> bytes:
    """A gzipped ``response`` record: HTTP head + body as received."""
    fields = [("WARC-Date", warc_date)]
    if truncated:
        fields.append(("WARC-Truncated", truncated))
    fields += [("WARC-Payload-Digest", payload_digest), ("WARC-Type", "response"),
               ("WARC-Record-ID", record_id), ("WARC-Target-URI", url)]
    return _record(fields, "application/http; msgtype=response", head, body)


def request_record(url: str, record_id: str, warc_date: str, concurrent_to: str,
                   head: bytes) -> bytes:
    """A gzipped ``request`` record (the request had no body)."""
    fields = [("WARC-Date", warc_date), ("WARC-Concurrent-To", concurrent_to),
              ("WARC-Type", "request"), ("WARC-Record-ID", record_id),
              ("WARC-Target-URI", url), ("WARC-Payload-Digest", EMPTY_PAYLOAD_DIGEST)]
    return _record(fields, "application/http; msgtype=request", head, b"")


def _record(fields: list[tuple[str, str]], content_type: str, head: bytes,
            body: bytes) -> bytes:
    block_digest = hashlib.sha256(head)
    block_digest.update(body)
    fields += [("WARC-Block-Digest", warc_digest_of(block_digest.digest())),
               ("Content-Type", content_type),
               ("Content-Length", str(len(head) + len(body)))]
    warc_head = (WARC_VERSION + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
                 + "\r\n").encode("utf-8")
    gz = _compressor(len(warc_head) + len(head) + len(body) + len(_END))
    return b"".join((gz.compress(warc_head), gz.compress(head), gz.compress(body),
                     gz.compress(_END), gz.flush()))


def _compressor(size: int) -> Any:
    """A gzip compressor at warcio's level (9) whose window just covers ``size`` bytes,
    with its match tables scaled to the window."""
    wbits = min(zlib.MAX_WBITS, max(MIN_WBITS, size.bit_length()))
    return zlib.compressobj(9, zlib.DEFLATED, wbits + 16, max(1, min(8, wbits - 5)))
