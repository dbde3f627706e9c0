# One image for every role of digipersona:
#   docker run IMAGE                    -> serve (web UI + API; embedded mode without a broker)
#   docker run IMAGE worker             -> Celery worker (scale-out)
#   docker run IMAGE scheduler          -> due-work scheduler (scale-out; safe to run several)
#   docker run IMAGE db upgrade         -> apply migrations once, then exit
# The build stage installs the project into a virtual environment; the final stage copies only
# that environment onto a fresh slim base: no compilers, no pip cache, no source tree.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/digipersona
COPY pyproject.toml README.md ./
COPY src ./src
# A plain (non-dev) install: exactly what a user's `pip install .` gets.
RUN /opt/digipersona/bin/pip install --no-cache-dir . \
    && /opt/digipersona/bin/python -m compileall -q /opt/digipersona/lib

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="digipersona" \
      org.opencontainers.image.description="Self-hosted multi-persona social media autopilot" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
# A fixed, unprivileged uid/gid so volume ownership is stable across rebuilds.
RUN groupadd --system --gid 10001 digipersona \
    && useradd --system --uid 10001 --gid digipersona --no-create-home \
       --home-dir /var/lib/digipersona --shell /usr/sbin/nologin digipersona \
    && mkdir -p /var/lib/digipersona \
    && chown digipersona:digipersona /var/lib/digipersona \
    && chmod 0700 /var/lib/digipersona
COPY --from=build /opt/digipersona /opt/digipersona
ENV PATH=/opt/digipersona/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DIGIPERSONA_DATA_DIR=/var/lib/digipersona \
    DIGIPERSONA_HOST=0.0.0.0 \
    DIGIPERSONA_PORT=8000
# The SQLite database and the generated secrets (embedded mode), the VAPID key (every mode).
VOLUME ["/var/lib/digipersona"]
USER 10001:10001
WORKDIR /var/lib/digipersona
EXPOSE 8000
# /healthz answers on the event loop without touching the database: "the process serves".
# Roles without a web server (worker, scheduler, db upgrade) turn it off in compose.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('DIGIPERSONA_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["digipersona"]
CMD ["serve"]
