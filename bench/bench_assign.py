"""Assigning problems to grids, compounds, villages and streets (issue 2).

In-process (gis.geo.assign, the path every write takes) against the demo city's real layers,
plus the database baselines it replaces: PostGIS `ST_Contains` join with GiST, and a
GROUP BY on the stored grid_id.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import text

from bench.common import demo_engine, report, timed
from gis.geo.areas import load_areas
from gis.geo.assign import nearest_line, points_in_polygons


def _random_points(areas, n: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    import shapely

    minx, miny, maxx, maxy = shapely.total_bounds(areas.grids.geoms)
    return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)


def run(args) -> str:
    rows = []
    n = args.problems
    engine = demo_engine(args.backends[0], 5_000)
    with engine.connect() as conn:
        areas = load_areas(conn)
    x, y = _random_points(areas, n)
    for label, fn in (
        (f"grids ({len(areas.grids)})", lambda: points_in_polygons(x, y, areas.grids)),
        (f"compounds ({len(areas.compounds)})", lambda: points_in_polygons(x, y, areas.compounds)),
        (f"villages ({len(areas.villages)})", lambda: points_in_polygons(x, y, areas.villages)),
        (f"streets ≤30 m ({len(areas.streets)})", lambda: nearest_line(x, y, areas.streets)),
    ):
        best, median, _ = timed(fn, repeat=3)
        rows.append({"what": label, "points": f"{n:,}", "best s": f"{best:.3f}", "median s": f"{median:.3f}",
                     "M points/s": f"{n / best / 1e6:.1f}"})
    out = report(f"In-process assignment of {n:,} points (gis.geo.assign)", rows)

    db_rows = []
    for backend in args.backends:
        eng = demo_engine(backend, n)
        with eng.connect() as conn:
            best, _, _ = timed(lambda: conn.execute(text(
                "SELECT grid_id, count(*) FROM problems GROUP BY grid_id")).all(), repeat=3)
            db_rows.append({"backend": backend, "query": "GROUP BY stored grid_id", "best s": f"{best:.3f}"})
            if backend == "postgis":
                best, _, _ = timed(lambda: conn.execute(text(
                    "SELECT g.id, count(*) FROM problems p JOIN grids g ON ST_Contains(g.geom, p.geom) GROUP BY g.id")).all(), repeat=1)
                db_rows.append({"backend": backend, "query": "ST_Contains join with GiST (baseline)", "best s": f"{best:.3f}"})
    return out + report(f"Per-grid counts of {n:,} problems in the database", db_rows)
