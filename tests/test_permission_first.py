"""Permission first (issue 11 §8): every writer in gis/ refuses an actor who may not act before it looks
at its arguments, so the answer tells them nothing (whether a unit, problem, user, version or file
exists, or what is wrong with the input) — and nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from gis.db.models import AuditEntry, GridLayer, KioskToken, Problem, ProblemEvent, User
from gis.io import importer
from gis.people import auth, kiosk
from gis.people.kiosk import KIOSK_ACTOR
from gis.people.permissions import Actor, PermissionDenied
from gis.planning import versions
from gis.problems import workflow
from gis.problems.workflow import DISPATCH
from tests.test_workflow import CHIEF, IN_T01, NOW, OTHER_CHIEF, PNG, VERIFIER

LEADER = Actor("leader", "领导")
PLANNER = Actor("planner", "规划员")
NO_GRID_CHIEF = Actor("nogrid", "网格长")  # a grid manager with no grid assigned
NOT_A_PHOTO = b"<html>not a photo</html>"


def _snapshot(engine):
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(m.__table__)).scalar()
                     for m in (AuditEntry, ProblemEvent, Problem, GridLayer, User, KioskToken))


WORKFLOW = [
    # dispatch: another grid's manager, an unknown unit → PermissionDenied, not "unit does not exist"
    ("dispatch, other grid, unknown unit", lambda e, d: workflow.dispatch(e, OTHER_CHIEF, "WT04", "NO-SUCH-UNIT")),
    ("dispatch, wrong role, unknown unit", lambda e, d: workflow.dispatch(e, LEADER, "WT04", "NO-SUCH-UNIT")),
    ("dispatch, wrong role, unknown problem", lambda e, d: workflow.dispatch(e, LEADER, "NO-SUCH", "U-002")),
    ("dispatch, wrong role, note too long", lambda e, d: workflow.dispatch(e, VERIFIER, "WT04", "U-002", note="x" * 9999)),
    ("apply dispatch, kiosk", lambda e, d: workflow.apply(e, KIOSK_ACTOR, "WT04", DISPATCH, unit_code="NO-SUCH")),
    ("acknowledge, wrong role, unknown problem", lambda e, d: workflow.acknowledge(e, VERIFIER, "NO-SUCH")),
    ("acknowledge, grid manager without a grid", lambda e, d: workflow.acknowledge(e, NO_GRID_CHIEF, "NO-SUCH")),
    ("submit, other grid, not a photo, no note",
     lambda e, d: workflow.submit(e, OTHER_CHIEF, "WT03", "", photo=NOT_A_PHOTO, photo_name="x.jpg", photo_dir=d)),
    ("submit, wrong role, huge photo",
     lambda e, d: workflow.submit(e, LEADER, "WT03", "ok", photo=PNG + b"\0" * 6_000_000, photo_dir=d)),
    ("verify, wrong role, unknown problem", lambda e, d: workflow.verify(e, CHIEF, "NO-SUCH", note="x" * 9999)),
    ("send back, wrong role, no reason", lambda e, d: workflow.send_back(e, CHIEF, "WT05", "")),
    ("create, wrong role, unknown category", lambda e, d: workflow.create_problem(e, LEADER, "没有这类", "", *IN_T01)),
    ("create, other grid, unknown category",
     lambda e, d: workflow.create_problem(e, OTHER_CHIEF, "没有这类", "描述", *IN_T01, now=NOW)),
]
VERSIONS = [
    ("save draft, wrong role, unknown base", lambda e, d: versions.save_draft(e, LEADER, None, 99999, {})),
    ("publish, wrong role, unknown draft", lambda e, d: versions.publish(e, CHIEF, 99999)),
    ("restore, wrong role, unknown version", lambda e, d: versions.restore(e, VERIFIER, 99999)),
]
KIOSK = [
    ("kiosk create, wrong role, empty name", lambda e, d: kiosk.create(e, PLANNER, "")),
    ("kiosk revoke, wrong role, unknown token", lambda e, d: kiosk.revoke(e, LEADER, "no-such-token")),
]
USERS = [
    ("add user, wrong role, bad role", lambda e, d: auth.add_user(e, LEADER, "x y", "神仙", "short")),
    ("disable, wrong role, unknown user", lambda e, d: auth.set_disabled(e, PLANNER, "no-such-user", True)),
    ("enable, kiosk, unknown user", lambda e, d: auth.set_disabled(e, KIOSK_ACTOR, "no-such-user", False)),
    ("reset password, wrong role, too short", lambda e, d: auth.reset_password(e, CHIEF, "no-such-user", "short")),
]
IMPORTER = [
    ("import file, wrong role, missing file",
     lambda e, d: importer.import_file(e, PLANNER, "problems", Path(d) / "no-such-file.csv")),
    ("import file, wrong role, unknown kind", lambda e, d: importer.import_file(e, LEADER, "no-such-kind", "x.csv")),
    ("import prepared, wrong role, nothing prepared", lambda e, d: importer.import_prepared(e, VERIFIER, None)),
]
CASES = WORKFLOW + VERSIONS + KIOSK + USERS + IMPORTER


@pytest.mark.parametrize("name,call", CASES, ids=[c[0] for c in CASES])
def test_an_unauthorised_actor_gets_permission_denied_whatever_the_arguments(city_rw, tmp_path, name, call):
    before = _snapshot(city_rw)
    with pytest.raises(PermissionDenied, match="无权操作"):
        call(city_rw, tmp_path)
    assert _snapshot(city_rw) == before
    assert not any(tmp_path.rglob("*.*"))  # no photo written


def test_an_authorised_actor_still_gets_the_argument_error(city_rw, tmp_path):
    """The same bad arguments from someone who may act: the clear message about the argument."""
    with pytest.raises(workflow.WorkflowError, match="责任单位 NO-SUCH-UNIT 不存在"):
        workflow.dispatch(city_rw, CHIEF, "WT04", "NO-SUCH-UNIT")
    with pytest.raises(workflow.WorkflowError, match="不在问题类型表中"):
        workflow.create_problem(city_rw, CHIEF, "没有这类", "描述", *IN_T01, now=NOW)
    with pytest.raises(auth.AuthError, match="令牌名称"):
        kiosk.create(city_rw, Actor.system(), "")
