"""The two-district deployment the district tests share (issue 17): 东昌府区 and 阳谷县, a 600-problem demo
up to 20 Nov 2026, built once per test module (each module writes to its own), and the small helpers they
read it with."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from gis.db.engine import get_engine
from gis.demo.districts import select_districts
from tests.conftest import new_database_url

HOME, YG = "371502", "371521"  # 东昌府区, 阳谷县


def build(backend_name: str, tmp_path_factory, name: str) -> str:
    """A new database on `backend_name` holding the two-district demo; its URL."""
    from gis.demo.build import build_demo

    url = new_database_url(backend_name, tmp_path_factory, name)
    build_demo(get_engine(url), n_problems=600, until=date(2026, 11, 20), out_dir=None,
               districts=select_districts("阳谷县"))
    return url


def rows(engine, sql: str, **params) -> list[tuple]:
    """The rows of `sql` as plain tuples."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params).all()]


@pytest.fixture
def upload(tmp_path, monkeypatch):
    """Uploaded files (photos, 书面说明) go under the test's own directory, never the repository's."""
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"
