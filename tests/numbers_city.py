"""The numbers city: the small city's places with two months of problems built to test every
figure by hand (issue 12). October and November 2026; the month after is December.

Working hours 08:30–12:00, 13:30–17:30. October 2026: 1–7 October are the National Day holiday,
Saturday 10 October is a 调休 working day. Deadlines below were worked out by hand from those
rules (tests/test_worktime.py checks gis.problems.worktime gives the same):

| code | where | category (limit) | reported | deadline | what happens |
|---|---|---|---|---|---|
| N01 | T-01 | 暴露垃圾 (4 工作时) | Wed 30 Sep 16:00 | Thu 8 Oct 11:00 (1.5 h, holiday, 2.5 h) | rectified 10:00, verified 10:30 → 按期, due in October (closed early) |
| N02 | T-01 | 暴露垃圾 | Fri 9 Oct 16:30 | Sat 10 Oct 11:30 (调休) | verified Mon 12 Oct 10:00 → 超期结案 |
| N03 | T-02 | 私搭乱建 (20 工作日) | Tue 20 Oct 09:00 | Tue 17 Nov 17:30 | verified 30 Oct 10:00 → closed early: due in October, 按期 |
| N04 | T-02 | 私搭乱建 | Mon 12 Oct 09:00 | Mon 9 Nov 17:30, 延期 to 25 Nov 17:30 | verified 24 Nov 16:00 → 按期 (the deadline in force) |
| N05 | T-01 | 占道经营 (24 自然时) | 3 Nov 09:00 | 4 Nov 09:00 | 缓办 approved 3 Nov 15:00: out of 应结案, never 超期 |
| N06 | T-01 | 占道经营 | 10 Nov 09:00 | 11 Nov 09:00 | sent back once (返工), verified 11 Nov 08:30 → 按期 |
| N07 | T-02 | 占道经营 | 20 Nov 09:00 (网格员巡查) | 21 Nov 09:00 | still 整改中 → 超期 |
| N08 | T-01 | 占道经营 | 25 Nov 10:00 (市民热线) | – | 待立案: in no figure |
| N09 | T-01 | 占道经营 | 26 Nov 10:00 (市民热线) | – | 不予立案: in no figure |
| N10 | T-02 | 占道经营 | 15 Nov 20:00 (市民热线) | 17 Nov 09:00 (24 h from 立案 16 Nov 09:00) | dispatched 10:00, verified 17 Nov 08:00 → 按期 |
| N11 | T-01 | 暴露垃圾 | Mon 30 Nov 16:00 | Tue 1 Dec 11:00 | 整改中: reported in November, due in December |
"""

from __future__ import annotations

from datetime import date, datetime as d

import pandas as pd

from tests import smallcity

T01, T02 = (115.984, 36.446), (115.995, 36.445)
DEDUCTION = {"占道经营": 1.0, "暴露垃圾": 1.0, "私搭乱建": 3.0, "露天烧烤": 4.0}
STANDARD = {"占道经营": "1.1.1", "暴露垃圾": "1.2.1", "私搭乱建": "1.1.1", "露天烧烤": "9.1.1"}


def categories() -> pd.DataFrame:
    return pd.DataFrame([
        {"name": "占道经营", "deadline_hours": 24.0, "deduction": 1.0, "standard_code": "1.1.1",
         "time_limit": 24.0, "time_unit": "自然时", "urgent_hours": None},
        {"name": "暴露垃圾", "deadline_hours": 4.0, "deduction": 1.0, "standard_code": "1.2.1",
         "time_limit": 4.0, "time_unit": "工作时", "urgent_hours": None},
        {"name": "私搭乱建", "deadline_hours": 480.0, "deduction": 3.0, "standard_code": "1.1.1",
         "time_limit": 20.0, "time_unit": "工作日", "urgent_hours": 4.0},
        {"name": "露天烧烤", "deadline_hours": 2.0, "deduction": 4.0, "standard_code": "9.1.1",
         "time_limit": 2.0, "time_unit": "自然时", "urgent_hours": None},
    ])


def _p(code, cat, where, reported, deadline, status, unit="U-002", source="暗访", fixed=None, verified=None,
       rework=0, registered=None, dispatched=None, original=None, deferred=None, ack=None):
    lon, lat = where
    return {"code": code, "category": cat, "standard_code": STANDARD[cat], "description": f"{cat} {code}",
            "lon": lon, "lat": lat, "reported_at": reported, "deadline": deadline, "status": status,
            "source": source, "unit_code": unit if status not in ("待立案", "不予立案") else None,
            "acknowledged_at": ack, "rectified_at": fixed, "verified_at": verified, "rework_count": rework,
            "deduction": DEDUCTION[cat], "reporter": "测试", "registered_at": registered,
            "dispatched_at": dispatched, "original_deadline": original, "deferred_at": deferred}


def problems() -> pd.DataFrame:
    return pd.DataFrame([
        _p("N01", "暴露垃圾", T01, d(2026, 9, 30, 16), d(2026, 10, 8, 11), "已结案",
           fixed=d(2026, 10, 8, 10), verified=d(2026, 10, 8, 10, 30)),
        _p("N02", "暴露垃圾", T01, d(2026, 10, 9, 16, 30), d(2026, 10, 10, 11, 30), "已结案",
           fixed=d(2026, 10, 12, 9), verified=d(2026, 10, 12, 10)),
        _p("N03", "私搭乱建", T02, d(2026, 10, 20, 9), d(2026, 11, 17, 17, 30), "已结案", unit="U-003",
           fixed=d(2026, 10, 29, 15), verified=d(2026, 10, 30, 10)),
        _p("N04", "私搭乱建", T02, d(2026, 10, 12, 9), d(2026, 11, 25, 17, 30), "已结案", unit="U-003",
           original=d(2026, 11, 9, 17, 30), fixed=d(2026, 11, 24, 10), verified=d(2026, 11, 24, 16)),
        _p("N05", "占道经营", T01, d(2026, 11, 3, 9), d(2026, 11, 4, 9), "整改中", deferred=d(2026, 11, 3, 15)),
        _p("N06", "占道经营", T01, d(2026, 11, 10, 9), d(2026, 11, 11, 9), "已结案", rework=1,
           fixed=d(2026, 11, 11, 8), verified=d(2026, 11, 11, 8, 30)),
        _p("N07", "占道经营", T02, d(2026, 11, 20, 9), d(2026, 11, 21, 9), "整改中", unit="U-003", source="网格员巡查"),
        _p("N08", "占道经营", T01, d(2026, 11, 25, 10), d(2026, 11, 26, 10), "待立案", source="市民热线"),
        _p("N09", "占道经营", T01, d(2026, 11, 26, 10), d(2026, 11, 27, 10), "不予立案", source="市民热线"),
        _p("N10", "占道经营", T02, d(2026, 11, 15, 20), d(2026, 11, 17, 9), "已结案", unit="U-003", source="市民热线",
           registered=d(2026, 11, 16, 9), dispatched=d(2026, 11, 16, 10), ack=d(2026, 11, 16, 11),
           fixed=d(2026, 11, 17, 7), verified=d(2026, 11, 17, 8)),
        _p("N11", "暴露垃圾", T01, d(2026, 11, 30, 16), d(2026, 12, 1, 11), "整改中"),
    ])


def inspections() -> pd.DataFrame:
    """The small city's November inspections plus one partial credit: 许营村 (DW-0004, T-02) on 3 Nov
    is also checked against 1.2.1 and given 1 of its 2 points (not passed). T-02 then has 5 rows
    but 4 visits (point-days), and earned 2 + 1 of 10 points (30 %)."""
    extra = pd.DataFrame([{"point_code": "DW-0004", "standard_code": "1.2.1", "inspected_on": date(2026, 11, 3),
                           "passed": False, "score": 1.0, "inspector": "测评组"}])
    return pd.concat([smallcity.inspections(), extra], ignore_index=True)


def standards() -> pd.DataFrame:
    """The small city's standards with 负面清单 effects (gis.metrics.negative): 9.1.1 露天烧烤 扣分 3 (its
    points), 9.2.1 重大安全生产事故 否决, 9.3.1 重大负面舆情 扣分 5."""
    base = smallcity.city()["standards"].assign(negative_effect=None)
    base.loc[base["code"] == "9.1.1", "negative_effect"] = "扣分"
    extra = pd.DataFrame([
        {"code": "9.2.1", "item": "负面清单", "content": "安全生产", "text": "发生重大安全生产事故", "points": 0.0,
         "negative": True, "category": None, "negative_effect": "否决"},
        {"code": "9.3.1", "item": "负面清单", "content": "舆情", "text": "发生造成恶劣影响的重大负面舆情", "points": 5.0,
         "negative": True, "category": None, "negative_effect": "扣分"},
    ])
    return pd.concat([base, extra], ignore_index=True)


def city() -> dict[str, pd.DataFrame]:
    base = smallcity.city()
    return {**base, "categories": categories(), "problems": problems(), "inspections": inspections(),
            "standards": standards()}


def load(engine) -> None:
    """Write the numbers city into a migrated, empty database."""
    from gis.io.city import clear_data, write_city

    with engine.begin() as conn:
        clear_data(conn)
        write_city(conn, city(), smallcity.LAYER_START)
