"""月度汇总 (monthly aggregates, issue 17): the problem figures of whole months, kept in the database.

A whole month evaluated at its end is a function of the problem rows with a date in it (the candidates
of `gis.metrics.rows.problem_rows`: reported, due, closed, 立案, 缓办, 回访), and nothing else. So its
rows are summed once per (grid, unit, district, category, source) into ``problem_month_sums`` — by
`problem_rows` itself, the one definition — and later reads of that month sum those few thousand rows
instead of its problems. 问题扣分 is kept before the source weight (``ded_raw``), so a change of
GRIDMAP_SOURCE_WEIGHTS needs no recomputation.

Kept right by the database, not by the callers: triggers on ``problems`` (migration 0018) record in
``problem_month_changes`` every month (and district) a written row has a date in, before and after the write — an
import, a workflow step, a correction, a reassignment after a new grid layer, a delete. A month is served
from its sums only when it was computed (``problem_months``) and has no change since; otherwise its next
read computes it again. The refresh deletes the changes it saw and sums the rows of the same snapshot
(REPEATABLE READ on PostgreSQL; SQLite's one writer), so a write committed meanwhile leaves its change
behind and the month is computed again later: it can be late, never wrong.

A read that cannot write — a read replica, a SQLite file another writer holds, two refreshes of the same
month at once — sums the month's rows live, as before, and says nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, time

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from gis.db.engine import BUSY_TIMEOUT_S, DatabaseBusy
from gis.metrics.periods import add_months, month_start
from gis.metrics.rows import INDICATORS, problem_rows, source_weight_sql
from gis.metrics.sql import Sql

log = logging.getLogger(__name__)

#: Columns of problem_month_sums besides the group: INDICATORS with 问题扣分 unweighted.
SUM_COLUMNS = tuple("ded_raw" if c == "ded" else c for c in INDICATORS)
GROUP_COLUMNS = ("grid_id", "unit_id", "district_code", "category", "source")
#: The group of the sums rolled up by grid (``problem_month_grid_sums``, ``problem_day_grid_sums``; migration 0023):
#: what a score, a grid's trend and the city's trend read — the fine rows are for a category or a unit. The source
#: stays: 问题扣分 is weighed by it at read time (GRIDMAP_SOURCE_WEIGHTS), and sources are few.
GRID_GROUP = ("grid_id", "district_code", "source")


def by_grid(table: str) -> str:
    """The table of `table`'s sums rolled up by grid (GRID_GROUP)."""
    return table.replace("_sums", "_grid_sums")


def grid_rollup_serves(by: str, category=None) -> bool:
    """True when the sums rolled up by grid serve a figure grouped `by` (city, grid, unit, district) filtered by
    `category`: neither a unit nor a category is asked for (a sub-district and a district are sets of grids)."""
    return by != "unit" and not category


def whole_month(m: dict) -> bool:
    """True when period `m` (a `gis.metrics.periods.month_rows` row) is a calendar month evaluated at its end."""
    m0, m1 = m["m0"], m["m1"]
    return m0 == datetime.combine(month_start(m0.date()), time.min) and \
        m1 == datetime.combine(add_months(m0.date(), 1), time.min) and m["t"] >= m1


def sums_rows(q: Sql, keys: list[str], filters: str = "", table: str = "problem_month_sums",
              grid: bool = False) -> str:
    """SELECT of the stored sums of months `keys`, shaped like `problem_rows` (alias p for `filters`): the
    group columns, k and INDICATORS (问题扣分 weighted by source as `problem_rows` does). `table`: or the
    day's sums (`gis.metrics.day_sums`). `grid`: from the sums rolled up by grid (GRID_GROUP only; see
    `grid_rollup_serves`): the same figures from a few rows."""
    group = GRID_GROUP if grid else GROUP_COLUMNS
    table = by_grid(table) if grid else table
    ks = ", ".join(q.bind(f"{table}_k{i}", k) for i, k in enumerate(keys))
    cols = ", ".join(f"p.ded_raw * {source_weight_sql('p')} AS ded" if c == "ded" else f"p.{c}" for c in INDICATORS)
    return (f"SELECT p.k, {', '.join('p.' + c for c in group)}, {cols} "
            f"FROM {table} p WHERE p.k IN ({ks}){filters}")


def roll_up(table: str, key: tuple[str, ...], where: str) -> str:
    """INSERT of `table`'s rows matching `where` into `by_grid(table)`, summed by `key` and GRID_GROUP: written in
    the transaction that wrote them."""
    group = ", ".join([*key, *GRID_GROUP])
    sums = ", ".join(f"SUM({c})" for c in SUM_COLUMNS)
    return (f"INSERT INTO {by_grid(table)} ({group}, {', '.join(SUM_COLUMNS)}) SELECT {group}, {sums} FROM {table} "
            f"WHERE {where} GROUP BY {group}")


def ready(engine: Engine, months: list[dict], district: str | None = None) -> set[str]:
    """The keys of the whole months of `months` that the sums serve for `district` (区县 code; None: every
    district): computed and unchanged since, computing (or recomputing) the others first where the database
    lets this process write. A district is summed on its own: its page reads and writes its rows only."""
    keys = [m["k"] for m in months if whole_month(m)]
    if not keys:
        return set()
    scope = [district] if district else districts(engine)
    done = _current(engine, keys, scope)
    todo = [m for m in months if m["k"] in keys and m["k"] not in done]
    if todo and _refresh(engine, todo, district, scope):
        done |= {m["k"] for m in todo}
    return done


def districts(engine: Engine) -> list[str]:
    """Every district's code, and '' for problems in none."""
    with engine.connect() as conn:
        return [""] + list(conn.execute(text("SELECT code FROM districts ORDER BY code")).scalars())


def _in(q: Sql, column: str, values: list[str], prefix: str) -> str:
    return f"{column} IN ({', '.join(q.bind(f'{prefix}{i}', v) for i, v in enumerate(values))})"


def _current(engine: Engine, keys: list[str], scope: list[str]) -> set[str]:
    q = Sql(engine)
    sql = (f"SELECT pm.k, pm.district_code FROM problem_months pm WHERE {_in(q, 'pm.k', keys, 'k')} AND "
           f"{_in(q, 'pm.district_code', scope, 'd')} AND NOT EXISTS (SELECT 1 FROM problem_month_changes c "
           f"WHERE c.k = pm.k AND c.district_code = pm.district_code)")
    found = q.run(engine, sql).groupby("k")["district_code"].nunique()
    return {k for k, n in found.items() if n == len(set(scope))}


def _refresh(engine: Engine, months: list[dict], district: str | None, scope: list[str]) -> bool:
    """Sum `months` of `district` (None: all) into problem_month_sums in one transaction; False (nothing
    written) when this process cannot write now."""
    return write_derived(engine, lambda conn: _write(engine, conn, months, district, scope),
                         ", ".join(m["k"] for m in months))


def write_derived(engine: Engine, write, what: str) -> bool:
    """Run `write(conn)` in one transaction that sees one snapshot (REPEATABLE READ; SQLite's one writer) and
    hashes its groups; False (nothing written, logged) when this process cannot write now: a read replica,
    a SQLite file another writer holds, a conflicting refresh. `what`: the months, for the log."""
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                if conn.execute(text("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")).scalar():
                    return False  # a read replica: read the rows live
                conn.rollback()
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    # hash the groups: sorting a month's rows by their text columns (in the database's
                    # collation) took most of a refresh
                    conn.exec_driver_sql("SET LOCAL enable_sort = off")
                    conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
                    write(conn)
            return True
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA busy_timeout = 0")  # a writer holds the file: read live, don't wait
            conn.commit()
            try:
                conn = conn.execution_options(gridmap_write=True)
                with conn.begin():
                    write(conn)
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
                conn.commit()
        return True
    except (DBAPIError, DatabaseBusy) as exc:
        log.info("汇总未更新（%s），本次直接统计：%s", what, str(exc).splitlines()[0])
        return False


def _write(engine: Engine, conn, months: list[dict], district: str | None, scope: list[str]) -> None:
    q = Sql(engine)
    ks = _in(q, "k", [m["k"] for m in months], "w")
    mine = f" AND {_in(q, 'district_code', scope, 's')}"
    conn.execute(text(f"DELETE FROM problem_month_changes WHERE {ks}{mine}"), q.params)
    conn.execute(text(f"DELETE FROM problem_months WHERE {ks}{mine}"), q.params)
    # every district at once also clears sums of codes no longer in the districts table
    for table in ("problem_month_sums", by_grid("problem_month_sums")):
        conn.execute(text(f"DELETE FROM {table} WHERE {ks}" + (" AND district_code = :one" if district else "")),
                     {**q.params, "one": district})
    group = ", ".join(f"x.{c}" for c in GROUP_COLUMNS)
    sums = ", ".join(f"SUM(x.{c})" for c in SUM_COLUMNS)
    sql = (f"WITH {q.months_cte(months)} INSERT INTO problem_month_sums (k, {', '.join(GROUP_COLUMNS)}, "
           f"{', '.join(SUM_COLUMNS)}) SELECT x.k, {group}, {sums} FROM ({problem_rows(q, months, district=district)}) x "
           f"GROUP BY x.k, {group}")
    stmt = text(sql).bindparams(*q.binds) if q.binds else text(sql)
    conn.execute(stmt, q.params)
    conn.execute(text(roll_up("problem_month_sums", ("k",), f"{ks}" + (" AND district_code = :one" if district else ""))),
                 {**q.params, "one": district})
    now = datetime.now().replace(microsecond=0)
    conn.execute(text("INSERT INTO problem_months (k, district_code, computed_at) VALUES (:k, :d, :at)"),
                 [{"k": m["k"], "d": d, "at": now} for m in months for d in scope])
