"""Shared benchmark plumbing: demo databases of a given size on each backend, and timing.

Databases are built once and reused (SpatiaLite files under bench/results/, PostgreSQL
databases named gridmap_bench_<n>), keyed by problem count, seed and end date.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import date
from pathlib import Path

import gis.db.engine  # noqa: F401  (load order)
import psycopg
from sqlalchemy import Engine, text

from gis.db.engine import get_engine

RESULTS = Path(__file__).resolve().parent / "results"
PG_SERVER = os.environ.get("GRIDMAP_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
BACKENDS = ("spatialite", "postgis")
UNTIL = date(2026, 11, 20)
SEED = 2024


def _pg_url(name: str) -> str:
    with psycopg.connect(PG_SERVER.replace("+psycopg", "") + "/postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_SERVER}/{name}"


def database_url(backend: str, n_problems: int) -> str:
    if backend == "spatialite":
        RESULTS.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{RESULTS / f'gridmap_{n_problems}.sqlite'}"
    return _pg_url(f"gridmap_bench_{n_problems}")


def _built(engine: Engine, n_problems: int) -> bool:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM problems")).scalar() == n_problems
    except Exception:
        return False


def demo_engine(backend: str, n_problems: int, rebuild: bool = False) -> Engine:
    """An engine on a demo city with `n_problems` problems (built on first use)."""
    from gis.demo.build import build_demo

    engine = get_engine(database_url(backend, n_problems))
    if rebuild or not _built(engine, n_problems):
        build_demo(engine, n_problems=n_problems, seed=SEED, until=UNTIL, out_dir=None)
    return engine


def timed(fn, repeat: int = 3):
    """Run `fn` `repeat` times; return (best seconds, median seconds, last result)."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), result


def report(title: str, rows: list[dict]) -> str:
    """A Markdown table of result rows (same keys), printed and returned."""
    if not rows:
        return ""
    keys = list(rows[0])
    lines = [f"### {title}", "", "| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    out = "\n".join(lines) + "\n"
    print(out)
    return out
