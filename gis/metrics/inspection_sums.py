"""测评月度汇总 (issue 17): the inspection sums of the 综合得分, for whole months kept in the database.

A grid's score reads its month's inspections (`gis.metrics.scores`): the visits (测评次数, distinct point-days),
the points earned and the points at stake, per grid code. `visit_sums` is that one definition. A whole month
evaluated at its end is a function of its inspections, the standards' points (and their dated versions,
规则按日期生效) and which code each grid row has, and nothing else; so its sums are kept per (month, district,
grid code) in ``inspection_month_sums`` (migration 0024) and a year of one district — what one grid's trend reads
— comes from a few hundred rows instead of a hundred thousand inspections.

Kept right as `gis.metrics.month_sums` keeps the problem sums: triggers on ``inspections`` note each (month,
district) a write touches in ``inspection_month_changes``; a month is served only when computed
(``inspection_months``), unchanged since, and computed with the rules in force now (``rules``: a digest of the
standards' points, their versions and the district's grid codes, taken in the refresh's snapshot). A refresh
deletes the notes it saw and sums the inspections of the same snapshot: late, never wrong. A read that cannot
write (a read replica, a SQLite file another writer holds) sums the inspections live. A category filter (the
standards of one category) is always summed live.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Date, Engine, text

from gis.metrics.month_sums import districts, whole_month, write_derived
from gis.metrics.sql import VISIT_COLUMNS, Sql, earned_points_sql, points_sql, standard_join_sql

TABLE = "inspection_month_sums"


def visit_sums(q: Sql, months: list[dict], filters: str = "", keys: list[str] | None = None,
               by_district: bool = False) -> str:
    """SELECT k, [district_code,] code, n, ok_points, all_points: per month of the CTE ``months`` (rows `months`;
    only `keys` of them when given) and grid code, the inspection visits (each point-day once, without sorting),
    the points earned (partial credit, as in 谁丢分) and the points at stake. `filters`: conditions on
    inspections ``i`` (" AND …"). `by_district`: per district too ('' for inspections in none)."""
    visit = ", ".join(f"i.{c}" for c in VISIT_COLUMNS)
    dist = "COALESCE(i.district_code, '') AS district_code, " if by_district else ""
    dist_group = "COALESCE(i.district_code, ''), " if by_district else ""
    outer = "v.district_code, " if by_district else ""
    only = ""
    if keys is not None:
        only = f" AND m.k IN ({', '.join(q.bind(f'ik{n}', k) for n, k in enumerate(keys))})"
    return f"""SELECT v.k, {outer}v.code, COUNT(v.{VISIT_COLUMNS[0]}) AS n, SUM(v.ok_points) AS ok_points,
       SUM(v.all_points) AS all_points
FROM (
  SELECT m.k, {dist}g.code, {visit}, SUM({earned_points_sql('i', 's')}) AS ok_points,
         SUM({points_sql('s', 'sv')}) AS all_points
  FROM months m
  JOIN inspections i ON i.inspected_on >= m.d0 AND i.inspected_on < m.d1 AND i.inspected_on <= m.dt
  JOIN grids g ON g.id = i.grid_id
  {standard_join_sql()}
  WHERE i.inspected_on >= {q.bind('first_d', months[0]['d0'], Date)}
    AND i.inspected_on < {q.bind('last_d', months[-1]['d1'], Date)}{only}{filters}
  GROUP BY m.k, {dist_group}g.code, {visit}) v
GROUP BY v.k, {outer}v.code"""


def stored_sums(q: Sql, keys: list[str], district: str | None = None) -> str:
    """SELECT k, code, n, ok_points, all_points of the stored months `keys` (of `district`, else every district):
    the rows `visit_sums` gives for them."""
    ks = ", ".join(q.bind(f"isk{n}", k) for n, k in enumerate(keys))
    mine = f" AND s.district_code = {q.bind('isd', district)}" if district else ""
    return (f"SELECT s.k, s.code, SUM(s.visits) AS n, SUM(s.ok_points) AS ok_points, SUM(s.all_points) AS all_points "
            f"FROM {TABLE} s WHERE s.k IN ({ks}){mine} GROUP BY s.k, s.code")


def ready(engine: Engine, months: list[dict], district: str | None = None) -> set[str]:
    """The keys of the whole months of `months` whose inspection sums are stored and serve `district` (None:
    every district), computing the missing or out-of-date ones first where this process may write."""
    keys = [m["k"] for m in months if whole_month(m)]
    if not keys:
        return set()
    scope = [district] if district else districts(engine)
    with engine.connect() as conn:
        done = _current(conn, keys, scope, rules(conn, scope))
    todo = [m for m in months if m["k"] in keys and m["k"] not in done]
    if todo and write_derived(engine, lambda conn: _write(engine, conn, todo, district, scope),
                              "测评 " + ", ".join(m["k"] for m in todo)):
        done |= {m["k"] for m in todo}
    return done


def rules(conn, scope: list[str]) -> dict[str, str]:
    """{district: digest of what its inspection sums depend on besides the inspections}: the standards' points,
    their dated versions, the district's grid rows and codes (a few hundred rows, read in `conn`'s snapshot)."""
    common = [tuple(r) for r in conn.execute(text("SELECT code, points FROM standards ORDER BY code"))]
    common += [tuple(map(str, r)) for r in conn.execute(text(
        "SELECT code, points, valid_from, valid_to FROM standard_versions ORDER BY code, valid_from, id"))]
    grids: dict[str, list] = {d: [] for d in scope}
    q = Sql(conn.engine)
    mine = ", ".join(q.bind(f"g{n}", d) for n, d in enumerate(scope))
    for d, gid, code in conn.execute(text(f"SELECT COALESCE(district_code, ''), id, code FROM grids WHERE "
                                          f"COALESCE(district_code, '') IN ({mine}) ORDER BY id"), q.params):
        grids[d].append((gid, code))
    return {d: hashlib.sha256(repr((common, grids[d])).encode()).hexdigest() for d in scope}


def _current(conn, keys: list[str], scope: list[str], now: dict[str, str]) -> set[str]:
    q = Sql(conn.engine)
    ks = ", ".join(q.bind(f"k{n}", k) for n, k in enumerate(keys))
    ds = ", ".join(q.bind(f"d{n}", d) for n, d in enumerate(scope))
    sql = (f"SELECT im.k, im.district_code, im.rules FROM inspection_months im WHERE im.k IN ({ks}) AND "
           f"im.district_code IN ({ds}) AND NOT EXISTS (SELECT 1 FROM inspection_month_changes c "
           f"WHERE c.k = im.k AND c.district_code = im.district_code)")
    ok: dict[str, int] = {}
    for k, d, digest in q.run(conn.engine, sql, conn).itertuples(index=False):
        if now.get(d) == digest:
            ok[k] = ok.get(k, 0) + 1
    return {k for k, n in ok.items() if n == len(set(scope))}


def _write(engine: Engine, conn, months: list[dict], district: str | None, scope: list[str]) -> None:
    q = Sql(engine)
    ks = ", ".join(q.bind(f"w{n}", m["k"]) for n, m in enumerate(months))
    ds = ", ".join(q.bind(f"s{n}", d) for n, d in enumerate(scope))
    one = f" AND district_code = {q.bind('one', district)}" if district else ""
    digest = rules(conn, scope)  # the rules of this snapshot: the sums below are computed with them

    def run(sql: str) -> None:
        conn.execute(text(sql).bindparams(*q.binds) if q.binds else text(sql), q.params)

    run(f"DELETE FROM inspection_month_changes WHERE k IN ({ks}) AND district_code IN ({ds})")
    run(f"DELETE FROM inspection_months WHERE k IN ({ks}) AND district_code IN ({ds})")
    run(f"DELETE FROM {TABLE} WHERE k IN ({ks}){one}")  # every district at once: codes since removed too
    filters = f" AND i.district_code = {q.bind('idistrict', district)}" if district else ""
    run(f"WITH {q.months_cte(months)} INSERT INTO {TABLE} (k, district_code, code, visits, ok_points, all_points) "
        f"SELECT x.k, x.district_code, x.code, x.n, x.ok_points, x.all_points FROM "
        f"({visit_sums(q, months, filters, by_district=True)}) x")
    at = datetime.now().replace(microsecond=0)
    conn.execute(text("INSERT INTO inspection_months (k, district_code, rules, computed_at) VALUES (:k, :d, :r, :at)"),
                 [{"k": m["k"], "d": d, "r": digest[d], "at": at} for m in months for d in scope])
