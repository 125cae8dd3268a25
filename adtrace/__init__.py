"""adtrace: crawl, archive, enrich, index and search online sex-work advertisements."""

__version__ = "0.1.0"
