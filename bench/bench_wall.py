"""领导大屏 (issue 3): the wall's data functions cold and warm, and what one render sends to the browser.

Cold = the first call of the gis function in a FRESH Python process (a subprocess per function:
no Streamlit cache, no in-memory memo of past months; the engine has connected once, as the app
has by then); uncached = the same function called again in this process with the memo cleared
(best of 3); warm = the `pages.cache` wrapper the page calls, on its second call (a st.cache_data
hit). Targets at 1,000,000 problems: ≤ 1 s cold, ≤ 100 ms warm per function; ≤ 500 KB sent per
render.

    python -m bench.bench_wall --problems 1000000 --backends spatialite,postgis
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.common import UNTIL, database_url, demo_engine, report, timed

AS_OF = datetime(UNTIL.year, UNTIL.month, UNTIL.day, 23, 59)


def _functions(engine, url):
    from pages import cache
    from gis.metrics import heat
    from gis.metrics import kpis, scores, units

    month = UNTIL
    return [
        ("monthly_scores", lambda: scores.monthly_scores(engine, month, AS_OF),
         lambda: cache.wall_scores(url, month, AS_OF)),
        ("kpis", lambda: kpis.kpis(engine, month, AS_OF), lambda: cache.wall_kpis(url, month, AS_OF)),
        ("trend (12 months)", lambda: kpis.trend(engine, 12, AS_OF), lambda: cache.wall_trend(url, month, AS_OF)),
        ("worst_units", lambda: units.worst_units(engine, month, AS_OF), lambda: cache.wall_units(url, month, AS_OF)),
        ("open_problem_hexes (H3 res 9)", lambda: heat.open_problem_hexes(engine, AS_OF),
         lambda: cache.wall_hexes(url, AS_OF)),
        ("score_trend (one grid, 12 months)", lambda: scores.score_trend(engine, "DC-01", 12, AS_OF), None),
        ("trend (12 months), every month summed again (as after an import)",
         lambda: _forget_month_sums(engine) or kpis.trend(engine, 12, AS_OF), None),
    ]


def _forget_month_sums(engine) -> None:
    """Mark every month's stored sums (gis.metrics.month_sums) out of date, as an import over a year does."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM problem_months"))


def _cold(backend: str, problems: int, name: str) -> float:
    """Seconds of the first call of function `name` in a fresh Python process."""
    out = subprocess.run([sys.executable, "-m", "bench.bench_wall", "--cold", name, "--backends", backend,
                          "--problems", str(problems)], cwd=Path(__file__).resolve().parent.parent,
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _cold_child(backend: str, problems: int, name: str) -> None:
    from gis.db.engine import get_engine

    engine = get_engine(database_url(backend, problems))  # no demo_engine: its row count would warm the cache
    with engine.connect():
        pass
    fn = {n: c for n, c, _ in _functions(engine, database_url(backend, problems))}[name]
    t0 = time.perf_counter()
    fn()
    print(time.perf_counter() - t0)


def _payload(engine) -> dict[str, int]:
    """Bytes of the map (folium HTML as st_folium ships it), the heatmap deck JSON, and the trend spec."""
    from gis.metrics import heat
    from gis.metrics import kpis, scores, settings, units
    from gis.geo import queries
    from layers.basemap import make_map
    from layers.choropleth import score_choropleth, score_legend, wall_labels
    from layers.heat import heat_deck

    scores = scores.monthly_scores(engine, UNTIL, AS_OF)
    grids = queries.current_grids(engine)
    frame = grids[["code", "geometry"]].merge(scores, on="code").merge(queries.grid_leaders(engine), on="code", how="left")
    frame["score_text"] = frame["score"].round(1).astype(str)
    m = make_map((36.45, 115.99), zoom=12.6, dark=True, zoom_snap=0.1)
    tooltip = {"name": "网格", "score_text": "综合得分", "open": "未结案", "overdue": "超期", "帮包市级领导": "帮包市级领导",
               "帮包市级领导电话": "电话", "帮包县级领导": "帮包县级领导", "网格长": "网格长", "网格长电话": "电话 "}
    score_choropleth(frame, tooltip).add_to(m)
    wall_labels(frame, "code", "帮包市级领导").add_to(m)
    th = settings.thresholds()
    score_legend(th.green, th.yellow).add_to(m)
    map_html = m.get_root().render()
    hexes = heat.open_problem_hexes(engine, AS_OF)
    deck_json = heat_deck(hexes, grids, (36.45, 115.99)).to_json()
    tables = (kpis.kpis(engine, UNTIL, AS_OF).to_json() + kpis.trend(engine, 12, AS_OF).to_json()
              + units.worst_units(engine, UNTIL, AS_OF).to_json() + scores.to_json())
    return {"map": len(map_html.encode()), "heat": len(deck_json.encode()), "tables": len(tables.encode()),
            "hexes": len(hexes)}


def run(args) -> str:
    from gis.metrics import memo

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    rows, sizes = [], []
    for backend in args.backends:
        engine = demo_engine(backend, args.problems)
        url = database_url(backend, args.problems)
        for name, cold_fn, warm_fn in _functions(engine, url):
            cold = _cold(backend, args.problems, name)

            def uncached(fn=cold_fn):
                memo.clear_memo()
                return fn()

            best, _, _ = timed(uncached, 3)
            warm = None
            if warm_fn is not None:
                warm_fn()
                warm, _, _ = timed(warm_fn, 5)
            rows.append({"backend": backend, "problems": f"{args.problems:,}", "function": name,
                         "cold ms (fresh process)": round(cold * 1000), "uncached best ms": round(best * 1000),
                         "cached ms": "–" if warm is None else f"{warm * 1000:.2f}",
                         "≤ 1 s / ≤ 100 ms": "yes" if cold <= 1 and (warm is None or warm <= 0.1) else "NO"})
        p = _payload(engine)
        sizes.append({"backend": backend, "problems": f"{args.problems:,}", "score map KB": round(p["map"] / 1024, 1),
                      "heatmap KB": round(p["heat"] / 1024, 1), "H3 cells": p["hexes"],
                      "tables KB": round(p["tables"] / 1024, 1),
                      "render total KB (map view / heat view)":
                          f"{(p['map'] + p['tables']) / 1024:.0f} / {(p['heat'] + p['tables']) / 1024:.0f}",
                      "≤ 500 KB": "yes" if max(p["map"], p["heat"]) + p["tables"] <= 500 * 1024 else "NO"})
    return (report("领导大屏：数据函数耗时（冷 = 无缓存直接查库，热 = st.cache_data 命中）", rows)
            + report("领导大屏：一次渲染发送到浏览器的数据量", sizes))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--problems", type=int, default=1_000_000)
    parser.add_argument("--backends", default="spatialite,postgis")
    parser.add_argument("--cold", help=argparse.SUPPRESS)  # internal: time one function in this fresh process
    a = parser.parse_args()
    a.backends = a.backends.split(",")
    if a.cold:
        _cold_child(a.backends[0], a.problems, a.cold)
    else:
        run(a)
