"""One WARC record held against what it says of itself: its block against its
WARC-Block-Digest (any record type: for a response its HTTP head and body as stored, so a
status line or Date header edited in place is found as surely as a changed body), a
response's payload against its payload digest, a revisit against the record it refers
to. What a record that holds gives the cross-checks (indexer.archive.verify_refs): its
payload digest, WARC-Target-URI, HTTP status and WARC-Date. The scan of files and
members that feeds it is indexer.archive.verify.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from indexer.archive.digest import hex_from_warc_digest
from indexer.archive.index import original_place
from indexer.archive.reader import ArchiveError, not_named, read_raw, unplaced

MAX_REASON = 200  # characters of a library's error kept (warcio quotes the bytes it read)


def short(text: str) -> str:
    """An error text cut to MAX_REASON characters."""
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + " …"


@dataclass(frozen=True)
class Checked:
    """What the check of one record found."""

    problem: str = ""  # what is wrong; '' when nothing is
    digest: str = ""  # the payload's sha256 (hex) when the record holds
    gone_original: str = ""  # a revisit whose original's file is missing: that file
    # (tallied per file, not said per revisit)
    status: int = -1  # a response's or revisit's HTTP status (-1: none, or not a number)
    date: str = ""  # its WARC-Date
    url: str = ""  # its WARC-Target-URI


def records_of(root: Path, member: bytes) -> Iterator[Checked]:
    """Each record of a member, checked. Records are read unparsed (their block whole, as
    the block digest covers it); the HTTP head is then parsed off the block by warcio's
    own loader, as a parsing iterator would."""
    records = ArchiveIterator(io.BytesIO(member), no_record_parse=True)
    for record in records:
        yield _check_record(root, record, records.loader)


def _check_record(root: Path, record, loader) -> Checked:  # noqa: ANN001 - warcio's
    """The block against its digest (any record type), a response's payload against its
    digest, a revisit against its original; and, of a record that holds, what the
    cross-checks compare: its payload digest, WARC-Target-URI, HTTP status and WARC-Date."""
    # the first of a name wins, as in warcio's get_header (read once: it scans them all)
    fields = {name.lower(): value for name, value in reversed(record.rec_headers.headers)}
    rtype, uri = fields.get("warc-type", ""), fields.get("warc-target-uri", "")
    block = record.raw_stream.read()
    stream = io.BytesIO(block)
    http = loader.load_http_headers(rtype, uri, stream, len(block))
    if rtype == "revisit":
        checked = _check_revisit(root, fields)
    elif rtype == "response":
        checked = _check_payload(fields.get("warc-payload-digest", ""),
                                 memoryview(block)[stream.tell():])
    else:  # a request (or another type): its block digest covers it whole
        checked = Checked()
    problem = _block_problem(fields.get("warc-block-digest", ""), block)
    if problem or checked.problem:
        why = "; ".join(p for p in (problem, checked.problem) if p)
        return Checked(f"{rtype or 'untyped'} record of {uri}: {why}",
                       gone_original=checked.gone_original)
    if not checked.digest:
        return checked
    code = http.get_statuscode() if http else ""
    return Checked(digest=checked.digest, date=fields.get("warc-date", ""), url=uri,
                   status=int(code) if code.isascii() and code.isdigit() else -1)


def _block_problem(declared: str, block: bytes) -> str:
    """Whether the block is as its digest says. A record without a block digest is a
    problem, not a note: every record adtrace writes has one (records.py for responses
    and requests, warcio for revisits; a purge copies blocks as they are), so a record
    without one is not as it was written, and dropping the header line is the cheapest
    way to hide an edited HTTP head (a request has nothing else to check it by)."""
    if not declared:
        return "no WARC-Block-Digest (its HTTP head cannot be checked)"
    matches = _names(declared, hashlib.sha256(block).digest())
    if matches is None:
        return f"block digest {short(declared)} is not a sha256 digest"
    if not matches:
        return "block digest does not match (the record's HTTP head or body was changed)"
    return ""


def _check_payload(declared: str, payload: memoryview) -> Checked:
    """A response's payload against its digest: what the capture index and the store
    know the record by."""
    if not declared:
        return Checked("response without WARC-Payload-Digest")
    digest = hashlib.sha256(payload).digest()
    if not _names(declared, digest):
        return Checked(f"payload sha256 differs from {declared}")
    return Checked(digest=digest.hex())


_BASE32 = re.compile(r"[A-Z2-7]{52}====")  # a sha256 digest as the writers spell it
# RFC 4648 base32 digits to those int() reads in base 32
_BASE32_TO_INT = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
                                 b"0123456789abcdefghijklmnopqrstuv")


def _names(declared: str, digest: bytes) -> bool | None:
    """Whether a ``sha256:…`` header value names ``digest``; None when it is no sha256
    digest. The base32 spelling is read by int() in base 32 (52 digits: 256 bits and 4
    zero bits) in 2 µs; base64.b32decode took 7, most of what checking the block digest
    as well added to the scan."""
    algo, _, value = declared.partition(":")
    if algo.lower() == "sha256" and _BASE32.fullmatch(value):
        return int(value[:52].encode().translate(_BASE32_TO_INT), 32) == \
            int.from_bytes(digest, "big") << 4
    expected = hex_from_warc_digest(declared)  # hex, or base32 in lower case
    return expected == digest.hex() if expected else None


# what adtrace's revisits name their original by (writer._revisit_record); a revisit
# with none of them comes from another tool, and is held to its digest alone
_OWN_REFERS = ("warc-refers-to", "warc-refers-to-filename", "warc-refers-to-offset")


def _check_revisit(root: Path, fields: dict[str, str]) -> Checked:
    """A revisit must carry a sha256 digest equal to the original it points at: where its
    WARC-Refers-To-Filename/-Offset say, else (one of them lost or unusable) the record
    its WARC-Refers-To names, placed by the capture index, as reader.read_record finds it.
    One whose original cannot be found is a problem: nothing can give its payload."""
    digest = hex_from_warc_digest(fields.get("warc-payload-digest", ""))
    if not digest:
        return Checked("revisit without a sha256 payload digest")
    ref_file = fields.get("warc-refers-to-filename", "")
    ref_off = fields.get("warc-refers-to-offset", "")
    refers_to = fields.get("warc-refers-to", "")
    own_place = bool(ref_file) and ref_off.isdigit()
    if not own_place and not any(map(fields.get, _OWN_REFERS)):
        return Checked(digest=digest)  # a revisit from another tool: the digest alone
    place = (ref_file, int(ref_off)) if own_place else original_place(root, refers_to)
    if place is None:
        return Checked(f"{unplaced(refers_to)}: its payload cannot be read")
    try:
        original = read_raw(root, *place)
    except ArchiveError as exc:
        if isinstance(exc.__cause__, FileNotFoundError):
            return Checked(gone_original=place[0])
        return Checked(f"revisit's original is unreadable: {short(str(exc))}")
    wrong = "" if own_place else not_named(original, refers_to)
    if wrong:
        return Checked(wrong)
    if original.sha256 != digest:
        return Checked(f"revisit digest differs from its original at {place[0]}@{place[1]}")
    return Checked(digest=digest)
