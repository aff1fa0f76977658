"""Every large table carries ``district_code`` (issue 17, migration 0019; docs/scale.md §2): problem events,
card actions, exposures, 约谈 / 问责 and audit entries take their parent's district at write — whoever acts —
and migration 0019 fills the rows written before it from the same parents, on both backends.

The city: the demo's 东昌府区 and 阳谷县 (600 problems, 118 in 阳谷县). A city-level actor (no district of their
own) acting on 阳谷县's data must write 阳谷县's code, not none: that is what tells the parent's rule from the
actor's.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from gis.accountability import cards, exposure, interviews
from gis.accountability.cards import Evidence
from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Base, Category
from gis.demo.districts import county_boundary
from gis.geo import districts
from gis.io import importer
from gis.people import audit, auth
from gis.people.permissions import ADMIN, API_CLIENT, LEADER, VERIFIER, Actor
from gis.problems import intake, workflow
from tests import io_files as f
from tests.apptools import run_app
from tests.conftest import load_small_city, new_database_url
from tests import twodistricts
from tests.twodistricts import HOME, YG, rows, upload  # noqa: F401  (upload: fixture)

NOW = datetime(2026, 11, 20, 10, 0)
CITY_LEADER, CITY_ADMIN, CITY_VERIFIER = Actor("city_lead", LEADER), Actor("city_admin", ADMIN), Actor("city_check", VERIFIER)
NEW = ("problem_events", "card_actions", "exposures", "interviews", "audit_log")


@pytest.fixture(scope="module")
def two(backend_name, tmp_path_factory) -> str:
    return twodistricts.build(backend_name, tmp_path_factory, "everywhere")




def _closed(engine, district: str, skip: int = 0) -> tuple[str, str, float, float]:
    """(code, grid code, lon, lat) of one of the district's demo problems (已结案 by the clock's day), in a grid."""
    return rows(engine, "SELECT p.code, g.code, p.lon, p.lat FROM problems p JOIN grids g ON g.id = p.grid_id "
                         "WHERE p.district_code = :d AND p.status = '已结案' AND p.satisfaction IS NULL "
                         "ORDER BY p.code", d=district)[skip]


def _reported(engine, district: str, skip: int = 0) -> tuple[str, Actor]:
    """A new problem (待派遣) at a demo problem's place in `district`, reported by its grid's 网格长; returns
    its code and that 网格长."""
    _, grid, lon, lat = _closed(engine, district, skip)
    chief = Actor(f"chief_{grid}", "网格长", grid, district_code=district)
    return workflow.create_problem(engine, chief, _category(engine), "路边堆放垃圾", lon, lat, now=NOW)["code"], chief


def _unit(engine) -> str:
    return rows(engine, "SELECT code FROM units ORDER BY code")[0][0]


def _events(engine, code: str) -> list[tuple[str, str]]:
    return rows(engine, "SELECT e.action, e.district_code FROM problem_events e JOIN problems p ON p.id = e.problem_id "
                         "WHERE p.code = :c ORDER BY e.id", c=code)


def _audited(engine, target: str) -> list[tuple[str, str]]:
    return rows(engine, "SELECT action, district_code FROM audit_log WHERE target_code = :c ORDER BY id", c=target)


# ---------------------------------------------------------------- writers

def test_a_problems_events_and_audit_entries_are_in_its_district(two, tmp_path):
    engine = get_engine(two)
    code, chief = _reported(engine, YG)
    workflow.dispatch(engine, chief, code, _unit(engine), now=NOW)
    workflow.acknowledge(engine, chief, code, now=NOW)
    workflow.submit(engine, chief, code, "已清理", now=NOW, photo_dir=tmp_path)
    workflow.verify(engine, Actor("yg_check", VERIFIER, district_code=YG), code, now=NOW)
    assert _events(engine, code) == [(a, YG) for a in ("上报", "派遣", "签收", "提交整改", "核查通过")]
    assert _audited(engine, code) == [(a, YG) for a in ("problem.create", "problem.dispatch", "problem.acknowledge",
                                                        "problem.submit", "problem.verify")]
    # a city-level 核查员 on 东昌府区's problem: the problem's district, not the actor's none
    home, chief = _reported(engine, HOME)
    workflow.dispatch(engine, chief, home, _unit(engine), now=NOW)
    workflow.submit(engine, chief, home, "已清理", now=NOW, photo_dir=tmp_path)
    workflow.send_back(engine, CITY_VERIFIER, home, "未清理干净", now=NOW)
    assert _events(engine, home)[-1] == ("退回", HOME)
    assert _audited(engine, home)[-1] == ("problem.return", HOME)


def _category(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(select(Category.__table__.c.name).order_by(Category.__table__.c.name)).scalars().first()


def test_an_open311_report_and_its_follow_up_are_in_the_problems_district(two, tmp_path):
    engine = get_engine(two)
    client = Actor("接口:12345热线", API_CLIENT)  # an API key: no district of its own
    _, _, lon, lat = _closed(engine, YG)
    made = intake.submit(engine, client, {"service_code": _category(engine), "lat": str(lat), "long": str(lon),
                                          "description": "井盖缺失"}, now=NOW, photo_dir=tmp_path)
    code = made["service_request_id"]
    assert rows(engine, "SELECT district_code FROM problems WHERE code = :c", c=code) == [(YG,)]
    assert _events(engine, code) == [("上报", YG)] and _audited(engine, code) == [("problem.create", YG)]
    closed = _closed(engine, YG)[0]
    intake.follow_up(engine, Actor("接口:12345热线", API_CLIENT), closed, "满意", now=NOW)
    assert _events(engine, closed)[-1] == ("回访", YG)
    assert _audited(engine, closed)[-1] == ("problem.followup", YG)


def test_an_import_is_audited_in_the_district_it_went_into(two, tmp_path):
    engine = get_engine(two)
    (_, _, lon, lat), home = _closed(engine, YG, 1), _closed(engine, HOME, 1)

    def csv(name, place):
        return f.write_csv(pd.DataFrame({"问题编号": [name], "问题类型": _category(engine), "问题描述": "导入的问题",
                                         "上报时间": "2026-11-18 09:00", "经度": [place[0]], "纬度": [place[1]]}),
                           tmp_path / f"{name}.csv")

    assert importer.import_file(engine, CITY_ADMIN, "problems", csv("EVY-1", (lon, lat)), district=YG).written
    assert importer.import_file(engine, Actor("yg_admin", ADMIN, district_code=YG), "problems",
                                csv("EVY-2", (lon, lat))).written
    assert importer.import_file(engine, CITY_ADMIN, "problems", csv("EVH-1", home[2:])).written  # any district
    assert rows(engine, "SELECT target_code, district_code FROM audit_log WHERE action = 'import.problems' "
                         "ORDER BY id") == [("EVY-1.csv", YG), ("EVY-2.csv", YG), ("EVH-1.csv", None)]


def test_audit_entries_take_the_targets_district_else_the_actors(two):
    engine = get_engine(two)
    auth.add_user(engine, CITY_ADMIN, "yg_cmd", "指挥中心", "Pass-word-1234", district_code=YG, now=NOW)
    assert auth.authenticate(engine, "yg_cmd", "Pass-word-1234", now=NOW).actor is not None
    assert auth.authenticate(engine, "yg_cmd", "wrong-password", now=NOW).actor is None
    assert auth.authenticate(engine, "nobody", "wrong-password", now=NOW).actor is None
    auth.record_sign_in(engine, Actor("yg_lead", LEADER, district_code=YG), "auth.logout", now=NOW)
    auth.record_sign_in(engine, CITY_LEADER, "auth.logout", now=NOW)
    got = rows(engine, "SELECT action, target_code, district_code FROM audit_log WHERE action LIKE 'auth.%' "
                        "OR action = 'user.add' ORDER BY id")
    assert got == [("user.add", "yg_cmd", YG), ("auth.login", "yg_cmd", YG), ("auth.login_failed", "yg_cmd", YG),
                   ("auth.login_failed", "nobody", None), ("auth.logout", "yg_lead", YG),
                   ("auth.logout", "city_lead", None)]
    mine = audit.entries(engine, district=YG)
    assert len(mine) and set(mine["target_code"]) >= {"yg_cmd", "yg_lead"}
    assert not {"nobody", "city_lead"} & set(mine["target_code"])
    assert {"nobody", "city_lead"} <= set(audit.entries(engine)["target_code"])
    assert "city_lead" not in audit.actors(engine, YG) and "city_lead" in audit.actors(engine)


def test_a_cards_actions_and_exposures_are_in_their_parents_districts(two, upload):
    engine = get_engine(two)
    yg_case, home_case = _closed(engine, YG, 2), _closed(engine, HOME, 2)
    code = cards.issue(engine, CITY_LEADER, "grid", yg_case[1], "黄", "暗访发现问题未整改",
                       Evidence(problems=[yg_case[0], home_case[0]]), now=NOW)
    cards.escalate(engine, CITY_LEADER, code, "已提交书面说明", file=("说明.pdf", b"%PDF-1.4 x"), now=NOW)
    cards.escalate(engine, CITY_LEADER, code, "曝光", now=NOW)  # puts the evidence problems on the 曝光台
    green = cards.issue(engine, CITY_LEADER, "grid", yg_case[1], "绿", "连续三月红榜", now=NOW)
    cards.lift(engine, CITY_LEADER, green, "表扬期满", now=NOW)
    actions = rows(engine, "SELECT c.code, a.action, a.district_code FROM card_actions a JOIN cards c "
                            "ON c.id = a.card_id WHERE c.code IN (:a, :b) ORDER BY a.id", a=code, b=green)
    assert actions == [(code, "签发", YG), (code, "限期整改", YG), (code, "书面说明", YG), (code, "曝光台", YG),
                       (green, "签发", YG), (green, "摘牌", YG)]
    assert [d for _, d in _audited(engine, code)] == [YG, YG, YG]  # issue, two escalations
    # each exposure is its problem's, whichever card put it there; by hand too
    manual = _closed(engine, HOME, 3)[0]
    assert exposure.expose(engine, CITY_LEADER, [manual], "群众反映强烈", now=NOW) == 1
    assert rows(engine, "SELECT p.code, e.district_code FROM exposures e JOIN problems p ON p.id = e.problem_id "
                         "ORDER BY e.id") == [(yg_case[0], YG), (home_case[0], HOME), (manual, HOME)]
    assert _audited(engine, manual) == [("exposure.add", HOME)]
    assert exposure.exposed(engine, now=NOW, district=YG)["code"].tolist() == [yg_case[0]]
    assert set(exposure.exposed(engine, now=NOW, district=HOME)["code"]) == {home_case[0], manual}


def test_an_interview_is_in_the_district_it_was_recorded_in(two, upload):
    engine = get_engine(two)
    home_unit = rows(engine, "SELECT code FROM units WHERE code NOT LIKE 'YG-%' ORDER BY code")[0][0]
    yg_unit = rows(engine, "SELECT code FROM units WHERE code LIKE 'YG-%' ORDER BY code")[0][0]
    yg_case, home_case = _closed(engine, YG, 4), _closed(engine, HOME, 4)
    card = cards.issue(engine, CITY_LEADER, "grid", yg_case[1], "黄", "约谈前亮牌", now=NOW)

    def talk(actor, unit, **links) -> int:
        return interviews.record(engine, actor, "约谈", unit, "主任 张三", date(2026, 11, 19), "整改不力", now=NOW,
                                 **links)

    # the 领导's (a district's 领导 records only in their district: tests/test_district_scope.py)
    ids = [talk(Actor("yg_lead", LEADER, district_code=YG), yg_unit, problems=[yg_case[0]]),
           talk(CITY_LEADER, home_unit, cards=[card], problems=[home_case[0]]),  # the first card's
           talk(CITY_LEADER, yg_unit, problems=[home_case[0]]),  # the first problem's
           talk(CITY_LEADER, yg_unit)]  # the unit's: where it answers for grids
    with engine.connect() as conn:
        assert districts.district_of_target(conn, "unit", yg_unit) == YG
    got = dict(rows(engine, "SELECT id, district_code FROM interviews"))
    assert [got[i] for i in ids] == [YG, YG, HOME, YG]
    logged = rows(engine, "SELECT detail, district_code FROM audit_log WHERE action = 'interview.talk' ORDER BY id")
    assert [d for _, d in logged] == [YG, YG, HOME, YG]
    assert sorted(interviews.records(engine, district=YG)["id"]) == sorted([ids[0], ids[1], ids[3]])
    assert interviews.records(engine, district=HOME)["id"].tolist() == [ids[2]]
    assert len(interviews.records(engine)) == 4


def test_a_district_administrator_sees_their_districts_audit_log(two, monkeypatch):
    engine = get_engine(two)
    yg_admin = Actor("yg_admin", ADMIN, district_code=YG)
    auth.add_user(engine, CITY_ADMIN, "yg_check2", VERIFIER, "Pass-word-1234", district_code=YG, now=NOW)
    auth.add_user(engine, CITY_ADMIN, "dc_check2", VERIFIER, "Pass-word-1234", district_code=HOME, now=NOW)
    at = run_app(two, monkeypatch, page="pages/admin.py", actor=yg_admin)
    assert not at.exception
    shown = next(d.value for d in at.dataframe if "对象" in d.value.columns)
    assert "yg_check2" in set(shown["对象"]) and "dc_check2" not in set(shown["对象"])
    assert len(shown) == len(audit.entries(engine, district=YG, since=datetime(2026, 10, 22)))
    at = run_app(two, monkeypatch, page="pages/admin.py", actor=CITY_ADMIN)
    shown = next(d.value for d in at.dataframe if "对象" in d.value.columns)
    assert {"yg_check2", "dc_check2"} <= set(shown["对象"])


# ---------------------------------------------------------------- migration 0019

def _insert(conn, table: str, **values) -> None:
    names = ", ".join(values)
    conn.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + k for k in values)})"), values)


def _oldrows(engine) -> None:
    """Rows as written before 0019 (no district_code on the five tables): the small city with T-04 and its
    problems moved to 阳谷县, two users, events, cards, exposures, 约谈 and audit entries of every kind."""
    with engine.begin() as conn:
        districts.insert_district(conn, districts.DistrictSpec(YG, "阳谷县", "YG", county_boundary(YG)))
        conn.execute(text("UPDATE grids SET district_code = :d WHERE code = 'T-04'"), {"d": YG})
        conn.execute(text("UPDATE problems SET district_code = :d WHERE code IN ('WT08', 'WT10')"), {"d": YG})
        conn.execute(text("UPDATE points SET district_code = :d WHERE code = (SELECT MIN(code) FROM points)"), {"d": YG})
        for name, district in (("yg_lead", YG), ("city_lead", None)):
            _insert(conn, "users", username=name, password_hash="x", role=LEADER, disabled=False, failed_attempts=0,
                    created_at=NOW, district_code=district)
        pid = dict(conn.execute(text("SELECT code, id FROM problems")).all())
        for code in ("WT01", "WT08", "WT10"):
            _insert(conn, "problem_events", problem_id=pid[code], action="上报", to_status="待派遣", actor="x", at=NOW)
        for card, grid, district in (("2026-0001", "T-04", YG), ("2026-0002", "T-01", HOME)):
            _insert(conn, "cards", code=card, target_kind="grid", target_code=grid, color="黄", reason="r",
                    issued_by="city_lead", issued_at=NOW, deadline=NOW, step="限期整改", status="生效", revision=1,
                    district_code=district)
        cid = dict(conn.execute(text("SELECT code, id FROM cards")).all())
        for card in cid:
            _insert(conn, "card_actions", card_id=cid[card], action="签发", actor="city_lead", at=NOW)
        for code in ("WT01", "WT08"):
            _insert(conn, "exposures", problem_id=pid[code], card_id=cid["2026-0001"], decided_by="city_lead",
                    decided_at=NOW)
        uid = dict(conn.execute(text("SELECT code, id FROM units")).all())
        for n, (by, unit, cards_, problems_) in enumerate((
                ("yg_lead", "U-002", None, "WT01"),  # the recorder's district
                ("city_lead", "U-002", "2026-0001,2026-0002", "WT01"),  # the first card's
                ("city_lead", "U-002", None, "WT10,WT01"),  # the first problem's
                ("city_lead", "U-003", None, None),  # the unit's (gis.geo.districts.district_of_target)
                ("gone_user", "U-001", None, None))):  # a recorder who is no user: the unit's too
            _insert(conn, "interviews", kind="约谈", unit_id=uid[unit], people="p", held_on=date(2026, 11, 19),
                    reason="r", card_codes=cards_, problem_codes=problems_, recorded_by=by,
                    recorded_at=datetime(2026, 11, 20, 9, n))
        point = conn.execute(text("SELECT MIN(code) FROM points")).scalar()
        for actor, action, kind, target, at in (
                ("city_lead", "problem.verify", "problem", "WT08", NOW), ("city_lead", "card.issue", "card", "2026-0001", NOW),
                ("city_lead", "inspection.record", "point", point, NOW), ("命令行", "user.add", "user", "yg_lead", NOW),
                ("city_lead", "negative.report", "grid", "T-04", NOW), ("命令行", "district.add", "district", YG, NOW),
                ("city_lead", "interview.talk", "unit", "U-002", datetime(2026, 11, 20, 9, 2)),
                ("yg_lead", "grid.publish", "grid_layer", "第2版", NOW), ("city_lead", "grid.publish", "grid_layer", "第3版", NOW),
                ("命令行", "city.categories", "category", None, NOW), ("city_lead", "problem.verify", "problem", "WT01", NOW)):
            _insert(conn, "audit_log", at=at, actor=actor, action=action, target_kind=kind, target_code=target)


def test_migration_0019_fills_existing_rows_from_their_parents_and_goes_down(backend_name, tmp_path_factory):
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "mig19"))
    migrate.upgrade(engine, "0018")
    load_small_city(engine)
    _oldrows(engine)
    assert not {"district_code"} & {c["name"] for c in inspect(engine).get_columns("problem_events")}
    migrate.upgrade(engine, "0019")  # 0020 (token districts) is tests/test_district_tokens.py's
    assert migrate.current(engine) == "0019"
    q = lambda sql: rows(engine, sql)  # noqa: E731
    assert q("SELECT p.code, e.district_code FROM problem_events e JOIN problems p ON p.id = e.problem_id "
             "ORDER BY p.code") == [("WT01", HOME), ("WT08", YG), ("WT10", YG)]
    assert q("SELECT c.code, a.district_code FROM card_actions a JOIN cards c ON c.id = a.card_id ORDER BY c.code") \
        == [("2026-0001", YG), ("2026-0002", HOME)]
    assert q("SELECT p.code, e.district_code FROM exposures e JOIN problems p ON p.id = e.problem_id "
             "ORDER BY p.code") == [("WT01", HOME), ("WT08", YG)]
    with engine.connect() as conn:
        u003, u001 = (districts.district_of_target(conn, "unit", u) for u in ("U-003", "U-001"))
    assert q("SELECT district_code FROM interviews ORDER BY recorded_at") == [(YG,), (YG,), (YG,), (u003,), (u001,)]
    assert q("SELECT action, target_code, district_code FROM audit_log ORDER BY id") == [
        ("problem.verify", "WT08", YG), ("card.issue", "2026-0001", YG), ("inspection.record", q(
            "SELECT MIN(code) FROM points")[0][0], YG), ("user.add", "yg_lead", YG), ("negative.report", "T-04", YG),
        ("district.add", YG, YG), ("interview.talk", "U-002", YG), ("grid.publish", "第2版", YG),
        ("grid.publish", "第3版", None), ("city.categories", None, None), ("problem.verify", "WT01", HOME)]
    for table in NEW:
        assert q(f"SELECT COUNT(*) FROM {table} WHERE district_code IS NULL")[0][0] == (
            2 if table == "audit_log" else 0), table
    # the migration made what the models say: columns, types and the district-led indexes
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert [d for d in diffs if set(NEW) & _tables(d)] == []
    indexes = {i["name"] for t in NEW for i in inspect(engine).get_indexes(t)}
    assert {"ix_problem_events_district_at", "ix_audit_log_district_at", "ix_exposures_district_at",
            "ix_interviews_district_held", "ix_card_actions_district_code"} <= indexes

    migrate.downgrade(engine, "0018")
    for table in NEW:
        assert "district_code" not in {c["name"] for c in inspect(engine).get_columns(table)}, table
        assert not [i for i in inspect(engine).get_indexes(table) if "district" in i["name"]], table
    assert q("SELECT COUNT(*) FROM problem_events")[0][0] == 3 and q("SELECT COUNT(*) FROM audit_log")[0][0] == 11
    migrate.upgrade(engine)  # and up again
    assert q("SELECT COUNT(*) FROM audit_log WHERE district_code IS NULL")[0][0] == 2


def _tables(diff) -> set[str]:
    """The tables an autogenerate diff entry is about (a list of changes: its first one's)."""
    d = diff[0] if isinstance(diff, list) else diff
    out = set()
    for x in d[1:]:
        if isinstance(x, str):
            out.add(x)
        elif getattr(x, "table", None) is not None:  # an index, a column, a constraint
            out.add(x.table.name)
        elif hasattr(x, "columns") and hasattr(x, "name"):  # a table
            out.add(x.name)
    return out
