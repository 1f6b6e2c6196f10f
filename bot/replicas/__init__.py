"""Several replicas of the bot sharing state through Redis (`BOT_REDIS_URL`).

Nothing here imports Telegram: the Telegram layer plugs these into its interfaces.

- `link`: one connection pool per replica and whether Redis is reachable now (logged once each way);
  every shared object falls back to local state while it is not.
- `keys`: the questions behind "More" buttons, kept for days so any replica answers any button.
- `limits`: per-user flood control and the outgoing rate limits, shared by all replicas.
- `stream`: the update stream the webhooks write to and the replicas consume as one group.
- `generations`: one index build at a time per index folder, every replica on the same generation.
"""
