# Triad: `docker build -t triad . && docker run -p 3000:3000 --env-file .env triad`
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY triad_lab ./triad_lab
# The lab (GitHub simulator, fake model server, demo) is left out of the image unless asked:
#   docker build --build-arg TRIAD_LAB=true -t triad-lab .
ARG TRIAD_LAB=false
RUN pip install --no-cache-dir --prefix=/install ".$([ "$TRIAD_LAB" = true ] && echo '[lab]')" \
 && if [ "$TRIAD_LAB" != "true" ]; then rm -rf /install/lib/python3.11/site-packages/triad_lab; fi

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 triad
COPY --from=build /install /usr/local
USER triad
WORKDIR /home/triad
ENV PYTHONUNBUFFERED=1 TRIAD_LOG_FORMAT=json TRIAD_DATABASE_URL=sqlite:////home/triad/data/triad.db
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status != 200)"
# `triad serve` runs uvicorn with the web app and in-process workers; SIGTERM drains them.
CMD ["triad", "serve", "--host", "0.0.0.0", "--port", "3000"]
