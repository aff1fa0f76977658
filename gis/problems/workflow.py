"""问题闭环: the closed loop of a problem (数字城管), with the 反馈不过夜 clock.

    待派遣 ──派遣(责任单位)──▶ 整改中 ──提交整改(说明, 照片)──▶ 待核查 ──核查通过──▶ 已结案
                                  ▲                              │
                                  └────────── 退回 (返工 +1) ─────┘

plus 签收 (acknowledge): the responsible unit confirms it has received a dispatched problem.
反馈不过夜: a problem reported on a day must be acknowledged before midnight of that day.

Every transition function takes the acting user (`Actor`), checks the permission with
`gis.people.permissions.require`, checks the problem's ``revision`` (optimistic locking: the page
passes the revision it showed; if someone changed the problem in between, nothing is written
and `StaleProblem` says so), then — in ONE transaction — updates the problem (revision + 1),
writes a `ProblemEvent` row and an audit entry (both in the problem's district). An illegal transition raises
`IllegalTransition` with a Chinese message and changes nothing.

Deadlines (整改时限) come from the ``categories`` table (`Category.deadline_hours`): a problem's
deadline is its report time plus its category's hours. Overdue is never stored: 超期 and the
other states are defined once, in `gis.problems.states`.
`now` is a parameter everywhere so tests can stand on either side of midnight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select, update

from gis.people import audit
from gis.db import limits
from gis.db.models import (
    STATUS_CHECKING, STATUS_CLOSED, STATUS_FIXING, STATUS_NEW, STATUS_PENDING, STATUS_REJECTED, SOURCES, Category, Grid, Problem,
    ProblemEvent, Unit,
)
from gis.people.permissions import Actor, allowed, require, require_role
from gis.problems import photos, worktime
from gis.problems.writes import insert_problems, locate
from gis.db import rule_versions as versions

# ---------------------------------------------------------------------------------------------
# The state machine

DISPATCH, ACKNOWLEDGE, SUBMIT, VERIFY, RETURN, CREATE = "派遣", "签收", "提交整改", "核查通过", "退回", "上报"
# --- numbers (issue 12): 立案 before the loop; 延期 / 缓办 requested by the unit, decided by the command centre.
REGISTER, REJECT = "立案", "不予立案"
APPLY_EXTENSION, APPLY_DEFERRAL, APPROVE, REFUSE = "申请延期", "申请缓办", "批准", "驳回"
REQUEST_KINDS = {APPLY_EXTENSION: "延期", APPLY_DEFERRAL: "缓办"}
#: Sources reported by the public: they wait for the command centre's 立案 (待立案).
PUBLIC_SOURCES = ("市民热线",)


@dataclass(frozen=True)
class Transition:
    action: str          # Chinese name, stored in ProblemEvent.action
    permission: str      # gis.people.permissions action
    from_status: str
    to_status: str


TRANSITIONS: dict[str, Transition] = {
    DISPATCH: Transition(DISPATCH, "problem.dispatch", STATUS_NEW, STATUS_FIXING),
    ACKNOWLEDGE: Transition(ACKNOWLEDGE, "problem.acknowledge", STATUS_FIXING, STATUS_FIXING),
    SUBMIT: Transition(SUBMIT, "problem.submit", STATUS_FIXING, STATUS_CHECKING),
    VERIFY: Transition(VERIFY, "problem.verify", STATUS_CHECKING, STATUS_CLOSED),
    RETURN: Transition(RETURN, "problem.return", STATUS_CHECKING, STATUS_FIXING),
    REGISTER: Transition(REGISTER, "problem.register", STATUS_PENDING, STATUS_NEW),
    REJECT: Transition(REJECT, "problem.register", STATUS_PENDING, STATUS_REJECTED),
    APPLY_EXTENSION: Transition(APPLY_EXTENSION, "problem.request", STATUS_FIXING, STATUS_FIXING),
    APPLY_DEFERRAL: Transition(APPLY_DEFERRAL, "problem.request", STATUS_FIXING, STATUS_FIXING),
    APPROVE: Transition(APPROVE, "problem.approve", STATUS_FIXING, STATUS_FIXING),
    REFUSE: Transition(REFUSE, "problem.approve", STATUS_FIXING, STATUS_FIXING),
}
ACTIONS = tuple(TRANSITIONS)

NOTE_MAX_CHARS = limits.PROBLEM_TEXT  # description and notes: the one limit, gis.db.limits


class WorkflowError(ValueError):
    """A problem change that cannot be made; the message is shown to users as is (Chinese)."""


class IllegalTransition(WorkflowError):
    """The action is not allowed from the problem's current status."""


class StaleProblem(WorkflowError):
    """Someone else changed the problem since it was shown (optimistic locking on revision)."""


class ProblemNotFound(WorkflowError):
    pass


# ---------------------------------------------------------------------------------------------
# Computed state: the 反馈不过夜 clock (never stored; 超期 and the other states: gis.problems.states)

def ack_deadline(reported_at):
    """反馈不过夜: midnight at the end of the day the clock starts — the dispatch (派遣) when known,
    else the report; pass that moment (scalar datetime or Series)."""
    if isinstance(reported_at, datetime):
        return datetime.combine(reported_at.date() + timedelta(days=1), time(0))
    return pd.to_datetime(reported_at).dt.normalize() + pd.Timedelta(days=1)


ACK_DONE, ACK_LATE, ACK_WAITING, ACK_MISSED = "按时签收", "超时签收", "待签收", "未签收超时"


def ack_state(reported_at, acknowledged_at, now: datetime):
    """The 反馈不过夜 clock: 按时签收 / 超时签收 / 待签收 (before midnight) / 未签收超时 (past midnight).

    Scalars give a string, Series give a Series (vectorised).
    """
    if isinstance(reported_at, datetime):
        due = ack_deadline(reported_at)
        if acknowledged_at is not None and not pd.isna(acknowledged_at):
            return ACK_DONE if acknowledged_at < due else ACK_LATE
        return ACK_WAITING if now < due else ACK_MISSED
    rep = pd.to_datetime(pd.Series(reported_at))
    ack = pd.to_datetime(pd.Series(acknowledged_at, index=rep.index))
    due = ack_deadline(rep)
    out = np.where(ack.notna(), np.where(ack < due, ACK_DONE, ACK_LATE),
                   np.where(pd.Timestamp(now) < due, ACK_WAITING, ACK_MISSED))
    return pd.Series(out, index=rep.index, dtype=object)


# ---------------------------------------------------------------------------------------------
# Reading one problem for a change

_COLUMNS = ("id", "code", "status", "revision", "unit_id", "acknowledged_at", "rework_count", "reported_at",
            "category", "deadline", "original_deadline", "dispatched_at", "deferred_at", "request_kind",
            "request_deadline", "district_code")


def _load(conn: Connection, code: str) -> dict:
    p, g = Problem.__table__, Grid.__table__
    row = conn.execute(select(*[p.c[c] for c in _COLUMNS], g.c.code.label("grid_code"))
                       .select_from(p.outerjoin(g, p.c.grid_id == g.c.id))
                       .where(p.c.code == code)).mappings().first()
    if row is None:
        raise ProblemNotFound(f"问题 {code} 不存在。")
    return dict(row)


def legal_actions(status: str, acknowledged: bool, request_kind: str | None = None,
                  deferred: bool = False) -> list[str]:
    """The actions the state machine allows from `status` (ignoring who acts): 签收 once; 申请延期 /
    申请缓办 while no request is pending (缓办 once); 批准 / 驳回 while one is."""
    out = [a for a, t in TRANSITIONS.items() if t.from_status == status]
    if acknowledged and ACKNOWLEDGE in out:
        out.remove(ACKNOWLEDGE)
    drop = {APPROVE, REFUSE} if not request_kind else {APPLY_EXTENSION, APPLY_DEFERRAL}
    if deferred:
        drop.add(APPLY_DEFERRAL)
    return [a for a in out if a not in drop]


def allowed_actions(actor: Actor | None, status: str, acknowledged: bool, grid_code: str | None,
                    request_kind: str | None = None, deferred: bool = False,
                    district_code: str | None = None) -> list[str]:
    """The actions `actor` may take on a problem now: legal for its status AND permitted for the actor
    (on its grid, in its district)."""
    if actor is None:
        return []
    return [a for a in legal_actions(status, acknowledged, request_kind, deferred)
            if allowed(actor, TRANSITIONS[a].permission, grid_code, district_code)]


def _illegal(problem: dict, t: Transition) -> IllegalTransition:
    code, status = problem["code"], problem["status"]
    if t.action == ACKNOWLEDGE and status == STATUS_FIXING:
        return IllegalTransition(f"问题 {code} 已于 {problem['acknowledged_at']:%Y-%m-%d %H:%M} 签收，不能重复签收。")
    if status == STATUS_CLOSED:
        return IllegalTransition(f"问题 {code} 已结案，不能再“{t.action}”。")
    possible = "、".join(legal_actions(status, problem["acknowledged_at"] is not None, problem.get("request_kind"),
                                      problem.get("deferred_at") is not None)) or "无"
    return IllegalTransition(f"问题 {code} 当前状态为“{status}”，不能“{t.action}”"
                             f"（“{t.action}”只适用于“{t.from_status}”的问题；当前可进行：{possible}）。")


def _transition(engine: Engine, actor: Actor, code: str, action: str, expected_revision: int | None,
                now: datetime | None, values: dict, note: str | None = None, unit_id: int | None = None,
                photo_path: str | None = None, detail: dict | None = None,
                check=None) -> dict:
    t = TRANSITIONS[action]
    require_role(actor, t.permission)
    now = now or datetime.now()
    p = Problem.__table__
    with engine.begin() as conn:
        problem = _load(conn, code)
        require(actor, t.permission, problem["grid_code"], problem["district_code"])
        if expected_revision is not None and problem["revision"] != expected_revision:
            raise StaleProblem(f"问题 {code} 已被他人修改（版本 {expected_revision} → {problem['revision']}），"
                               "请刷新后重试。本次操作未保存。")
        if action not in legal_actions(problem["status"], problem["acknowledged_at"] is not None,
                                       problem["request_kind"], problem["deferred_at"] is not None):
            raise _illegal(problem, t)
        if check is not None:
            check(conn, problem)
        new_values = values(problem) if callable(values) else values
        result = conn.execute(
            update(p).where(p.c.id == problem["id"], p.c.revision == problem["revision"], p.c.status == t.from_status)
            .values(status=t.to_status, revision=p.c.revision + 1, **new_values))
        if result.rowcount != 1:  # changed by a concurrent transaction between our read and write
            raise StaleProblem(f"问题 {code} 正被他人同时修改，请刷新后重试。本次操作未保存。")
        conn.execute(ProblemEvent.__table__.insert().values(
            problem_id=problem["id"], action=t.action, from_status=t.from_status, to_status=t.to_status,
            actor=actor.username, at=now, unit_id=unit_id if unit_id is not None else problem["unit_id"],
            note=note, photo_path=photo_path, district_code=problem["district_code"]))
        audit.record(conn, actor, t.permission, "problem", code,
                     {"动作": t.action, "从": t.from_status, "到": t.to_status, "版本": problem["revision"] + 1,
                      **({"说明": note} if note else {}), **((detail(problem) if callable(detail) else detail) or {})},
                     at=now, district=problem["district_code"])
        return {"code": code, "status": t.to_status, "revision": problem["revision"] + 1}


def _require_on(engine: Engine, actor: Actor, code: str, action: str) -> None:
    """Permission first (the role, then the problem's grid), before any argument is checked."""
    permission = TRANSITIONS[action].permission
    require_role(actor, permission)
    with engine.connect() as conn:
        problem = _load(conn, code)
    require(actor, permission, problem["grid_code"], problem["district_code"])


def _clean_note(note: str | None, required: bool, what: str) -> str | None:
    note = (note or "").strip()
    if required and not note:
        raise WorkflowError(f"请填写{what}。")
    if len(note) > NOTE_MAX_CHARS:
        raise WorkflowError(f"{what}过长（{len(note)} 字），最多 {NOTE_MAX_CHARS} 字。")
    return note or None


# ---------------------------------------------------------------------------------------------
# The transitions

def dispatch(engine: Engine, actor: Actor, code: str, unit_code: str, expected_revision: int | None = None,
             note: str | None = None, now: datetime | None = None) -> dict:
    """派遣: 待派遣 → 整改中, to the responsible unit `unit_code`."""
    _require_on(engine, actor, code, DISPATCH)
    note = _clean_note(note, False, "派遣说明")
    u = Unit.__table__
    with engine.connect() as conn:
        unit = conn.execute(select(u.c.id, u.c.name).where(u.c.code == unit_code)).first()
    if unit is None:
        raise WorkflowError(f"责任单位 {unit_code or '（未选择）'} 不存在，请选择责任单位。")
    now = now or datetime.now()
    return _transition(engine, actor, code, DISPATCH, expected_revision, now, {"unit_id": unit.id, "dispatched_at": now},
                       note=note, unit_id=unit.id, detail={"责任单位": unit.name})


def acknowledge(engine: Engine, actor: Actor, code: str, expected_revision: int | None = None,
                now: datetime | None = None) -> dict:
    """签收: the unit confirms receipt of a dispatched problem (整改中, not yet acknowledged).

    The status stays 整改中; `acknowledged_at` is set. Whether it was in time (before midnight of
    the report day, 反馈不过夜) is computed from it (`ack_state`).
    """
    now = now or datetime.now()
    return _transition(engine, actor, code, ACKNOWLEDGE, expected_revision, now, {"acknowledged_at": now},
                       detail=lambda problem: {"反馈不过夜": ack_state(problem["dispatched_at"] or problem["reported_at"],
                                                                   now, now)})


def submit(engine: Engine, actor: Actor, code: str, note: str, expected_revision: int | None = None,
           photo: bytes | None = None, photo_name: str | None = None, now: datetime | None = None,
           photo_dir: Path | None = None) -> dict:
    """提交整改: 整改中 → 待核查, with a note and an optional photo (JPEG/PNG, ≤ 5 MB).

    The photo is re-encoded and stored under `photo_dir` (default `photos.upload_dir()`) as
    ``<code>/<time>-<random>.jpg`` (gis.problems.photos);
    the event keeps its path relative to that folder. A submission also counts as 签收 when the
    problem had not been acknowledged yet.
    """
    _require_on(engine, actor, code, SUBMIT)
    now = now or datetime.now()
    note = _clean_note(note, True, "整改说明")
    try:  # decoded and re-encoded here (gis.problems.photos): nothing hostile is ever stored
        stored = photos.prepare(photo, photo_name) if photo else None
    except photos.PhotoError as exc:
        raise WorkflowError(str(exc)) from None
    base = Path(photo_dir) if photo_dir is not None else photos.upload_dir()
    rel = photos.relative_path(code, now) if stored else None
    path = base / rel if rel else None

    def check(conn, problem):  # permission and state are confirmed: now the file may be written
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(stored.data)

    def values(problem):  # a pending 延期 / 缓办 request lapses with the rectification
        return {"rectified_at": now, "acknowledged_at": problem["acknowledged_at"] or now,
                "request_kind": None, "request_deadline": None}

    try:
        return _transition(engine, actor, code, SUBMIT, expected_revision, now, values, note=note,
                           photo_path=rel, check=check)
    except BaseException:
        if path is not None and path.exists():
            path.unlink()
        raise


def verify(engine: Engine, actor: Actor, code: str, expected_revision: int | None = None,
           note: str | None = None, now: datetime | None = None) -> dict:
    """核查通过: 待核查 → 已结案."""
    _require_on(engine, actor, code, VERIFY)
    now = now or datetime.now()
    return _transition(engine, actor, code, VERIFY, expected_revision, now, {"verified_at": now},
                       note=_clean_note(note, False, "核查意见"))


def send_back(engine: Engine, actor: Actor, code: str, note: str, expected_revision: int | None = None,
              now: datetime | None = None) -> dict:
    """退回: 待核查 → 整改中, counted as 返工 (rework_count + 1); a reason is required."""
    _require_on(engine, actor, code, RETURN)
    p = Problem.__table__
    return _transition(engine, actor, code, RETURN, expected_revision, now,
                       {"rework_count": p.c.rework_count + 1, "rectified_at": None},
                       note=_clean_note(note, True, "退回原因"), detail={"返工": True})


def register(engine: Engine, actor: Actor, code: str, expected_revision: int | None = None,
             note: str | None = None, now: datetime | None = None) -> dict:
    """立案: 待立案 → 待派遣 (指挥中心). The deadline runs from now, by the category's limit."""
    now = now or datetime.now()
    c = Category.__table__
    found = {}

    def check(conn, problem):
        known = conn.execute(select(c.c.name).where(c.c.name == problem["category"])).first()
        # the limit in force when the problem was reported (规则按日期生效), counted from 立案
        cat = versions.in_force(conn, versions.CATEGORY, problem["category"], problem["reported_at"].date())
        found["deadline"] = category_deadline(cat, now) if known is not None else problem["deadline"]

    return _transition(engine, actor, code, REGISTER, expected_revision, now,
                       lambda problem: {"registered_at": now, "deadline": found["deadline"]},
                       note=_clean_note(note, False, "立案说明"), check=check)


def reject(engine: Engine, actor: Actor, code: str, note: str, expected_revision: int | None = None,
           now: datetime | None = None) -> dict:
    """不予立案: 待立案 → 不予立案 (指挥中心), with a reason. The problem then counts in no figure."""
    return _transition(engine, actor, code, REJECT, expected_revision, now, {},
                       note=_clean_note(note, True, "不予立案理由"))


def request(engine: Engine, actor: Actor, code: str, action: str, note: str, new_deadline: datetime | None = None,
            expected_revision: int | None = None, now: datetime | None = None) -> dict:
    """申请延期 (with the new deadline asked for) or 申请缓办, by the unit (the grid's 网格长 / 网格员),
    with a reason; the command centre then 批准 or 驳回 it."""
    if action not in REQUEST_KINDS:
        raise WorkflowError(f"未知申请“{action}”。")
    now = now or datetime.now()
    note = _clean_note(note, True, f"{REQUEST_KINDS[action]}原因")
    if action == APPLY_EXTENSION and not isinstance(new_deadline, datetime):
        raise WorkflowError("请填写申请延期后的整改时限。")

    def check(conn, problem):
        if action == APPLY_EXTENSION and new_deadline <= problem["deadline"]:
            raise WorkflowError(f"申请的新时限 {new_deadline:%Y-%m-%d %H:%M} 须晚于现时限 {problem['deadline']:%Y-%m-%d %H:%M}。")

    extra = {"申请": REQUEST_KINDS[action], **({"新时限": f"{new_deadline:%Y-%m-%d %H:%M}"} if new_deadline else {})}
    return _transition(engine, actor, code, action, expected_revision, now,
                       {"request_kind": REQUEST_KINDS[action],
                        "request_deadline": new_deadline if action == APPLY_EXTENSION else None},
                       note=note, check=check, detail=extra)


def decide(engine: Engine, actor: Actor, code: str, approve: bool, note: str | None = None,
           expected_revision: int | None = None, now: datetime | None = None) -> dict:
    """批准 / 驳回 the pending 延期 or 缓办 request (指挥中心). 批准延期: the new deadline is in force,
    the first one is kept (original_deadline). 批准缓办: the problem leaves 应结案 (deferred_at).
    驳回 needs a reason and changes nothing but the request."""
    now = now or datetime.now()
    note = _clean_note(note, not approve, "驳回理由" if not approve else "审批意见")

    def values(problem):
        out = {"request_kind": None, "request_deadline": None}
        if approve and problem["request_kind"] == "延期":
            out.update(deadline=problem["request_deadline"],
                       original_deadline=problem["original_deadline"] or problem["deadline"])
        elif approve and problem["request_kind"] == "缓办":
            out.update(deferred_at=now)
        return out

    return _transition(engine, actor, code, APPROVE if approve else REFUSE, expected_revision, now, values,
                       note=note, detail=lambda problem: {"申请": problem["request_kind"]})


def apply(engine: Engine, actor: Actor, code: str, action: str, expected_revision: int | None = None,
          note: str | None = None, unit_code: str | None = None, photo: bytes | None = None,
          photo_name: str | None = None, now: datetime | None = None, photo_dir: Path | None = None,
          new_deadline: datetime | None = None) -> dict:
    """One entry point for pages: run `action` (派遣/签收/提交整改/核查通过/退回/立案/不予立案/申请延期/
    申请缓办/批准/驳回)."""
    if action == REGISTER:
        return register(engine, actor, code, expected_revision, note, now)
    if action == REJECT:
        return reject(engine, actor, code, note, expected_revision, now)
    if action in REQUEST_KINDS:
        return request(engine, actor, code, action, note, new_deadline, expected_revision, now)
    if action in (APPROVE, REFUSE):
        return decide(engine, actor, code, action == APPROVE, note, expected_revision, now)
    if action == DISPATCH:
        return dispatch(engine, actor, code, unit_code, expected_revision, note, now)
    if action == ACKNOWLEDGE:
        return acknowledge(engine, actor, code, expected_revision, now)
    if action == SUBMIT:
        return submit(engine, actor, code, note, expected_revision, photo, photo_name, now, photo_dir)
    if action == VERIFY:
        return verify(engine, actor, code, expected_revision, note, now)
    if action == RETURN:
        return send_back(engine, actor, code, note, expected_revision, now)
    raise WorkflowError(f"未知操作“{action}”。")


# ---------------------------------------------------------------------------------------------
# Creating a problem (上报)

CATEGORY_COLUMNS = ["name", "deadline_hours", "deduction", "standard_code", "time_limit", "time_unit", "urgent_hours"]


def category_table(engine_or_conn, at: datetime | None = None) -> pd.DataFrame:
    """The configurable deadline table: CATEGORY_COLUMNS. The limit is `time_limit` `time_unit`s
    (工作时 / 工作日 / 自然时), or `deadline_hours` 自然时 when no unit is set (`category_limit`).
    With `at`, each category's rule in force at that moment (规则按日期生效, gis.db.rule_versions)."""
    if isinstance(engine_or_conn, Engine):
        with engine_or_conn.connect() as conn:
            return category_table(conn, at)
    if at is not None:
        return versions.categories_on(engine_or_conn, at)[CATEGORY_COLUMNS]
    c = Category.__table__
    rows = engine_or_conn.execute(select(*[c.c[n] for n in CATEGORY_COLUMNS]).order_by(c.c.name)).all()
    return pd.DataFrame(rows, columns=CATEGORY_COLUMNS)


def category_limit(cat) -> tuple[float, str]:
    """(amount, unit) of a category row's 整改时限."""
    unit, amount = cat.get("time_unit"), cat.get("time_limit")
    if unit is not None and not pd.isna(unit) and amount is not None and not pd.isna(amount):
        return float(cat["time_limit"]), str(cat["time_unit"])
    return float(cat["deadline_hours"]), worktime.NATURAL_HOURS


def category_deadline(cat, start: datetime) -> datetime:
    """The deadline of a problem of category row `cat` starting at `start` (gis.problems.worktime);
    a year the holiday calendar does not cover is refused with a Chinese message."""
    amount, unit = category_limit(cat)
    try:
        return worktime.deadline(start, amount, unit)
    except worktime.CalendarNotCovered as exc:
        raise WorkflowError(str(exc)) from exc


def create_problem(engine: Engine, actor: Actor, category: str, description: str, lon: float, lat: float,
                   source: str = "网格员巡查", reporter: str | None = None, now: datetime | None = None,
                   address: str | None = None, media_url: str | None = None, photo_path: str | None = None) -> dict:
    """上报: a new problem at (lon, lat). Inspector and grid-worker finds are 立案 at once (待派遣);
    a public report (市民热线) waits for the command centre's 立案 (待立案). Its deadline runs from now
    by the category's limit (recomputed at 立案 for a public report).

    The permission is checked against the grid the point falls in. Returns code, grid_code,
    deadline, status and revision. `address`, `media_url` (an Open311 client's) and `photo_path`
    (a stored 现场照片, on the 上报 event) are optional.
    """
    require_role(actor, "problem.create")
    now = now or datetime.now()
    description = _clean_note(description, True, "问题描述")
    if source not in SOURCES:
        raise WorkflowError(f"问题来源“{source}”无效，应为：{'、'.join(SOURCES)}。")
    g = Grid.__table__
    with engine.begin() as conn:
        areas = locate(conn, [lon], [lat], [now])
        grid_id = areas["grid_id"].iloc[0]
        grid = None if pd.isna(grid_id) else conn.execute(select(g.c.code, g.c.district_code)
                                                             .where(g.c.id == int(grid_id))).first()
        if grid is None:
            raise WorkflowError("该位置不在任何网格内，无法上报。")
        grid_code = grid.code
        require(actor, "problem.create", grid_code, grid.district_code)
        cats = category_table(conn, at=now).set_index("name")
        if category not in cats.index:
            raise WorkflowError(f"问题类型“{category}”不在问题类型表中。")
        cat = cats.loc[category]
        prefix = f"WT{now:%Y%m}"
        p = Problem.__table__
        last = conn.execute(select(func.max(p.c.code)).where(p.c.code.like(f"{prefix}%"))).scalar()
        seq = int(last[len(prefix):]) + 1 if last and last[len(prefix):].isdigit() else 1
        code = f"{prefix}{seq:07d}"
        deadline = category_deadline(cat, now)
        amount, unit = category_limit(cat)
        status = STATUS_PENDING if source in PUBLIC_SOURCES else STATUS_NEW
        insert_problems(conn, pd.DataFrame([{
            "code": code, "category": category, "standard_code": cat["standard_code"], "description": description,
            "source": source, "reporter": reporter or actor.username, "reported_at": now, "deadline": deadline,
            "status": status, "registered_at": None if status == STATUS_PENDING else now, "unit_id": None, "acknowledged_at": None, "rectified_at": None,
            "verified_at": None, "rework_count": 0, "deduction": float(cat["deduction"]), "lon": lon, "lat": lat,
            "revision": 1, "address": address, "media_url": media_url, "district_code": grid.district_code,
            **{k: areas[k].iloc[0] for k in areas.columns},
        }]))
        pid = conn.execute(select(p.c.id).where(p.c.code == code)).scalar_one()
        conn.execute(ProblemEvent.__table__.insert().values(
            problem_id=pid, action=CREATE, from_status=None, to_status=status, actor=actor.username, at=now,
            note=description, photo_path=photo_path, district_code=grid.district_code))
        audit.record(conn, actor, "problem.create", "problem", code,
                     {"类型": category, "网格": grid_code, "时限": f"{amount:g} {unit}"}, at=now,
                     district=grid.district_code)
    return {"code": code, "grid_code": grid_code, "deadline": deadline, "status": status, "revision": 1}
