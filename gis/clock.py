"""The one clock (时钟) of pages and figures: `now()`, which GRIDMAP_NOW may pin.

Demos and screenshots pin the clock with ``GRIDMAP_NOW`` (an ISO datetime, e.g.
``2026-11-20T10:00``) so that every page, figure default and download shows the same moment.
The setting is read once and validated; a value that is not a time is refused with a message
naming the setting, never silently ignored. Functions that compute figures keep their ``as_of`` /
``now`` parameters and fall back to this clock. Sign-in, lock-out and session times (gis.people)
always use the real clock.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from gis.config import setting

SETTING = "GRIDMAP_NOW"


class ClockSettingError(ValueError):
    """GRIDMAP_NOW is set to something that is not a local ISO datetime (message in Chinese)."""


def parse_pinned(raw: str | None) -> datetime | None:
    """The moment `raw` (a GRIDMAP_NOW value) names, or None when unset; ClockSettingError when invalid."""
    if raw is None or not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ClockSettingError(f"设置 {SETTING} 的值“{raw}”不是有效的时间，应为 ISO 格式，例如 2026-11-20T10:00。") from None
    if moment.tzinfo is not None:
        raise ClockSettingError(f"设置 {SETTING} 的值“{raw}”带有时区；请写本地时间，例如 2026-11-20T10:00。")
    return moment.replace(microsecond=0)


@lru_cache(maxsize=1)
def pinned() -> datetime | None:
    """The pinned moment (GRIDMAP_NOW, read once), or None for the real clock."""
    return parse_pinned(setting(SETTING))


def now() -> datetime:
    """The current moment to the second: GRIDMAP_NOW when pinned, else the real local time."""
    return pinned() or datetime.now().replace(microsecond=0)


def today() -> date:
    """The date of `now()`."""
    return now().date()


def reset() -> None:
    """Read GRIDMAP_NOW again at the next call (tests that change the setting)."""
    pinned.cache_clear()
