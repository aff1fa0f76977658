"""`python -m gis move`: the small city on SpatiaLite moved into a fresh PostGIS database (issue 17).

The move is SpatiaLite → PostGIS by nature, so these tests take no `backend_name`: they run once per
session, whatever backends GRIDMAP_TEST_BACKENDS names, and are skipped when PostGIS is not among them.
The source is the small city plus rows that the city lacks (users, the audit log with text COPY must
escape, a 三色牌 and the card it escalated to, rule versions, a problem's history).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
import shapely
from geoalchemy2 import Geometry
from sqlalchemy import func, select, text

from gis.cli.main import main
from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import AuditEntry, Base, Card, Grid, Inspection, StandardVersion, User
from gis.metrics import memo
from gis.people.permissions import Actor
from gis.problems import workflow
from tests.conftest import BACKENDS, load_small_city, new_database_url

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif("postgis" not in BACKENDS, reason="gis move needs PostGIS (GRIDMAP_TEST_BACKENDS)")
TRICKY = "制表\t换行\n回车\r反斜杠\\ 和 \\N 字样"  # every character COPY's text format escapes
NOW = datetime(2026, 11, 20, 10, 0)
CHIEF = Actor("chief", "网格长", "T-01")


def _small_city(url: str) -> None:
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)


def _extras(engine) -> None:
    """Rows of tables the small city leaves empty, with booleans, dates, NULLs, a self-reference, odd text."""
    workflow.create_problem(engine, CHIEF, "暴露垃圾", "迁移前上报", 115.983, 36.447, now=NOW)
    with engine.begin() as conn:
        conn.execute(User.__table__.insert(), [
            {"username": "chief", "password_hash": "x", "role": "网格长", "grid_code": "T-01", "disabled": False,
             "failed_attempts": 0, "locked_until": None, "created_at": NOW},
            {"username": "gone", "password_hash": "y", "role": "网格员", "grid_code": None, "disabled": True,
             "failed_attempts": 3, "locked_until": datetime(2026, 11, 20, 10, 15, 30, 123456), "created_at": NOW}])
        conn.execute(AuditEntry.__table__.insert().values(at=NOW, actor="chief", action="test", detail=TRICKY))
        first = conn.execute(Card.__table__.insert().values(
            code="HP202611-001", target_kind="grid", target_code="T-01", color="黄", reason="连续两月黑榜",
            issued_by="命令行", issued_at=NOW, deadline=datetime(2026, 11, 27), step="限期整改", status="有效"))
        conn.execute(Card.__table__.insert().values(
            code="RP202611-001", target_kind="grid", target_code="T-01", color="红", reason="逾期未整改",
            issued_by="命令行", issued_at=NOW, deadline=datetime(2026, 11, 27), step="升级", status="有效",
            parent_id=first.inserted_primary_key[0]))
        conn.execute(StandardVersion.__table__.insert().values(
            code="1.1.1", valid_from=date(1900, 1, 1), valid_to=date(2026, 11, 1), points=2.5, negative=False,
            active=False))


@pytest.fixture(scope="module")
def source_url(tmp_path_factory) -> str:
    url = new_database_url("spatialite", tmp_path_factory, "movesrc")
    _small_city(url)
    _extras(get_engine(url))
    return url


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gis", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def _counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in Base.metadata.sorted_tables}


@pytest.fixture(scope="module")
def moved(source_url, tmp_path_factory):
    """The source moved by the real command line into a fresh PostGIS database: (target URL, the run)."""
    target = new_database_url("postgis", tmp_path_factory, "movedst")
    run = _cli("move", "--from", source_url, "--to", target)
    return target, run


def test_move_copies_every_table_and_checks_the_counts(source_url, moved):
    target, run = moved
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    source = _counts(source_url)
    assert source == _counts(target)
    for table in ("grids", "problems", "problem_events", "audit_log", "users", "cards", "standard_versions",
                  "inspections", "assignments"):
        assert source[table] > 0, table
    lines = run.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("表"))
    assert lines[header].split() == ["表", "源行数", "目标行数", "核对", "用时"]
    rows = {line.split()[0]: line.split() for line in lines[header + 2:header + 3 + len(source)]}
    for table, n in source.items():
        assert rows[table][1:4] == [f"{n:,}", f"{n:,}", "一致"], table
    assert rows["合计"][1:4] == [f"{sum(source.values()):,}"] * 2 + ["一致"]
    assert "总用时" in run.stdout and "ANALYZE" in run.stdout
    assert migrate.current(get_engine(target)) == migrate.current(get_engine(source_url)) == migrate.heads()


def _rows(url: str, table) -> list[tuple]:
    cols = [func.ST_AsBinary(c) if isinstance(c.type, Geometry) else c for c in table.columns]
    with get_engine(url).connect() as conn:
        rows = conn.execute(select(*cols)).all()
    out = [tuple(shapely.from_wkb(bytes(v)).wkb if isinstance(v, (bytes, memoryview)) else v for v in r) for r in rows]
    return sorted(out, key=lambda r: tuple(str(v) for v in r))


def test_values_ids_and_geometries_are_the_same(source_url, moved):
    target, _ = moved
    for table in Base.metadata.sorted_tables:  # every column typed: ids, datetimes, booleans, floats, WKB
        assert _rows(source_url, table) == _rows(target, table), table.name
    g = Grid.__table__
    wkt = select(g.c.code, func.ST_AsBinary(g.c.geom), func.ST_SRID(g.c.geom)).order_by(g.c.code)
    with get_engine(source_url).connect() as a, get_engine(target).connect() as b:
        src, dst = a.execute(wkt).all(), b.execute(wkt).all()
        assert b.execute(select(AuditEntry.detail).where(AuditEntry.action == "test")).scalar_one() == TRICKY
        assert b.execute(select(User.disabled, User.locked_until).where(User.username == "gone")).one() == (
            True, datetime(2026, 11, 20, 10, 15, 30, 123456))
        assert b.execute(text("SELECT data_type FROM information_schema.columns WHERE table_name = 'inspections' "
                              "AND column_name = 'inspected_on'")).scalar_one() == "date"
    assert [(c, shapely.from_wkb(bytes(w)).wkt, s) for c, w, s in src] == \
           [(c, shapely.from_wkb(bytes(w)).wkt, s) for c, w, s in dst]
    assert [s for *_, s in dst] == [4326] * 4
    assert shapely.from_wkb(bytes(dst[0][1])).wkt == "MULTIPOLYGON (((115.99 36.44, 115.99 36.45, 115.98 36.45, " \
                                                     "115.98 36.44, 115.99 36.44)))"


def _figures(url: str, capsys, month: str, as_of: str) -> dict:
    memo.clear_memo()
    assert main(["--database", url, "figures", "--month", month, "--as-of", as_of, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_figures_are_the_same_on_both(source_url, moved, capsys):
    target, _ = moved
    for month, as_of in (("2026-11", "2026-11-20T18:00"), ("2026-10", "2026-10-31")):
        before = _figures(source_url, capsys, month, as_of)
        assert before["city"]["立案数"] > 0
        assert _figures(target, capsys, month, as_of) == before, month


def test_refuses_a_target_that_holds_data(source_url, moved):
    target, _ = moved
    before = _counts(target)
    run = _cli("move", "--from", source_url, "--to", target)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "已有数据" in run.stderr and "只能迁移到空数据库" in run.stderr
    assert target.rsplit("/", 1)[1] in run.stderr  # names the database
    assert _counts(target) == before


def test_new_problems_after_the_move_get_the_next_ids(source_url, tmp_path_factory, capsys):
    target = new_database_url("postgis", tmp_path_factory, "movenext")
    assert main(["move", "--from", source_url, "--to", target]) == 0  # in process, as the other CLI tests
    assert "各表行数一致" in capsys.readouterr().out
    engine = get_engine(target)
    with engine.connect() as conn:
        last = {t: conn.execute(text(f"SELECT max(id) FROM {t}")).scalar_one() for t in ("problems", "problem_events",
                                                                                          "audit_log", "cards")}
    code = workflow.create_problem(engine, CHIEF, "暴露垃圾", "迁移后上报", 115.984, 36.446, now=NOW)["code"]
    with engine.begin() as conn:
        card = conn.execute(Card.__table__.insert().values(
            code="LP202611-001", target_kind="grid", target_code="T-02", color="绿", reason="连续红榜",
            issued_by="命令行", issued_at=NOW, deadline=NOW, step="签发", status="有效")).inserted_primary_key[0]
        assert conn.execute(text("SELECT id FROM problems WHERE code = :c"), {"c": code}).scalar_one() == last["problems"] + 1
        assert conn.execute(text("SELECT max(id) FROM problem_events")).scalar_one() == last["problem_events"] + 1
        assert conn.execute(text("SELECT max(id) FROM audit_log")).scalar_one() == last["audit_log"] + 1
    assert card == last["cards"] + 1
    # tables the source left empty start at 1
    with engine.begin() as conn:
        key = conn.execute(text("INSERT INTO api_keys (name, key_hash, created_at) VALUES ('12345', 'h', now()) "
                                "RETURNING id")).scalar_one()
    assert key == 1


def test_refuses_what_is_not_a_spatialite_to_postgis_move(source_url, tmp_path, capsys):
    not_pg = tmp_path / "copy.sqlite"
    assert main(["move", "--from", source_url, "--to", f"sqlite:///{not_pg}"]) == 2
    err = capsys.readouterr().err
    assert "不是 PostgreSQL" in err and str(not_pg) in err and not not_pg.exists()

    missing = tmp_path / "nothing.sqlite"
    assert main(["move", "--from", f"sqlite:///{missing}", "--to", "postgresql+psycopg://postgres@127.0.0.1:5432/x"]) == 2
    err = capsys.readouterr().err
    assert "源数据库文件不存在" in err and str(missing) in err and not missing.exists()

    assert main(["move", "--from", "postgresql+psycopg://postgres@127.0.0.1:5432/x", "--to",
                 "postgresql+psycopg://postgres@127.0.0.1:5432/y"]) == 2
    assert "不是 SpatiaLite" in capsys.readouterr().err

    nowhere = "postgresql+psycopg://postgres@127.0.0.1:1/gridmap"
    assert main(["move", "--from", source_url, "--to", nowhere]) == 2
    err = capsys.readouterr().err
    assert "无法连接目标数据库" in err and "127.0.0.1:1/gridmap" in err


def test_refuses_a_source_behind_the_newest_schema(tmp_path_factory, capsys):
    old = new_database_url("spatialite", tmp_path_factory, "moveold")
    migrate.upgrade(get_engine(old), "0015")
    target = new_database_url("postgis", tmp_path_factory, "moveold")
    assert main(["move", "--from", old, "--to", target]) == 2
    err = capsys.readouterr().err
    assert "0015" in err and "db upgrade" in err
    assert migrate.current(get_engine(target)) is None  # nothing created on the target


def test_a_failed_table_rolls_the_target_back_and_is_named(tmp_path_factory, capsys):
    bad = new_database_url("spatialite", tmp_path_factory, "movebad")
    _small_city(bad)
    with get_engine(bad).begin() as conn:  # SQLite keeps what PostgreSQL's varchar(16) refuses
        conn.execute(Inspection.__table__.update().where(Inspection.id == 1).values(standard_code="X" * 40))
    target = new_database_url("postgis", tmp_path_factory, "movebadto")
    assert main(["move", "--from", bad, "--to", target]) == 1
    err = capsys.readouterr().err
    assert "复制表 inspections 时失败" in err and "已回滚" in err
    assert set(_counts(target).values()) == {0}  # the migrated, empty schema and nothing else
    assert migrate.current(get_engine(target)) == migrate.heads()
