"""Limits of the API: request body size and request rate, per client.

- Body size: GRIDMAP_API_MAX_BODY_MB (default 8): a larger Content-Length is refused before it is
  read, and a body that streams past the limit is cut off; both get 413 with an error array.
- Rate: GRIDMAP_API_RATE requests per minute (default 120) per client — the API key when one is
  given, else the caller's address — over a sliding minute; beyond it 429 with Retry-After.
  Counts are kept in memory, per API process.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import defaultdict, deque

from gis.api.render import errors
from gis.config import setting


def max_body_bytes() -> int:
    return int(float(setting("GRIDMAP_API_MAX_BODY_MB", "8")) * 1024 * 1024)


def rate_per_minute() -> int:
    return int(setting("GRIDMAP_API_RATE", "120"))


class BodyTooLarge(Exception):
    pass


def _format_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


class BodyLimit:
    """ASGI middleware: refuse bodies over `limit` bytes with 413."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        fmt = _format_of(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        message = f"请求体过大：最大 {self.limit / 1024 / 1024:g} MB。"
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await errors(413, message, fmt)(scope, receive, send)
        seen = 0
        started = False

        async def counted():
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.limit:
                    scope["gridmap.body_too_large"] = True  # seen by handlers that catch broadly
                    raise BodyTooLarge
            return msg

        async def tracked(msg):
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if not started:
                await errors(413, message, fmt)(scope, receive, send)


class RateLimit:
    """Sliding one-minute window of request times per client key."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self._seen: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def retry_after(self, client: str, now: float | None = None) -> int:
        """0 when `client` may make a request now (and counts it), else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._seen[client]
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= self.per_minute:
                return max(1, int(q[0] + 60 - now) + 1)
            q.append(now)
            return 0


def client_key(api_key: str | None, address: str | None) -> str:
    """Who a request counts against: its API key (hashed) or its address."""
    if api_key:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:16]
    return "ip:" + (address or "?")
