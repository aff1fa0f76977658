"""三色牌 register: warning cards (黄 / 红) and commendations (绿) to a unit, a point or a grid.

A card is a record with its evidence and response deadline, issued by hand (a 督查 after an
inspection: `issue`) or by the city's monthly rules (`apply_rules`, see `gis.accountability.rules`; district by
district: a district's user runs them for their own).
A 黄 / 红 card then climbs the escalation ladder (`escalate`), one step per action, each with who
and when: 限期整改 (at issue) → 书面说明 (an uploaded file) → 曝光台 (problems go on public display,
`gis.accountability.exposure`) → 约谈 → 问责. 摘牌 (`lift`) needs every problem of its evidence
closed after verification (已结案). Every write checks the role (`gis.people.permissions`) and then
that the actor may act in the district of what it touches (issue 17: the card's, its target's, its
evidence problems'; a district's 领导 acts in their district only), the card's revision (optimistic
locking) and writes a `card_actions` row and an audit entry in the same transaction, both in the card's
district.

Statuses: 生效 (in force), 已升级 (a 黄牌 replaced by a 红牌), 已摘牌.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from gis.geo.districts import district_of_target, district_table
from gis.accountability.rules import card_rules
from gis.db.models import (CARD_ACTIVE, CARD_ESCALATED, CARD_LIFTED, STATUS_CLOSED, Card, CardAction, Exposure, Grid,
                            InspectionPoint, Problem, Unit)
from gis.geo.areas import current_layer_id
from gis.metrics.periods import add_months, month_end_as_of, month_start
from gis.people.audit import record
from gis.people.names import name_of
from gis.people.permissions import Actor, district_scope, require, require_role
from gis.problems.photos import upload_dir

COLORS = ("黄", "红", "绿")
TARGET_LABELS = {"unit": "责任单位", "point": "点位", "grid": "网格"}
LADDER = ("限期整改", "书面说明", "曝光台", "约谈", "问责")
ACTIVE, ESCALATED, LIFTED = CARD_ACTIVE, CARD_ESCALATED, CARD_LIFTED
COMMENDED = "表扬"  # the step of a 绿牌: it does not climb the ladder
FILE_TYPES = {".pdf", ".doc", ".docx", ".jpg", ".jpeg", ".png"}
MAX_FILE_BYTES = 10 * 1024 * 1024


class CardError(ValueError):
    """Bad input or a move the register does not allow (Chinese message); nothing was written."""


@dataclass
class Evidence:
    """What a card rests on: problem codes, inspection ids, photo paths."""

    problems: list[str] = field(default_factory=list)
    inspections: list[int] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"problems": self.problems, "inspections": self.inspections, "photos": self.photos},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> "Evidence":
        data = json.loads(text) if text else {}
        return cls(list(data.get("problems", [])), [int(i) for i in data.get("inspections", [])],
                   list(data.get("photos", [])))


# ------------------------------------------------------------------ reading

def target_names(conn: Connection) -> dict[tuple[str, str], str]:
    """(kind, code) → display name of every unit, point and current grid."""
    u, p, g = Unit.__table__, InspectionPoint.__table__, Grid.__table__
    out = {("unit", c): n for c, n in conn.execute(select(u.c.code, u.c.name))}
    out.update({("point", c): n for c, n in conn.execute(select(p.c.code, p.c.name))})
    layer = current_layer_id(conn)
    out.update({("grid", c): n for c, n in conn.execute(select(g.c.code, g.c.name).where(g.c.layer_id == layer))})
    return out


REGISTER_COLUMNS = ["code", "color", "target_kind", "target_code", "target", "reason", "issued_by", "issued_at",
                    "deadline", "step", "status", "rule", "lifted_by", "lifted_at", "parent", "revision"]


def register(engine: Engine, target_kind: str | None = None, target_code: str | None = None, color: str | None = None,
             status: str | None = None, since: datetime | None = None, until: datetime | None = None,
             district: str | None = None) -> pd.DataFrame:
    """The register, newest first, filtered (`district`: one district's cards, 区县): REGISTER_COLUMNS
    (``target`` is the target's name, ``target_kind`` in Chinese, ``parent`` the code of the 黄牌 a 红牌
    escalates)."""
    c = Card.__table__
    parent = c.alias("parent")
    stmt = select(c.c.code, c.c.color, c.c.target_kind, c.c.target_code, c.c.reason, name_of(c.c.issued_by).label("issued_by"), c.c.issued_at,
                  c.c.deadline, c.c.step, c.c.status, c.c.rule, name_of(c.c.lifted_by).label("lifted_by"), c.c.lifted_at,
                  parent.c.code.label("parent"), c.c.revision).select_from(
        c.outerjoin(parent, parent.c.id == c.c.parent_id))
    if target_kind:
        stmt = stmt.where(c.c.target_kind == target_kind)
    if target_code:
        stmt = stmt.where(c.c.target_code == target_code)
    if color:
        stmt = stmt.where(c.c.color == color)
    if status:
        stmt = stmt.where(c.c.status == status)
    if district:
        stmt = stmt.where(c.c.district_code == district)
    if since:
        stmt = stmt.where(c.c.issued_at >= since)
    if until:
        stmt = stmt.where(c.c.issued_at < until)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(c.c.issued_at.desc(), c.c.id.desc())).mappings().all()
        names = target_names(conn)
    df = pd.DataFrame([dict(r) for r in rows], columns=[x for x in REGISTER_COLUMNS if x != "target"])
    df.insert(4, "target", [names.get((k, t), t) for k, t in zip(df["target_kind"], df["target_code"])])
    df["target_kind"] = df["target_kind"].map(TARGET_LABELS)
    return df[REGISTER_COLUMNS]


def active(engine: Engine, target_kind: str | None = None, district: str | None = None) -> pd.DataFrame:
    """Cards in force (生效), newest first (of `district`, when given)."""
    return register(engine, target_kind=target_kind, status=ACTIVE, district=district)


def history(engine: Engine, target_kind: str, target_code: str, district: str | None = None) -> pd.DataFrame:
    """Every action on every card of one unit / point / grid, oldest first: card, color, action,
    actor, at, note, file. `district` (区县): only that district's cards — a district's user reads the
    record of a target typed by hand, so it is filtered like the register."""
    c, a = Card.__table__, CardAction.__table__
    stmt = (select(c.c.code.label("card"), c.c.color, a.c.action, name_of(a.c.actor).label("actor"), a.c.at, a.c.note, a.c.file_path)
            .select_from(a.join(c, c.c.id == a.c.card_id))
            .where(c.c.target_kind == target_kind, c.c.target_code == target_code)
            .order_by(a.c.at, a.c.id))
    if district:
        stmt = stmt.where(c.c.district_code == district)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["card", "color", "action", "actor", "at", "note", "file"])


def card_actions(engine: Engine, code: str) -> pd.DataFrame:
    """The actions of one card, oldest first: action, actor, at, note, file."""
    c, a = Card.__table__, CardAction.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(a.c.action, name_of(a.c.actor).label("actor"), a.c.at, a.c.note, a.c.file_path)
                            .join(c, c.c.id == a.c.card_id).where(c.c.code == code).order_by(a.c.at, a.c.id)).all()
    return pd.DataFrame(rows, columns=["action", "actor", "at", "note", "file"])


def next_step(step: str) -> str | None:
    """The ladder's step after `step` (None after 问责 or for a 绿牌)."""
    if step not in LADDER:
        return None
    i = LADDER.index(step)
    return LADDER[i + 1] if i + 1 < len(LADDER) else None


# ------------------------------------------------------------------ writing

def _check_target(conn: Connection, kind: str, code: str) -> None:
    if kind not in TARGET_LABELS:
        raise CardError(f"亮牌对象类型“{kind}”不对，应为 责任单位（unit）、点位（point）或 网格（grid）。")
    if (kind, code) not in target_names(conn):
        raise CardError(f"{TARGET_LABELS[kind]}“{code}”不存在。")


def _check_problems(conn: Connection, codes: list[str]) -> None:
    if not codes:
        return
    p = Problem.__table__
    found = set(conn.execute(select(p.c.code).where(p.c.code.in_(codes))).scalars())
    missing = [c for c in codes if c not in found]
    if missing:
        raise CardError(f"证据中的问题编号不存在：{'、'.join(missing)}。")


def require_problems(conn: Connection, actor: Actor, action: str, codes: list[str]) -> None:
    """PermissionDenied (Chinese, `require`) unless `actor` may do `action` in the district of every problem
    `codes` names: a district's 领导 cannot cite, expose or link another district's problems. Codes that do not
    exist are left to `_check_problems`."""
    if not codes:
        return
    p = Problem.__table__
    for district in sorted(set(conn.execute(select(p.c.district_code).where(p.c.code.in_(codes))).scalars()) - {None}):
        require(actor, action, district_code=district)


def _new_code(conn: Connection, at: datetime) -> str:
    c = Card.__table__
    prefix = f"{at.year}-"
    n = conn.execute(select(func.count()).where(c.c.code.startswith(prefix))).scalar_one()
    return f"{prefix}{n + 1:04d}"


def _action(conn: Connection, card: dict, action: str, actor: str, at: datetime, note: str | None = None,
            file_path: str | None = None) -> None:
    """One step of `card`'s history (its row: id and district_code), in the card's district."""
    conn.execute(CardAction.__table__.insert().values(card_id=card["id"], action=action, actor=actor, at=at, note=note,
                                                      file_path=file_path, district_code=card["district_code"]))


def _insert(conn: Connection, actor_name: str, kind: str, code: str, color: str, reason: str, evidence: Evidence,
            at: datetime, deadline: datetime, rule: str | None = None, rule_key: str | None = None,
            parent_id: int | None = None, district: str | None = None) -> str:
    """Write one card in force and its first actions and audit entry; returns its code. `district`: the card's
    (区县) when the caller knows it (the monthly rules: the district whose list it is on), else its target's."""
    card_code = _new_code(conn, at)
    step = COMMENDED if color == "绿" else LADDER[0]
    district = district or district_of_target(conn, kind, code)
    res = conn.execute(Card.__table__.insert().values(
        code=card_code, target_kind=kind, target_code=code, color=color, reason=reason, evidence=evidence.to_json(),
        issued_by=actor_name, issued_at=at, deadline=deadline, rule=rule, rule_key=rule_key, step=step,
        status=ACTIVE, parent_id=parent_id, revision=1, district_code=district))
    card = {"id": res.inserted_primary_key[0], "district_code": district}
    _action(conn, card, "签发", actor_name, at, f"{color}牌：{reason}")
    if color != "绿":
        _action(conn, card, LADDER[0], actor_name, at, f"限 {deadline:%Y-%m-%d %H:%M} 前整改并反馈")
    record(conn, actor_name, "card.issue", "card", card_code,
           {"color": color, "target": f"{kind}:{code}", "reason": reason, "rule": rule}, at=at, district=district)
    return card_code


def issue(engine: Engine, actor: Actor, target_kind: str, target_code: str, color: str, reason: str,
          evidence: Evidence | None = None, deadline: datetime | None = None, now: datetime | None = None) -> str:
    """Issue a card by hand; returns its code (``2026-0001``). The deadline defaults to
    `GRIDMAP_CARD_RESPONSE_DAYS` days from now. The target and the evidence problems must lie in the
    actor's district (PermissionDenied otherwise; a city-level actor: any)."""
    require_role(actor, "card.issue")
    now = now or datetime.now().replace(microsecond=0)
    reason = (reason or "").strip()
    if color not in COLORS:
        raise CardError(f"牌色“{color}”不对，应为 黄、红 或 绿。")
    if not reason:
        raise CardError("请填写亮牌事由。")
    evidence = evidence or Evidence()
    deadline = deadline or now + timedelta(days=card_rules().response_days)
    if deadline <= now:
        raise CardError(f"反馈期限 {deadline:%Y-%m-%d %H:%M} 应晚于签发时间 {now:%Y-%m-%d %H:%M}。")
    with engine.begin() as conn:
        _check_target(conn, target_kind, target_code)
        require(actor, "card.issue", district_code=district_of_target(conn, target_kind, target_code))
        _check_problems(conn, evidence.problems)
        require_problems(conn, actor, "card.issue", evidence.problems)
        return _insert(conn, actor.username, target_kind, target_code, color, reason, evidence, now, deadline)


def _load(conn: Connection, code: str, revision: int | None) -> dict:
    c = Card.__table__
    row = conn.execute(select(c).where(c.c.code == code)).mappings().first()
    if row is None:
        raise CardError(f"三色牌 {code} 不存在。")
    if revision is not None and row["revision"] != revision:
        raise CardError(f"三色牌 {code} 已被他人更新，请刷新后重试。")
    return dict(row)


def _bump(conn: Connection, row: dict, **values) -> None:
    c = Card.__table__
    done = conn.execute(c.update().where(c.c.id == row["id"], c.c.revision == row["revision"])
                        .values(revision=row["revision"] + 1, **values))
    if done.rowcount != 1:
        raise CardError(f"三色牌 {row['code']} 已被他人更新，请刷新后重试。")


def _store_file(code: str, name: str, data: bytes, at: datetime) -> str:
    suffix = Path(name or "").suffix.lower()
    if suffix not in FILE_TYPES:
        raise CardError(f"书面说明文件“{name}”类型不支持，应为 {'、'.join(sorted(FILE_TYPES))}。")
    if not data:
        raise CardError(f"书面说明文件“{name}”是空的。")
    if len(data) > MAX_FILE_BYTES:
        raise CardError(f"书面说明文件“{name}”过大（{len(data) / 2**20:.1f} MB），上限 10 MB。")
    rel = Path("cards") / code / f"{at:%Y%m%d%H%M%S}-{secrets.token_hex(4)}{suffix}"
    path = upload_dir() / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return rel.as_posix()


def escalate(engine: Engine, actor: Actor, code: str, note: str, file: tuple[str, bytes] | None = None,
             problems: list[str] | None = None, revision: int | None = None, now: datetime | None = None) -> str:
    """Move a card in force one step up the ladder; returns the new step.

    书面说明 needs the uploaded file (`file` = (name, bytes)); 曝光台 puts `problems` (default: the
    card's evidence problems) on the 曝光台 and needs the 曝光 right; 约谈 and 问责 need the
    约谈/问责 right (the record itself: `gis.accountability.interviews`). Every right is checked in the
    card's district (and, for 曝光台, in each exposed problem's): PermissionDenied otherwise."""
    require_role(actor, "card.escalate")
    now = now or datetime.now().replace(microsecond=0)
    note = (note or "").strip()
    if not note:
        raise CardError("请填写处置说明。")
    with engine.begin() as conn:
        row = _load(conn, code, revision)
        require(actor, "card.escalate", district_code=row["district_code"])
        if row["status"] != ACTIVE:
            raise CardError(f"三色牌 {code} 状态为“{row['status']}”，不能再升级处置。")
        step = next_step(row["step"])
        if step is None:
            raise CardError(f"三色牌 {code} 当前为“{row['step']}”，已无下一步处置。")
        if step == "曝光台":
            require(actor, "card.expose", district_code=row["district_code"])
        if step in ("约谈", "问责"):
            require(actor, "card.interview", district_code=row["district_code"])
        stored = None
        if step == "书面说明":
            if file is None:
                raise CardError("书面说明需要上传说明文件（PDF、Word 或图片）。")
            stored = _store_file(code, file[0], file[1], now)
        exposed: list[str] = []
        if step == "曝光台":
            exposed = list(problems) if problems else Evidence.from_json(row["evidence"]).problems
            if not exposed:
                raise CardError("曝光需要至少一个问题编号（证据中没有问题）。")
            _check_problems(conn, exposed)
            require_problems(conn, actor, "card.expose", exposed)
            _expose(conn, actor.username, exposed, row["id"], note, now)
        _bump(conn, row, step=step)
        _action(conn, row, step, actor.username, now, note, stored)
        record(conn, actor, "card.escalate", "card", code, {"step": step, "note": note, "file": stored,
                                                            "problems": exposed}, at=now, district=row["district_code"])
    return step


def _expose(conn: Connection, actor_name: str, codes: list[str], card_id: int | None, reason: str,
            at: datetime) -> None:
    """Put the problems `codes` on the 曝光台 (each in its problem's district); already exposed ones stay."""
    p, e = Problem.__table__, Exposure.__table__
    found = {r.code: r for r in conn.execute(select(p.c.code, p.c.id, p.c.district_code).where(p.c.code.in_(codes)))}
    already = set(conn.execute(select(e.c.problem_id).where(e.c.problem_id.in_([r.id for r in found.values()])))
                  .scalars())
    for c in codes:
        if found[c].id in already:
            continue
        conn.execute(e.insert().values(problem_id=found[c].id, card_id=card_id, decided_by=actor_name, decided_at=at,
                                       reason=reason, district_code=found[c].district_code))
        record(conn, actor_name, "exposure.add", "problem", c, {"reason": reason}, at=at,
               district=found[c].district_code)


def lift(engine: Engine, actor: Actor, code: str, note: str, revision: int | None = None,
         now: datetime | None = None) -> None:
    """摘牌: lift a card in force once its rectification is verified — every problem of its
    evidence 已结案 — with a note saying how it was checked. Only in the card's district (PermissionDenied)."""
    require_role(actor, "card.lift")
    now = now or datetime.now().replace(microsecond=0)
    note = (note or "").strip()
    if not note:
        raise CardError("请填写摘牌依据（整改核查情况）。")
    with engine.begin() as conn:
        row = _load(conn, code, revision)
        require(actor, "card.lift", district_code=row["district_code"])
        if row["status"] != ACTIVE:
            raise CardError(f"三色牌 {code} 状态为“{row['status']}”，不能摘牌。")
        codes = Evidence.from_json(row["evidence"]).problems
        if codes:
            p = Problem.__table__
            states = dict(conn.execute(select(p.c.code, p.c.status).where(p.c.code.in_(codes))).all())
            open_ = [f"{c}（{states.get(c, '不存在')}）" for c in codes if states.get(c) != STATUS_CLOSED]
            if open_:
                raise CardError(f"整改尚未全部核查通过，不能摘牌：{'、'.join(open_)}。")
        _bump(conn, row, status=LIFTED, lifted_by=actor.username, lifted_at=now)
        _action(conn, row, "摘牌", actor.username, now, note)
        record(conn, actor, "card.lift", "card", code, {"note": note}, at=now, district=row["district_code"])


# ------------------------------------------------------------------ monthly rules

def _streak(lists: list[set[str]]) -> set[str]:
    out = set(lists[0]) if lists else set()
    for s in lists[1:]:
        out &= s
    return out


def _listed(engine: Engine, district: str, m: date, now: datetime, n: int, kind: str) -> set[str]:
    """The targets of `district` on a list `n` months in a row up to month `m` (as of `now`): grids on its 黑榜
    (`kind` "black") or 红榜 ("best"), or units among its 十差单位 ("unit"). The figures' own definitions
    (`gis.metrics`), each read for the one district: its grids ranked among themselves, by its own thresholds
    and sample, its units by its own `GRIDMAP_UNIT_MIN_CASES`."""
    from gis.metrics import scores, units  # the figures' own definitions, never redefined here

    if n <= 0:
        return set()
    found = []
    for k in range(n):
        mk = add_months(m, -k)
        t = month_end_as_of(mk, now)
        if kind == "unit":
            found.append(set(units.worst_units(engine, mk, t, district=district)["code"]))
        else:
            ranks = scores.rankings(scores.monthly_scores(engine, mk, t, district=district))
            found.append(set(ranks["worst" if kind == "black" else "best"]["code"]))
    return _streak(found)


def _plan(engine: Engine, district: str, m: date, now: datetime, rules) -> list[tuple[str, str, str, str, str, str]]:
    """The cards the monthly rules call for in one district: (district, kind, code, colour, rule, reason)."""
    black = sorted(_listed(engine, district, m, now, rules.blacklist_months, "black"))
    worst = sorted(_listed(engine, district, m, now, rules.blacklist_months, "unit"))
    best = sorted(_listed(engine, district, m, now, rules.green_months, "best"))
    return ([(district, "grid", c, "黄", "黑榜", f"连续 {rules.blacklist_months} 个月列入黑榜（至 {m:%Y年%m月}）")
             for c in black]
            + [(district, "unit", c, "黄", "十差单位", f"连续 {rules.blacklist_months} 个月列入十差单位（至 {m:%Y年%m月}）")
               for c in worst]
            + [(district, "grid", c, "绿", "红榜", f"连续 {rules.green_months} 个月列入红榜（至 {m:%Y年%m月}），予以表扬")
               for c in best])


def _rule_districts(engine: Engine, actor: Actor, scope: str | None) -> list[str]:
    """The districts a run of the monthly rules covers: `scope` alone (a district's user's own, or one a
    city-level actor chose; PermissionDenied for a district's user naming another, CardError for an unknown
    one), else — a city-level run — every district."""
    if scope is not None:
        require(actor, "card.rules", district_code=scope)
    known = district_table(engine)["code"].tolist()
    if scope is None:
        return known
    if scope not in known:
        raise CardError(f"区县“{scope}”不存在（可选：{'、'.join(known)}）。")
    return [scope]


def apply_rules(engine: Engine, actor: Actor, month: date, now: datetime | None = None,
                district: str | None = None) -> list[str]:
    """Run the city's monthly rules (`gis.accountability.rules`) for `month`; returns the codes of
    the cards issued. Idempotent: each rule fires once per target and month (``rule_key``), and
    never on a target that already has a card of that colour in force.

    Districts (区县, issue 17): a district's 指挥中心 / 管理员 runs the rules for their own district only — its
    lists, its cards, its 黄牌 to escalate; a city-level run covers every district, each by its own lists and
    settings (as `gis.metrics` reads them), or the one `district` it names. Every card is written in the
    district whose list put it there (a unit answering for places of several: the district it was listed in).

    - 黑榜 (the 10 worst ranked grids of the district) `blacklist_months` months in a row up to `month` → 黄牌 to
      the grid; among the district's 十差单位 that many months in a row → 黄牌 to the unit.
    - 红榜 `green_months` months in a row → 绿牌 to the grid.
    - a 黄牌 in force `escalate_days` days after its issue (as of `now`) → 红牌, the 黄牌 becomes 已升级.
    """
    require_role(actor, "card.rules")
    rules = card_rules()
    m = month_start(month)
    now = now or datetime.now().replace(microsecond=0)
    deadline = now + timedelta(days=rules.response_days)
    scope = district or district_scope(actor)
    plan = [p for d in _rule_districts(engine, actor, scope) for p in _plan(engine, d, m, now, rules)]
    issued: list[str] = []
    c = Card.__table__
    with engine.begin() as conn:
        for where, kind, code, color, rule, reason in plan:
            key = f"{rule}:{kind}:{code}:{m:%Y-%m}"
            if conn.execute(select(c.c.id).where(c.c.rule_key == key)).first():
                continue
            if conn.execute(select(c.c.id).where(c.c.target_kind == kind, c.c.target_code == code,
                                                 c.c.color == color, c.c.status == ACTIVE)).first():
                continue
            issued.append(_insert(conn, actor.username, kind, code, color, reason, Evidence(), now, deadline,
                                  rule=rule, rule_key=key, district=where))
        if rules.escalate_days > 0:
            issued += _escalate_stale(conn, actor, scope, rules.escalate_days, now, deadline)
    return issued


def _escalate_stale(conn: Connection, actor: Actor, scope: str | None, days: int, now: datetime,
                    deadline: datetime) -> list[str]:
    """Replace each 黄牌 in force `days` days after its issue by a 红牌 of the same target, in the 黄牌's district
    (of `scope` only, when given: a district's run never touches another district's cards); the codes of the 红牌."""
    c = Card.__table__
    due = now - timedelta(days=days)
    stmt = select(c).where(c.c.color == "黄", c.c.status == ACTIVE, c.c.issued_at <= due).order_by(c.c.id)
    if scope is not None:
        stmt = stmt.where(c.c.district_code == scope)
    reds = []
    for row in conn.execute(stmt).mappings().all():
        row = dict(row)
        reason = f"黄牌 {row['code']} 签发 {days} 天未摘牌，升级为红牌（原事由：{row['reason']}）"
        red = _insert(conn, actor.username, row["target_kind"], row["target_code"], "红", reason,
                      Evidence.from_json(row["evidence"]), now, deadline, rule="黄牌逾期",
                      rule_key=f"黄牌逾期:{row['code']}", parent_id=row["id"], district=row["district_code"])
        _bump(conn, row, status=ESCALATED)
        _action(conn, row, "升级红牌", actor.username, now, f"升级为红牌 {red}")
        reds.append(red)
    return reds
