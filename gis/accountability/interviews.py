"""约谈 / 问责 records: a unit's interview (约谈) or accountability decision (问责) — the people,
the date, the reason with the cards and problems it rests on, the outcome and a follow-up
deadline. Recorded by 领导 (`card.interview`), audited in the same transaction; the month's
records are listed in the 督查通报 (a district's: its own).

A record belongs to the district it was recorded in (`district_of_record`; the rule: gis.db.models.Interview):
a unit has no district of its own, so it is the recording 领导's, else the linked cards' or problems', else
the unit's. A district's 领导 records only what lies in their district (issue 17, `require_in_scope`): a unit
that answers for places there, and cards and problems of it."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, select

from gis.accountability.cards import CardError, _check_problems, require_problems
from gis.db.models import Card, Interview, Problem, Unit
from gis.geo.districts import district_of_target, district_units
from gis.people.audit import record as audit
from gis.people.names import name_of
from gis.people.permissions import Actor, district_scope, require, require_role

KINDS = ("约谈", "问责")
COLUMNS = ["id", "kind", "unit_code", "unit", "people", "held_on", "reason", "cards", "problems", "outcome",
           "follow_up", "recorded_by", "recorded_at"]


def _codes(values) -> list[str]:
    if isinstance(values, str):
        values = values.replace("，", ",").split(",")
    return [v.strip() for v in (values or []) if v and v.strip()]


def district_of_record(conn: Connection, actor: Actor, unit_code: str, card_codes: list[str],
                       problem_codes: list[str]) -> str:
    """The district a 约谈 / 问责 is recorded in: the recording 领导's; a city-level one's: that of the first
    linked card, else of the first linked problem, else the unit's (`district_of_target`: the district of the
    first grid it answers for, else the first district)."""
    if actor.district_code is not None:
        return actor.district_code
    c, p = Card.__table__, Problem.__table__
    for table, codes in ((c, card_codes), (p, problem_codes)):
        found = conn.execute(select(table.c.district_code).where(table.c.code == codes[0])).scalar() if codes else None
        if found is not None:
            return found
    return district_of_target(conn, "unit", unit_code)


def unit_district(conn: Connection, actor: Actor, unit_code: str) -> str:
    """The district in which `actor` would act on unit `unit_code`: the actor's own when the unit answers for
    (帮包) a place there (`district_units`: a unit may work in several), else the unit's (`district_of_target`)."""
    scope = district_scope(actor)
    if scope is not None and unit_code in district_units(conn, scope):
        return scope
    return district_of_target(conn, "unit", unit_code)


def require_in_scope(conn: Connection, actor: Actor, unit_code: str, card_codes: list[str],
                     problem_codes: list[str]) -> None:
    """PermissionDenied (Chinese) unless `actor` may record a 约谈 / 问责 in the district of the unit
    (`unit_district`), of every linked card and of every linked problem — a district's 领导 cannot record one
    against another district's unit or cite its cards and problems; a city-level 领导 may, anywhere."""
    require(actor, "card.interview", district_code=unit_district(conn, actor, unit_code))
    c = Card.__table__
    if card_codes:
        for district in sorted(set(conn.execute(select(c.c.district_code).where(c.c.code.in_(card_codes)))
                                   .scalars()) - {None}):
            require(actor, "card.interview", district_code=district)
    require_problems(conn, actor, "card.interview", problem_codes)


def record(engine: Engine, actor: Actor, kind: str, unit_code: str, people: str, held_on: date, reason: str,
           cards: list[str] | str | None = None, problems: list[str] | str | None = None, outcome: str | None = None,
           follow_up: date | None = None, now: datetime | None = None) -> int:
    """Record a 约谈 or 问责; returns its id. Cards and problems are codes that must exist, and with the unit
    lie in the actor's district (`require_in_scope`; PermissionDenied, nothing written)."""
    require_role(actor, "card.interview")
    now = now or datetime.now().replace(microsecond=0)
    if kind not in KINDS:
        raise CardError(f"类型“{kind}”不对，应为 约谈 或 问责。")
    people, reason = (people or "").strip(), (reason or "").strip()
    if not people:
        raise CardError(f"请填写{kind}对象（人员）。")
    if not reason:
        raise CardError(f"请填写{kind}事由。")
    if not isinstance(held_on, date):
        raise CardError(f"请填写{kind}日期。")
    if follow_up is not None and follow_up < held_on:
        raise CardError(f"跟踪整改期限 {follow_up} 不能早于{kind}日期 {held_on}。")
    card_codes, problem_codes = _codes(cards), _codes(problems)
    u, c = Unit.__table__, Card.__table__
    with engine.begin() as conn:
        unit_id = conn.execute(select(u.c.id).where(u.c.code == unit_code)).scalar()
        if unit_id is None:
            raise CardError(f"责任单位“{unit_code}”不存在。")
        found = set(conn.execute(select(c.c.code).where(c.c.code.in_(card_codes))).scalars())
        missing = [x for x in card_codes if x not in found]
        if missing:
            raise CardError(f"三色牌编号不存在：{'、'.join(missing)}。")
        _check_problems(conn, problem_codes)
        require_in_scope(conn, actor, unit_code, card_codes, problem_codes)
        district = district_of_record(conn, actor, unit_code, card_codes, problem_codes)
        res = conn.execute(Interview.__table__.insert().values(
            kind=kind, unit_id=unit_id, people=people, held_on=held_on, reason=reason,
            card_codes=",".join(card_codes) or None, problem_codes=",".join(problem_codes) or None,
            outcome=(outcome or "").strip() or None, follow_up=follow_up, recorded_by=actor.username, recorded_at=now,
            district_code=district))
        new_id = int(res.inserted_primary_key[0])
        audit(conn, actor, f"interview.{'talk' if kind == '约谈' else 'accountability'}", "unit", unit_code,
              {"id": new_id, "people": people, "held_on": held_on, "reason": reason, "cards": card_codes,
               "problems": problem_codes, "outcome": outcome, "follow_up": follow_up}, at=now, district=district)
    return new_id


def records(engine: Engine, since: date | None = None, until: date | None = None,
            unit_code: str | None = None, district: str | None = None) -> pd.DataFrame:
    """约谈 / 问责 held in [since, until) (recorded in `district`, when given), newest first: COLUMNS."""
    i, u = Interview.__table__, Unit.__table__
    stmt = select(i.c.id, i.c.kind, u.c.code.label("unit_code"), u.c.name.label("unit"), i.c.people, i.c.held_on,
                  i.c.reason, i.c.card_codes.label("cards"), i.c.problem_codes.label("problems"), i.c.outcome,
                  i.c.follow_up, name_of(i.c.recorded_by).label("recorded_by"), i.c.recorded_at).join(u, u.c.id == i.c.unit_id)
    if since:
        stmt = stmt.where(i.c.held_on >= since)
    if until:
        stmt = stmt.where(i.c.held_on < until)
    if unit_code:
        stmt = stmt.where(u.c.code == unit_code)
    if district:
        stmt = stmt.where(i.c.district_code == district)
    with engine.connect() as conn:
        rows = conn.execute(stmt.order_by(i.c.held_on.desc(), i.c.id.desc())).all()
    return pd.DataFrame(rows, columns=COLUMNS)
