# The adtrace application image: web UI (`adtrace serve`) and crawler (`adtrace schedule`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ADTRACE_DATA_DIR=/data \
    ADTRACE_ARCHIVE_DIR=/archive \
    ADTRACE_ES_MAPPINGS=/app/mappings

WORKDIR /app
COPY pyproject.toml README.md* ./
COPY adtrace ./adtrace
COPY crawler ./crawler
COPY indexer ./indexer
COPY webui ./webui
COPY demosite ./demosite
COPY sources ./sources
COPY mappings ./mappings
RUN pip install . \
    && useradd --system --uid 10001 --home /app adtrace \
    && mkdir -p /data /archive && chown adtrace /data /archive

USER adtrace
VOLUME ["/data", "/archive"]
EXPOSE 5000
CMD ["adtrace", "serve"]
