"""规则按日期生效 (issue 13) on the small city, with answers worked out by hand from tests/smallcity.py.

November inspections (one standard a visit, each 2 points): i = 0..3 on the 3rd, 7th, 11th and 15th, standards
1.1.1, 1.2.1, 1.1.1, 1.2.1; a pass scores 2.0. Grids: T-01 = DW-0001 [1,1,0,1], DW-0002 [0,0,1,1], DW-0003
[1,1,1,1]; T-02 = DW-0004 [0,1,0,0]; T-03 = DW-0005 [1,0,1,1]; T-04 = DW-0006 [1,1,1,0].

1.2.1 worth 1 point from 15 November: only the visits of the 15th weigh 1 (a pass's 2.0 is clamped to 1).
    T-01: earned 5 + 3 + 7 = 15 of 9×2 + 3×1 = 21;  T-02: 2 of 7;  T-03: 5 of 7;  T-04: 6 of 7.
The other terms of the score (deductions, overdue) are those of test_metrics.py.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from gis.db import rule_versions
from gis.db.models import AuditEntry, Category, Inspection, InspectionPoint, Problem, Standard
from gis.io import importer
from gis.metrics import losses, scores
from gis.people.permissions import Actor, PermissionDenied
from gis.problems import workflow
from gis.registry import edits
from tests import io_files as f

ADMIN = Actor.system("测试管理员")
AS_OF = datetime(2026, 11, 21)
NOV, OCT = date(2026, 11, 1), date(2026, 10, 1)
DEDUCTION, OVERDUE = {"T-01": 30.0, "T-02": 10 / 3, "T-03": 0.0, "T-04": 20 / 3}, {"T-01": 100 / 6, "T-02": 20.0,
                                                                                    "T-03": 0.0, "T-04": 20.0}


def _scores(engine, month):
    return scores.monthly_scores(engine, month, AS_OF if month == NOV else None, min_sample=1).set_index("code")


def _add_october_visits(engine):
    """Two October visits of DW-0003 (T-01): 1.2.1 passed (2.0) and 1.1.1 failed, on the 20th."""
    pt = InspectionPoint.__table__
    with engine.begin() as conn:
        pid, gid = conn.execute(select(pt.c.id, pt.c.grid_id).where(pt.c.code == "DW-0003")).one()
        conn.execute(Inspection.__table__.insert(), [
            {"point_id": pid, "standard_code": "1.2.1", "inspected_on": date(2026, 10, 20), "passed": True,
             "score": 2.0, "inspector": "测评组", "grid_id": gid},
            {"point_id": pid, "standard_code": "1.1.1", "inspected_on": date(2026, 10, 20), "passed": False,
             "score": 0.0, "inspector": "测评组", "grid_id": gid}])


def test_points_changed_on_the_15th_change_only_inspections_from_then(city_rw):
    _add_october_visits(city_rw)
    october_before = _scores(city_rw, OCT)
    edits.set_standard_points(city_rw, ADMIN, "1.2.1", 1.0, date(2026, 11, 15))
    nov = _scores(city_rw, NOV)
    earned = {"T-01": (15, 21), "T-02": (2, 7), "T-03": (5, 7), "T-04": (6, 7)}
    for code, (ok, total) in earned.items():
        assert nov.at[code, "pass_rate"] == pytest.approx(ok / total)
        assert nov.at[code, "score"] == pytest.approx(100 * ok / total - DEDUCTION[code] - OVERDUE[code])
    # last month keeps its rule: DW-0003's October visits weigh 2 + 2, 2 earned
    october = _scores(city_rw, OCT)
    assert october.at["T-01", "pass_rate"] == pytest.approx(0.5)
    pd.testing.assert_series_equal(october["score"], october_before["score"])
    # the standards table shows today's rule (21 November: 1 point); the versions keep the history
    with city_rw.connect() as conn:
        assert conn.execute(select(Standard.points).where(Standard.code == "1.2.1")).scalar() == 1.0
        history = rule_versions.standard_versions(conn, "1.2.1")
    assert history[["valid_from", "valid_to", "points"]].values.tolist() == [
        [rule_versions.EPOCH, date(2026, 11, 15), 2.0], [date(2026, 11, 15), None, 1.0]]


def test_a_change_from_the_first_of_last_month_rescores_it(city_rw):
    _add_october_visits(city_rw)
    edits.set_standard_points(city_rw, ADMIN, "1.1.1", 4.0, date(2026, 10, 1))
    october = _scores(city_rw, OCT)
    assert october.at["T-01", "pass_rate"] == pytest.approx(2 / 6)  # 1.2.1 2 of 2, 1.1.1 0 of 4
    # a later change (the 15th) leaves the first half of November at 4 points
    edits.set_standard_points(city_rw, ADMIN, "1.1.1", 3.0, date(2026, 11, 15))
    with city_rw.connect() as conn:
        assert rule_versions.in_force(conn, rule_versions.STANDARD, "1.1.1", date(2026, 11, 11))["points"] == 4.0
        assert rule_versions.in_force(conn, rule_versions.STANDARD, "1.1.1", date(2026, 11, 15))["points"] == 3.0
        assert rule_versions.in_force(conn, rule_versions.STANDARD, "1.1.1", date(2026, 9, 30))["points"] == 2.0
    # 谁丢分 weighs by the same points: T-01's 1.1.1 visits of November (3rd, 11th) at 4 points each:
    # failed DW-0001 (11th) and DW-0002 (3rd) lose 4 + 4; four passes scored 2.0 lose 2 each → 16
    by = losses.lost_points(city_rw, "T-01", NOV)["by_standard"].set_index("standard_code")
    assert by.at["1.1.1", "inspection_points"] == pytest.approx(16.0)
    assert by.at["1.2.1", "inspection_points"] == pytest.approx(2.0)  # DW-0002 failed on the 7th


def _deadline(engine, code):
    with engine.connect() as conn:
        return conn.execute(select(Problem.deadline, Problem.deduction).where(Problem.code == code)).one()


def test_category_limit_from_the_15th_applies_to_problems_reported_since(city_rw, tmp_path):
    before_wt02 = _deadline(city_rw, "WT02")
    out = edits.set_category_rule(city_rw, ADMIN, "暴露垃圾", date(2026, 11, 15), 2, "自然时", 3.0)
    # WT06 (15 Nov 10:00) and WT07 (16 Nov 07:00) are reported since: 2 自然时, 3 points; WT02 (5 Nov) unchanged
    assert out["problems"] == 2
    assert tuple(_deadline(city_rw, "WT06")) == (datetime(2026, 11, 15, 12), 3.0)
    assert tuple(_deadline(city_rw, "WT07")) == (datetime(2026, 11, 16, 9), 3.0)
    assert tuple(_deadline(city_rw, "WT02")) == tuple(before_wt02)
    # an imported ledger without deadlines: each row by the limit in force on its report day
    path = f.write_csv(pd.DataFrame({
        "问题编号": ["RB-001", "RB-002"], "问题类型": ["暴露垃圾", "暴露垃圾"], "问题描述": ["垃圾", "垃圾"],
        "上报时间": ["2026-11-10 08:00", "2026-11-16 08:00"], "经度": [115.985, 115.985], "纬度": [36.4431, 36.4431]}),
        tmp_path / "ledger.csv")
    assert importer.import_file(city_rw, ADMIN, "problems", path).written
    assert tuple(_deadline(city_rw, "RB-001")) == (datetime(2026, 11, 10, 12), 1.0)  # 4 自然时, 1 point
    assert tuple(_deadline(city_rw, "RB-002")) == (datetime(2026, 11, 16, 10), 3.0)  # 2 自然时, 3 points
    # a problem reported today (21 Nov) by the new rule; the table shows it
    worker = Actor("wang", "网格员", "T-01")
    made = workflow.create_problem(city_rw, worker, "暴露垃圾", "路边垃圾", 115.985, 36.4431, now=datetime(2026, 11, 21, 9))
    assert made["deadline"] == datetime(2026, 11, 21, 11)
    with city_rw.connect() as conn:
        row = conn.execute(select(Category.time_limit, Category.time_unit, Category.deduction)
                           .where(Category.name == "暴露垃圾")).one()
        assert tuple(row) == (2.0, "自然时", 3.0)
        audited = conn.execute(select(AuditEntry.action, AuditEntry.target_code, AuditEntry.detail)
                               .where(AuditEntry.action == "registry.category")).all()
    assert len(audited) == 1 and audited[0][1] == "暴露垃圾" and "2026-11-15" in audited[0][2]


def test_registering_a_hotline_report_uses_the_limit_of_its_report_day(city_rw):
    # WT04 (露天烧烤, 19 Nov 22:00, 待派遣 from the hotline): a change from the 20th does not apply to it
    edits.set_category_rule(city_rw, ADMIN, "露天烧烤", date(2026, 11, 20), 10, "自然时", 2.0)
    with city_rw.connect() as conn:
        rule = rule_versions.in_force(conn, rule_versions.CATEGORY, "露天烧烤", date(2026, 11, 19))
        later = rule_versions.in_force(conn, rule_versions.CATEGORY, "露天烧烤", date(2026, 11, 20))
    assert workflow.category_limit(rule) == (2.0, "自然时") and workflow.category_limit(later) == (10.0, "自然时")


@pytest.mark.parametrize("call, message", [
    (lambda e: edits.set_standard_points(e, ADMIN, "1.2.1", "两分", date(2026, 11, 15)), "分值“两分”不是数字。"),
    (lambda e: edits.set_standard_points(e, ADMIN, "1.2.1", -1, date(2026, 11, 15)), "分值 -1 超出范围：应不小于 0且不大于 100。"),
    (lambda e: edits.set_standard_points(e, ADMIN, "X.9", 1, date(2026, 11, 15)), "测评标准编号“X.9”不存在。"),
    (lambda e: edits.set_standard_points(e, ADMIN, "1.2.1", 1, None), "请填写生效日期（从哪一天起执行新规则）。"),
    (lambda e: edits.set_category_rule(e, ADMIN, "暴露垃圾", date(2026, 11, 15), 2, "小时", 1), "时限单位“小时”无效，应为：工作时、工作日、自然时。"),
    (lambda e: edits.set_category_rule(e, ADMIN, "暴露垃圾", date(2026, 11, 15), 0, "自然时", 1), "整改时限 0 超出范围：应大于 0且不大于 8760。"),
    (lambda e: edits.set_category_rule(e, ADMIN, "乱扔垃圾", date(2026, 11, 15), 2, "自然时", 1), "问题类型“乱扔垃圾”不存在。"),
    (lambda e: edits.set_aliases(e, ADMIN, "暴露垃圾", "垃圾堆放、占道经营"), "别名“占道经营”已是一个问题类型的名称，不能再作别名。"),
    (lambda e: edits.add_category(e, ADMIN, "暴露垃圾", 4, "工作时", 1), "问题类型“暴露垃圾”已存在。"),
    (lambda e: edits.add_category(e, ADMIN, "违法建设", 20, "工作日", 5, kind="部门"), "类别“部门”无效，应为：部件、事件。"),
])
def test_bad_edits_are_refused_in_chinese_and_change_nothing(city_rw, call, message):
    before = importer.counts(city_rw)
    with city_rw.connect() as conn:
        snapshot = [conn.execute(select(t)).all() for t in (Standard.__table__, Category.__table__,
                                                              rule_versions.STANDARD.versions, rule_versions.CATEGORY.versions)]
    with pytest.raises(edits.RegistryError) as exc:
        call(city_rw)
    assert str(exc.value) == message
    assert importer.counts(city_rw) == before
    with city_rw.connect() as conn:
        assert [conn.execute(select(t)).all() for t in (Standard.__table__, Category.__table__,
                                                        rule_versions.STANDARD.versions,
                                                        rule_versions.CATEGORY.versions)] == snapshot


def test_only_an_administrator_edits_rules(city_rw):
    with pytest.raises(PermissionDenied, match="修改测评标准与问题类型"):
        edits.set_standard_points(city_rw, Actor("lead", "领导"), "1.2.1", 1, date(2026, 11, 15))


def test_aliases_and_a_new_category(city_rw):
    assert edits.set_aliases(city_rw, ADMIN, "暴露垃圾", "垃圾堆放，乱倒垃圾、垃圾堆放") == ["垃圾堆放", "乱倒垃圾"]
    edits.add_category(city_rw, ADMIN, "违法建设", 20, "工作日", 5, code="0601", kind="事件", major="施工管理")
    rows = edits.category_rows(city_rw, date(2026, 11, 21)).set_index("name")
    assert rows.at["暴露垃圾", "aliases"] == "乱倒垃圾、垃圾堆放"
    assert (rows.at["违法建设", "time_limit"], rows.at["违法建设", "time_unit"], rows.at["违法建设", "kind"]) == (20.0, "工作日", "事件")
    with city_rw.connect() as conn:
        actions = [a for (a,) in conn.execute(select(AuditEntry.action).where(AuditEntry.action.like("registry.%"))
                                               .order_by(AuditEntry.id))]
    assert actions == ["registry.aliases", "registry.category_add"]
