"""The questions behind "More" buttons (`m:<key>:<offset>`), shared by all replicas for days.

A key is the question's 6-byte BLAKE2s digest in hex, as the single-process bot makes it, so callback
data keeps its format. Each key is stored in Redis with a TTL (refreshed when the button is used) and in a
small local LRU, which answers while Redis is down; keys made during such a spell are stored in Redis as
soon as it is back, so their buttons work on every replica again.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict

from bot.replicas.link import RedisLink, Unavailable

KEY_RE = re.compile(r"[0-9a-f]{12}")
DEFAULT_TTL = 14 * 24 * 3600


def answer_key(question: str) -> str:
    """The key of a question (the same on every replica and across restarts)."""
    return hashlib.blake2s(question.encode("utf-8"), digest_size=6).hexdigest()


class LocalKeys:
    """key -> question, the most recently used `capacity` of them."""

    def __init__(self, capacity: int = 2048):
        self.capacity = capacity
        self._items: OrderedDict[str, str] = OrderedDict()

    def put(self, key: str, question: str) -> None:
        self._items[key] = question
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, key: str) -> str | None:
        question = self._items.get(key)
        if question is not None:
            self._items.move_to_end(key)
        return question


class RedisAnswerKeys:
    """`AnswerKeys` in Redis: `await put(question) -> key`, `await get(key) -> question | None`."""

    def __init__(self, link: RedisLink, ttl_seconds: int = DEFAULT_TTL, local: LocalKeys | None = None):
        self.link = link
        self.ttl = int(ttl_seconds)
        self.local = local or LocalKeys()
        self._unshared: OrderedDict[str, str] = OrderedDict()  # made while Redis was down
        link.on_up.append(self.share_pending)

    async def put(self, question: str) -> str:
        key = answer_key(question)
        self.local.put(key, question)
        try:
            await self._store(key, question)
        except Unavailable:  # the local copy answers on this replica meanwhile; shared once Redis is back
            self._unshared[key] = question
            while len(self._unshared) > self.local.capacity:
                self._unshared.popitem(last=False)
        return key

    async def share_pending(self) -> None:
        """Store the keys made while Redis was down, so every replica answers their buttons."""
        while self._unshared:
            key, question = next(iter(self._unshared.items()))
            try:
                await self._store(key, question)
            except Unavailable:
                return  # down again: the next recovery tries again
            self._unshared.pop(key, None)

    async def _store(self, key: str, question: str) -> None:
        await self.link.run(lambda r: r.set(self.link.key("q", key), question.encode("utf-8"), ex=self.ttl))

    async def get(self, key: str) -> str | None:
        if not KEY_RE.fullmatch(key):
            return None
        raw: bytes | str | None
        try:
            raw = await self.link.run(lambda r: r.getex(self.link.key("q", key), ex=self.ttl))
        except Unavailable:
            raw = None
        if isinstance(raw, bytes):
            return raw.decode("utf-8", "replace")
        return self.local.get(key)
