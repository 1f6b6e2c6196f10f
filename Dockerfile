# The Telegram bot: `docker build -t corpus-bot .` then
#   docker run -e BOT_TOKEN=... -v "$PWD/corpus:/data/corpus" -v corpus-index:/data/index corpus-bot
# Long polling needs no open port; for a webhook set BOT_WEBHOOK_URL and BOT_WEBHOOK_SECRET and
# publish BOT_WEBHOOK_PORT (8443). SIGTERM (docker stop) stops it cleanly, SIGHUP
# (docker kill -s HUP) reloads the corpus.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOT_CORPUS_DIR=/data/corpus \
    BOT_INDEX_DIR=/data/index \
    BOT_WEBHOOK_PORT=8443

WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir . \
    && groupadd --gid 10001 bot \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin bot \
    && mkdir -p /data/corpus /data/index \
    && chown -R 10001:10001 /data

# The sample article, so a fresh volume is not empty; a mounted corpus folder replaces it.
COPY --chown=10001:10001 bot/sample/ /data/corpus/

USER 10001:10001
VOLUME ["/data/corpus", "/data/index"]
EXPOSE 8443

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
