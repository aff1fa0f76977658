"""Scores after a boundary change (issue 5, 调整影响), worked out by hand from tests/smallcity.py.

November 2026 as of 21 Nov 00:00 (see tests/test_metrics.py for the before-scores):
    T-01: 9 of 12 inspections passed, WT01–WT06 (deductions 9; 6 应结案, 5 超期)  → 28.333
    T-02: 1 of 4 passed, WT07 (deduction 1; closed after its deadline: 1 of 1 超期) → 1.667
City mean deduction 3 (WT08 is a 网格员巡查 find: 4 × 0.5; kept as it is after the change).

The T-01/T-02 edge moved 0.002° west (T-02 grows, T-01 gives way): WT05 (on the old edge) and
WT06 (at the centre: old owner T-01, the lowest; new owner T-02, the lowest still containing it)
pass to T-02; no inspection point is in the strip.
    T-01 after: 75 − 10×7/3 − 20×3/4 (WT02–WT04 超期, WT01 按期)     = 36.667    (up)
    T-02 after: 25 − 10×3/3 − 20×3/3 (WT05, WT06 open past the deadline, WT07 late)
              = −5, clamped to 0                                                      (down)
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import select

from gis.planning import impact

from gis.metrics import reassign, scores

from gis.planning import edits

from gis.planning import topology
from gis.db.models import InspectionPoint, Problem
from gis.people.permissions import Actor
from tests import smallcity as sc
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

AS_OF = datetime(2026, 11, 21)
NOV = date(2026, 11, 1)
MEAN = 3.0
BEFORE = {"T-01": 75 - 30 - 100 / 6, "T-02": 25 - 10 / 3 - 20}
AFTER = {"T-01": 75 - 10 * 7 / MEAN - 20 * 3 / 4, "T-02": max(0.0, 25 - 10 * 3 / MEAN - 20 * 3 / 3)}
WEST = sc.MX - 0.002


def _edge_moved_west(context):
    layer = edits.candidate_from(context.reference)
    return edits.replace_geometry(layer, "T-02", box(WEST, sc.S, sc.E, sc.MY))


def test_impact_after_scores_by_hand(city_engine):
    context = topology.load_context(city_engine)
    scores = impact.month_scores(city_engine, NOV, AS_OF)
    candidate = _edge_moved_west(context)
    assert candidate.set_index("code").geometry["T-01"].bounds[2] == pytest.approx(WEST)  # T-01 gave way
    imp = impact.impact(city_engine, candidate, context, scores)
    table = imp.scores.set_index("code")
    assert sorted(table.index) == ["T-01", "T-02"]
    for code in ("T-01", "T-02"):
        assert table.at[code, "score_before"] == pytest.approx(BEFORE[code], abs=1e-9)
        assert table.at[code, "score_after"] == pytest.approx(AFTER[code], abs=1e-9)
        assert table.at[code, "score_change"] == pytest.approx(AFTER[code] - BEFORE[code], abs=1e-9)
    assert table.at["T-01", "score_change"] > 0 > table.at["T-02", "score_change"]
    # open problems: WT05 (待核查) and WT06 (整改中) change grid
    assert table["open_before"].to_dict() == {"T-01": 4, "T-02": 0}
    assert table["open_after"].to_dict() == {"T-01": 2, "T-02": 2}
    assert "全市平均扣分按调整前计" in imp.note


def test_unchanged_assignment_gives_the_same_scores_exactly(city_engine):
    before = scores.monthly_scores(city_engine, NOV, AS_OF, min_sample=4)
    with city_engine.connect() as conn:
        ids = dict(conn.execute(select(Problem.code, Problem.id)).all())
        point_ids = dict(conn.execute(select(InspectionPoint.code, InspectionPoint.id)).all())
    stored = {"WT01": "T-01", "WT05": "T-01", "WT06": "T-01", "WT07": "T-02", "WT08": "T-04"}
    same = reassign.scores_with_assignment(city_engine, NOV, pd.Series({ids[c]: g for c, g in stored.items()}),
                                          pd.Series({point_ids["DW-0004"]: "T-02"}), AS_OF, min_sample=4)
    pd.testing.assert_frame_equal(same.drop(columns=["name", "subdistrict"]),
                                  before.drop(columns=["name", "subdistrict"]), check_exact=True)
    assert same["score"].tolist() == before["score"].tolist()  # bit for bit


def test_assignment_through_the_api_matches_the_impact(city_engine):
    with city_engine.connect() as conn:
        ids = dict(conn.execute(select(Problem.code, Problem.id)).all())
        point_ids = dict(conn.execute(select(InspectionPoint.code, InspectionPoint.id)).all())
    after = reassign.scores_with_assignment(city_engine, NOV, pd.Series({ids["WT05"]: "T-02", ids["WT06"]: "T-02"}),
                                           None, AS_OF).set_index("code")
    assert after.at["T-01", "score"] == pytest.approx(AFTER["T-01"], abs=1e-9)
    assert after.at["T-02", "score"] == pytest.approx(AFTER["T-02"], abs=1e-9)
    assert after.at["T-03", "score"] == pytest.approx(75.0)  # untouched
    # an inspection point: DW-0002 (passed 2 of 4) counted for T-02 → T-01 7/8, T-02 3/8
    after = reassign.scores_with_assignment(city_engine, NOV, None, pd.Series({point_ids["DW-0002"]: "T-02"}),
                                           AS_OF).set_index("code")
    assert after.at["T-01", "inspections"] == 8 and after.at["T-02", "inspections"] == 8
    assert after.at["T-01", "score"] == pytest.approx(87.5 - 30 - 100 / 6, abs=1e-9)
    assert after.at["T-02", "score"] == pytest.approx(37.5 - 10 / 3 - 20, abs=1e-9)
    # a new grid starts from zero and takes what is assigned to it
    after = reassign.scores_with_assignment(city_engine, NOV, pd.Series({ids["WT08"]: "T-05"}), None, AS_OF,
                                           codes=["T-01", "T-02", "T-03", "T-04", "T-05"]).set_index("code")
    # T-05: no inspection → no score (not 100 %), not ranked, no colour; it took WT08 (deduction 2)
    assert pd.isna(after.at["T-05", "score"]) and not after.at["T-05", "ranked"] and after.at["T-05", "color"] == "灰"
    assert after.at["T-05", "problems"] == 1 and after.at["T-05", "overdue"] == 1
    assert after.at["T-04", "score"] == pytest.approx(75.0, abs=1e-9)


def test_planning_page_shows_before_and_after(city_rw, monkeypatch, captured_maps):
    """修改边界 of T-02 on the page: the impact table shows both scores and the change.

    The page evaluates 'this month' at now, which tests/conftest.py pins to 21 Nov 2026 09:00:
    after every deadline of the small city, so the hand-computed November figures above hold
    (shown rounded to one decimal)."""
    url = str(city_rw.url.render_as_string(hide_password=False))
    at = run_app(url, monkeypatch, page="pages/planning.py", actor=Actor("planner1", "规划员"))
    at.radio(key="planning_mode").set_value("修改边界").run()
    at.selectbox(key="planning_grid").set_value("T-02").run()
    ring = [[WEST, sc.S], [sc.E, sc.S], [sc.E, sc.MY], [WEST, sc.MY], [WEST, sc.S]]
    edited = {"type": "Feature", "properties": {"code": "T-02"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    captured_maps.returns["planning_map"] = {"all_drawings": [edited], "last_active_drawing": None}
    at.run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "调整后得分" in d.value.columns).set_index("网格")
    assert list(table.columns) == ["调整前得分", "调整后得分", "变化", "未结案问题（调整前）", "未结案问题（调整后）"]
    assert table["未结案问题（调整后）"].to_dict() == {"T-01": 2, "T-02": 2}
    for code in ("T-01", "T-02"):  # the hand-computed November figures above
        assert table.at[code, "调整前得分"] == pytest.approx(BEFORE[code], abs=0.051)
        assert table.at[code, "调整后得分"] == pytest.approx(AFTER[code], abs=0.051)
        assert table.at[code, "变化"] == pytest.approx(AFTER[code] - BEFORE[code], abs=0.051)
    assert not any("须在新版本发布" in c.value for c in at.caption)
    assert any("全市平均扣分按调整前计" in c.value for c in at.caption)
