"""单位与人员 on 系统管理 (issue 13): a 管理员 corrects a unit's phone and moves a person to another unit;
bad input is refused in Chinese with nothing written; only a 管理员 may (gis.registry.directory)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gis.db.models import AuditEntry, Person, Unit
from gis.people.permissions import ADMIN, LEADER, Actor, PermissionDenied
from gis.registry import directory
from gis.registry.edits import RegistryError
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)


def _snapshot(engine):
    with engine.connect() as conn:
        return (conn.execute(select(Unit.code, Unit.name, Unit.phone).order_by(Unit.code)).all(),
                conn.execute(select(Person.code, Person.name, Person.unit_id).order_by(Person.code)).all(),
                conn.execute(select(func.count()).select_from(AuditEntry)).scalar())


def test_admin_corrects_a_unit_and_moves_a_person(city_rw, monkeypatch, captured_maps):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/admin.py", actor=Actor("admin", ADMIN))
    assert not at.exception
    at.selectbox(key="dir_unit").select("U-002").run()
    assert at.text_input(key="dir_unit_phone").value == "0635-8211002"
    at.text_input(key="dir_unit_phone").set_value("0635-8219999")
    at.button(key="FormSubmitter:dir_unit_form-保存单位").click().run()
    assert not at.exception
    assert at.success[0].value == "已保存责任单位 U-002。"

    at.selectbox(key="dir_person").select("P-003").run()
    at.selectbox(key="dir_person_unit").select("U-003")
    at.text_input(key="dir_person_title").set_value("区委常委、副区长")
    at.button(key="FormSubmitter:dir_person_form-保存责任人").click().run()
    assert not at.exception

    u, p = Unit.__table__, Person.__table__
    with city_rw.connect() as conn:
        assert conn.execute(select(u.c.phone).where(u.c.code == "U-002")).scalar() == "0635-8219999"
        unit = conn.execute(select(u.c.code).select_from(p.join(u, u.c.id == p.c.unit_id))
                            .where(p.c.code == "P-003")).scalar()
        entries = conn.execute(select(AuditEntry.action, AuditEntry.target_code, AuditEntry.detail)
                               .where(AuditEntry.action.like("registry.%")).order_by(AuditEntry.id)).all()
    assert unit == "U-003"
    assert [(a, c) for a, c, _ in entries] == [("registry.unit", "U-002"), ("registry.person", "P-003")]
    assert "0635-8211002 → 0635-8219999" in str(entries[0][2])
    assert "U-002 → U-003" in str(entries[1][2]) and "区委常委 → 区委常委、副区长" in str(entries[1][2])

    # the same values again: nothing changes, nothing is audited
    assert directory.update_unit(city_rw, Actor("admin", ADMIN), "U-002", phone="0635-8219999") == {}


@pytest.mark.parametrize("call, message", [
    (lambda e, a: directory.update_unit(e, a, "U-002", name="  "), "责任单位 U-002 的名称不能为空"),
    (lambda e, a: directory.update_unit(e, a, "U-002", phone="电话号码"), "只能含数字"),
    (lambda e, a: directory.update_unit(e, a, "U-404", phone="110"), "责任单位编号“U-404”不存在"),
    (lambda e, a: directory.update_person(e, a, "P-003", "U-404"), "所属单位编号“U-404”不存在"),
    (lambda e, a: directory.update_person(e, a, "P-003", name="张" * 51), "最多 50 个字"),
])
def test_bad_input_writes_nothing(city_rw, call, message):
    before = _snapshot(city_rw)
    with pytest.raises(RegistryError, match=message):
        call(city_rw, Actor("admin", ADMIN))
    assert _snapshot(city_rw) == before


def test_only_an_administrator_may(city_rw):
    before = _snapshot(city_rw)
    with pytest.raises(PermissionDenied):
        directory.update_unit(city_rw, Actor("leader", LEADER), "U-002", phone="110")
    assert _snapshot(city_rw) == before
