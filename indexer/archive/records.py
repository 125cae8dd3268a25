"""WARC response and request records built straight to bytes: one gzip member each.

warcio's record builder wraps every record in header objects, streams, digesters and a
gzip wrapper, which cost a crawl more CPU than the bytes themselves (the WARC writer
was a sixth of the crawl process's time). The two record kinds every fetch writes are
built here instead, with the same headers, in the same order; revisit records stay with
warcio. The HTTP header block is written as the bytes that were received (``http_head``),
not as warcio would encode it: warcio %-encodes every header value that is not ASCII
(RFC 8187), so a UTF-8 ``Location`` would be archived as ``https%3A//…``, which is not
what the site sent, and not where the crawl went.

Each member's compressor is sized to its record (``_compressor``): zlib's default 32 KiB
window and its match tables are set up for every member, which cost three times the
compressing of a small record (every fetch writes a request record of a few hundred
bytes). A window at least as long as the record finds every match the default could (no
match reaches back past the record's start), and any gzip reader inflates it the same.

A payload that is compressed already (a photo, a video, a body sent with a
Content-Encoding: ``payload_is_compressed``) is stored in its member without deflating
it again (level 0: still gzip, read as any other member). Deflating a JPEG at level 9
took 100 µs for a demo photo of 6 KB and 5.8 ms for a 270 KB one, to save a few percent
of it (2–13% on the JPEGs tried here); images are most of a crawl's fetches. A text page
is still deflated at level 9.
"""

from __future__ import annotations

import hashlib
import uuid
import zlib
from collections.abc import Sequence
from typing import Any

from indexer.archive.digest import warc_digest_of

WARC_VERSION = "WARC/1.1"
EMPTY_PAYLOAD_DIGEST = warc_digest_of(hashlib.sha256(b"").digest())
_END = b"\r\n\r\n"
MIN_WBITS = 9  # zlib's smallest window (512 bytes)
LEVEL = 9  # warcio's level, for payloads that deflate
STORED = 0  # for payloads compressed already: kept as they are inside the gzip member
# media types whose bytes are compressed by their format (BMP, SVG and TIFF are not)
_COMPRESSED_TYPES = frozenset({
    "image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/apng", "image/gif",
    "image/webp", "image/avif", "image/heic", "image/heif", "image/jxl",
    "application/zip", "application/gzip", "application/x-gzip", "application/zstd",
    "application/x-7z-compressed", "application/x-rar-compressed", "application/x-xz",
    "application/x-bzip2", "font/woff", "font/woff2",
})
_COMPRESSED_FAMILIES = ("video/", "audio/")


def new_record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def http_head(status_line: str, headers: Sequence[tuple[str, str]], *,
              request: bool = False) -> bytes:
    """The HTTP status (or request) line and headers, byte for byte as exchanged.

    Header names and values arrive as latin-1 text, one character per byte as received
    (``crawler.middlewares``), so encoding them back gives the bytes the site sent. A
    line with a character beyond latin-1 cannot have come off the wire that way; it is
    written as UTF-8, which readers (warcio among them) try first."""
    lines = [status_line if request else f"HTTP/1.1 {status_line}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return b"".join(_line_bytes(line) + b"\r\n" for line in lines) + b"\r\n"


def _line_bytes(line: str) -> bytes:
    try:
        return line.encode("latin-1")
    except UnicodeEncodeError:
        return line.encode("utf-8")


def payload_is_compressed(content_type: str, content_encoding: str = "") -> bool:
    """Whether a body as received is compressed already: sent with a Content-Encoding
    other than identity (gzip, br, zstd…), or of a compressed media type."""
    encoding = content_encoding.strip().lower()
    if encoding and encoding != "identity":
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _COMPRESSED_TYPES or media.startswith(_COMPRESSED_FAMILIES)


def response_record(url: str, record_id: str, warc_date: str, payload_digest: str,
                    head: bytes, body: bytes, truncated: str = "", *,
                    compressed_payload: bool = False) -> bytes:
    """A gzipped ``response`` record: HTTP head + body as received (a body compressed
    already is stored in the member as it is: ``payload_is_compressed``)."""
    fields = [("WARC-Date", warc_date)]
    if truncated:
        fields.append(("WARC-Truncated", truncated))
    fields += [("WARC-Payload-Digest", payload_digest), ("WARC-Type", "response"),
               ("WARC-Record-ID", record_id), ("WARC-Target-URI", url)]
    return _record(fields, "application/http; msgtype=response", head, body,
                   STORED if compressed_payload else LEVEL)


def request_record(url: str, record_id: str, warc_date: str, concurrent_to: str,
                   head: bytes) -> bytes:
    """A gzipped ``request`` record (the request had no body)."""
    fields = [("WARC-Date", warc_date), ("WARC-Concurrent-To", concurrent_to),
              ("WARC-Type", "request"), ("WARC-Record-ID", record_id),
              ("WARC-Target-URI", url), ("WARC-Payload-Digest", EMPTY_PAYLOAD_DIGEST)]
    return _record(fields, "application/http; msgtype=request", head, b"", LEVEL)


def _record(fields: list[tuple[str, str]], content_type: str, head: bytes,
            body: bytes, level: int) -> bytes:
    block_digest = hashlib.sha256(head)
    block_digest.update(body)
    fields += [("WARC-Block-Digest", warc_digest_of(block_digest.digest())),
               ("Content-Type", content_type),
               ("Content-Length", str(len(head) + len(body)))]
    warc_head = (WARC_VERSION + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
                 + "\r\n").encode("utf-8")
    gz = _compressor(len(warc_head) + len(head) + len(body) + len(_END), level)
    return b"".join((gz.compress(warc_head), gz.compress(head), gz.compress(body),
                     gz.compress(_END), gz.flush()))


def _compressor(size: int, level: int) -> Any:
    """A gzip compressor at ``level`` whose window just covers ``size`` bytes, with its
    match tables scaled to the window."""
    wbits = min(zlib.MAX_WBITS, max(MIN_WBITS, size.bit_length()))
    return zlib.compressobj(level, zlib.DEFLATED, wbits + 16, max(1, min(8, wbits - 5)))
