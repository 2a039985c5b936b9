# Triad: `docker build -t triad . && docker run -p 3000:3000 --env-file .env --stop-timeout 45 triad`
FROM python:3.11-slim AS build
WORKDIR /src
# Dependencies from the lock file (`make lock` regenerates it), so every image gets the same
# versions; then Triad itself without resolving anything again.
COPY requirements.lock ./
RUN pip install --no-cache-dir --prefix=/install -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY triad_lab ./triad_lab
# The lab (GitHub simulator, fake model server, demo) is left out of the image unless asked:
#   docker build --build-arg TRIAD_LAB=true -t triad-lab .
ARG TRIAD_LAB=false
RUN pip install --no-cache-dir --no-deps --prefix=/install . \
 && if [ "$TRIAD_LAB" = "true" ]; then pip install --no-cache-dir --prefix=/install "markdown-it-py>=3"; fi \
 && if [ "$TRIAD_LAB" != "true" ]; then rm -rf /install/lib/python3.11/site-packages/triad_lab; fi

FROM python:3.11-slim
# The data directory exists and belongs to the user, so a fresh volume mounted on it (which
# takes the directory's owner) is writable: no "unable to open database file".
RUN useradd --create-home --uid 10001 triad \
 && mkdir -p /home/triad/data && chown triad:triad /home/triad/data
COPY --from=build /install /usr/local
USER triad
WORKDIR /home/triad
ENV PYTHONUNBUFFERED=1 TRIAD_LOG_FORMAT=json TRIAD_DATABASE_URL=sqlite:////home/triad/data/triad.db \
    TRIAD_ADMIN_PORT=9090
# 3000: webhooks and /healthz. 9090: /admin, /metrics and /healthz, on the container's loopback
# only (TRIAD_ADMIN_HOST defaults to 127.0.0.1). To publish it, set TRIAD_ADMIN_HOST=0.0.0.0
# and TRIAD_ADMIN_TOKEN (Triad refuses to listen beyond loopback without the token), publish
# it on a private address (-p 127.0.0.1:9090:9090), and name any other host it is opened by in
# TRIAD_ADMIN_ALLOWED_HOSTS.
EXPOSE 3000 9090
# The check probes serve's port: a `triad worker` container needs its own (--health-cmd on
# its --metrics-port 9090, see the README's Deploy).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status != 200)"
# SIGTERM drains running jobs for TRIAD_DRAIN_SECONDS (30 s): Docker's default stop timeout is
# 10 s, so run with `--stop-timeout 45` (Compose: `stop_grace_period: 45s`).
STOPSIGNAL SIGTERM
CMD ["triad", "serve", "--host", "0.0.0.0", "--port", "3000"]
