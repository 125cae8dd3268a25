"""Sample records built with the real model, and a scripted server, for the server-less
Elasticsearch tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from indexer.model import (
    AdFields,
    Attribute,
    Capture,
    Enrichment,
    Identifier,
    ImageRef,
    IndicatorHit,
    Observation,
    Phone,
    Place,
    SourceInfo,
    Span,
)
from tests.elastic.scripted_server import Scripted

T0 = datetime(2026, 3, 2, 10, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture
def obs() -> Observation:
    fields = AdFields(
        title="Nieuw in Utrecht",
        text="Lieve Ánna, bel 06-12345678 \ue000nep\ue001",
        attributes={"city": "Utrecht", "age": "22"},
        images=(ImageRef("a" * 64, phash="ff00ff00ff00ff00", source_url="http://x/1.jpg",
                         content_type="image/jpeg", width=640, height=480),),
    )
    cap = Capture(url="http://demo/ad/1", fetched_at=T0, status=200, sha256="b" * 64,
                  warc_file="2026/03/02/a.warc.gz", warc_offset=1234, warc_length=999,
                  content_type="text/html")
    return Observation("demo-a", "ad-1", "http://demo/ad/1", cap, fields)


@pytest.fixture
def enrichment() -> Enrichment:
    span = Span(0, 5, "Nieuw")
    return Enrichment(
        phones=(Phone("+31612345678", "06-12345678", "NL", ("separators",), span),),
        identifiers=(Identifier("email", "a@b.nl", "A@b.nl", "", span),
                     Identifier("handle", "instagram:anna", "@anna", "instagram", None)),
        places=(Place("Utrecht", "Utrecht", "Utrecht", "NL", 52.09, 5.12, span),),
        attributes=(Attribute("age", "22", "years", span),),
        indicators=(IndicatorHit("new_in_town", "New in town", "movement", 0.5,
                                 "commonly_cited", "Movement language", (span,)),),
        language="nl", catalogue_version="2026.1", pipeline_version="1",
    )


@pytest.fixture
def source() -> SourceInfo:
    return SourceInfo("demo-a", "Demo A", "trafficking", "NL", "http://demo", "pilot", "chief")


@pytest.fixture
def server() -> Iterator[Scripted]:
    """A scripted Elasticsearch stand-in on 127.0.0.1 (tests.elastic.scripted_server)."""
    srv = Scripted()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()
