"""Issue 12 §2: 立案 / 不予立案, 派遣 time, 延期 and 缓办 through gis.problems.workflow, with their
effect on the figures (tests/numbers_city.py; hand-computed in the comments)."""

from __future__ import annotations

from datetime import date, datetime as d

import pytest
from sqlalchemy import select

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Problem
from gis.metrics import kpis, memo
from gis.people.permissions import COMMAND, Actor, PermissionDenied
from gis.problems import ledger, states, workflow as wf
from tests import numbers_city
from tests.conftest import new_database_url

CHIEF = Actor("chief1", "网格长", "T-01")
CENTRE = Actor("diaodu", COMMAND)
OCT = date(2026, 10, 1)


@pytest.fixture
def city(backend_name, tmp_path_factory):
    url = new_database_url(backend_name, tmp_path_factory, "register")
    engine = get_engine(url)
    migrate.upgrade(engine)
    numbers_city.load(engine)
    yield engine
    engine.dispose()  # the next test recreates this database: no pooled connection may hold it


def _october(engine):
    """October's figures as of its end; the memo of ended months is cleared, as these tests back-date writes."""
    memo.clear_memo()
    return kpis.monthly_stats(engine, OCT, OCT, d(2026, 11, 1)).iloc[0]


def _row(engine, code) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(Problem.__table__).where(Problem.code == code)).mappings().one())


def test_public_report_waits_for_registration(city):
    before = _october(city)
    made = wf.create_problem(city, CHIEF, "暴露垃圾", "热线：垃圾满溢", *numbers_city.T01, source="市民热线",
                             now=d(2026, 10, 8, 20))
    assert made["status"] == "待立案"
    assert _row(city, made["code"])["registered_at"] is None
    stats = _october(city)
    assert (stats["problems"], stats["registered"]) == (before["problems"], before["registered"])  # counts nowhere
    with pytest.raises(PermissionDenied):
        wf.register(city, CHIEF, made["code"], now=d(2026, 10, 9, 16, 30))
    with pytest.raises(wf.IllegalTransition, match="当前状态为“待立案”"):
        wf.dispatch(city, CHIEF, made["code"], "U-002", now=d(2026, 10, 9, 16, 30))
    wf.register(city, CENTRE, made["code"], note="属实", now=d(2026, 10, 9, 16, 30))
    row = _row(city, made["code"])
    # 4 工作时 from 立案 (Fri 16:30): 1 h, then the 调休 Saturday 08:30 + 3 h
    assert row["status"] == "待派遣" and row["registered_at"] == d(2026, 10, 9, 16, 30)
    assert row["deadline"] == d(2026, 10, 10, 11, 30)
    stats = _october(city)
    assert stats["problems"] == before["problems"] + 1 and stats["registered"] == before["registered"] + 1
    # 反馈不过夜 runs from the dispatch (9 Oct 17:00), not from the report (8 Oct): 签收 at 18:00 is on time
    wf.dispatch(city, CHIEF, made["code"], "U-002", now=d(2026, 10, 9, 17))
    assert _row(city, made["code"])["dispatched_at"] == d(2026, 10, 9, 17)
    wf.acknowledge(city, CHIEF, made["code"], now=d(2026, 10, 9, 18))
    assert ledger.problem_detail(city, made["code"], now=d(2026, 10, 9, 19))["ack"] == wf.ACK_DONE


def test_rejection_needs_a_reason(city):
    made = wf.create_problem(city, CHIEF, "占道经营", "热线：摊点", *numbers_city.T01, source="市民热线",
                             now=d(2026, 11, 2, 9))
    with pytest.raises(wf.WorkflowError, match="请填写不予立案理由"):
        wf.reject(city, CENTRE, made["code"], "  ", now=d(2026, 11, 2, 10))
    assert _row(city, made["code"])["status"] == "待立案"
    wf.reject(city, CENTRE, made["code"], "重复举报", now=d(2026, 11, 2, 10))
    assert _row(city, made["code"])["status"] == "不予立案"
    # an inspector's find is 立案 at once
    own = wf.create_problem(city, CHIEF, "占道经营", "巡查：摊点", *numbers_city.T01, source="网格员巡查",
                            now=d(2026, 11, 2, 9))
    assert own["status"] == "待派遣" and _row(city, own["code"])["registered_at"] == d(2026, 11, 2, 9)


def test_extension_applied_approved_and_kept_with_the_old_deadline(city):
    made = wf.create_problem(city, CHIEF, "暴露垃圾", "垃圾", *numbers_city.T01, now=d(2026, 10, 9, 16, 30))
    wf.dispatch(city, CHIEF, made["code"], "U-002", now=d(2026, 10, 9, 16, 40))
    with pytest.raises(wf.WorkflowError, match="须晚于现时限 2026-10-10 11:30"):
        wf.request(city, CHIEF, made["code"], wf.APPLY_EXTENSION, "需要吊车", d(2026, 10, 10, 9))
    with pytest.raises(wf.WorkflowError, match="请填写延期原因"):
        wf.request(city, CHIEF, made["code"], wf.APPLY_EXTENSION, "", d(2026, 10, 20, 17, 30))
    wf.request(city, CHIEF, made["code"], wf.APPLY_EXTENSION, "需要吊车", d(2026, 10, 20, 17, 30),
               now=d(2026, 10, 10, 9))
    with pytest.raises(wf.IllegalTransition):  # one request at a time
        wf.request(city, CHIEF, made["code"], wf.APPLY_DEFERRAL, "等待季节", now=d(2026, 10, 10, 9, 5))
    with pytest.raises(PermissionDenied):
        wf.decide(city, CHIEF, made["code"], True)
    assert wf.allowed_actions(CENTRE, "整改中", True, "T-01", request_kind="延期") == [wf.APPROVE, wf.REFUSE]
    wf.decide(city, CENTRE, made["code"], True, now=d(2026, 10, 10, 10))
    row = _row(city, made["code"])
    assert row["deadline"] == d(2026, 10, 20, 17, 30) and row["original_deadline"] == d(2026, 10, 10, 11, 30)
    assert row["request_kind"] is None
    assert not states.is_overdue(row, d(2026, 10, 12))  # past the old deadline, within the new one
    assert states.is_overdue(row, d(2026, 10, 21))


def test_deferral_refused_then_approved_leaves_the_cohort(city):
    made = wf.create_problem(city, CHIEF, "占道经营", "摊点", *numbers_city.T01, now=d(2026, 10, 14, 9))
    wf.dispatch(city, CHIEF, made["code"], "U-002", now=d(2026, 10, 14, 10))
    before = _october(city)
    assert before["due"] == 4  # N01, N02, N03 and this one (deadline 15 Oct 09:00, open → 超期)
    wf.request(city, CHIEF, made["code"], wf.APPLY_DEFERRAL, "等待雨季过后", now=d(2026, 10, 14, 11))
    with pytest.raises(wf.WorkflowError, match="请填写驳回理由"):
        wf.decide(city, CENTRE, made["code"], False, now=d(2026, 10, 14, 12))
    wf.decide(city, CENTRE, made["code"], False, "可以处置", now=d(2026, 10, 14, 12))
    wf.request(city, CHIEF, made["code"], wf.APPLY_DEFERRAL, "确需等待", now=d(2026, 10, 14, 13))
    wf.decide(city, CENTRE, made["code"], True, now=d(2026, 10, 14, 14))
    row = _row(city, made["code"])
    assert row["deferred_at"] == d(2026, 10, 14, 14) and not states.is_overdue(row, d(2026, 10, 20))
    stats = _october(city)
    assert (stats["due"], stats["deferred"]) == (3, 1)
    assert wf.APPLY_DEFERRAL not in wf.legal_actions("整改中", True, None, deferred=True)
