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


#: The card of a grid with too few inspection visits (样本不足): no colour.
NO_COLOR = "灰"


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


REFRESH_JITTER = 0.1  # each wall waits up to 10 % longer than GRIDMAP_WALL_REFRESH


def refresh_interval(rng=None) -> float:
    """Seconds between one wall's refreshes: GRIDMAP_WALL_REFRESH plus a random share of up to
    REFRESH_JITTER, drawn once per wall session, so that walls opened together (a restart, a
    morning) drift apart instead of all asking the server at the same second."""
    import random

    return refresh_seconds() * (1.0 + (rng or random).uniform(0.0, REFRESH_JITTER))


def unit_min_cases() -> int:
    """应结案 cases a unit needs in a month to be ranked among the 十差单位 (GRIDMAP_UNIT_MIN_CASES, default 10)."""
    return max(1, int(setting("GRIDMAP_UNIT_MIN_CASES", str(DEFAULT_UNIT_MIN_CASES))))


#: 问题扣分 weight of each problem source (问题来源): a grid's own finds (网格员巡查) weigh less, so
#: reporting its own problems does not push it down the table the way 暗访 / 督查 finds do.
DEFAULT_SOURCE_WEIGHTS = "暗访=1,督查=1,市民热线=1,网格员巡查=0.5"


def source_weights(text: str | None = None) -> dict[str, float]:
    """The weights in `text` (default: GRIDMAP_SOURCE_WEIGHTS), e.g. ``网格员巡查=0.5`` (sources not named weigh 1)."""
    from gis.db.models import SOURCES

    raw = setting("GRIDMAP_SOURCE_WEIGHTS", DEFAULT_SOURCE_WEIGHTS) if text is None else text
    out = {s: 1.0 for s in SOURCES}
    for part in filter(None, (x.strip() for x in str(raw).split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in out:
            raise ValueError(f"GRIDMAP_SOURCE_WEIGHTS 中的来源“{name}”无效，应为：{'、'.join(SOURCES)}。")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"GRIDMAP_SOURCE_WEIGHTS 中“{part}”的权重不是数字。") from None
        if not 0 <= weight <= 10:
            raise ValueError(f"GRIDMAP_SOURCE_WEIGHTS 中“{part}”的权重须在 0 到 10 之间。")
        out[name] = weight
    return out
