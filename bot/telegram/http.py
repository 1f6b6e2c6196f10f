"""The HTTP client python-telegram-bot talks to the Bot API through: aiohttp instead of httpx.

Measured on the replica benchmark, httpx spent more of the bot's CPU than the search itself: its
connection pool scans every pooled connection for each request (quadratic in the requests in flight),
and httpcore retries a failed `import sniffio` on every request where sniffio is not installed. aiohttp
(already the webhook server) sends the same form-encoded requests at a fraction of the cost.

Timeouts keep python-telegram-bot's meaning: `read_timeout` bounds the wait for the reply (a slower
reply raises `TimedOut`, which the sender retries), `connect_timeout` the connection, `pool_timeout` the
wait for a free connection; any other transport failure is a `NetworkError` (retried as well).
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A `telegram.request.BaseRequest` over one aiohttp session (its own connection pool)."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ):
        self.pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.pool_size, limit_per_host=self.pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # python-telegram-bot reads the JSON itself; cookies and redirects play no part in the Bot API
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        files = request_data.multipart_data if request_data is not None else None
        data: Any = request_data.json_parameters if request_data is not None else None
        if files:
            form = aiohttp.FormData()
            for name, value in (data or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        # aiohttp's `connect` covers waiting for a pooled connection and opening one; `sock_read` is the
        # longest wait for the reply's bytes (httpx's read timeout); there is no separate write timeout.
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(method, url, data=data, timeout=timeout, allow_redirects=False) as response:
                return response.status, await response.read()
        except TimeoutError as e:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut from e
        except (aiohttp.ClientError, OSError) as e:
            raise NetworkError(f"aiohttp.{type(e).__name__}: {e}") from e
