"""Import of problems from CSV: `python -m bench import` (default 1,000,000 rows; target ≤ 60 s per backend).

The CSV is synthetic but shaped like a 12345-hotline export: Chinese headers, GBK-free UTF-8,
codes IMP-0000001…, categories of the demo's table, Chinese descriptions, report times over a
year, points jittered around the demo grids' centres (all inside the district). It is imported
into a dedicated demo database per backend (the demo city with few problems), timed end to end
(read, detect, map, validate, convert, assign areas, write, audit), then the imported rows are
deleted so the next run starts from the same state.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import text

from bench.common import RESULTS, SEED, UNTIL, _pg_url, report
from gis.db.engine import get_engine
from gis.io.importer import import_file
from gis.people.permissions import Actor
from gis.geo.queries import current_grids

TARGET_S = 60.0


def _engine(backend: str, into: int = 0):
    from gis.demo.build import build_demo

    if into:
        from bench.common import demo_engine
        return demo_engine(backend, into)
    if backend == "spatialite":
        RESULTS.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{RESULTS / 'import_bench.sqlite'}"
    else:
        url = _pg_url("gridmap_bench_import")
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            ready = conn.execute(text("SELECT count(*) FROM grids")).scalar() > 0
    except Exception:
        ready = False
    if not ready:
        build_demo(engine, n_problems=1000, seed=SEED, until=UNTIL, out_dir=None)
    return engine


def make_csv(engine, n: int, path: Path) -> Path:
    """A synthetic problem ledger of `n` rows (written once, reused)."""
    if path.exists():
        return path
    rng = np.random.default_rng(SEED)
    grids = current_grids(engine)
    with engine.connect() as conn:
        cats = [r[0] for r in conn.execute(text("SELECT name FROM categories ORDER BY name"))]
    centres = grids.geometry.representative_point()
    pick = rng.integers(0, len(grids), n)
    lon = centres.x.to_numpy()[pick] + rng.normal(0, 0.0015, n)
    lat = centres.y.to_numpy()[pick] + rng.normal(0, 0.0012, n)
    start = np.datetime64("2025-11-21T00:00")
    minutes = rng.integers(0, 365 * 24 * 60, n).astype("timedelta64[m]")
    cat = np.asarray(cats, dtype=object)[rng.integers(0, len(cats), n)]
    places = np.array(["东昌路", "柳园路", "古楼街", "双井街", "振兴路", "光岳路", "建设路", "湖南路"], dtype=object)
    df = pd.DataFrame({
        "问题编号": pd.Series(np.arange(1, n + 1)).map("IMP-{:07d}".format),
        "问题类型": cat,
        "问题描述": places[rng.integers(0, len(places), n)] + "附近" + cat,
        "上报时间": pd.Series(start + minutes).dt.strftime("%Y-%m-%d %H:%M"),
        "问题来源": np.asarray(("暗访", "督查", "市民热线", "网格员巡查"), dtype=object)[rng.integers(0, 4, n)],
        "经度": lon.round(6), "纬度": lat.round(6),
    })
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, encoding="utf-8")
    return path


def run(args) -> str:
    n = args.problems
    rows = []
    for backend in args.backends:
        engine = _engine(backend, getattr(args, "into", 0))
        csv = make_csv(engine, n, RESULTS / f"import_problems_{n}.csv")
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM problems WHERE code LIKE 'IMP-%'"))
        stages: list[tuple[str, float]] = []
        t0 = time.perf_counter()
        result = import_file(engine, Actor.system("bench"), "problems", csv,
                             progress=lambda _f, name: stages.append((name, time.perf_counter())))
        seconds = time.perf_counter() - t0
        marks = [t0] + [t for _n, t in stages[1:]]
        split = " / ".join(f"{b - a:.1f}" for a, b in zip(marks, marks[1:]))
        assert result.written and result.inserted == n, result.prepared.error_lines(5)
        with engine.connect() as conn:
            located = conn.execute(text("SELECT count(*) FROM problems WHERE code LIKE 'IMP-%' AND grid_id IS NOT NULL")).scalar()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM problems WHERE code LIKE 'IMP-%'"))
        rows.append({"backend": backend, "into": f"{getattr(args, 'into', 0) or 1000:,} problems", "rows": f"{n:,}", "CSV MB": f"{csv.stat().st_size / 2**20:.0f}",
                     "seconds": f"{seconds:.1f}", "read / check / refs / write s": split, "rows/s": f"{n / seconds:,.0f}", "in a grid": f"{located:,}",
                     f"≤ {TARGET_S:.0f} s": "yes" if seconds <= TARGET_S else "NO"})
    return report("Import problems from CSV (gis.io.importer, one transaction)", rows)
