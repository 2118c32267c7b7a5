# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    USER_DATA_ROOT_PATH=/data/user_data \
    DATABASE_URL=sqlite:////data/userfacing.db \
    APPLICATION_CONFIG_FILE=/app/config/application_config.yaml
RUN useradd --create-home --uid 10001 app && mkdir -p /data && chown app /data
COPY --from=build /opt/venv /opt/venv
COPY config /app/config
WORKDIR /app
USER app
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/health', timeout=2)"
CMD ["userfacing-api", "serve"]
