"""Portable SQL for the figures: one statement with its bind parameters, on SQLite and PostgreSQL."""

from __future__ import annotations


import pandas as pd
from sqlalchemy import Date, DateTime, Engine, bindparam, text

from gis.db.models import STATUS_CLOSED
from gis.problems import states


class Sql:
    """Builds one portable SQL statement with its bind parameters (SQLite and PostgreSQL)."""

    def __init__(self, engine: Engine):
        self.pg = engine.dialect.name == "postgresql"
        self.params: dict = {}
        self.binds: list = []

    def bind(self, name: str, value, type_=None) -> str:
        self.params[name] = value
        if type_ is not None:
            self.binds.append(bindparam(name, type_=type_))
        if self.pg and type_ is DateTime:
            return f"CAST(:{name} AS TIMESTAMP)"
        if self.pg and type_ is Date:
            return f"CAST(:{name} AS DATE)"
        return f":{name}"

    def months_cte(self, months: list[dict], name: str = "months") -> str:
        """A CTE `name` of `months` (`gis.metrics.periods.month_rows` rows): k, m0, m1, t, d0, d1, dt, and the
        window r0, r1 of the day's rows (`gis.metrics.day_sums`) when the rows have one."""
        parts, pre = [], "" if name == "months" else name
        for i, m in enumerate(months):
            cols = [f"{self.bind(f'{pre}k{i}', m['k'])} AS k"]
            cols += [f"{self.bind(f'{pre}{c}{i}', m[c], DateTime)} AS {c}" for c in ("m0", "m1", "t", "r0", "r1")
                     if c in m]
            cols += [f"{self.bind(f'{pre}{c}{i}', m[c], Date)} AS {c}" for c in ("d0", "d1", "dt")]
            parts.append("SELECT " + ", ".join(cols))
        return f"{name} AS MATERIALIZED (" + " UNION ALL ".join(parts) + ")"

    def no_index(self, col: str) -> str:
        """`col` in a form SQLite will not pick an index for (unary +): steers its planner, which
        has no statistics, to the selective index of the other terms. Plain on PostgreSQL."""
        return col if self.pg else f"+{col}"

    def month_key(self, col: str) -> str:
        """'YYYY-MM' of a date or timestamp column (SQLite stores them as ISO text)."""
        return f"to_char({col}, 'YYYY-MM')" if self.pg else f"substr({col}, 1, 7)"

    def reported_between(self, months: list[dict], alias: str = "p") -> str:
        """Index-friendly range on reported_at covering `months`."""
        a = self.bind("first_ts", months[0]["m0"], DateTime)
        b = self.bind("last_ts", months[-1]["m1"], DateTime)
        return f"{alias}.reported_at >= {a} AND {alias}.reported_at < {b}"

    def hours(self, a: str, b: str) -> str:
        """Hours from timestamp `a` to timestamp `b`."""
        if self.pg:
            return f"(EXTRACT(EPOCH FROM ({b} - {a})) / 3600.0)"
        return f"((julianday({b}) - julianday({a})) * 24.0)"

    def problem_filters(self, alias: str = "p", category=None, source=None, subdistrict=None, district=None) -> str:
        """Conditions on problems `alias` (each " AND …"): category, source, sub-district (its grids), district (区县)."""
        out = ""
        if district:
            out += f" AND {alias}.district_code = {self.bind('district', district)}"
        if category:
            out += f" AND {alias}.category = {self.bind('category', category)}"
        if source:
            out += f" AND {alias}.source = {self.bind('source', source)}"
        if subdistrict:
            out += (f" AND {alias}.grid_id IN (SELECT id FROM grids WHERE subdistrict = "
                    f"{self.bind('subdistrict', subdistrict)})")
        return out

    def run(self, engine: Engine, sql: str, conn=None, many: bool = False, hashed: bool = False) -> pd.DataFrame:
        """The result as a frame; `many` (thousands of rows): built from plain tuples, much faster. `hashed`:
        group by hashing on PostgreSQL (a few groups of many rows, which its estimates take for few rows and
        sort, in the database's collation)."""
        stmt = text(sql).bindparams(*self.binds) if self.binds else text(sql)
        if conn is None:
            with engine.connect() as c:
                return self.run(engine, sql, c, many, hashed)
        if hashed and self.pg:
            conn.exec_driver_sql("SET LOCAL enable_sort = off")
            conn.exec_driver_sql("SET LOCAL work_mem = '32MB'")  # the hash tables in memory, not spilled
        res = conn.execute(stmt, self.params)
        rows = [tuple(r) for r in res.all()] if many else res.all()
        return pd.DataFrame(rows, columns=list(res.keys()))


def open_at(q: Sql, t: str, columns: str, filters: str = "", closed_late: bool = False) -> str:
    """Rows of problems open at `t` (reported by t, not closed by t), from index ranges.

    Open = status ≠ 已结案, or 已结案 but verified after t (index ix_problems_status_verified). A closed problem with no verified_at counts as closed
    from its report on (as in `gis.problems.states.closed_sql`). Exactly ``reported_at <= t AND NOT
    states.closed_sql(p, t)``; callers add `states.overdue_sql` and the like for the state they count.
    `closed_late`: of the problems closed after t, only those closed after their deadline (the caller's
    filters imply deadline < t; `overdue_at`).
    """
    c = q.bind("closed_status", STATUS_CLOSED)
    rest = f"{q.no_index('p.reported_at')} <= {t}{filters}"
    late = " AND p.verified_at > p.deadline" if closed_late else ""  # models.CLOSED_LATE, the indexes' predicate
    # status ≠ c as two ranges, each its own branch: SQLite (no statistics) would otherwise
    # scan the whole covering index rather than OR two index ranges.
    return f"""SELECT {columns} FROM problems p WHERE p.status < {c} AND {rest}
UNION ALL
SELECT {columns} FROM problems p WHERE p.status > {c} AND {rest}
UNION ALL
SELECT {columns} FROM problems p WHERE {q.no_index('p.status') if closed_late else 'p.status'} = {c} AND p.verified_at > {t}{late} AND {rest}"""


def overdue_at(q: Sql, t: str, columns: str, filters: str = "") -> str:
    """Rows of problems 超期 at `t` (`gis.problems.states.overdue_sql`), from index ranges: `open_at`, of the
    problems closed after t only the closed-late ones — closed after t and 超期 at t means verified_at > t >
    deadline (the partial indexes of migration 0022), a tenth of those closed since t."""
    return open_at(q, t, columns, f" AND {states.overdue_sql('p', t)}{filters}", closed_late=True)


def standard_join_sql(i: str = "i", s: str = "s", v: str = "sv") -> str:
    """LEFT JOIN an inspection `i` to its standard `s` and to the standard's rule version `v` in force on the
    inspection's day (规则按日期生效, gis.db.rule_versions): past months keep the points of their time."""
    return (f"LEFT JOIN standards {s} ON {s}.code = {i}.standard_code "
            f"LEFT JOIN standard_versions {v} ON {v}.code = {i}.standard_code AND {v}.valid_from <= {i}.inspected_on "
            f"AND ({v}.valid_to IS NULL OR {i}.inspected_on < {v}.valid_to)")


def points_sql(s: str = "s", v: str | None = "sv") -> str:
    """A standard's points on the inspection's day: its rule version's (`standard_join_sql`), else the
    `standards` row's; a standard without points weighs 1."""
    return f"COALESCE({v}.points, {s}.points, 1.0)" if v else f"COALESCE({s}.points, 1.0)"


def earned_points_sql(i: str = "i", s: str = "s", v: str | None = "sv") -> str:
    """Points an inspection earned (测评得分), the same in the 综合得分 and in 谁丢分: its score
    (partial credit) within [0, the standard's points]; without a score, all points if passed, none
    otherwise. `i`: inspections, `s`: standards and `v`: standard_versions, joined by `standard_join_sql`."""
    pts = points_sql(s, v)
    return (f"(CASE WHEN {i}.score IS NULL THEN (CASE WHEN {i}.passed THEN {pts} ELSE 0.0 END) "
            f"WHEN {i}.score > {pts} THEN {pts} WHEN {i}.score < 0 THEN 0.0 ELSE {i}.score END)")


#: One inspection visit (测评次数): a point on a day, whatever the number of standards checked; an inspection
#: with no point is no visit.
VISIT_COLUMNS = ("point_id", "inspected_on")


def visit_key_sql(i: str = "i") -> str:
    """The visit (VISIT_COLUMNS) of inspection `i` as one value, NULL when it has no point (for COUNT(DISTINCT))."""
    point, day = (f"{i}.{c}" for c in VISIT_COLUMNS)
    return f"(CAST({point} AS TEXT) || ':' || CAST({day} AS TEXT))"
