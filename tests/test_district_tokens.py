"""Wall-screen tokens (大屏令牌) and Open311 API keys (接口密钥) in a deployment of several districts (区县, issue 17):

- a district's 管理员 makes their district's tokens and keys (no choice; another district is refused), lists and
  revokes only those — a city-level one or another district's is refused, nothing written; before, a district's
  administrator made and revoked the whole deployment's, and their token opened every district's wall;
- a city-level 管理员 chooses a district or none (市级) — on the 系统管理 page too, where the tables show the 区县;
- a district's token opens that district's wall only (`gis.people.kiosk.actor_for`, the wall through ``?kiosk=``);
- a district's API key reports problems (and records the 12345 回访) in its district only: elsewhere 403 with the
  Chinese refusal (`gis.problems.intake`);
- migration 0020 adds ``district_code`` to kiosk_tokens and api_keys (existing rows: NULL, city-level) and drops it.

The city: the demo's 东昌府区 (HOME) and 阳谷县 (YG), 600 problems, on both backends.
"""

from __future__ import annotations

from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Base, Problem
from gis.people import apikeys, kiosk
from gis.people.auth import AuthError
from gis.people.permissions import ADMIN, KIOSK, Actor, PermissionDenied
from gis.problems import intake
from tests import twodistricts
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)
from tests.conftest import new_database_url
from tests.twodistricts import HOME, YG, rows, upload  # noqa: F401  (fixture)

UNTIL = date(2026, 11, 20)
CITY_ADMIN = Actor("c_admin", ADMIN)
YG_ADMIN = Actor("yg_adm", ADMIN, district_code=YG)
OTHER = f"该对象属于区县 {HOME}，您的账户只管理区县 {YG}"  # `gis.people.permissions.refusal`
CITY_THING = "是市级（市文明办）的，只能由市级管理员撤销"


@pytest.fixture(scope="module")
def two(backend_name, tmp_path_factory) -> str:
    return twodistricts.build(backend_name, tmp_path_factory, "dtokens")


def _districts(engine, table: str) -> dict[str, str | None]:
    return dict(rows(engine, f"SELECT name, district_code FROM {table}"))


def _body(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_a_district_administrators_token_opens_their_districts_wall_only(two, monkeypatch, captured_maps):
    engine = get_engine(two)
    token = kiosk.create(engine, YG_ADMIN, "阳谷大屏")  # no choice: their district's
    assert _districts(engine, "kiosk_tokens")["阳谷大屏"] == YG
    with pytest.raises(PermissionDenied, match=OTHER):  # another district's: refused, nothing written
        kiosk.create(engine, YG_ADMIN, "东昌大屏", district=HOME)
    assert "东昌大屏" not in _districts(engine, "kiosk_tokens")
    wall = kiosk.actor_for(engine, token)
    assert wall.role == KIOSK and wall.district_code == YG and kiosk.valid(engine, token)
    city = kiosk.create(engine, CITY_ADMIN, "全市大屏")
    assert kiosk.actor_for(engine, city).district_code is None

    # the wall page through ?kiosk=: 阳谷县's wall, even when asked for 东昌府区's
    at = run_app(two, monkeypatch, query={"kiosk": token, "as_of": UNTIL.isoformat(), "district": HOME}, actor=None)
    assert not at.exception
    body = _body(at)
    assert "阳谷县创城网格化管理 · 领导大屏" in body and "区县对比" not in body and "返回全市" not in body
    assert at.session_state["actor"].district_code == YG
    key, html = captured_maps[-1]
    assert key == "wall_map" and "DC-01" not in html
    at = run_app(two, monkeypatch, query={"kiosk": city, "as_of": UNTIL.isoformat()}, actor=None)
    assert not at.exception and "市级大屏" in _body(at) and "区县对比" in _body(at)


def test_a_district_administrator_lists_and_revokes_only_their_districts(two):
    engine = get_engine(two)
    for module, listing in ((kiosk, kiosk.list_tokens), (apikeys, apikeys.list_keys)):
        city = module.create(engine, CITY_ADMIN, "市级R")
        home = module.create(engine, CITY_ADMIN, "东昌R", district=HOME)
        own = module.create(engine, YG_ADMIN, "阳谷R")
        secret_ok = kiosk.valid if module is kiosk else (lambda e, s: apikeys.client(e, s) is not None)
        with pytest.raises(PermissionDenied, match=CITY_THING):
            module.revoke(engine, YG_ADMIN, "市级R")
        with pytest.raises(PermissionDenied, match=OTHER):
            module.revoke(engine, YG_ADMIN, "东昌R")
        assert secret_ok(engine, city) and secret_ok(engine, home)  # nothing written
        listed = listing(engine, YG)  # a district's administrator's list: their district's only
        assert set(listed["district_code"]) == {YG} and "阳谷R" in set(listed["name"]) and "市级R" not in set(listed["name"])
        assert {"市级R", "东昌R", "阳谷R"} <= set(listing(engine)["name"])  # the city's: all
        module.revoke(engine, YG_ADMIN, "阳谷R")
        assert not secret_ok(engine, own)
        module.revoke(engine, CITY_ADMIN, "东昌R")  # a city-level administrator revokes any
        assert not secret_ok(engine, home)
    assert rows(engine, "SELECT district_code FROM audit_log WHERE action = 'kiosk.revoke' AND target_code = '阳谷R'") == [(YG,)]


def test_a_city_administrator_chooses_the_district(two):
    engine = get_engine(two)
    token = kiosk.create(engine, CITY_ADMIN, "阳谷县城大屏", district=YG)
    assert kiosk.actor_for(engine, token).district_code == YG
    key = apikeys.create(engine, CITY_ADMIN, "东昌热线", district=HOME)
    assert apikeys.client(engine, key).district_code == HOME
    assert apikeys.create(engine, CITY_ADMIN, "全市热线", district="") and _districts(engine, "api_keys")["全市热线"] is None
    with pytest.raises(AuthError, match="区县 999999 不存在"):
        kiosk.create(engine, CITY_ADMIN, "无此区县", district="999999")
    with pytest.raises(PermissionDenied):  # not an administrator at all
        kiosk.create(engine, Actor("yg_lead", "领导", district_code=YG), "领导大屏")


def _place(engine, district: str) -> tuple[float, float]:
    p = Problem.__table__
    with engine.connect() as conn:
        lon, lat = conn.execute(select(p.c.lon, p.c.lat).where(p.c.district_code == district, p.c.grid_id.is_not(None))
                                .order_by(p.c.code).limit(1)).one()
    return float(lon), float(lat)


def _form(place) -> dict:
    lon, lat = place
    return {"service_code": "暴露垃圾", "lat": f"{lat:.6f}", "long": f"{lon:.6f}", "description": "路口垃圾堆放"}


def test_a_districts_api_key_reports_in_its_district_only(two, upload):
    engine = get_engine(two)
    key = apikeys.create(engine, YG_ADMIN, "阳谷12345")
    client = apikeys.client(engine, key)
    assert client.district_code == YG
    before = rows(engine, "SELECT COUNT(*) FROM problems")
    with pytest.raises(intake.IntakeError, match=OTHER) as refused:
        intake.submit(engine, client, _form(_place(engine, HOME)))
    assert refused.value.status == 403 and rows(engine, "SELECT COUNT(*) FROM problems") == before
    made = intake.submit(engine, client, _form(_place(engine, YG)))
    assert rows(engine, "SELECT district_code FROM problems WHERE code = :c", c=made["service_request_id"]) == [(YG,)]
    city = apikeys.client(engine, apikeys.create(engine, CITY_ADMIN, "全市12345"))  # a city-level key: anywhere
    made = intake.submit(engine, city, _form(_place(engine, HOME)))
    assert rows(engine, "SELECT district_code FROM problems WHERE code = :c", c=made["service_request_id"]) == [(HOME,)]
    # the 12345 回访 of another district's request: refused too
    [(closed,)] = rows(engine, "SELECT MIN(code) FROM problems WHERE district_code = :d AND status = '已结案' "
                               "AND satisfaction IS NULL", d=HOME)
    with pytest.raises(intake.IntakeError, match=OTHER):
        intake.follow_up(engine, client, closed, "满意")
    assert rows(engine, "SELECT satisfaction FROM problems WHERE code = :c", c=closed) == [(None,)]


def test_the_admin_page_offers_the_district_to_a_city_administrator(two, monkeypatch):
    engine = get_engine(two)
    at = run_app(two, monkeypatch, page="pages/admin.py", actor=CITY_ADMIN)
    assert not at.exception
    field = at.selectbox(key="admin_kiosk_district")
    assert field.options == ["市级（全市）", f"{HOME} 东昌府区", f"{YG} 阳谷县"]
    assert at.selectbox(key="admin_apikey_district").options == field.options
    next(t for t in at.text_input if t.label == "新令牌名称").input("页面阳谷大屏")
    field.select(YG)
    at.button(key="FormSubmitter:admin_kiosk_create-生成令牌").click().run()
    assert not at.exception and "已生成大屏令牌 页面阳谷大屏" in at.success[0].value
    assert kiosk.actor_for(engine, at.code[0].value).district_code == YG
    assert any("区县" in t.value.columns for t in at.dataframe)
    # a district's administrator: no choice, their district's tokens only
    at = run_app(two, monkeypatch, page="pages/admin.py", actor=YG_ADMIN)
    assert not at.exception
    assert not [s for s in at.selectbox if s.key in ("admin_kiosk_district", "admin_apikey_district")]
    assert "全市大屏" not in at.selectbox(key="admin_kiosk_pick").options


def test_migration_0020_up_and_down(backend_name, tmp_path_factory):
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "tokmig"))
    migrate.upgrade(engine, "0019")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosk_tokens (name, token_hash, created_at) VALUES ('old', 'h1', '2026-01-01')"))
        conn.execute(text("INSERT INTO api_keys (name, key_hash, created_at) VALUES ('old', 'h2', '2026-01-01')"))
    migrate.upgrade(engine)
    for table in ("kiosk_tokens", "api_keys"):
        assert rows(engine, f"SELECT name, district_code FROM {table}") == [("old", None)]  # city-level, as before
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if "kiosk_tokens" in repr(d) or "api_keys" in repr(d)] == []  # as the models say
    migrate.downgrade(engine, "0019")
    for table in ("kiosk_tokens", "api_keys"):
        assert "district_code" not in {c["name"] for c in inspect(engine).get_columns(table)}
        assert rows(engine, f"SELECT name FROM {table}") == [("old",)]
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.heads()


def test_the_cli_makes_and_lists_a_districts_token_and_key(two, capsys):
    """`gis kiosk create NAME --district 阳谷县` / `gis apikey create NAME --district 371521`: the district's, shown
    in the lists; an unknown district is refused in Chinese and nothing is written."""
    from gis.cli.main import main

    engine = get_engine(two)
    assert main(["--database", two, "kiosk", "create", "阳谷县指挥中心", "--district", "阳谷县"]) == 0
    token = capsys.readouterr().out.split("：", 1)[1].split("\n", 1)[0].strip()
    assert kiosk.actor_for(engine, token).district_code == YG
    assert main(["--database", two, "apikey", "create", "阳谷县12345", "--district", YG]) == 0
    assert main(["--database", two, "kiosk", "list"]) == 0
    assert f"阳谷县指挥中心\t{YG}\t" in capsys.readouterr().out
    assert main(["--database", two, "apikey", "list"]) == 0
    assert f"阳谷县12345\t{YG}\t" in capsys.readouterr().out
    before = rows(engine, "SELECT count(*) FROM kiosk_tokens")
    assert main(["--database", two, "kiosk", "create", "别处", "--district", "不存在县"]) == 1
    assert "区县“不存在县”不存在" in capsys.readouterr().err
    assert rows(engine, "SELECT count(*) FROM kiosk_tokens") == before
