# The Telegram bot: `docker build -t corpus-bot .` then
#   docker run -e BOT_TOKEN=... -v "$PWD/corpus:/data/corpus" -v corpus-index:/data/index corpus-bot
# Long polling needs no open port; for a webhook set BOT_WEBHOOK_URL and BOT_WEBHOOK_SECRET and publish
# BOT_WEBHOOK_PORT (8443) behind a TLS proxy (README: "Webhooks"). SIGTERM (docker stop) stops it cleanly,
# SIGHUP (docker kill -s HUP) reloads the corpus. HEALTHCHECK: the bot's heartbeat file is fresh.

# -- the dependency list, alone: the layer that installs it is rebuilt only when the list changes -----
FROM python:3.11-slim AS requirements
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
    > requirements.txt

# -- the image --------------------------------------------------------------------------------------
FROM python:3.11-slim

ARG VERSION=""
LABEL org.opencontainers.image.title="corpus-bot" \
      org.opencontainers.image.description="A Telegram bot that answers questions about a collection of articles, with attribution." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BOT_CORPUS_DIR=/data/corpus \
    BOT_INDEX_DIR=/data/index \
    BOT_WEBHOOK_PORT=8443 \
    BOT_HEARTBEAT_FILE=/tmp/corpus-bot/heartbeat.json

WORKDIR /app

# Dependencies first: a change to the code below does not reinstall them.
COPY --from=requirements /src/requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# Then the bot itself (its dependencies are already there).
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps . \
    && groupadd --gid 10001 bot \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin bot \
    && mkdir -p /data/corpus /data/index \
    && chown -R 10001:10001 /data

# The sample article, so a fresh volume is not empty; a mounted corpus folder replaces it.
COPY --chown=10001:10001 bot/sample/ /data/corpus/

USER 10001:10001
VOLUME ["/data/corpus", "/data/index"]
EXPOSE 8443

# Healthy while `run` serves: it rewrites BOT_HEARTBEAT_FILE every 15 s from its event loop while its updater
# (long polling or the webhook server) runs. The start period covers the first index build of a big corpus.
HEALTHCHECK --interval=30s --timeout=10s --start-period=180s --retries=3 CMD ["python", "-m", "bot.health"]

ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
