"""Rules by date (规则按日期生效): versions of a 测评标准's rule and of a 问题类型's rule, each in force from a day.

A change "from day D" splits the version in force on D: the days before D keep the old values, D onwards
(until the next change already scheduled, if any) take the new ones. So past months keep the rules of
their time: the 综合得分 weighs an inspection by the points in force on its day (`gis.metrics.sql.
standard_join_sql`), and a problem's deadline uses its category's limit in force when it was reported
(`category_rules`). A key without versions keeps its base row (`standards` / `categories`) for all time;
its first change writes that base row as the version [EPOCH, D). The base row is then kept equal to the
version in force today (`sync_base`), so plain readers of the table (the field page, the Open311 service
list) see today's rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, or_, select

from gis import clock
from gis.db.models import Category, CategoryVersion, Standard, StandardVersion

EPOCH = date(1900, 1, 1)  # the start of the first version of a key: "always, until the first change"


@dataclass(frozen=True)
class Rule:
    """What is versioned for one registry: the versions table, its key, the base table and the rule fields."""

    versions: object
    key: str
    base: object
    base_key: str
    fields: tuple[str, ...]


STANDARD = Rule(StandardVersion.__table__, "code", Standard.__table__, "code",
                ("points", "negative", "negative_effect", "active"))
CATEGORY = Rule(CategoryVersion.__table__, "name", Category.__table__, "name",
                ("deadline_hours", "deduction", "time_limit", "time_unit", "urgent_hours"))


def _base_values(conn: Connection, rule: Rule, key: str) -> dict | None:
    b = rule.base
    cols = [b.c[f] for f in rule.fields if f in b.c]
    row = conn.execute(select(*cols).where(b.c[rule.base_key] == key)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    if rule is STANDARD:
        out["active"] = True
        out["negative"] = bool(out.get("negative"))
    return out


def timeline(conn: Connection, rule: Rule, key: str) -> list[dict]:
    """The versions of `key`, oldest first: dicts of valid_from, valid_to and the rule fields."""
    v = rule.versions
    rows = conn.execute(select(v.c.id, v.c.valid_from, v.c.valid_to, *[v.c[f] for f in rule.fields])
                        .where(v.c[rule.key] == key).order_by(v.c.valid_from)).mappings().all()
    return [dict(r) for r in rows]


def in_force(conn: Connection, rule: Rule, key: str, day: date) -> dict | None:
    """The rule of `key` in force on `day` (its version, else its base row); None when the key is unknown."""
    for version in reversed(timeline(conn, rule, key)):
        if version["valid_from"] <= day and (version["valid_to"] is None or day < version["valid_to"]):
            return {f: version[f] for f in rule.fields}
    return _base_values(conn, rule, key)


def set_from(conn: Connection, rule: Rule, key: str, day: date, values: dict) -> tuple[dict, dict]:
    """Give `key` the rule fields `values` from `day` on (until the next scheduled change). Returns the rule in
    force on `day` before and after. The caller checks the values and audits; this only writes versions."""
    v = rule.versions
    if not timeline(conn, rule, key):
        base = _base_values(conn, rule, key)
        if base is None:
            raise KeyError(key)
        conn.execute(v.insert().values({rule.key: key, "valid_from": EPOCH, "valid_to": None, **base}))
    current = next(x for x in reversed(timeline(conn, rule, key))
                   if x["valid_from"] <= day and (x["valid_to"] is None or day < x["valid_to"]))
    before = {f: current[f] for f in rule.fields}
    after = {**before, **{f: values[f] for f in rule.fields if f in values}}
    if current["valid_from"] == day:
        conn.execute(v.update().where(v.c.id == current["id"]).values({f: after[f] for f in rule.fields}))
    else:
        conn.execute(v.update().where(v.c.id == current["id"]).values(valid_to=day))
        conn.execute(v.insert().values({rule.key: key, "valid_from": day, "valid_to": current["valid_to"], **after}))
    sync_base(conn, rule, key)
    return before, after


def end_from(conn: Connection, rule: Rule, key: str, day: date) -> None:
    """The version of `key` in force on `day` ends there and no later version remains (the key's last rule)."""
    v = rule.versions
    conn.execute(v.delete().where(v.c[rule.key] == key, v.c.valid_from >= day))
    conn.execute(v.update().where(v.c[rule.key] == key, or_(v.c.valid_to.is_(None), v.c.valid_to > day))
                 .values(valid_to=day))


def sync_base(conn: Connection, rule: Rule, key: str, today: date | None = None) -> None:
    """Keep the base row equal to the rule in force today (what plain readers of the table see)."""
    today = today or clock.now().date()
    current = in_force(conn, rule, key, today)
    if current is None:
        return
    b = rule.base
    conn.execute(b.update().where(b.c[rule.base_key] == key)
                 .values({f: current[f] for f in rule.fields if f in b.c}))


def category_rules(conn: Connection, names, times) -> pd.DataFrame:
    """The rule (CATEGORY.fields) of each (category, report time) pair, aligned with the inputs: the version
    in force on the report's day, else the category's row. Unknown categories give NaN. Vectorised."""
    names = pd.Series(names).reset_index(drop=True)
    days = pd.to_datetime(pd.Series(times).reset_index(drop=True)).dt.normalize()
    c, v = Category.__table__, CategoryVersion.__table__
    base = pd.DataFrame(conn.execute(select(c.c.name, *[c.c[f] for f in CATEGORY.fields])).all(),
                        columns=["name", *CATEGORY.fields]).set_index("name")
    out = base.reindex(names.to_numpy()).reset_index(drop=True)
    versions = pd.DataFrame(conn.execute(select(v.c.name, v.c.valid_from, v.c.valid_to,
                                                *[v.c[f] for f in CATEGORY.fields])).all(),
                            columns=["name", "valid_from", "valid_to", *CATEGORY.fields])
    if versions.empty or names.empty:
        return out
    rows = pd.DataFrame({"i": range(len(names)), "name": names, "day": days})
    m = rows.merge(versions, on="name")
    start = pd.to_datetime(m["valid_from"])
    end = pd.to_datetime(m["valid_to"])
    m = m[(start <= m["day"]) & (end.isna() | (m["day"] < end))].drop_duplicates("i", keep="last")
    idx = m["i"].to_numpy()
    for f in CATEGORY.fields:
        col = out[f].astype(object)
        col.iloc[idx] = m[f].to_numpy(dtype=object)
        out[f] = pd.Series(col).infer_objects()
    return out


def categories_on(conn: Connection, day: date | datetime) -> pd.DataFrame:
    """Every category's rule in force on `day`: name plus CATEGORY.fields plus standard_code."""
    c = Category.__table__
    rows = pd.DataFrame(conn.execute(select(c.c.name, c.c.standard_code).order_by(c.c.name)).all(),
                        columns=["name", "standard_code"])
    rules = category_rules(conn, rows["name"], [pd.Timestamp(day)] * len(rows))
    return pd.concat([rows, rules], axis=1)


def standard_versions(conn: Connection, code: str | None = None) -> pd.DataFrame:
    """Versions of the standards (one code, or all): code, valid_from, valid_to and the rule fields."""
    v = StandardVersion.__table__
    stmt = select(v.c.code, v.c.valid_from, v.c.valid_to, *[v.c[f] for f in STANDARD.fields])
    if code is not None:
        stmt = stmt.where(v.c.code == code)
    return pd.DataFrame(conn.execute(stmt.order_by(v.c.code, v.c.valid_from)).all(),
                        columns=["code", "valid_from", "valid_to", *STANDARD.fields])


def active_standard_codes(conn: Connection, day: date) -> set[str]:
    """Codes of the standards in force on `day` (a retired one is not; one without versions always is)."""
    s, v = Standard.__table__, StandardVersion.__table__
    versioned = select(v.c.code).distinct()
    plain = set(conn.execute(select(s.c.code).where(s.c.code.not_in(versioned))).scalars())
    live = set(conn.execute(select(v.c.code).where(
        v.c.valid_from <= day, or_(v.c.valid_to.is_(None), v.c.valid_to > day), v.c.active.is_(True))).scalars())
    return plain | live

