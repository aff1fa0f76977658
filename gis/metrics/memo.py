"""A small process-wide memo for figures of months that have ended (they cannot change)."""

from __future__ import annotations

import time




FROZEN_TTL_SECONDS = 3600


_MEMO: dict = {}


def memo_get(key):
    hit = _MEMO.get(key)
    if hit is None or time.monotonic() - hit[0] > FROZEN_TTL_SECONDS:
        return None
    return hit[1]


def memo_put(key, value) -> None:
    if len(_MEMO) > 4096:
        _MEMO.clear()
    _MEMO[key] = (time.monotonic(), value)


def clear_memo() -> None:
    """Forget the figures kept for past months (after a write that back-dates records)."""
    _MEMO.clear()
