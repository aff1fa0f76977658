"""Wall-screen metrics against answers worked out by hand from tests/smallcity.py.

As of 2026-11-21 00:00 (end of UNTIL), November 2026 is "this month". Problems per grid
(boundary rule: lowest id wins): T-01 WT01–WT06 (WT05 on the T-01/T-02 edge, WT06 at the
centre), T-02 WT07, T-04 WT08; October: WT09 (T-01), WT10 (T-04).
Inspections in November: T-01 12 (DW-0001 on the T-01/T-03 edge, DW-0002, DW-0003) 9 passed,
T-02 4 (1 passed), T-03 4 (3), T-04 4 (3); both standards weigh 2 points.

Deductions (Nov), weighted by source (GRIDMAP_SOURCE_WEIGHTS default: 网格员巡查 ×0.5, others ×1):
T-01 1+1+1+4+1+1 = 9, T-02 1, T-03 0, T-04 WT08 (网格员巡查) 4×0.5 = 2 → city mean 12/4 = 3.
应结案 (Nov, every deadline falls in November and has passed by the 21st): T-01 6, T-02 1, T-04 1.
按期 (closed by the deadline): only WT01 (verified 3 Nov 09:00 = its deadline). WT02 and WT07 were
closed after their deadlines (超期结案); WT03–WT06 and WT08 are still open past theirs. So 超期数:
T-01 5 of 6, T-02 1 of 1, T-04 1 of 1. Inspection visits (point-days) = rows here (one standard a visit).
    T-01: 100×9/12 − min(30, 10×9/3) − 20×5/6 = 75 − 30 − 16.667     = 28.333
    T-02: 100×1/4  − 10×1/3          − 20×1/1 = 25 − 3.333 − 20      = 1.667
    T-03: 100×3/4  − 0               − 0      = 75
    T-04: 100×3/4  − 10×2/3          − 20×1/1 = 75 − 6.667 − 20      = 48.333
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from gis.metrics import kpis, scores, settings, units

AS_OF = datetime(2026, 11, 21)
NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)
EXPECTED = {"T-01": 75 - 30 - 100 / 6, "T-02": 25 - 10 / 3 - 20, "T-03": 75.0, "T-04": 75 - 20 / 3 - 20}


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
    assert df["due"].to_dict() == {"T-01": 6, "T-02": 1, "T-03": 0, "T-04": 1}
    assert df["overdue"].to_dict() == {"T-01": 5, "T-02": 1, "T-03": 0, "T-04": 1}
    assert df.at["T-01", "deduction"] == pytest.approx(30.0)  # capped
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
    assert scores.color_counts(df) == {"绿": 1, "黄": 1, "红": 2, "灰": 0}
    # below the minimum sample: no colour (灰, 样本不足), whatever the score
    few = scores.monthly_scores(city_engine, NOV, AS_OF, min_sample=5).set_index("code")
    assert few["color"].to_dict() == {"T-01": "红", "T-02": "灰", "T-03": "灰", "T-04": "灰"}
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
    # September and October: no inspections → no score (not 100 %), unranked; November as above.
    assert df["score"].isna().tolist() == [True, True, False]
    assert df["score"].iloc[-1] == pytest.approx(EXPECTED["T-01"])
    assert df["rank"].isna().tolist() == [True, True, True]  # default minimum sample (30) not met
    ranked = scores.score_trend(city_engine, "T-01", months=1, as_of=AS_OF, min_sample=4)
    assert ranked["rank"].tolist() == [3]


def test_kpis_this_month_against_last(city_engine):
    k = kpis.kpis(city_engine, NOV, AS_OF)
    # November: 8 found, all 8 due; closed WT01, WT02, WT07; on time WT01 only; rework WT02.
    assert k.at["problems", "value"] == 8 and k.at["problems", "previous"] == 2
    assert k.at["closure_rate", "value"] == pytest.approx(37.5)
    assert k.at["on_time_rate", "value"] == pytest.approx(12.5)
    assert k.at["rework_rate", "value"] == pytest.approx(12.5)
    # compared with the same days of October (1–20, as of 21 Oct 00:00): WT09 (rectified 10 Oct,
    # deadline 9 Oct), WT10 (20 Oct, verified 16:00, deadline 13:00): both in, both late.
    assert k.at["problems", "compared"] == "上月同期（1–20日）"
    assert k.at["closure_rate", "previous"] == pytest.approx(100.0)
    assert k.at["on_time_rate", "previous"] == pytest.approx(0.0)
    assert k.at["on_time_rate", "change"] == pytest.approx(12.5)
    # 现超期 (open past the deadline): WT03, WT04, WT05 (待核查 since before its deadline, not yet
    # verified), WT06, WT08; none at the end of October.
    assert k.at["overdue_now", "value"] == 5 and k.at["overdue_now", "previous"] == 0
    # Hours to rectify: Nov WT01 11, WT02 9, WT05 23, WT07 3 → 11.5; Oct 48 and 2 → 25.
    assert k.at["avg_hours", "value"] == pytest.approx(11.5)
    assert k.at["avg_hours", "previous"] == pytest.approx(25.0)


def test_as_of_freezes_the_past(city_engine):
    # On 6 Nov 00:00 only WT01 and WT02 exist; WT02 is verified at 09:00 that day, so not yet closed.
    stats = kpis.monthly_stats(city_engine, NOV, NOV, datetime(2026, 11, 6)).iloc[0]
    assert (stats["problems"], stats["due"], stats["closed"], stats["on_time"], stats["rework"]) == (2, 2, 1, 1, 1)
    assert stats["closure_rate"] == pytest.approx(0.5)
    assert kpis.overdue_now(city_engine, datetime(2026, 11, 5, 12)) == 0
    assert kpis.overdue_now(city_engine, datetime(2026, 11, 6)) == 1  # WT02: past 5 Nov 13:00, verified only on the 6th
    assert kpis.overdue_now(city_engine, datetime(2026, 11, 11, 9)) == 1  # WT03 past 11 Nov 08:00


def test_trend_has_twelve_months(city_engine):
    df = kpis.trend(city_engine, 12, AS_OF)
    assert len(df) == 12 and df["month"].iloc[-1] == NOV and df["month"].iloc[0] == date(2025, 12, 1)
    assert df["problems"].tolist() == [0] * 10 + [2, 8]
    assert df["on_time_rate"].iloc[-2:].tolist() == pytest.approx([0.0, 0.125])


def test_worst_units_by_rate_with_a_minimum_of_cases(city_engine):
    # 古楼街道办事处 (U-002): WT01–03, WT05–07 due (WT04 not dispatched), on time WT01 → 1/6, 超期 5;
    # 柳园街道办事处 (U-003): WT08 due, 0/1, 超期 1. The lower rate comes first.
    df = units.worst_units(city_engine, NOV, AS_OF, min_cases=1)
    assert df["unit"].tolist() == ["柳园街道办事处", "古楼街道办事处"]
    assert df["due"].tolist() == [1, 6] and df["overdue"].tolist() == [1, 5]
    assert df["on_time_rate"].tolist() == pytest.approx([0.0, 1 / 6])
    # a minimum of 2 应结案 cases leaves out the unit with one
    assert units.worst_units(city_engine, NOV, AS_OF, min_cases=2)["unit"].tolist() == ["古楼街道办事处"]
