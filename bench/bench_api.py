"""Open311 API (issue 15): latency of POST /requests and GET /requests/{id}, /requests.json over
HTTP against `python -m gis api` served by uvicorn in a subprocess, on a demo city of --problems.

Uses its own databases (bench/results/api_<n>.sqlite, gridmap_bench_api_<n>) because the POSTs
write: the posted problems are deleted again at the end. The clock is pinned to the demo's end
(GRIDMAP_NOW) so "the last 90 days" holds data. Reports p50 / p95 in milliseconds.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bench.common import RESULTS, SEED, UNTIL, _pg_url, report

N_POST, N_GET, N_LIST = 200, 300, 30
ROOT = Path(__file__).resolve().parents[1]


def _engine(backend: str, n: int):
    from gis.db.engine import get_engine
    from gis.demo.build import build_demo

    RESULTS.mkdir(parents=True, exist_ok=True)
    url = (f"sqlite:///{RESULTS / f'api_{n}.sqlite'}" if backend == "spatialite" else _pg_url(f"gridmap_bench_api_{n}"))
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            built = conn.execute(text("SELECT count(*) FROM problems")).scalar() == n
    except Exception:  # noqa: BLE001
        built = False
    if not built:
        t0 = time.perf_counter()
        build_demo(engine, n_problems=n, seed=SEED, until=UNTIL, out_dir=None)
        print(f"built {backend} {n:,} problems in {time.perf_counter() - t0:.0f} s")
    return engine, url


def _pct(xs: list[float], p: float) -> str:
    xs = sorted(xs)
    return f"{xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000:.1f}"


def _serve(url: str, port: int, upload_dir: Path):
    import httpx

    env = {**os.environ, "GRIDMAP_NOW": f"{UNTIL}T10:00:00", "GRIDMAP_API_RATE": "1000000",
           "GRIDMAP_UPLOAD_DIR": str(upload_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "gis", "--database", url, "api", "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/openapi.json", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("api did not start")


def run(args) -> str:
    import httpx

    from gis.db import migrate
    from gis.people import apikeys
    from gis.people.permissions import Actor
    from tests.browser import _free_port

    rows = []
    for backend in args.backends:
        engine, url = _engine(backend, args.problems)
        migrate.upgrade(engine)
        with engine.connect() as conn:
            pts = conn.execute(text("SELECT lon, lat FROM problems WHERE grid_id IS NOT NULL LIMIT 5000")).all()
            codes = [r[0] for r in conn.execute(text("SELECT code FROM problems ORDER BY id DESC LIMIT 20000"))]
        name = f"bench{int(time.time())}"
        key = apikeys.create(engine, Actor.system("bench"), name)
        proc, base = _serve(url, _free_port(), RESULTS / "api_uploads")
        rnd = random.Random(SEED)
        posted, t_post, t_get, t_list = [], [], [], []
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                for i in range(N_POST):
                    lon, lat = rnd.choice(pts)
                    t0 = time.perf_counter()
                    r = client.post("/requests.json", data={"api_key": key, "service_code": "暴露垃圾", "lat": lat,
                                                            "long": lon, "description": f"压测 {i}"})
                    t_post.append(time.perf_counter() - t0)
                    assert r.status_code == 201, r.text
                    posted.append(r.json()[0]["service_request_id"])
                for _ in range(N_GET):
                    code = rnd.choice(codes)
                    t0 = time.perf_counter()
                    r = client.get(f"/requests/{code}.json")
                    t_get.append(time.perf_counter() - t0)
                    assert r.status_code == 200, r.text
                for i in range(N_LIST):
                    t0 = time.perf_counter()
                    r = client.get("/requests.json", params={"status": "open" if i % 2 else "closed"})
                    t_list.append(time.perf_counter() - t0)
                    assert r.status_code == 200 and len(r.json()) > 0
        finally:
            proc.terminate()
            proc.wait(10)
            with engine.begin() as conn:  # leave the demo city as it was built
                for table, col in (("problem_events", "problem_id"),):
                    conn.execute(text(f"DELETE FROM {table} WHERE {col} IN (SELECT id FROM problems WHERE reporter = :r)"),
                                 {"r": f"接口:{name}"})
                conn.execute(text("DELETE FROM problems WHERE reporter = :r"), {"r": f"接口:{name}"})
                conn.execute(text("DELETE FROM api_keys WHERE name = :n"), {"n": name})
        for what, xs in (("POST /requests.json", t_post), ("GET /requests/{id}.json", t_get),
                         ("GET /requests.json?status=… (1000 rows)", t_list)):
            rows.append({"backend": backend, "problems": f"{args.problems:,}", "request": what, "n": len(xs),
                         "p50 ms": _pct(xs, 50), "p95 ms": _pct(xs, 95)})
    return report("Open311 API latency (sequential, one client, HTTP on 127.0.0.1)", rows)
