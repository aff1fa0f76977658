"""网格详情: opening one grid's data on a city with `--problems` problems (target ≤ 300 ms warm).

"Opening" = everything pages/grid.py reads for a grid, uncached: the grid row, its areas
(compounds, streets, villages, points in its polygon), the responsibility card,
the newest LEDGER_LIMIT rows of its ledger (with overdue and the 反馈不过夜 state computed),
the counts over all its problems (total / open / overdue, in SQL), and the points lost this
month. (The full ledger is read only when the Excel / GeoPackage download is clicked.) Measured for the grid with the most
problems (the worst case) and a median one; best of 3 after one warm-up run.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text

from bench.common import UNTIL, demo_engine, report, timed
from gis.metrics import losses
from gis.problems import ledger
from gis.db.models import OPEN_STATUSES

TARGET_MS = 300
NOW = datetime.combine(UNTIL, datetime.min.time()).replace(hour=12)


def open_grid(engine, code: str) -> int:
    ledger.grid_info(engine, code)
    areas = ledger.grid_areas(engine, code)
    ledger.responsibility(engine, code, areas)
    totals = ledger.ledger_counts(engine, code, NOW)
    ledger.ledger(engine, code, now=NOW, limit=ledger.LEDGER_LIMIT)
    ledger.ledger_counts(engine, code, NOW, status=list(OPEN_STATUSES))
    losses.lost_points(engine, code, NOW.date())
    return totals["total"]


def _grids_by_size(engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT g.code, count(*) AS n FROM problems p JOIN grids g ON g.id = p.grid_id "
                                 "GROUP BY g.code ORDER BY n DESC")).all()
    return [r[0] for r in rows]


def _vacuumed(engine) -> None:
    """PostgreSQL counts a grid's problems from the index alone only once the table has been
    vacuumed (the visibility map); a live server's autovacuum does this, a freshly built bench
    database has not had it yet."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        pages, visible = conn.execute(text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'problems'")).one()
    if visible < 0.9 * pages or pages == 0:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE problems")


def run(args) -> str:
    rows = []
    for backend in args.backends:
        engine = demo_engine(backend, args.problems)
        _vacuumed(engine)
        codes = _grids_by_size(engine)
        for label, code in (("最多问题的网格", codes[0]), ("中位网格", codes[len(codes) // 2])):
            open_grid(engine, code)  # warm-up
            best, median, n = timed(lambda: open_grid(engine, code))
            ledger_best, _, _ = timed(lambda: ledger.ledger(engine, code, now=NOW, limit=ledger.LEDGER_LIMIT))
            rows.append({"backend": backend, "problems": f"{args.problems:,}", "grid": f"{code}（{label}）",
                         "grid problems": f"{n:,}", f"ledger ({ledger.LEDGER_LIMIT:,} rows) ms": f"{ledger_best * 1000:.0f}",
                         "open grid ms (best)": f"{best * 1000:.0f}", "median ms": f"{median * 1000:.0f}",
                         f"≤ {TARGET_MS} ms": "yes" if best * 1000 <= TARGET_MS else "NO"})
    return report("网格详情：打开一个网格的数据（热缓存）", rows)
