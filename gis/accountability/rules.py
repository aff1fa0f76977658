"""The city's 三色牌 settings (`GRIDMAP_CARD_*`): the monthly rules and the response deadline.

| setting | default | rule |
|---|---|---|
| GRIDMAP_CARD_BLACKLIST_MONTHS | 2 | a grid on the 黑榜 (or a unit among the 十差单位) this many months in a row → 黄牌; 0 = off |
| GRIDMAP_CARD_ESCALATE_DAYS | 30 | a 黄牌 not lifted this many days after it was issued → 红牌; 0 = off |
| GRIDMAP_CARD_GREEN_MONTHS | 0 | a grid on the 红榜 this many months in a row → 绿牌 (commendation); 0 = off |
| GRIDMAP_CARD_RESPONSE_DAYS | 7 | days a card's target has to respond (限期整改) |
"""

from __future__ import annotations

from dataclasses import dataclass

from gis.config import setting


@dataclass(frozen=True)
class CardRules:
    blacklist_months: int
    escalate_days: int
    green_months: int
    response_days: int


def _int(name: str, default: int, low: int) -> int:
    raw = setting(name, str(default))
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"设置 {name} 应为整数，现为“{raw}”。") from None
    if value < low:
        raise ValueError(f"设置 {name} 不能小于 {low}，现为 {value}。")
    return value


def card_rules() -> CardRules:
    """The rules in force (environment, then secrets.toml, then the defaults above)."""
    return CardRules(_int("GRIDMAP_CARD_BLACKLIST_MONTHS", 2, 0), _int("GRIDMAP_CARD_ESCALATE_DAYS", 30, 0),
                     _int("GRIDMAP_CARD_GREEN_MONTHS", 0, 0), _int("GRIDMAP_CARD_RESPONSE_DAYS", 7, 1))
