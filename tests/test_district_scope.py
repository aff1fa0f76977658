"""A district's user sees and changes only their district's data (issue 17), in two places that did not check it:

- the 用户名单 import (gis.io.roster) gave every account no district, so an imported 核查员 or 指挥中心 was
  city-level: now an account takes its grid's district, else the row's 区县, else the import's chosen district,
  else the importing administrator's own — and a row that must have one and gets none is refused, nothing written;
- 三色牌 (issue, escalate, lift), 曝光 and 约谈 / 问责 checked the role only: now each checks the district of
  the card, the problem, the unit (and what they cite), as the problem workflow does.

The city: the demo's 东昌府区 (HOME) and 阳谷县 (YG), 600 problems, on both backends. A 领导 of 阳谷县 acts in
阳谷县 only; a city-level 领导 (no district of their own) anywhere.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from gis.accountability import cards, exposure, interviews
from gis.accountability.cards import Evidence
from gis.cli.main import main
from gis.db.engine import get_engine
from gis.geo import districts
from gis.io import InputError, roster
from gis.people import auth
from gis.people.permissions import ADMIN, LEADER, VERIFIER, Actor, PermissionDenied
from gis.problems import workflow
from tests import twodistricts
from tests.twodistricts import HOME, YG, rows, upload  # noqa: F401  (upload: fixture)

NOW = datetime(2026, 11, 20, 10, 0)
CITY_LEADER, CITY_ADMIN = Actor("city_lead", LEADER), Actor("city_admin", ADMIN)
YG_LEADER, YG_ADMIN = Actor("yg_lead", LEADER, district_code=YG), Actor("yg_admin", ADMIN, district_code=YG)
HEADERS = ["用户名", "姓名", "角色", "网格编号", "区县"]
OTHER = f"该对象属于区县 {HOME}，您的账户只管理区县 {YG}"  # the refusal of `gis.people.permissions.refusal`


@pytest.fixture(scope="module")
def two(backend_name, tmp_path_factory) -> str:
    return twodistricts.build(backend_name, tmp_path_factory, "scope")




def _one(engine, sql: str, **params):
    return rows(engine, sql, **params)[0][0]


def _problem(engine, district: str, skip: int = 0, status: str = "已结案") -> tuple[str, str]:
    """(code, grid code) of one of the district's demo problems in `status`, in a grid."""
    return rows(engine, "SELECT p.code, g.code FROM problems p JOIN grids g ON g.id = p.grid_id "
                         "WHERE p.district_code = :d AND p.status = :s ORDER BY p.code", d=district, s=status)[skip]


def _units(engine) -> tuple[str, str]:
    """A unit that answers (帮包) only for places of 东昌府区, and one that answers for places of 阳谷县."""
    with engine.connect() as conn:
        yg_units = districts.district_units(conn, YG)
        home_units = districts.district_units(conn, HOME)
    home_only = sorted(home_units - yg_units)
    return home_only[0], sorted(yg_units)[0]


def _snapshot(engine, *tables: str) -> dict[str, int]:
    """Row counts of `tables`: what a refused action must leave exactly as it was."""
    return {t: _one(engine, f"SELECT COUNT(*) FROM {t}") for t in tables}


def _roster(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=HEADERS).astype(object)


# ---------------------------------------------------------------- the 用户名单 import

def test_a_district_administrators_roster_makes_users_of_their_district(two):
    engine = get_engine(two)
    made = roster.import_roster(engine, YG_ADMIN, _roster(
        ["yg_check1", "赵核查", VERIFIER, None, None],
        ["yg_cmd1", "钱调度", "指挥中心", None, None],
        ["yg_chief1", "孙网格长", "网格长", "YG-03", None],
        ["yg_lead1", "李领导", LEADER, None, None],  # a district's administrator makes no city-level user
    ), now=NOW)
    names = ["yg_check1", "yg_cmd1", "yg_chief1", "yg_lead1"]
    got = dict(rows(engine, "SELECT username, district_code FROM users WHERE username IN "
                             "('yg_check1', 'yg_cmd1', 'yg_chief1', 'yg_lead1')"))
    assert got == {n: YG for n in names}
    assert made["区县"].tolist() == [YG] * 4  # on the sheet of initial passwords too
    assert rows(engine, "SELECT target_code, district_code FROM audit_log WHERE action = 'user.add' AND target_code "
                         "IN ('yg_check1', 'yg_cmd1', 'yg_chief1', 'yg_lead1') ORDER BY target_code") == \
        sorted((n, YG) for n in names)
    # signed in, the imported 核查员 is a 阳谷县 user: another district's problem is refused
    password = made.set_index("用户名").at["yg_check1", "初始密码"]
    verifier = auth.authenticate(engine, "yg_check1", password, now=NOW).actor
    assert verifier.district_code == YG
    home_case = _problem(engine, HOME, status="待核查")[0]
    with pytest.raises(PermissionDenied, match=OTHER):
        workflow.apply(engine, verifier, home_case, workflow.VERIFY, now=NOW)


def test_a_district_administrator_cannot_import_users_of_another_district(two):
    engine = get_engine(two)
    before = _snapshot(engine, "users", "audit_log")
    with pytest.raises(InputError) as refused:
        roster.import_roster(engine, YG_ADMIN, _roster(
            ["yg_ok2", "周", VERIFIER, None, None],
            ["dc_chief2", "吴", "网格长", "DC-01", None],  # a grid of 东昌府区
            ["dc_check2", "郑", VERIFIER, None, "东昌府区"],  # another district by name
        ), now=NOW)
    message = str(refused.value)
    assert "用户名单有误，未导入任何用户" in message and "第 2 行" not in message
    assert f"第 3 行【区县】：网格 DC-01 属于区县 {HOME}，不是 {YG}" in message
    assert f"第 4 行【区县】：区县 {HOME} 与本次导入选定的区县 {YG} 不一致" in message
    with pytest.raises(PermissionDenied, match=OTHER):  # nor choose another district for the import
        roster.import_roster(engine, YG_ADMIN, _roster(["dc_check3", "王", VERIFIER, None, None]), district=HOME)
    assert _snapshot(engine, "users", "audit_log") == before


def test_a_city_administrators_roster_takes_the_district_of_the_grid_the_row_or_the_import(two):
    engine = get_engine(two)
    made = roster.import_roster(engine, CITY_ADMIN, _roster(
        ["c_check4", "甲", VERIFIER, None, "阳谷县"],  # by name
        ["c_cmd4", "乙", "指挥中心", None, HOME],  # by code
        ["c_worker4", "丙", "网格员", "YG-02", None],  # the grid's
        ["c_lead4", "丁", LEADER, None, None],  # city-level (市文明办)
        ["c_admin4", "戊", ADMIN, None, "阳谷县"],  # a district's administrator
    ), now=NOW)
    users = auth.list_users(engine).set_index("username")["district_code"]
    assert users[["c_check4", "c_cmd4", "c_worker4", "c_admin4"]].tolist() == [YG, HOME, YG, YG]
    assert users.isna()["c_lead4"] and auth.active_actor(engine, "c_lead4").district_code is None
    assert made["区县"].tolist() == [YG, HOME, YG, None, YG]
    chosen = roster.import_roster(engine, CITY_ADMIN, _roster(
        ["c_check5", "己", VERIFIER, None, None], ["c_lead5", "庚", LEADER, None, None]), district=YG, now=NOW)
    users = auth.list_users(engine).set_index("username")["district_code"]
    assert users[["c_check5", "c_lead5"]].tolist() == [YG, YG]
    assert chosen["区县"].tolist() == [YG, YG]


def test_a_city_import_without_a_district_for_a_district_role_is_refused_and_writes_nothing(two, tmp_path, capsys):
    engine = get_engine(two)
    book = tmp_path / "用户名单.csv"
    pd.DataFrame([["n_lead6", "甲", LEADER, None, None],  # row 2: city-level, fine
                  ["n_check6", "乙", VERIFIER, None, None],  # row 3: a 核查员 of which district?
                  ["n_cmd6", "丙", "指挥中心", None, "莘县"],  # row 4: no such district
                  ["n_chief6", "丁", "网格长", "DC-01", "阳谷县"]],  # row 5: the grid is 东昌府区's
                 columns=HEADERS).to_csv(book, index=False, encoding="gbk")
    before = _snapshot(engine, "users", "audit_log")
    code = main(["--database", two, "user", "import", str(book)])
    err = capsys.readouterr().err
    assert code == 1
    assert "用户名单有误，未导入任何用户" in err
    assert "第 2 行" not in err
    assert f"第 3 行【区县】：核查员必须指定所属区县（在“区县”列填写，或导入时选定区县 --district，可选：{HOME}、{YG}）" in err
    assert "第 4 行【区县】：区县“莘县”不存在" in err
    assert f"第 5 行【区县】：网格 DC-01 属于区县 {HOME}，不是 {YG}" in err
    assert _snapshot(engine, "users", "audit_log") == before
    assert not rows(engine, "SELECT username FROM users WHERE username IN ('n_lead6', 'n_check6', 'n_cmd6', 'n_chief6')")
    # the same roster's good rows, with the district chosen for the import (code or name)
    pd.DataFrame([["n_check7", "乙", VERIFIER, None, None]], columns=HEADERS).to_csv(book, index=False)
    assert main(["--database", two, "user", "import", str(book), "--district", "阳谷县"]) == 0
    assert "已创建用户 1 个" in capsys.readouterr().out
    assert rows(engine, "SELECT district_code FROM users WHERE username = 'n_check7'") == [(YG,)]


# ---------------------------------------------------------------- 三色牌, 曝光, 约谈 / 问责

def test_a_district_leader_cannot_issue_escalate_or_lift_another_districts_card(two, upload):
    engine = get_engine(two)
    home_case, home_grid = _problem(engine, HOME, 10)
    yg_case, yg_grid = _problem(engine, YG, 10)
    before = _snapshot(engine, "cards", "card_actions", "exposures", "audit_log")
    with pytest.raises(PermissionDenied, match=OTHER):
        cards.issue(engine, YG_LEADER, "grid", home_grid, "黄", "暗访发现问题", now=NOW)
    with pytest.raises(PermissionDenied, match=OTHER):  # its own grid, another district's evidence
        cards.issue(engine, YG_LEADER, "grid", yg_grid, "黄", "暗访发现问题", Evidence(problems=[home_case]), now=NOW)
    assert _snapshot(engine, "cards", "card_actions", "exposures", "audit_log") == before
    # a city-level 领导 issues on 东昌府区; the 阳谷县 领导 can neither escalate nor lift it
    home_card = cards.issue(engine, CITY_LEADER, "grid", home_grid, "黄", "暗访发现问题", now=NOW)
    home_green = cards.issue(engine, CITY_LEADER, "grid", home_grid, "绿", "连续三月红榜", now=NOW)
    before = _snapshot(engine, "cards", "card_actions", "exposures", "audit_log")
    with pytest.raises(PermissionDenied, match=OTHER):
        cards.escalate(engine, YG_LEADER, home_card, "已提交说明", file=("说明.pdf", b"%PDF-1.4 x"), now=NOW)
    with pytest.raises(PermissionDenied, match=OTHER):
        cards.lift(engine, YG_LEADER, home_green, "表扬期满", now=NOW)
    assert _snapshot(engine, "cards", "card_actions", "exposures", "audit_log") == before
    assert rows(engine, "SELECT code, step, status, revision FROM cards WHERE code IN (:a, :b) ORDER BY code",
                 a=home_card, b=home_green) == [(home_card, "限期整改", "生效", 1), (home_green, "表扬", "生效", 1)]
    assert cards.escalate(engine, CITY_LEADER, home_card, "已提交说明", file=("说明.pdf", b"%PDF-1.4 x"),
                          now=NOW) == "书面说明"
    cards.lift(engine, CITY_LEADER, home_green, "表扬期满", now=NOW)
    # in 阳谷县 the 阳谷县 领导 does all three
    yg_card = cards.issue(engine, YG_LEADER, "grid", yg_grid, "黄", "暗访发现问题", Evidence(problems=[yg_case]), now=NOW)
    assert cards.escalate(engine, YG_LEADER, yg_card, "已提交说明", file=("说明.pdf", b"%PDF-1.4 x"),
                          now=NOW) == "书面说明"
    with pytest.raises(PermissionDenied, match=OTHER):  # its 曝光台 step may not expose 东昌府区's problem
        cards.escalate(engine, YG_LEADER, yg_card, "曝光", problems=[home_case], now=NOW)
    assert cards.escalate(engine, YG_LEADER, yg_card, "曝光", now=NOW) == "曝光台"
    yg_green = cards.issue(engine, YG_LEADER, "grid", yg_grid, "绿", "连续三月红榜", now=NOW)
    cards.lift(engine, YG_LEADER, yg_green, "表扬期满", now=NOW)
    assert rows(engine, "SELECT code, step, status, district_code FROM cards WHERE code IN (:a, :b, :c, :d) "
                         "ORDER BY code", a=home_card, b=home_green, c=yg_card, d=yg_green) == sorted([
        (home_card, "书面说明", "生效", HOME), (home_green, "表扬", "已摘牌", HOME),
        (yg_card, "曝光台", "生效", YG), (yg_green, "表扬", "已摘牌", YG)])
    assert rows(engine, "SELECT p.code FROM exposures e JOIN problems p ON p.id = e.problem_id "
                         "WHERE p.code IN (:a, :b)", a=yg_case, b=home_case) == [(yg_case,)]


def test_a_card_record_read_by_a_district_user_shows_their_district_only(two):
    engine = get_engine(two)
    _, home_grid = _problem(engine, HOME, 11)
    cards.issue(engine, CITY_LEADER, "grid", home_grid, "黄", "档案", now=NOW)
    assert len(cards.history(engine, "grid", home_grid)) >= 2  # 签发, 限期整改
    assert len(cards.history(engine, "grid", home_grid, district=HOME)) >= 2
    assert cards.history(engine, "grid", home_grid, district=YG).empty
    assert home_grid not in set(cards.register(engine, district=YG)["target_code"])


def test_a_district_leader_cannot_expose_another_districts_problem(two):
    engine = get_engine(two)
    home_case, yg_case = _problem(engine, HOME, 12)[0], _problem(engine, YG, 12)[0]
    before = _snapshot(engine, "exposures", "audit_log")
    with pytest.raises(PermissionDenied, match=OTHER):
        exposure.expose(engine, YG_LEADER, [home_case], "群众反映强烈", now=NOW)
    with pytest.raises(PermissionDenied, match=OTHER):  # one of another district: none of them
        exposure.expose(engine, YG_LEADER, [yg_case, home_case], "群众反映强烈", now=NOW)
    assert _snapshot(engine, "exposures", "audit_log") == before
    assert exposure.expose(engine, YG_LEADER, [yg_case], "群众反映强烈", now=NOW) == 1
    assert exposure.expose(engine, CITY_LEADER, [home_case], "群众反映强烈", now=NOW) == 1
    assert rows(engine, "SELECT p.code, e.district_code FROM exposures e JOIN problems p ON p.id = e.problem_id "
                         "WHERE p.code IN (:a, :b) ORDER BY e.id", a=yg_case, b=home_case) == \
        [(yg_case, YG), (home_case, HOME)]


def test_a_district_leader_cannot_record_an_interview_in_another_district(two):
    engine = get_engine(two)
    home_unit, yg_unit = _units(engine)
    home_case, yg_case = _problem(engine, HOME, 13)[0], _problem(engine, YG, 13)[0]
    home_card = cards.issue(engine, CITY_LEADER, "grid", _problem(engine, HOME, 13)[1], "黄", "约谈前亮牌", now=NOW)
    yg_card = cards.issue(engine, CITY_LEADER, "grid", _problem(engine, YG, 13)[1], "黄", "约谈前亮牌", now=NOW)

    def talk(actor, unit, **links) -> int:
        return interviews.record(engine, actor, "约谈", unit, "主任 张三", date(2026, 11, 19), "整改不力", now=NOW,
                                 **links)

    before = _snapshot(engine, "interviews", "audit_log")
    with pytest.raises(PermissionDenied, match=OTHER):  # a unit that answers for 东昌府区's places only
        talk(YG_LEADER, home_unit)
    with pytest.raises(PermissionDenied, match=OTHER):  # its own unit, citing 东昌府区's card
        talk(YG_LEADER, yg_unit, cards=[home_card])
    with pytest.raises(PermissionDenied, match=OTHER):  # or 东昌府区's problem
        talk(YG_LEADER, yg_unit, problems=[yg_case, home_case])
    assert _snapshot(engine, "interviews", "audit_log") == before
    mine = talk(YG_LEADER, yg_unit, cards=[yg_card], problems=[yg_case])
    city = talk(CITY_LEADER, home_unit, cards=[home_card], problems=[home_case])
    got = dict(rows(engine, "SELECT id, district_code FROM interviews WHERE id IN (:a, :b)", a=mine, b=city))
    assert got == {mine: YG, city: HOME}
