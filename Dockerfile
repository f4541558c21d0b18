# Production image of Nudge: the API under uvicorn, rules baked in (mount your own
# at /srv/nudge/rules), Redis and the database outside (see docker-compose.yml).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    NUDGE_RULES_DIR=/srv/nudge/rules
RUN useradd --system --uid 10001 --home-dir /srv/nudge nudge
COPY --from=build /install /usr/local
WORKDIR /srv/nudge
COPY rules ./rules
USER nudge
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
# REDIS_URL, DATABASE_URL, NUDGE_API_KEYS and NUDGE_SIGNING_SECRET come from the
# environment; with REDIS_URL set, the service refuses to start without the keys.
CMD ["nudge", "serve", "--host", "0.0.0.0", "--port", "8000"]
