"""系统管理 → 规则: a 管理员 changes a 测评标准's points and a 问题类型's limit from a date, its aliases, and adds a
问题类型, on the page (AppTest); each change audited; bad input refused in Chinese with nothing written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from gis.db import rule_versions
from gis.db.models import AuditEntry, Category, Problem
from gis.people.permissions import ADMIN, Actor
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)


def _page(city_rw, monkeypatch, actor=Actor("admin", ADMIN)):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/admin.py", actor=actor)
    assert not at.exception
    return at


def test_admin_changes_points_and_a_limit_from_a_date(city_rw, monkeypatch, captured_maps):
    at = _page(city_rw, monkeypatch)
    at.selectbox(key="rules_std").select("1.2.1").run()
    at.number_input(key="rules_std_points").set_value(1.0)
    at.date_input(key="rules_std_from").set_value(date(2026, 11, 15))
    at.button(key="FormSubmitter:rules_std_form-保存分值").click().run()
    assert not at.exception
    assert at.success[0].value == "已修改测评标准 1\\.2\\.1 的分值，自 2026-11-15 起执行。"
    with city_rw.connect() as conn:
        assert rule_versions.in_force(conn, rule_versions.STANDARD, "1.2.1", date(2026, 11, 14))["points"] == 2.0
        assert rule_versions.in_force(conn, rule_versions.STANDARD, "1.2.1", date(2026, 11, 15))["points"] == 1.0

    at.selectbox(key="rules_cat").select("暴露垃圾").run()
    at.number_input(key="rules_cat_limit").set_value(2.0)
    at.selectbox(key="rules_cat_unit").select("工作时")
    at.number_input(key="rules_cat_ded").set_value(3.0)
    at.date_input(key="rules_cat_from").set_value(date(2026, 11, 15))
    at.button(key="FormSubmitter:rules_cat_form-保存规则").click().run()
    assert not at.exception
    with city_rw.connect() as conn:
        # WT06: 15 Nov (Sunday) 10:00 → 2 工作时 from Monday 08:30 = 10:30
        deadline = conn.execute(select(Problem.deadline).where(Problem.code == "WT06")).scalar()
        actions = conn.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.target_code)
                               .where(AuditEntry.action.like("registry.%")).order_by(AuditEntry.id)).all()
    assert deadline.strftime("%Y-%m-%d %H:%M") == "2026-11-16 10:30"
    assert actions == [("admin", "registry.standard", "1.2.1"), ("admin", "registry.category", "暴露垃圾")]


def test_admin_sets_aliases_and_adds_a_category_and_bad_input_is_refused(city_rw, monkeypatch, captured_maps):
    at = _page(city_rw, monkeypatch)
    at.selectbox(key="rules_cat").select("暴露垃圾").run()
    at.text_input(key="rules_cat_aliases").input("占道经营")
    at.button(key="FormSubmitter:rules_alias_form-保存别名").click().run()
    assert [e.value for e in at.error] == ["别名“占道经营”已是一个问题类型的名称，不能再作别名。"]
    at.text_input(key="rules_cat_aliases").input("垃圾堆放、乱倒垃圾")
    at.button(key="FormSubmitter:rules_alias_form-保存别名").click().run()
    assert not at.error and "已保存问题类型 暴露垃圾 的别名。" == at.success[0].value

    at.text_input(key="rules_new_name").input("违法建设")
    at.text_input(key="rules_new_code").input("0601")
    at.selectbox(key="rules_new_kind").select("事件")
    at.number_input(key="rules_new_limit").set_value(20.0)
    at.selectbox(key="rules_new_unit").select("工作日")
    at.number_input(key="rules_new_ded").set_value(5.0)
    at.button(key="FormSubmitter:rules_cat_add-新增问题类型").click().run()
    assert not at.exception and not at.error
    with city_rw.connect() as conn:
        row = conn.execute(select(Category.time_limit, Category.time_unit, Category.deduction, Category.kind)
                           .where(Category.name == "违法建设")).one()
    assert tuple(row) == (20.0, "工作日", 5.0, "事件")
    table = at.dataframe[-2].value.set_index("问题类型")  # the 问题类型 table shows both changes
    assert table.at["暴露垃圾", "别名"] == "乱倒垃圾、垃圾堆放" and table.at["违法建设", "整改时限"] == "20 工作日"
