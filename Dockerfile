# callboard: API + dashboard. Without DATABASE_URL it runs its own PostgreSQL in /data.
#   docker build -t callboard .
#   docker run -p 8000:8000 -v callboard-data:/data callboard
#   docker run -p 8000:8000 -e DATABASE_URL=postgresql://user:pw@db/callboard callboard

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app app
COPY ingest ingest
COPY dashboard dashboard
COPY migrations migrations
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 callboard \
 && mkdir /data && chown callboard:callboard /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER callboard
ENV CALLBOARD_DATA_DIR=/data \
    CALLBOARD_HOST=0.0.0.0 \
    CALLBOARD_PORT=8000 \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrations first, then the server (exec: it gets the signals and stops the database cleanly).
CMD ["sh", "-c", "callboard migrate && exec callboard serve"]
