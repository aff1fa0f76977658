"""Users and the monthly 三色牌 rules in a deployment of several districts (区县, issue 17):

- a district's 管理员 resets, disables and enables only their own district's users: a city-level user (市文明办) or
  another district's user is refused (PermissionDenied, nothing written) — before, `user.manage` alone let them
  take over a city-level administrator's account; the last active city-level 管理员 is never disabled;
- the 系统管理 page's add-user form offers a city-level administrator of several districts the 区县 of the new
  user (or 市级); a district's administrator gets no choice — their users are of their district;
- `cards.apply_rules` run by a district's 指挥中心 covers their district only (its lists, its cards, its 黄牌 to
  escalate); a city-level run covers every district, each by its own 红黑榜 and 十差单位.

The city: the demo's 东昌府区 (HOME) and 阳谷县 (YG), 600 problems, on both backends.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, text

from gis.accountability import cards
from gis.cli.main import main
from gis.db.engine import get_engine
from gis.db.models import AuditEntry, District, KioskToken, User
from gis.metrics import scores, units
from gis.metrics.periods import month_end_as_of
from gis.people import auth
from gis.people.permissions import ADMIN, COMMAND, LEADER, VERIFIER, Actor, PermissionDenied
from tests.apptools import run_app
from tests import twodistricts
from tests.twodistricts import HOME, YG, rows

NOW = datetime(2026, 11, 20, 10, 0)
OCT = date(2026, 10, 1)
PASSWORD = "Pass-word-1234"
CITY_ADMIN = Actor("c_admin", ADMIN)
YG_ADMIN, HOME_ADMIN = Actor("yg_adm", ADMIN, district_code=YG), Actor("dc_adm", ADMIN, district_code=HOME)
YG_COMMAND = Actor("yg_cmd", COMMAND, district_code=YG)
OTHER = f"该对象属于区县 {HOME}，您的账户只管理区县 {YG}"  # `gis.people.permissions.refusal`
CITY_USER = "是市级用户（市文明办），只能由市级管理员管理"  # `gis.people.permissions.require_user`
# username, role, district (None: city-level): the users of the module's deployment
PEOPLE = (("c_admin", ADMIN, None), ("c_lead", LEADER, None), ("yg_adm", ADMIN, YG), ("yg_chk", VERIFIER, YG),
          ("dc_adm", ADMIN, HOME), ("dc_chk", VERIFIER, HOME))


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id with small costs (as tests/test_auth.py): the production costs are slow on a busy 2-core box."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="module")
def two(backend_name, tmp_path_factory) -> str:
    return twodistricts.build(backend_name, tmp_path_factory, "dusers")


@pytest.fixture
def people(two):
    """The module's deployment with PEOPLE (made once), each as new — PASSWORD, enabled, not locked — whatever
    an earlier test did; its engine."""
    engine = get_engine(two)
    have = set(auth.list_users(engine)["username"])
    for name, role, district in PEOPLE:
        if name not in have:
            auth.add_user(engine, Actor.system(), name, role, PASSWORD, district_code=district, now=NOW)
    t = User.__table__
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.username.in_([p[0] for p in PEOPLE])).values(
            password_hash=auth.hash_password(PASSWORD), disabled=False, failed_attempts=0, locked_until=None))
    return engine



def _users(engine) -> list[tuple]:
    """Every user's row as a refused change must leave it: name, hash, disabled, failed attempts, lock."""
    return rows(engine, "SELECT username, password_hash, disabled, failed_attempts, locked_until FROM users "
                         "ORDER BY username")


def _audit_count(engine) -> int:
    return rows(engine, "SELECT COUNT(*) FROM audit_log")[0][0]


# ---------------------------------------------------------------- managing users

@pytest.mark.parametrize("target", ["c_admin", "c_lead"])
def test_a_district_administrator_cannot_take_over_or_lock_out_a_city_level_user(people, target):
    before, logged = _users(people), _audit_count(people)
    with pytest.raises(PermissionDenied, match=f"用户“{target}”{CITY_USER}；您的账户只管理区县 {YG} 的用户"):
        auth.reset_password(people, YG_ADMIN, target, "taken-over-1234", now=NOW)
    with pytest.raises(PermissionDenied, match=CITY_USER):
        auth.reset_password(people, YG_ADMIN, target, now=NOW)  # a generated password neither
    with pytest.raises(PermissionDenied, match=CITY_USER):
        auth.set_disabled(people, YG_ADMIN, target, True, now=NOW)
    assert _users(people) == before and _audit_count(people) == logged
    assert not auth.authenticate(people, target, "taken-over-1234", now=NOW).ok
    assert auth.authenticate(people, target, PASSWORD, now=NOW).ok
    assert auth.active_actor(people, target) is not None


def test_a_district_administrator_cannot_manage_another_districts_users(people):
    with people.begin() as conn:  # a disabled 东昌府区 user: 阳谷县's administrator may not enable them either
        conn.execute(User.__table__.update().where(User.__table__.c.username == "dc_chk").values(disabled=True))
    before, logged = _users(people), _audit_count(people)
    for target in ("dc_chk", "dc_adm"):
        with pytest.raises(PermissionDenied, match=OTHER):
            auth.reset_password(people, YG_ADMIN, target, "taken-over-1234", now=NOW)
        with pytest.raises(PermissionDenied, match=OTHER):
            auth.set_disabled(people, YG_ADMIN, target, target != "dc_chk", now=NOW)
    with pytest.raises(PermissionDenied, match=f"该对象属于区县 {YG}，您的账户只管理区县 {HOME}"):
        auth.reset_password(people, HOME_ADMIN, "yg_adm", "taken-over-1234", now=NOW)
    assert _users(people) == before and _audit_count(people) == logged
    with pytest.raises(auth.AuthError, match="用户“ghost”不存在"):  # an unknown name: as before
        auth.set_disabled(people, YG_ADMIN, "ghost", True)


def test_a_district_administrator_manages_their_own_districts_users(people):
    new = auth.reset_password(people, YG_ADMIN, "yg_chk", now=NOW)
    assert auth.authenticate(people, "yg_chk", new, now=NOW).actor == Actor("yg_chk", VERIFIER, district_code=YG)
    auth.set_disabled(people, YG_ADMIN, "yg_chk", True, now=NOW)
    assert auth.active_actor(people, "yg_chk") is None
    auth.set_disabled(people, YG_ADMIN, "yg_chk", False, now=NOW)
    assert auth.active_actor(people, "yg_chk") is not None
    with pytest.raises(auth.AuthError, match="不能停用自己的账户"):
        auth.set_disabled(people, YG_ADMIN, "yg_adm", True, now=NOW)
    assert rows(people, "SELECT action, district_code FROM audit_log WHERE target_code = 'yg_chk' "
                         "AND action LIKE 'user.%' AND action <> 'user.add' ORDER BY id") == \
        [("user.reset_password", YG), ("user.disable", YG), ("user.enable", YG)]
    # a city-level administrator manages every district's users and the city-level ones
    for target in ("dc_chk", "yg_adm", "c_lead"):
        assert auth.authenticate(people, target, auth.reset_password(people, CITY_ADMIN, target, now=NOW), now=NOW).ok
        auth.set_disabled(people, CITY_ADMIN, target, True, now=NOW)
        assert auth.active_actor(people, target) is None


@pytest.fixture
def only_users(city_rw):
    """The small city (one district) with no users and an empty audit log."""
    with city_rw.begin() as conn:
        for model in (User, KioskToken, AuditEntry):
            conn.execute(delete(model.__table__))
    return city_rw


def test_the_last_active_city_level_administrator_is_never_disabled(only_users):
    engine, system = only_users, Actor.system()
    auth.add_user(engine, system, "boss", ADMIN, PASSWORD, now=NOW)
    auth.add_user(engine, system, "home_adm", ADMIN, PASSWORD, district_code=HOME, now=NOW)  # a district's
    with pytest.raises(auth.AuthError, match="不能停用用户“boss”：这是最后一个启用的市级管理员"):
        auth.set_disabled(engine, system, "boss", True, now=NOW)
    assert auth.active_actor(engine, "boss") is not None
    auth.set_disabled(engine, system, "home_adm", True, now=NOW)  # a district's 管理员 may go
    auth.add_user(engine, system, "boss2", ADMIN, PASSWORD, now=NOW)
    auth.set_disabled(engine, Actor("boss2", ADMIN), "boss", True, now=NOW)  # another is left: boss2
    with pytest.raises(auth.AuthError, match="最后一个启用的市级管理员"):
        auth.set_disabled(engine, system, "boss2", True, now=NOW)
    auth.set_disabled(engine, system, "boss", False, now=NOW)
    auth.set_disabled(engine, system, "boss2", True, now=NOW)
    assert [(u.username, u.disabled) for u in auth.list_users(engine).itertuples()] == \
        [("boss", False), ("boss2", True), ("home_adm", True)]


# ---------------------------------------------------------------- the 系统管理 page

def _add_on_page(at, username: str, role: str, district: str | None = None, grid: str = ""):
    """Fill in and submit the add-user form (the district only where the form has the field)."""
    at.text_input[0].input(username)
    next(s for s in at.selectbox if s.label == "角色").select(role)
    if district is not None:
        at.selectbox(key="admin_add_district").select(district)
    next(t for t in at.text_input if t.label.startswith("所属网格")).input(grid)
    return at.button(key="FormSubmitter:admin_add_user-新增").click().run()


def _district_of(engine, username: str) -> list[tuple]:
    return rows(engine, "SELECT district_code FROM users WHERE username = :u", u=username)


def test_a_city_administrator_chooses_the_new_users_district_on_the_page(two, people, monkeypatch):
    at = run_app(two, monkeypatch, page="pages/admin.py", actor=CITY_ADMIN)
    assert not at.exception
    field = at.selectbox(key="admin_add_district")
    assert field.options == ["市级（市文明办，仅领导、管理员）", f"{HOME} 东昌府区", f"{YG} 阳谷县"]
    at = _add_on_page(at, "pagecheck1", VERIFIER, YG)
    assert not at.exception and "已新增用户 pagecheck1" in at.success[0].value
    assert _district_of(people, "pagecheck1") == [(YG,)]
    at = _add_on_page(at, "pagecheck2", VERIFIER, "")  # 市级: a 核查员 must have a district
    assert f"核查员必须指定所属区县（在“所属区县”中选择，可选：{HOME}、{YG}）" in at.error[0].value
    assert _district_of(people, "pagecheck2") == []
    at = _add_on_page(at, "pagelead3", LEADER, "")  # a 领导 may be city-level (市文明办)
    assert not at.exception and "已新增用户 pagelead3" in at.success[0].value
    assert _district_of(people, "pagelead3") == [(None,)]
    at = _add_on_page(at, "pagechief4", "网格长", HOME, grid="YG-01")  # a district against the grid's: refused
    assert f"网格 YG-01 属于区县 {YG}，不是 {HOME}" in at.error[0].value
    assert _district_of(people, "pagechief4") == []
    at = _add_on_page(at, "pagechief5", "网格长", "", grid="YG-01")  # none chosen: the grid's
    assert not at.exception and "已新增用户 pagechief5" in at.success[0].value
    assert _district_of(people, "pagechief5") == [(YG,)]


def test_a_district_administrators_page_has_no_district_choice_and_lists_their_users(two, people, monkeypatch):
    at = run_app(two, monkeypatch, page="pages/admin.py", actor=YG_ADMIN)
    assert not at.exception
    assert not [s for s in at.selectbox if s.key == "admin_add_district"]
    shown = at.dataframe[0].value
    assert set(shown["区县"]) == {YG} and {"yg_adm", "yg_chk"} <= set(shown["用户名"])
    assert not {"c_admin", "c_lead", "dc_chk"} & set(at.selectbox(key="admin_user_pick").options)
    at = _add_on_page(at, "ygpage5", VERIFIER)
    assert not at.exception and "已新增用户 ygpage5" in at.success[0].value
    assert _district_of(people, "ygpage5") == [(YG,)]


# ---------------------------------------------------------------- the monthly 三色牌 rules

def _expected(engine, district: str) -> set[tuple[str, str, str]]:
    """(target kind, code, colour) the October rules call for in `district`, read from `gis.metrics` for that
    district alone: its 黑榜 (黄), 红榜 (绿) and 十差单位 (黄)."""
    t = month_end_as_of(OCT, NOW)
    ranks = scores.rankings(scores.monthly_scores(engine, OCT, t, district=district))
    worst = units.worst_units(engine, OCT, t, district=district)
    return ({("网格", c, "黄") for c in ranks["worst"]["code"]} | {("网格", c, "绿") for c in ranks["best"]["code"]}
            | {("责任单位", c, "黄") for c in worst["code"]})


def _issued(engine, codes: list[str]) -> dict[tuple[str, str, str], str]:
    """(target kind, code, colour) → district of each card `codes` names."""
    reg = cards.register(engine).set_index("code").loc[codes]
    found = dict(rows(engine, "SELECT code, district_code FROM cards"))
    return {(r.target_kind, r.target_code, r.color): found[c] for c, r in reg.iterrows()}


def test_a_district_run_of_the_monthly_rules_covers_its_district_and_a_city_run_each_by_its_own(two, monkeypatch,
                                                                                                 capsys):
    engine = get_engine(two)
    for name, value in (("GRIDMAP_MIN_INSPECTIONS", "1"), ("GRIDMAP_UNIT_MIN_CASES", "1"),
                        ("GRIDMAP_CARD_BLACKLIST_MONTHS", "1"), ("GRIDMAP_CARD_GREEN_MONTHS", "1"),
                        ("GRIDMAP_CARD_ESCALATE_DAYS", "0")):
        monkeypatch.setenv(name, value)
    with engine.begin() as conn:  # 阳谷县's own 十差单位 minimum: its units are listed by it, not the city's
        conn.execute(District.__table__.update().where(District.__table__.c.code == YG)
                     .values(settings='{"GRIDMAP_UNIT_MIN_CASES": "2"}'))
        conn.execute(text("DELETE FROM card_actions"))
        conn.execute(text("DELETE FROM cards"))
    home, yg = _expected(engine, HOME), _expected(engine, YG)
    assert {k for k, _, _ in home} == {k for k, _, _ in yg} == {"网格", "责任单位"}  # every list has someone
    assert {c[:3] for k, c, _ in home if k == "网格"} == {"DC-"} and {c[:3] for k, c, _ in yg if k == "网格"} == {"YG-"}

    # 阳谷县's 指挥中心: 阳谷县's lists, 阳谷县's cards, nothing of 东昌府区
    mine = cards.apply_rules(engine, YG_COMMAND, OCT, now=NOW)
    assert _issued(engine, mine) == {target: YG for target in yg}
    assert rows(engine, "SELECT COUNT(*) FROM cards WHERE district_code <> :d", d=YG) == [(0,)]
    before = rows(engine, "SELECT COUNT(*) FROM cards")
    with pytest.raises(PermissionDenied, match=OTHER):
        cards.apply_rules(engine, YG_COMMAND, OCT, now=NOW, district=HOME)
    assert rows(engine, "SELECT COUNT(*) FROM cards") == before

    # a city-level run: every district, each by its own lists (阳谷县's issued already: once per target and month)
    city = cards.apply_rules(engine, CITY_ADMIN, OCT, now=NOW)
    assert _issued(engine, city) == {target: HOME for target in home - yg}
    assert cards.apply_rules(engine, CITY_ADMIN, OCT, now=NOW) == []

    # a 黄牌 not lifted in 30 days: 阳谷县's run escalates 阳谷县's, the city's run the rest
    monkeypatch.setenv("GRIDMAP_CARD_ESCALATE_DAYS", "30")
    later = NOW + timedelta(days=31)
    reds = cards.apply_rules(engine, YG_COMMAND, OCT, now=later)
    yg_yellow = {t for t in yg if t[2] == "黄"}
    assert _issued(engine, reds) == {(kind, code, "红"): YG for kind, code, _ in yg_yellow}
    assert rows(engine, "SELECT COUNT(*) FROM cards WHERE color = '黄' AND status = '生效' AND district_code = :d",
                 d=HOME) == [(len({t for t in home - yg if t[2] == "黄"}),)]
    reds = cards.apply_rules(engine, CITY_ADMIN, OCT, now=later)
    assert set(_issued(engine, reds).values()) == {HOME}
    assert rows(engine, "SELECT COUNT(*) FROM cards WHERE color = '黄' AND status = '生效'") == [(0,)]

    # the CLI: one district by code or name, or an unknown one refused
    assert main(["--database", two, "cards", "rules", "--month", "2026-10", "--district", "阳谷县"]) == 0
    assert "按月度规则签发三色牌 0 张" in capsys.readouterr().out
    assert main(["--database", two, "cards", "rules", "--month", "2026-10", "--district", "莘县"]) == 1
    assert "区县“莘县”不存在" in capsys.readouterr().err
    with engine.begin() as conn:
        conn.execute(District.__table__.update().where(District.__table__.c.code == YG).values(settings=None))
