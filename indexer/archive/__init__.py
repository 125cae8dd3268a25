"""The evidence archive: WARC files of every fetch, content-addressed images.

Read by the crawler, reindex and the web UI, so it must not import Scrapy.
"""

from indexer.archive.images import StoredImage, find_image, store_image
from indexer.archive.reader import ArchivedRecord, ArchiveError, read_capture, read_record
from indexer.archive.verify import VerifyReport, archive_verify
from indexer.archive.writer import Fetched, WarcWriter

__all__ = [
    "ArchiveError", "ArchivedRecord", "Fetched", "VerifyReport", "WarcWriter",
    "StoredImage", "archive_verify", "find_image", "read_capture", "read_record", "store_image",
]
