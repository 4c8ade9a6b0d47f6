# Beeldbank: one image for every role in docker-compose.yml (`dam serve`, `dam worker`,
# `dam migrate`). See docs/operations.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    DAM_DATA_DIR=/data

# ffmpeg from Debian: the video pipeline and `dam doctor` look for it on PATH; pg_dump and
# pg_restore (postgresql-client) for `dam backup` / `dam restore` on PostgreSQL: Debian's
# version must be at least the server's (trixie ships 17). Not pinned to a version: a
# rebuild should pick up Debian's security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg postgresql-client \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid/gid, so a data directory on shared storage (NFS) can be prepared for it.
# /data is created here, owned by that user: a new named volume copies this ownership.
RUN groupadd --system --gid 10001 beeldbank \
    && useradd --system --uid 10001 --gid beeldbank --create-home \
        --home-dir /home/beeldbank --shell /usr/sbin/nologin beeldbank \
    && mkdir -p /data \
    && chown beeldbank:beeldbank /data

# The sources are only needed to build; they are removed once installed.
WORKDIR /src

# Dependencies first, read from pyproject.toml, so a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the packages themselves (tests/test_compose.py checks every package is copied and
# that the wheel built from exactly these files holds all of their files).
COPY dam ./dam
COPY ingest ./ingest
COPY gdpr ./gdpr
COPY search ./search
COPY web ./web
RUN pip install --no-deps . \
    && rm -rf /src

WORKDIR /data

# Numeric, so orchestrators can verify that the container does not run as root.
USER 10001:10001
VOLUME /data
EXPOSE 8000

# /healthz answers while the process runs; python is used since the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# `dam serve` applies migrations before it serves; compose also runs a one-shot `migrate`.
CMD ["dam", "serve", "--host", "0.0.0.0", "--port", "8000"]
