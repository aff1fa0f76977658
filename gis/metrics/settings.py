"""Settings of the scores and the wall: 得分等级 thresholds, minimum sample, refresh interval.

Read through ``gis.config`` (environment, then secrets.toml); the only place these knobs live.
"""

from __future__ import annotations

from dataclasses import dataclass


from gis.config import setting


DEFAULT_GREEN = 80.0


DEFAULT_YELLOW = 60.0


DEFAULT_MIN_INSPECTIONS = 30


DEFAULT_REFRESH_SECONDS = 60


DEFAULT_UNIT_MIN_CASES = 10


COLORS = ("红", "黄", "绿")


@dataclass(frozen=True)
class Thresholds:
    green: float
    yellow: float

    def color(self, score: float) -> str:
        return "绿" if score >= self.green else "黄" if score >= self.yellow else "红"


def thresholds() -> Thresholds:
    """三色牌 thresholds: GRIDMAP_SCORE_GREEN (default 80) and GRIDMAP_SCORE_YELLOW (default 60)."""
    green = float(setting("GRIDMAP_SCORE_GREEN", str(DEFAULT_GREEN)))
    yellow = float(setting("GRIDMAP_SCORE_YELLOW", str(DEFAULT_YELLOW)))
    if yellow > green:
        raise ValueError(f"GRIDMAP_SCORE_YELLOW ({yellow}) must not exceed GRIDMAP_SCORE_GREEN ({green})")
    return Thresholds(green, yellow)


def min_inspections() -> int:
    """Minimum inspections in a month for a grid to be ranked (GRIDMAP_MIN_INSPECTIONS, default 30)."""
    return int(setting("GRIDMAP_MIN_INSPECTIONS", str(DEFAULT_MIN_INSPECTIONS)))


def refresh_seconds() -> int:
    """How often the wall screen refreshes itself (GRIDMAP_WALL_REFRESH, seconds, default 60)."""
    return max(5, int(setting("GRIDMAP_WALL_REFRESH", str(DEFAULT_REFRESH_SECONDS))))


def unit_min_cases() -> int:
    """应结案 cases a unit needs in a month to be ranked among the 十差单位 (GRIDMAP_UNIT_MIN_CASES, default 10)."""
    return max(1, int(setting("GRIDMAP_UNIT_MIN_CASES", str(DEFAULT_UNIT_MIN_CASES))))
