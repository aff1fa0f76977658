"""Partition by month, or monthly aggregates? (issue 17, docs/scale.md §3) — measured on PostGIS.

Builds once, beside ``problems`` of the demo database, ``problems_by_month``: the same rows in a table
partitioned by month of ``reported_at`` (declarative partitioning, one partition per month), with the
indexes the figures read. Then times the month's figures (`gis.metrics.rows.problem_rows`, the SQL the
wall runs) for one month and for 12 months on each table, and the same figures read from the monthly
aggregates (`gis.metrics.month_sums`), and counts the partitions each plan touches.

    python -m bench.bench_partition --problems 10000000
"""

from __future__ import annotations

import json
import time
from datetime import datetime

from sqlalchemy import text

from bench.common import UNTIL, demo_engine, report
from gis.metrics import figures, month_sums
from gis.metrics.periods import add_months, month_rows
from gis.metrics.rows import INDICATORS, problem_rows
from gis.metrics.sql import Sql

AS_OF = datetime(UNTIL.year, UNTIL.month, 1)  # the last whole month ends here
INDEXES = {"reported_at": "reported_at", "deadline": "deadline", "status": "status, verified_at",
           "registered": "registered_at", "deferred": "deferred_at", "followed": "followed_up_at",
           "grid": "grid_id, reported_at"}


def _build(engine) -> float:
    """Create problems_by_month (once); seconds taken (0 when it was there)."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('problems_by_month')")).scalar():
            return 0.0
    t0 = time.perf_counter()
    with engine.begin() as conn:
        lo, hi = conn.execute(text("SELECT min(reported_at), max(reported_at) FROM problems")).one()
        conn.execute(text("CREATE TABLE problems_by_month (LIKE problems INCLUDING DEFAULTS) PARTITION BY RANGE (reported_at)"))
        m = lo.date().replace(day=1)
        while m <= hi.date():
            n = add_months(m, 1)
            conn.execute(text(f"CREATE TABLE problems_by_month_{m:%Y%m} PARTITION OF problems_by_month "
                              f"FOR VALUES FROM ('{m}') TO ('{n}')"))
            m = n
        conn.execute(text("INSERT INTO problems_by_month SELECT * FROM problems"))
        for name, cols in INDEXES.items():
            conn.execute(text(f"CREATE INDEX ix_pbm_{name} ON problems_by_month ({cols})"))
            conn.execute(text(f"CREATE INDEX ix_pbm_d_{name} ON problems_by_month (district_code, {cols})"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE problems_by_month"))
    return time.perf_counter() - t0


def _figures_sql(engine, months, table: str) -> tuple[str, dict]:
    q = Sql(engine)
    sums = ", ".join(f"SUM(x.{c}) AS {c}" for c in INDICATORS)
    rows = problem_rows(q, months).replace("JOIN problems p", f"JOIN {table} p")
    return f"WITH {q.months_cte(months)} SELECT x.k, {sums} FROM ({rows}) x GROUP BY x.k", q


def _run(engine, months, table: str) -> tuple[float, float, int]:
    """(first run s, best of 3 s, partitions of problems_by_month in the plan)."""
    sql, q = _figures_sql(engine, months, table)
    stmt = text(sql).bindparams(*q.binds)
    times = []
    for _ in range(3):
        with engine.connect() as conn:
            t0 = time.perf_counter()
            conn.execute(stmt, q.params).all()
            times.append(time.perf_counter() - t0)
    with engine.connect() as conn:
        plan = conn.execute(text("EXPLAIN (FORMAT JSON) " + sql).bindparams(*q.binds), q.params).scalar()
    plan = plan if isinstance(plan, list) else json.loads(plan)
    parts = {r for r in _relations(plan[0]["Plan"]) if r.startswith("problems_by_month_")}
    return times[0], min(times), len(parts)


def _relations(node: dict):
    if "Relation Name" in node:
        yield node["Relation Name"]
    for child in node.get("Plans", []):
        yield from _relations(child)


def _sums(engine, months) -> tuple[float, float]:
    month_sums.ready(engine, months)  # computed once, then read
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        figures.counts(engine, months)
        times.append(time.perf_counter() - t0)
    return times[0], min(times)


def run(args) -> str:
    if "postgis" not in getattr(args, "backends", ["postgis"]):
        return ""
    rows = []
    engine = demo_engine("postgis", args.problems)
    built = _build(engine)
    last = add_months(AS_OF.date(), -1)
    for label, first in (("1 month", last), ("12 months", add_months(last, -11))):
        months = month_rows(first, last, AS_OF)
        for table in ("problems", "problems_by_month"):
            first_s, best, parts = _run(engine, months, table)
            rows.append({"problems": f"{args.problems:,}", "figures of": label, "read from": table,
                         "first ms": round(first_s * 1000), "best of 3 ms": round(best * 1000),
                         "partitions in plan": parts if table != "problems" else "–"})
        first_s, best = _sums(engine, months)
        rows.append({"problems": f"{args.problems:,}", "figures of": label, "read from": "problem_month_sums",
                     "first ms": round(first_s * 1000), "best of 3 ms": round(best * 1000), "partitions in plan": "–"})
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM problem_month_sums")).scalar()
        size = conn.execute(text("SELECT pg_total_relation_size('problem_month_sums')")).scalar()
    note = (f"\nproblems_by_month built in {built:.0f} s\n" if built else "") + \
        f"problem_month_sums: {n:,} rows, {size / 2**20:.1f} MB\n"
    return report("按月分区 vs 月度汇总：当月指标与 12 个月指标（PostGIS）", rows) + note


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=10_000_000)
    run(parser.parse_args())
