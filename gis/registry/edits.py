"""The 管理员's edits of the registries on 系统管理 (rules here, the page stays thin): a 测评标准's points from
a date, a 问题类型's time limit and deduction from a date, its aliases, a new 问题类型.

Each edit checks the permission first (``registry.edit``), refuses bad input with a Chinese message that
names the field (nothing written), and writes the change and its audit entry in one transaction. A change
from a date is a new rule version (`gis.db.rule_versions`); when the date is in the past, the problems
reported since then get the new rule: their deadline (unless 延期 already set one) and, where it was the
category's, their deduction.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, select

from gis.db.models import Category, CategoryAlias, Problem, Standard
from gis.people import audit
from gis.people.permissions import Actor, require_role
from gis.problems import worktime
from gis.db import rule_versions as versions

NAME_MAX = Category.__table__.c.name.type.length
CODE_MAX = Category.__table__.c.code.type.length
CATEGORY_KINDS = ("部件", "事件")
MAX_POINTS = 100.0


class RegistryError(ValueError):
    """Bad input for a registry edit; the message (Chinese) names the field. Nothing was written."""


def _number(value, label: str, low: float = 0.0, high: float | None = None, positive: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise RegistryError(f"{label}“{value}”不是数字。") from None
    if not math.isfinite(x) or x < low or (positive and x <= 0) or (high is not None and x > high):
        bound = f"大于 {low:g}" if positive else f"不小于 {low:g}"
        raise RegistryError(f"{label} {x:g} 超出范围：应{bound}" + (f"且不大于 {high:g}" if high is not None else "") + "。")
    return x


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise RegistryError("请填写生效日期（从哪一天起执行新规则）。")


def _limit(time_limit, time_unit) -> tuple[float, str, float]:
    """(amount, unit, deadline_hours) of a 整改时限; deadline_hours is the 自然时 fallback of the table."""
    if time_unit not in worktime.UNITS:
        raise RegistryError(f"时限单位“{time_unit}”无效，应为：{'、'.join(worktime.UNITS)}。")
    amount = _number(time_limit, "整改时限", positive=True, high=8760)
    return amount, time_unit, amount * 24 if time_unit == worktime.WORK_DAYS else amount


def set_standard_points(engine: Engine, actor: Actor, code: str, points, valid_from) -> dict:
    """A 测评标准's points (for a 负面清单 item: its deduction) from `valid_from` on. Returns before / after."""
    require_role(actor, "registry.edit")
    day = _day(valid_from)
    pts = _number(points, "分值", high=MAX_POINTS)
    s = Standard.__table__
    with engine.begin() as conn:
        if conn.execute(select(s.c.code).where(s.c.code == code)).first() is None:
            raise RegistryError(f"测评标准编号“{code}”不存在。")
        before, after = versions.set_from(conn, versions.STANDARD, code, day, {"points": pts})
        audit.record(conn, actor, "registry.standard", "standard", code,
                     {"分值": f"{before['points']:g} → {pts:g}", "生效日期": f"{day:%Y-%m-%d}"})
    return {"code": code, "before": before, "after": after, "valid_from": day}


def set_category_rule(engine: Engine, actor: Actor, name: str, valid_from, time_limit, time_unit,
                      deduction, urgent_hours=None) -> dict:
    """A 问题类型's 整改时限 (`time_limit` `time_unit`), 紧急处置时限 and deduction from `valid_from` on.
    Problems reported since then (until the next scheduled change) get the new deadline and deduction."""
    require_role(actor, "registry.edit")
    day = _day(valid_from)
    amount, unit, hours = _limit(time_limit, time_unit)
    ded = _number(deduction, "扣分", high=MAX_POINTS)
    urgent = None if urgent_hours in (None, "") or pd.isna(urgent_hours) else _number(urgent_hours, "紧急处置时限", positive=True, high=8760)
    values = {"time_limit": amount, "time_unit": unit, "deadline_hours": hours, "deduction": ded, "urgent_hours": urgent}
    with engine.begin() as conn:
        _category_exists(conn, name)
        before, after = versions.set_from(conn, versions.CATEGORY, name, day, values)
        changed = _reapply(conn, name, day, before, after)
        audit.record(conn, actor, "registry.category", "category", name, {
            "整改时限": f"{_limit_text(before)} → {amount:g} {unit}", "扣分": f"{before['deduction']:g} → {ded:g}",
            "紧急处置时限": urgent, "生效日期": f"{day:%Y-%m-%d}", "重算时限的问题数": changed})
    return {"name": name, "before": before, "after": after, "valid_from": day, "problems": changed}


def _limit_text(rule: dict) -> str:
    unit, amount = rule.get("time_unit"), rule.get("time_limit")
    if unit and not pd.isna(unit) and amount is not None and not pd.isna(amount):
        return f"{rule['time_limit']:g} {rule['time_unit']}"
    return f"{rule['deadline_hours']:g} {worktime.NATURAL_HOURS}"


def _category_exists(conn: Connection, name: str) -> None:
    c = Category.__table__
    if conn.execute(select(c.c.name).where(c.c.name == name)).first() is None:
        raise RegistryError(f"问题类型“{name}”不存在。")


def _reapply(conn: Connection, name: str, day: date, before: dict, after: dict) -> int:
    """Problems of `name` reported in the changed version's days: the new deadline (from 立案, else the report;
    not when 延期 set one) and deduction (where it was the old rule's). Returns how many deadlines changed."""
    p = Problem.__table__
    end = next((v["valid_to"] for v in versions.timeline(conn, versions.CATEGORY, name) if v["valid_from"] == day), None)
    where = [p.c.category == name, p.c.reported_at >= datetime.combine(day, datetime.min.time())]
    if end is not None:
        where.append(p.c.reported_at < datetime.combine(end, datetime.min.time()))
    rows = pd.DataFrame(conn.execute(select(p.c.id, p.c.reported_at, p.c.registered_at, p.c.deadline,
                                            p.c.original_deadline, p.c.deduction).where(*where)).all(),
                        columns=["id", "reported_at", "registered_at", "deadline", "original_deadline", "deduction"])
    if rows.empty:
        return 0
    todo = rows[rows["original_deadline"].isna()]
    changed = 0
    if not todo.empty:
        start = pd.to_datetime(todo["registered_at"]).fillna(pd.to_datetime(todo["reported_at"]))
        try:
            new = worktime.deadlines(start, [after["time_limit"]] * len(todo), [after["time_unit"]] * len(todo))
        except worktime.CalendarNotCovered as exc:
            raise RegistryError(str(exc)) from exc
        new = pd.Series(pd.to_datetime(new).to_numpy(), index=todo.index)
        diff = new != pd.to_datetime(todo["deadline"])
        for pid, deadline in zip(todo.loc[diff, "id"], new[diff]):
            conn.execute(p.update().where(p.c.id == int(pid)).values(deadline=deadline.to_pydatetime(),
                                                                       revision=p.c.revision + 1))
        changed = int(diff.sum())
    if after["deduction"] != before["deduction"]:
        ids = [int(i) for i in rows.loc[rows["deduction"] == before["deduction"], "id"]]
        if ids:
            conn.execute(p.update().where(p.c.id.in_(ids)).values(deduction=after["deduction"]))
    return changed


def set_aliases(engine: Engine, actor: Actor, name: str, aliases) -> list[str]:
    """Replace the other names (别名) of 问题类型 `name`: imports map them to it. Returns the new list."""
    require_role(actor, "registry.edit")
    if isinstance(aliases, str):
        aliases = aliases.replace("，", ",").replace("、", ",").split(",")
    wanted = list(dict.fromkeys(a.strip() for a in aliases if a and a.strip()))
    c, a = Category.__table__, CategoryAlias.__table__
    with engine.begin() as conn:
        _category_exists(conn, name)
        names = set(conn.execute(select(c.c.name)).scalars())
        others = dict(conn.execute(select(a.c.alias, a.c.name).where(a.c.name != name)).all())
        for alias in wanted:
            if len(alias) > NAME_MAX:
                raise RegistryError(f"别名“{alias[:30]}”过长（{len(alias)} 字），最多 {NAME_MAX} 字。")
            if alias in names:
                raise RegistryError(f"别名“{alias}”已是一个问题类型的名称，不能再作别名。")
            if alias in others:
                raise RegistryError(f"别名“{alias}”已是问题类型“{others[alias]}”的别名。")
        old = sorted(conn.execute(select(a.c.alias).where(a.c.name == name)).scalars())
        conn.execute(a.delete().where(a.c.name == name))
        if wanted:
            conn.execute(a.insert(), [{"alias": x, "name": name} for x in wanted])
        audit.record(conn, actor, "registry.aliases", "category", name,
                     {"别名": f"{'、'.join(old) or '（无）'} → {'、'.join(wanted) or '（无）'}"})
    return wanted


def add_category(engine: Engine, actor: Actor, name: str, time_limit, time_unit, deduction, code: str | None = None,
                 kind: str | None = None, major: str | None = None, standard_code: str | None = None,
                 urgent_hours=None) -> dict:
    """A new 问题类型 with its 整改时限 and deduction (in force for all time until changed)."""
    require_role(actor, "registry.edit")
    name = (name or "").strip()
    if not name:
        raise RegistryError("请填写问题类型名称。")
    if len(name) > NAME_MAX:
        raise RegistryError(f"问题类型名称过长（{len(name)} 字），最多 {NAME_MAX} 字。")
    amount, unit, hours = _limit(time_limit, time_unit)
    ded = _number(deduction, "扣分", high=MAX_POINTS)
    urgent = None if urgent_hours in (None, "") else _number(urgent_hours, "紧急处置时限", positive=True, high=8760)
    code = (code or "").strip() or None
    if code and len(code) > CODE_MAX:
        raise RegistryError(f"类型编码过长（{len(code)} 字），最多 {CODE_MAX} 字。")
    if kind not in (None, "", *CATEGORY_KINDS):
        raise RegistryError(f"类别“{kind}”无效，应为：{'、'.join(CATEGORY_KINDS)}。")
    c, a, s = Category.__table__, CategoryAlias.__table__, Standard.__table__
    with engine.begin() as conn:
        if conn.execute(select(c.c.name).where(c.c.name == name)).first() is not None:
            raise RegistryError(f"问题类型“{name}”已存在。")
        owner = conn.execute(select(a.c.name).where(a.c.alias == name)).scalar()
        if owner is not None:
            raise RegistryError(f"“{name}”已是问题类型“{owner}”的别名。")
        if standard_code and conn.execute(select(s.c.code).where(s.c.code == standard_code)).first() is None:
            raise RegistryError(f"关联测评标准编号“{standard_code}”不存在。")
        conn.execute(c.insert().values(name=name, deadline_hours=hours, deduction=ded, standard_code=standard_code or None,
                                       time_limit=amount, time_unit=unit, urgent_hours=urgent, code=code,
                                       kind=kind or None, major=(major or "").strip() or None))
        audit.record(conn, actor, "registry.category_add", "category", name,
                     {"整改时限": f"{amount:g} {unit}", "扣分": ded, "编码": code, "类别": kind, "大类": major})
    return {"name": name}


def category_rows(engine: Engine, day: date) -> pd.DataFrame:
    """The 问题类型 table as 系统管理 shows it on `day`: name, code, kind, major, the rule in force, aliases,
    and the next scheduled change (下次变更) when there is one."""
    c, a = Category.__table__, CategoryAlias.__table__
    with engine.connect() as conn:
        meta = pd.DataFrame(conn.execute(select(c.c.name, c.c.code, c.c.kind, c.c.major).order_by(c.c.name)).all(),
                            columns=["name", "code", "kind", "major"])
        rules = versions.category_rules(conn, meta["name"], [pd.Timestamp(day)] * len(meta))
        al = pd.DataFrame(conn.execute(select(a.c.name, a.c.alias).order_by(a.c.alias)).all(), columns=["name", "alias"])
        nxt = pd.DataFrame(conn.execute(select(versions.CATEGORY.versions.c.name, versions.CATEGORY.versions.c.valid_from)
                                        .where(versions.CATEGORY.versions.c.valid_from > day)).all(),
                           columns=["name", "next"]).groupby("name")["next"].min()
    out = pd.concat([meta, rules], axis=1)
    joined = {n: "、".join(g) for n, g in al.groupby("name")["alias"]}
    out["aliases"] = [joined.get(n, "") for n in out["name"]]
    out["next"] = out["name"].map(nxt)
    return out


def category_display(rows: pd.DataFrame) -> pd.DataFrame:
    """`category_rows` as 系统管理 shows it: Chinese headers, the limit as one text (e.g. 4 工作时), blanks not None."""
    def text(x):
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NaT else str(x)

    limit = [_limit_text(r) for r in rows.to_dict("records")]
    urgent = ["" if pd.isna(u) or not u else f"{u:g} {worktime.NATURAL_HOURS}" for u in rows["urgent_hours"]]
    return pd.DataFrame({"问题类型": rows["name"], "编码": rows["code"].map(text), "类别": rows["kind"].map(text),
                         "大类": rows["major"].map(text), "整改时限": limit, "紧急处置时限": urgent,
                         "扣分": rows["deduction"].astype(float), "别名": rows["aliases"],
                         "下次变更日期": rows["next"].map(lambda d: "" if pd.isna(d) else f"{d:%Y-%m-%d}")})


def standard_display(rows: pd.DataFrame) -> pd.DataFrame:
    """`standard_rows` as 系统管理 shows it: Chinese headers; 负面清单 as 是 / blank, 处理方式 blank when none."""
    return pd.DataFrame({"编号": rows["code"], "测评项目": rows["item"], "测评内容": rows["content"],
                         "测评标准": rows["text"], "分值": rows["points"].astype(float),
                         "负面清单": ["是" if bool(n) else "" for n in rows["negative"]],
                         "处理方式": [{"否决": "一票否决", "扣分": "扣分"}.get(e, "") for e in rows["negative_effect"]]})


def standard_rows(engine: Engine, day: date) -> pd.DataFrame:
    """The 测评标准 as 系统管理 shows them on `day`: code, item, content, text, the points in force, 负面清单."""
    s = Standard.__table__
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(select(s.c.code, s.c.item, s.c.content, s.c.text, s.c.points, s.c.negative,
                                              s.c.negative_effect).order_by(s.c.code)).all(),
                          columns=["code", "item", "content", "text", "points", "negative", "negative_effect"])
        vs = versions.standard_versions(conn)
        live = versions.active_standard_codes(conn, day)
    if not vs.empty:
        vs = vs[(pd.to_datetime(vs["valid_from"]) <= pd.Timestamp(day))
                & (vs["valid_to"].isna() | (pd.to_datetime(vs["valid_to"]) > pd.Timestamp(day)))]
        on = vs.set_index("code")
        for f in ("points", "negative", "negative_effect"):
            df[f] = df["code"].map(on[f]).where(df["code"].isin(on.index), df[f])
    return df[df["code"].isin(live)].reset_index(drop=True)
