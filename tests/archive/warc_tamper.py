"""Edit one archived record in place, as someone who wants a record to say something
else would: the record is changed inside its gzip member, and the member is rebuilt
around it with the same compressed length, so the file stays a valid gzipped WARC and
every later offset (capture index, store) stays right. Only a digest can tell."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

_FCOMMENT = 0x10  # gzip header flag: a zero-terminated comment follows (readers skip it)


def member_length(path: Path, offset: int) -> int:
    """The compressed length of the gzip member at ``offset``."""
    data = path.read_bytes()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    inflater.decompress(data[offset:])
    assert inflater.eof, f"no whole member at {offset}"
    return len(data) - offset - len(inflater.unused_data)


def rewrite_record(path: Path, offset: int, *edits: Callable[[bytes], bytes]) -> int:
    """Replace the record at ``offset`` (WARC head and block, inflated) by the first of
    ``edit(record)`` whose member fits the old one's compressed length, and say which
    (its index). Whether an edit deflates to a byte more or less than the original
    depends on the record's random ids, so a test offers a few that change the same
    thing (a status with one reason phrase or another)."""
    data = path.read_bytes()
    length = member_length(path, offset)
    record = zlib.decompress(data[offset:offset + length], 16 + zlib.MAX_WBITS)
    for tried, edit in enumerate(edits):
        changed = edit(record)
        assert changed != record
        member = same_length_member(changed, length)
        if member is not None:
            path.write_bytes(data[:offset] + member + data[offset + length:])
            return tried
    raise AssertionError(f"none of {len(edits)} edit(s) deflates to {length} bytes or less")


def edit_block(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """An edit of the record's block (its HTTP head, say) that replaces ``old`` once and
    sets the WARC Content-Length to the block's new length, as a careful forger would."""
    def edit(record: bytes) -> bytes:
        head, sep, rest = record.partition(b"\r\n\r\n")
        assert rest.count(old) == 1, (old, rest[:300])
        block = rest.removesuffix(b"\r\n\r\n").replace(old, new)
        head = re.sub(rb"(?im)^Content-Length: \d+$", b"Content-Length: %d" % len(block), head)
        return head + sep + block + b"\r\n\r\n"
    return edit


def drop_header(name: bytes) -> Callable[[bytes], bytes]:
    """An edit that removes one WARC header line (``name: …``)."""
    def edit(record: bytes) -> bytes:
        head, sep, rest = record.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        kept = [line for line in lines if not line.lower().startswith(name.lower() + b":")]
        assert len(kept) == len(lines) - 1
        return b"\r\n".join(kept) + sep + rest
    return edit


def same_length_member(raw: bytes, length: int) -> bytes | None:
    """A gzip member of ``raw`` exactly ``length`` bytes long: the shortest of a few
    deflates, padded with a gzip comment; None when even that is longer."""
    body = min((_deflate(raw, level, wbits, strategy) for level in (9, 6)
                for wbits in range(9, 16)
                for strategy in (zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED, zlib.Z_FIXED)),
               key=len)
    room = length - 10 - len(body) - 8  # header, deflate, trailer
    if room < 0:
        return None
    flags, comment = (0, b"") if room == 0 else (_FCOMMENT, b"x" * (room - 1) + b"\0")
    header = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0" + b"\0\xff"
    trailer = struct.pack("<II", zlib.crc32(raw), len(raw) & 0xFFFFFFFF)
    member = header + comment + body + trailer
    assert len(member) == length and zlib.decompress(member, 16 + zlib.MAX_WBITS) == raw
    return member


def _deflate(raw: bytes, level: int, wbits: int, strategy: int) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -wbits, 9, strategy)
    return compressor.compress(raw) + compressor.flush()
