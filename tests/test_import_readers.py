"""Readers never wait on an import: a read in another thread completes while a 100,000-row import's
transaction is still open (it used to drop the indexes, which locked PostgreSQL readers out until
the commit: a wall request took 19 s)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from gis.io import importer
from gis.people.permissions import Actor
from tests import hostile

ROWS = 100_000
READ = text("SELECT status, count(*) FROM problems WHERE grid_id IS NOT NULL AND reported_at >= '2025-01-01' "
            "GROUP BY status ORDER BY status")


def test_a_read_completes_while_a_large_import_is_open(city_rw, tmp_path, monkeypatch):
    path = hostile.big_csv(tmp_path / "big.csv", rows=ROWS)
    prepared = importer.load(path, "problems")
    assert prepared.ok, prepared.error_lines(3)
    with city_rw.connect() as conn:
        before = conn.execute(READ).all()
        total = conn.execute(text("SELECT count(*) FROM problems")).scalar_one()

    written, reader_done = threading.Event(), threading.Event()
    write = importer.WRITERS["problems"]

    def write_then_hold(conn, frame, geoms):
        counts = write(conn, frame, geoms)  # rows written, indexes in place, transaction still open
        written.set()
        reader_done.wait(120)
        return counts

    monkeypatch.setitem(importer.WRITERS, "problems", write_then_hold)
    outcome = {}

    def run_import():
        outcome["result"] = importer.import_prepared(city_rw, Actor.system("测试"), prepared)

    importing = threading.Thread(target=run_import)
    importing.start()
    try:
        assert written.wait(300), "the import never reached its write"
        seen = {}

        def read():
            t = time.perf_counter()
            with city_rw.connect() as conn:
                seen["rows"] = conn.execute(READ).all()
                seen["total"] = conn.execute(text("SELECT count(*) FROM problems")).scalar_one()
            seen["seconds"] = time.perf_counter() - t

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(30)
        finished_while_open = not reader.is_alive() and importing.is_alive()
    finally:
        reader_done.set()
        importing.join(300)
    assert finished_while_open, "the read waited for the import to commit"
    assert seen["rows"] == before and seen["total"] == total  # the last committed state
    assert outcome["result"].written and outcome["result"].inserted == ROWS
    with city_rw.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM problems")).scalar_one() == total + ROWS
