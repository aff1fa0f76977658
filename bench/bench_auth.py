"""Sign-in (issue 7): what a sign-in costs (argon2id at the production parameters) and what the
gate adds to every rerun (re-reading the user, checking a kiosk token).

Independent of the number of problems: runs on its own small database per backend
(bench/results/auth_bench.sqlite, gridmap_bench_auth). Targets: a sign-in ≤ 1 s; the gate's
per-rerun checks ≤ 5 ms.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete

from bench.common import RESULTS, _pg_url, report, timed


def _engine(backend: str):
    import gis.db.engine  # noqa: F401
    from gis.db import migrate
    from gis.db.engine import get_engine

    url = f"sqlite:///{RESULTS / 'auth_bench.sqlite'}" if backend == "spatialite" else _pg_url("gridmap_bench_auth")
    RESULTS.mkdir(parents=True, exist_ok=True)
    engine = get_engine(url)
    migrate.upgrade(engine)
    return engine


def run(args) -> str:
    from gis.people import auth
    from gis.people import kiosk
    from gis.db.models import AuditEntry, KioskToken, User
    from gis.people.permissions import Actor

    rows = []
    admin = Actor.system("bench")
    for backend in args.backends:
        engine = _engine(backend)
        with engine.begin() as conn:
            for table in (User, KioskToken, AuditEntry):
                conn.execute(delete(table.__table__))
        auth.add_user(engine, admin, "bench", "领导", "bench-password")
        token = kiosk.create(engine, admin, "bench")
        now = datetime.now()
        cases = [
            ("sign-in, right password (argon2id m=64 MiB, t=3, p=4)",
             lambda: auth.authenticate(engine, "bench", "bench-password", now)),
            ("sign-in, wrong password", lambda: auth.authenticate(engine, "bench", "wrong-password", now)),
            ("sign-in, unknown user (same cost: dummy hash)", lambda: auth.authenticate(engine, "nobody", "x", now)),
            ("gate per rerun: re-read the signed-in user", lambda: auth.active_actor(engine, "bench")),
            ("gate per rerun: kiosk token check", lambda: kiosk.valid(engine, token)),
        ]
        for name, fn in cases:
            best, median, _ = timed(fn, repeat=5)
            rows.append({"backend": backend, "operation": name, "best ms": round(best * 1000, 1),
                         "median ms": round(median * 1000, 1)})
            if "wrong" in name:  # do not leave the bench user locked for the next case
                auth.reset_password(engine, admin, "bench", "bench-password")
    return report("登录与权限：登录耗时与每次页面重跑的门禁开销", rows)
