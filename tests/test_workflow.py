"""The closed loop (gis.problems.workflow) on the small city: every legal and illegal transition, 返工,
overdue, the 反馈不过夜 clock around midnight, permissions and optimistic locking.

Small-city facts used (tests/smallcity.py): in T-01 WT04 is 待派遣 (露天烧烤, reported 11-19 22:00,
deadline 11-20 00:00), WT03 整改中 (acknowledged), WT05 待核查, WT01 已结案; WT08 is in T-04.
Categories: 占道经营 24 h, 暴露垃圾 4 h, 露天烧烤 2 h.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pandas as pd
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from gis.problems import ledger

from gis.problems import photos, workflow
from gis.db.models import AuditEntry, Category, Problem, ProblemEvent
from gis.people.permissions import Actor, PermissionDenied
from gis.problems.workflow import ACKNOWLEDGE, DISPATCH, RETURN, SUBMIT, VERIFY, IllegalTransition, StaleProblem, WorkflowError

CHIEF = Actor("zhoujie", "网格长", "T-01")
OTHER_CHIEF = Actor("fengjing", "网格长", "T-04")
VERIFIER = Actor("hecha", "核查员")
NOW = datetime(2026, 11, 20, 10)


def _png(size=(40, 30), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


PNG = _png()
IN_T01 = (115.983, 36.447)  # inside 阳光小区, grid T-01


def state(engine, code):
    p = Problem.__table__
    with engine.connect() as conn:
        row = conn.execute(select(p.c.status, p.c.revision, p.c.rework_count, p.c.unit_id, p.c.acknowledged_at,
                                  p.c.rectified_at, p.c.verified_at).where(p.c.code == code)).mappings().one()
        return dict(row)


def counts(engine):
    with engine.connect() as conn:
        return (conn.execute(select(func.count()).select_from(ProblemEvent.__table__)).scalar(),
                conn.execute(select(func.count()).select_from(AuditEntry.__table__)).scalar())


def actor_for(action):
    return VERIFIER if action in (VERIFY, RETURN) else CHIEF


def run(engine, code, action, tmp_path, now=NOW, actor=None, **kw):
    kw.setdefault("note", "已处理" if action in (SUBMIT, RETURN) else None)
    if action == DISPATCH:
        kw.setdefault("unit_code", "U-002")
    return workflow.apply(engine, actor or actor_for(action), code, action, now=now, photo_dir=tmp_path, **kw)


def test_full_loop_with_rework(city_rw, tmp_path):
    created = workflow.create_problem(city_rw, CHIEF, "暴露垃圾", "垃圾桶满溢 <b>", *IN_T01, source="网格员巡查", now=NOW)
    code = created["code"]
    assert created["grid_code"] == "T-01" and created["status"] == "待派遣"
    assert code == "WT2026110000001"
    assert created["deadline"] == NOW + timedelta(hours=4)  # 暴露垃圾: 4 hours from the categories table

    steps = [
        (CHIEF, DISPATCH, {"unit_code": "U-002"}, "整改中"),
        (CHIEF, ACKNOWLEDGE, {}, "整改中"),
        (CHIEF, SUBMIT, {"note": "已清运", "photo": PNG, "photo_name": "a.png"}, "待核查"),
        (VERIFIER, RETURN, {"note": "仍有残留"}, "整改中"),
        (CHIEF, SUBMIT, {"note": "再次清理"}, "待核查"),
        (VERIFIER, VERIFY, {"note": "合格"}, "已结案"),
    ]
    revision = 1
    for i, (actor, action, kw, to) in enumerate(steps):
        out = workflow.apply(city_rw, actor, code, action, expected_revision=revision,
                             now=NOW + timedelta(minutes=10 * (i + 1)), photo_dir=tmp_path, **kw)
        revision += 1
        assert out == {"code": code, "status": to, "revision": revision}
        assert state(city_rw, code)["status"] == to
    final = state(city_rw, code)
    assert final["rework_count"] == 1
    assert final["verified_at"] == NOW + timedelta(minutes=60)
    assert final["acknowledged_at"] == NOW + timedelta(minutes=20)

    history = ledger.problem_history(city_rw, code)
    assert list(history["action"]) == ["上报", "派遣", "签收", "提交整改", "退回", "提交整改", "核查通过"]
    assert list(history["actor"]) == ["zhoujie", "zhoujie", "zhoujie", "zhoujie", "hecha", "zhoujie", "hecha"]
    assert history["unit"].iloc[1] == "古楼街道办事处"
    photo = history["photo_path"].iloc[3]
    assert photo.startswith(f"{code}/") and photo.endswith(".jpg")
    with Image.open(tmp_path / photo) as stored:  # re-encoded (gis.problems.photos): a JPEG of the same picture
        assert stored.format == "JPEG" and stored.size == (40, 30)
        assert max(abs(a - b) for a, b in zip(stored.convert("RGB").getpixel((20, 15)), (200, 30, 30))) <= 8
    assert pd.isna(history["photo_path"].iloc[5])
    with city_rw.connect() as conn:
        a = AuditEntry.__table__
        actions = [r[0] for r in conn.execute(select(a.c.action).where(a.c.target_code == code).order_by(a.c.id))]
    assert actions == ["problem.create", "problem.dispatch", "problem.acknowledge", "problem.submit",
                       "problem.return", "problem.submit", "problem.verify"]


LEGAL = [("WT04", DISPATCH, "整改中"), ("WT03", SUBMIT, "待核查"), ("WT05", VERIFY, "已结案"), ("WT05", RETURN, "整改中")]
SAMPLES = {"待派遣": "WT04", "整改中": "WT03", "待核查": "WT05", "已结案": "WT01"}
LOOP = (DISPATCH, ACKNOWLEDGE, SUBMIT, VERIFY, RETURN)  # 立案 / 延期 / 缓办: tests/test_registration.py
ILLEGAL = [(code, action) for status, code in SAMPLES.items() for action in LOOP
           if (code, action) not in {(c, a) for c, a, _ in LEGAL}]


@pytest.mark.parametrize("code,action,to", LEGAL)
def test_legal_transitions(city_rw, tmp_path, code, action, to):
    before = state(city_rw, code)
    events, audits = counts(city_rw)
    run(city_rw, code, action, tmp_path, expected_revision=before["revision"])
    after = state(city_rw, code)
    assert after["status"] == to and after["revision"] == before["revision"] + 1
    assert after["rework_count"] == before["rework_count"] + (1 if action == RETURN else 0)
    assert counts(city_rw) == (events + 1, audits + 1)


@pytest.mark.parametrize("code,action", ILLEGAL)
def test_illegal_transitions_change_nothing(city_rw, tmp_path, code, action):
    before = state(city_rw, code)
    before_counts = counts(city_rw)
    with pytest.raises(IllegalTransition) as err:
        run(city_rw, code, action, tmp_path, photo=PNG if action == SUBMIT else None)
    message = str(err.value)
    assert code in message and action in message or "已签收" in message
    assert state(city_rw, code) == before
    assert counts(city_rw) == before_counts
    assert list(tmp_path.iterdir()) == []  # no photo left behind


def test_acknowledge_twice_is_illegal(city_rw, tmp_path):
    run(city_rw, "WT04", DISPATCH, tmp_path)
    run(city_rw, "WT04", ACKNOWLEDGE, tmp_path)
    with pytest.raises(IllegalTransition, match="不能重复签收"):
        run(city_rw, "WT04", ACKNOWLEDGE, tmp_path)


@pytest.mark.parametrize("actor,action,code", [
    (OTHER_CHIEF, DISPATCH, "WT04"),      # another grid's chief
    (VERIFIER, DISPATCH, "WT04"),         # verifiers only verify / return
    (CHIEF, VERIFY, "WT05"),              # chiefs cannot verify their own work
    (Actor("ld", "领导"), SUBMIT, "WT03"),  # leaders only view
])
def test_permission_denied_changes_nothing(city_rw, tmp_path, actor, action, code):
    before, before_counts = state(city_rw, code), counts(city_rw)
    with pytest.raises(PermissionDenied, match="无权操作"):
        run(city_rw, code, action, tmp_path, actor=actor)
    assert state(city_rw, code) == before and counts(city_rw) == before_counts


def test_stale_revision_is_refused(city_rw, tmp_path):
    run(city_rw, "WT04", DISPATCH, tmp_path, expected_revision=1)
    before, before_counts = state(city_rw, "WT04"), counts(city_rw)
    with pytest.raises(StaleProblem, match="已被他人修改"):
        run(city_rw, "WT04", ACKNOWLEDGE, tmp_path, expected_revision=1)  # the page still showed revision 1
    assert state(city_rw, "WT04") == before and counts(city_rw) == before_counts


def test_bad_input_changes_nothing(city_rw, tmp_path):
    before, before_counts = state(city_rw, "WT03"), counts(city_rw)
    with pytest.raises(WorkflowError, match="不是 JPEG 或 PNG"):
        run(city_rw, "WT03", SUBMIT, tmp_path, photo=b"<svg onload=alert(1)>", photo_name="x.svg")
    with pytest.raises(WorkflowError, match="照片过大"):
        run(city_rw, "WT03", SUBMIT, tmp_path, photo=PNG + b"\x00" * photos.MAX_BYTES)
    with pytest.raises(WorkflowError, match="请填写整改说明"):
        run(city_rw, "WT03", SUBMIT, tmp_path, note="  ")
    with pytest.raises(WorkflowError, match="请填写退回原因"):
        run(city_rw, "WT05", RETURN, tmp_path, note="")
    with pytest.raises(WorkflowError, match="责任单位"):
        run(city_rw, "WT04", DISPATCH, tmp_path, unit_code="U-999")
    assert state(city_rw, "WT03") == before and counts(city_rw) == before_counts
    assert list(tmp_path.rglob("*.*")) == []


def test_create_checks_grid_permission_and_place(city_rw):
    with pytest.raises(PermissionDenied):
        workflow.create_problem(city_rw, OTHER_CHIEF, "占道经营", "摊点", *IN_T01, now=NOW)
    with pytest.raises(WorkflowError, match="不在任何网格内"):
        workflow.create_problem(city_rw, CHIEF, "占道经营", "摊点", 116.5, 36.9, now=NOW)
    with pytest.raises(WorkflowError, match="问题类型"):
        workflow.create_problem(city_rw, CHIEF, "不存在的类型", "摊点", *IN_T01, now=NOW)
    with city_rw.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Problem.__table__)).scalar() == 10


def test_deadline_comes_from_the_configurable_table(city_rw):
    c = Category.__table__
    with city_rw.begin() as conn:
        conn.execute(update(c).where(c.c.name == "占道经营").values(deadline_hours=6.5))
    out = workflow.create_problem(city_rw, CHIEF, "占道经营", "流动摊贩", *IN_T01, now=NOW)
    assert out["deadline"] == NOW + timedelta(hours=6, minutes=30)
    second = workflow.create_problem(city_rw, CHIEF, "占道经营", "流动摊贩", *IN_T01, now=NOW)
    assert second["code"] == "WT2026110000002"


def test_overdue_is_computed_at_now(city_rw, tmp_path):
    # WT04 (露天烧烤 2 h) reported 11-19 22:00: deadline 11-20 00:00.
    def overdue_codes(now):
        df = ledger.ledger(city_rw, "T-01", overdue=True, now=now)
        assert sorted(df["code"]) == sorted(ledger.ledger(city_rw, "T-01", now=now).query("overdue")["code"])
        return set(df["code"])

    assert "WT04" not in overdue_codes(datetime(2026, 11, 19, 23, 59))
    assert "WT04" in overdue_codes(datetime(2026, 11, 20, 0, 1))
    # WT03 (占道经营 24 h from 11-10 08:00) is overdue; once closed it is not.
    assert "WT03" in overdue_codes(NOW)
    run(city_rw, "WT03", SUBMIT, tmp_path)
    assert "WT03" in overdue_codes(NOW)  # 待核查 is still open
    run(city_rw, "WT03", VERIFY, tmp_path)
    assert "WT03" not in overdue_codes(NOW)
    not_overdue = ledger.ledger(city_rw, "T-01", overdue=False, now=NOW)
    assert "WT03" in set(not_overdue["code"]) and "WT04" not in set(not_overdue["code"])


@pytest.mark.parametrize("ack_at,expected", [
    (datetime(2026, 11, 20, 23, 59, 59), workflow.ACK_DONE),
    (datetime(2026, 11, 21, 0, 0, 0), workflow.ACK_LATE),
])
def test_not_overnight_clock_around_midnight(city_rw, tmp_path, ack_at, expected):
    reported = datetime(2026, 11, 20, 23, 30)
    code = workflow.create_problem(city_rw, CHIEF, "占道经营", "夜市占道", *IN_T01, now=reported)["code"]
    run(city_rw, code, DISPATCH, tmp_path, now=reported + timedelta(minutes=5))

    def clock(now):
        df = ledger.ledger(city_rw, "T-01", now=now)
        return df.set_index("code").loc[code, "ack"]

    assert clock(datetime(2026, 11, 20, 23, 59, 59)) == workflow.ACK_WAITING
    assert clock(datetime(2026, 11, 21, 0, 0, 0)) == workflow.ACK_MISSED
    run(city_rw, code, ACKNOWLEDGE, tmp_path, now=ack_at)
    assert clock(datetime(2026, 11, 22)) == expected
    assert ledger.problem_detail(city_rw, code, now=datetime(2026, 11, 22))["ack"] == expected


def test_ack_state_scalar_and_vector_agree():
    import pandas as pd

    rep = [datetime(2026, 11, 20, 8), datetime(2026, 11, 20, 8), datetime(2026, 11, 19, 8), datetime(2026, 11, 19, 8)]
    ack = [datetime(2026, 11, 20, 9), None, datetime(2026, 11, 20, 0, 0, 1), None]
    now = datetime(2026, 11, 20, 12)
    vector = workflow.ack_state(pd.Series(rep), pd.Series(ack, dtype="datetime64[us]"), now)
    scalar = [workflow.ack_state(r, a, now) for r, a in zip(rep, ack)]
    assert list(vector) == scalar == [workflow.ACK_DONE, workflow.ACK_WAITING, workflow.ACK_LATE, workflow.ACK_MISSED]


def test_allowed_actions_follow_status_and_role():
    assert workflow.allowed_actions(CHIEF, "待派遣", False, "T-01") == [DISPATCH]
    ext, dfr = workflow.APPLY_EXTENSION, workflow.APPLY_DEFERRAL
    assert workflow.allowed_actions(CHIEF, "整改中", False, "T-01") == [ACKNOWLEDGE, SUBMIT, ext, dfr]
    assert workflow.allowed_actions(CHIEF, "整改中", True, "T-01") == [SUBMIT, ext, dfr]
    assert workflow.allowed_actions(CHIEF, "整改中", True, "T-01", request_kind="延期") == [SUBMIT]
    assert workflow.allowed_actions(Actor("diaodu", "指挥中心"), "待立案", False, "T-01") == [workflow.REGISTER,
                                                                                           workflow.REJECT]
    assert workflow.allowed_actions(CHIEF, "整改中", True, "T-02") == []
    assert workflow.allowed_actions(VERIFIER, "待核查", True, "T-02") == [VERIFY, RETURN]
    assert workflow.allowed_actions(CHIEF, "已结案", True, "T-01") == []
    assert workflow.allowed_actions(None, "待派遣", False, "T-01") == []
