"""Wall-screen metrics against answers worked out by hand from tests/smallcity.py.

As of 2026-11-21 00:00 (end of UNTIL), November 2026 is "this month". Problems per grid
(boundary rule: lowest id wins): T-01 WT01–WT06 (WT05 on the T-01/T-02 edge, WT06 at the
centre), T-02 WT07, T-04 WT08; October: WT09 (T-01), WT10 (T-04).
Inspections in November: T-01 12 (DW-0001 on the T-01/T-03 edge, DW-0002, DW-0003) 9 passed,
T-02 4 (1 passed), T-03 4 (3), T-04 4 (3); both standards weigh 2 points.

Deductions (Nov): T-01 1+1+1+4+1+1 = 9, T-02 1, T-03 0, T-04 4 → city mean 14/4 = 3.5.
超期 (deadline passed and not rectified in time): T-01 WT02 (late), WT03, WT04, WT06 = 4 of 6;
T-04 WT08 = 1 of 1.
    T-01: 100×9/12 − 10×9/3.5 − 20×4/6 = 75 − 25.714 − 13.333 = 35.952
    T-02: 100×1/4  − 10×1/3.5 − 0      = 25 − 2.857            = 22.143
    T-03: 100×3/4  − 0        − 0      = 75
    T-04: 100×3/4  − 10×4/3.5 − 20×1/1 = 75 − 11.429 − 20      = 43.571
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from gis.metrics import kpis, scores, settings, units

AS_OF = datetime(2026, 11, 21)
NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)
EXPECTED = {"T-01": 75 - 90 / 3.5 - 40 / 3, "T-02": 25 - 10 / 3.5, "T-03": 75.0, "T-04": 75 - 40 / 3.5 - 20}


def test_scores_match_hand_computation(city_engine):
    df = scores.monthly_scores(city_engine, NOV, AS_OF, min_sample=4).set_index("code")
    assert list(df.columns) == scores.SCORE_COLUMNS[1:]
    for code, score in EXPECTED.items():
        assert df.at[code, "score"] == pytest.approx(score, abs=1e-9)
    assert df["inspections"].to_dict() == {"T-01": 12, "T-02": 4, "T-03": 4, "T-04": 4}
    assert df["pass_rate"].to_dict() == pytest.approx({"T-01": 0.75, "T-02": 0.25, "T-03": 0.75, "T-04": 0.75})
    assert df["problems"].to_dict() == {"T-01": 6, "T-02": 1, "T-03": 0, "T-04": 1}
    # open at the 21st: T-01 WT03, WT04, WT05 (待核查), WT06; T-04 WT08
    assert df["open"].to_dict() == {"T-01": 4, "T-02": 0, "T-03": 0, "T-04": 1}
    assert df["overdue"].to_dict() == {"T-01": 4, "T-02": 0, "T-03": 0, "T-04": 1}
    assert df.at["T-01", "deduction"] == pytest.approx(90 / 3.5)
    assert df["rank"].to_dict() == {"T-03": 1, "T-04": 2, "T-01": 3, "T-02": 4}
    assert df["ranked"].all()


def test_minimum_sample_leaves_grids_unranked(city_engine, monkeypatch):
    monkeypatch.setenv("GRIDMAP_MIN_INSPECTIONS", "5")
    df = scores.monthly_scores(city_engine, NOV, AS_OF)
    assert df["code"].tolist()[0] == "T-01"  # the only ranked grid comes first
    by_code = df.set_index("code")
    assert by_code.at["T-01", "rank"] == 1 and by_code.at["T-01", "ranked"]
    assert by_code.loc[["T-02", "T-03", "T-04"], "rank"].isna().all()
    assert not by_code.loc[["T-02", "T-03", "T-04"], "ranked"].any()
    lists = scores.rankings(df)
    assert lists["best"]["code"].tolist() == ["T-01"] == lists["worst"]["code"].tolist()
    assert lists["insufficient"]["code"].tolist() == ["T-02", "T-03", "T-04"]


def test_colour_thresholds_come_from_settings(city_engine, monkeypatch):
    default = scores.monthly_scores(city_engine, NOV, AS_OF, min_sample=4).set_index("code")["color"]
    assert default.to_dict() == {"T-01": "红", "T-02": "红", "T-03": "黄", "T-04": "红"}  # 80 / 60
    monkeypatch.setenv("GRIDMAP_SCORE_GREEN", "70")
    monkeypatch.setenv("GRIDMAP_SCORE_YELLOW", "40")
    df = scores.monthly_scores(city_engine, NOV, AS_OF, min_sample=4).set_index("code")
    assert df["color"].to_dict() == {"T-01": "红", "T-02": "红", "T-03": "绿", "T-04": "黄"}
    assert scores.color_counts(df) == {"绿": 1, "黄": 1, "红": 2}
    monkeypatch.setenv("GRIDMAP_SCORE_YELLOW", "75.1")
    with pytest.raises(ValueError):
        settings.thresholds()


def test_score_filters(city_engine):
    # 柳园街道 only: the same city-wide ranks
    df = scores.monthly_scores(city_engine, NOV, AS_OF, subdistrict="柳园街道", min_sample=4)
    assert df.set_index("code")["rank"].to_dict() == {"T-03": 1, "T-04": 2}
    # 市民热线 only: WT04 (露天烧烤, deduction 4) in T-01, the only deduction → 10×4/1 = 40 → cap 30
    df = scores.monthly_scores(city_engine, NOV, AS_OF, source="市民热线", min_sample=4).set_index("code")
    assert df["problems"].to_dict() == {"T-01": 1, "T-02": 0, "T-03": 0, "T-04": 0}
    assert df.at["T-01", "score"] == pytest.approx(75 - 30 - 20)


def test_score_trend_of_one_grid(city_engine):
    df = scores.score_trend(city_engine, "T-01", months=3, as_of=AS_OF)
    assert df["month"].tolist() == [date(2026, 9, 1), OCT, NOV]
    # September: nothing → 100, unranked; October (as of 1 Nov): WT09 late, T-01 and T-04 one point each
    # → 100 − 10×1/0.5 − 20×1/1 = 60, unranked (no inspections); November as above.
    assert df["score"].tolist() == pytest.approx([100.0, 60.0, EXPECTED["T-01"]])
    assert df["rank"].isna().tolist() == [True, True, True]  # default minimum sample (30) not met
    ranked = scores.score_trend(city_engine, "T-01", months=1, as_of=AS_OF, min_sample=4)
    assert ranked["rank"].tolist() == [3]


def test_kpis_this_month_against_last(city_engine):
    k = kpis.kpis(city_engine, NOV, AS_OF)
    # November: 8 found, all 8 due; closed WT01, WT02, WT07; on time WT01, WT07; rework WT02.
    assert k.at["problems", "value"] == 8 and k.at["problems", "previous"] == 2
    assert k.at["closure_rate", "value"] == pytest.approx(37.5)
    assert k.at["on_time_rate", "value"] == pytest.approx(25.0)
    assert k.at["rework_rate", "value"] == pytest.approx(12.5)
    # October: WT09 (late), WT10 (on time), both closed.
    assert k.at["closure_rate", "previous"] == pytest.approx(100.0)
    assert k.at["on_time_rate", "previous"] == pytest.approx(50.0)
    assert k.at["on_time_rate", "change"] == pytest.approx(-25.0)
    # Overdue now: WT03, WT04, WT06, WT08; none at the end of October.
    assert k.at["overdue_now", "value"] == 4 and k.at["overdue_now", "previous"] == 0
    # Hours to rectify: Nov WT01 11, WT02 9, WT05 23, WT07 3 → 11.5; Oct 48 and 2 → 25.
    assert k.at["avg_hours", "value"] == pytest.approx(11.5)
    assert k.at["avg_hours", "previous"] == pytest.approx(25.0)


def test_as_of_freezes_the_past(city_engine):
    # On 6 Nov 00:00 only WT01 and WT02 exist; WT02 is verified at 09:00 that day, so not yet closed.
    stats = kpis.monthly_stats(city_engine, NOV, NOV, datetime(2026, 11, 6)).iloc[0]
    assert (stats["problems"], stats["due"], stats["closed"], stats["on_time"], stats["rework"]) == (2, 2, 1, 1, 1)
    assert stats["closure_rate"] == pytest.approx(0.5)
    assert kpis.overdue_now(city_engine, datetime(2026, 11, 6)) == 0
    assert kpis.overdue_now(city_engine, datetime(2026, 11, 11, 9)) == 1  # WT03 past 11 Nov 08:00


def test_trend_has_twelve_months(city_engine):
    df = kpis.trend(city_engine, 12, AS_OF)
    assert len(df) == 12 and df["month"].iloc[-1] == NOV and df["month"].iloc[0] == date(2025, 12, 1)
    assert df["problems"].tolist() == [0] * 10 + [2, 8]
    assert df["on_time_rate"].iloc[-2:].tolist() == pytest.approx([0.5, 0.25])


def test_worst_units(city_engine):
    df = units.worst_units(city_engine, NOV, AS_OF)
    # 古楼街道办事处: WT01–03, WT05–07 (WT04 not dispatched) → 3 超期 (WT02, WT03, WT06), on time 2 of 6
    assert df["unit"].tolist() == ["古楼街道办事处", "柳园街道办事处"]
    assert df["overdue"].tolist() == [3, 1]
    assert df["on_time_rate"].tolist() == pytest.approx([2 / 6, 0.0])
