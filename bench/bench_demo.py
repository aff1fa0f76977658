"""Building the demo city (issue 2): generation, files, database load; and the database size."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from bench.common import SEED, UNTIL, database_url, report
from gis.db.engine import get_engine
from gis.demo.build import build_demo


def _size(engine, url: str) -> str:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        total = sum(os.path.getsize(p) for p in path.parent.glob(path.name + "*"))
    else:
        with engine.connect() as conn:
            total = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    return f"{total / 1e6:.0f} MB"


def run(args) -> str:
    rows = []
    for n in sorted({50_000, args.problems}):
        for backend in args.backends:
            url = database_url(backend, n)
            engine = get_engine(url)
            rep = build_demo(engine, n_problems=n, seed=SEED, until=UNTIL, out_dir=None)
            rows.append({"backend": backend, "problems": f"{n:,}",
                         **{f"{k} s": f"{v:.1f}" for k, v in rep.seconds.items()},
                         "total s": f"{sum(rep.seconds.values()):.1f}", "database": _size(engine, url)})
    return report("Demo city build (python -m gis demo --no-files)", rows)
