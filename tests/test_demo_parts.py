"""A demo bigger than one chunk is built part by part (issue 17: bounded memory at any size):
the count, unique codes that continue each month's counter, the GeoPackage and the areas hold."""

from __future__ import annotations

from datetime import date

import pyogrio
from sqlalchemy import text

from gis.cli import main as cli
from gis.db.engine import get_engine
from tests.conftest import new_database_url


def test_demo_in_parts_matches_its_size(backend_name, tmp_path_factory, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("gis.demo.build.PROBLEM_CHUNK", 1000)  # 2,500 problems: parts of 1000, 1000, 500
    monkeypatch.setattr("gis.db.store.WRITE_ROWS", 700)  # and each COPY / executemany in slices
    monkeypatch.setattr("gis.demo.build.DEMO_DIR", tmp_path)
    url = new_database_url(backend_name, tmp_path_factory, "parts")
    assert cli.main(["--database", url, "demo", "--problems", "2500", "--until", "2026-11-20"]) == 0
    assert "problems 2,500" in capsys.readouterr().out  # the counts line reports the whole size
    with get_engine(url).connect() as conn:
        n, codes, no_grid = conn.execute(text(
            "SELECT count(*), count(DISTINCT code), sum(CASE WHEN grid_id IS NULL THEN 1 ELSE 0 END) FROM problems")).one()
        months = conn.execute(text(
            "SELECT substr(code, 3, 6), count(*), max(CAST(substr(code, 9) AS INTEGER)) FROM problems GROUP BY 1")).all()
        first, last = conn.execute(text("SELECT min(reported_at), max(reported_at) FROM problems")).one()
    assert (n, codes) == (2500, 2500)
    assert no_grid < 0.02 * n  # the parts' problems lie in the city like the first part's
    assert len(months) in (12, 13)
    for month, count, top in months:  # each month's counter runs 1..count over all parts: no gap, no clash
        assert top == count, month
    assert str(first)[:10] >= "2025-11-21" and str(last)[:10] <= date(2026, 11, 20).isoformat()
    assert pyogrio.read_info(tmp_path / "dongchangfu_demo.gpkg", layer="problems")["features"] == 2500
