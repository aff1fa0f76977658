"""The demo city: counts, tiling, full responsibility coverage, determinism, the CLI and its files."""

from __future__ import annotations

import hashlib
from datetime import date

import pyogrio
import pytest
import shapely
from sqlalchemy import func, select, text

from gis.cli import main as cli

from gis.db import migrate
from gis.db.engine import get_engine
from gis.demo.build import build_demo
from gis.db.models import Base, Compound, Problem, Street, UrbanVillage
from gis.geo.queries import current_grids, layer_frame, responsibles
from tests.conftest import new_database_url

UNTIL = date(2026, 11, 20)


def database_digest(engine) -> str:
    """A hash of every row of every table (geometries as WKB), in primary-key order."""
    h = hashlib.sha256()
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            cols = [func.ST_AsBinary(c) if c.name == "geom" else c for c in table.columns]
            for row in conn.execute(select(*cols).order_by(*table.primary_key.columns)):
                h.update(repr(tuple(bytes(v) if isinstance(v, (bytes, memoryview)) else v for v in row)).encode())
    return h.hexdigest()


def test_demo_twice_gives_the_same_database(backend_name, tmp_path_factory):
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "twice"))
    build_demo(engine, n_problems=3000, seed=11, until=UNTIL, out_dir=None)
    first = database_digest(engine)
    build_demo(engine, n_problems=3000, seed=11, until=UNTIL, out_dir=None)
    assert database_digest(engine) == first
    build_demo(engine, n_problems=3000, seed=12, until=UNTIL, out_dir=None)
    assert database_digest(engine) != first


def test_cli_builds_into_the_database_and_writes_files(backend_name, tmp_path_factory, tmp_path, monkeypatch, capsys):
    url = new_database_url(backend_name, tmp_path_factory, "cli")
    monkeypatch.setattr("gis.demo.build.DEMO_DIR", tmp_path)
    assert cli.main(["--database", url, "demo", "--problems", "2000", "--until", "2026-11-20"]) == 0
    assert "示范城区已构建" in capsys.readouterr().out
    with get_engine(url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(Problem.__table__)).scalar() == 2000
        # the default categories' other names become aliases of the demo's own (issue 13): 违法建设 → 违章建筑
        from gis.db.models import CategoryAlias

        aliases = dict(conn.execute(select(CategoryAlias.alias, CategoryAlias.name)).all())
        assert aliases["违法建设"] == "违章建筑" and aliases["非法小广告"] == "小广告"
    for layer in ("grids", "streets", "compounds", "villages", "points", "problems"):
        shp = tmp_path / f"{layer}.shp"
        assert shp.with_suffix(".prj").is_file() and shp.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    assert pyogrio.read_info(tmp_path / "grids.shp")["crs"] == "EPSG:4326"
    names = {name for name, _ in pyogrio.list_layers(tmp_path / "dongchangfu_demo.gpkg")}
    assert {"grids", "streets", "compounds", "villages", "points", "problems"} <= names
    # --if-empty leaves a filled database alone.
    assert cli.main(["--database", url, "demo", "--if-empty", "--no-files"]) == 0
    assert "跳过" in capsys.readouterr().out


def test_cli_usage_errors_exit_2(capsys):
    assert cli.main(["demo", "--problems", "-5"]) == 2
    assert cli.main(["nonsense"]) == 2


@pytest.mark.slow
def test_full_demo_city(backend_name, tmp_path_factory):
    """The whole demo city (50,000 problems): counts, tiling, coverage, assignment."""
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "full"))
    build_demo(engine, until=UNTIL, out_dir=None)
    assert migrate.current(engine) == migrate.heads()
    grids = current_grids(engine)
    with engine.connect() as conn:
        count = lambda m: conn.execute(select(func.count()).select_from(m.__table__)).scalar()  # noqa: E731
        assert (len(grids), count(Street), count(Compound), count(UrbanVillage)) == (61, 142, 662, 54)
        assert conn.execute(text("SELECT count(DISTINCT kind) FROM points")).scalar() == 14
        assert conn.execute(text("SELECT count(*) FROM points")).scalar() >= 400
        assert count(Problem) == 50_000
        unassigned = conn.execute(select(func.count()).where(Problem.__table__.c.grid_id.is_(None))).scalar()
        statuses = {s for (s,) in conn.execute(text("SELECT DISTINCT status FROM problems"))}
    assert statuses == {"待派遣", "整改中", "待核查", "已结案"}
    assert unassigned < 0.01 * 50_000

    metric = grids.to_crs("EPSG:4548").geometry.to_numpy()
    union = shapely.union_all(metric)
    assert abs(union.area - sum(g.area for g in metric)) < 1.0  # no overlaps beyond 1 m² in total
    assert shapely.get_num_interior_rings(shapely.get_geometry(union, 0)) == 0 and union.geom_type == "Polygon"
    tree = shapely.STRtree(metric)
    a, b = tree.query(metric, predicate="intersects")
    pairs = a < b
    assert (shapely.area(shapely.intersection(metric[a[pairs]], metric[b[pairs]])) < 1.0).all()

    for kind, layer in (("grid", grids), ("street", layer_frame(engine, Street)),
                        ("compound", layer_frame(engine, Compound)), ("village", layer_frame(engine, UrbanVillage))):
        people = responsibles(engine, kind, roles=("帮包市级领导", "帮包县级领导", "网格长", "网格员", "责任单位"))
        assert set(layer["code"]) <= set(people.loc[people["role"] == "责任单位", "target_code"])
        assert set(layer["code"]) <= set(people.loc[people["role"] == "帮包县级领导", "target_code"])
        if kind == "grid":
            for role in ("帮包市级领导", "网格长", "网格员"):
                assert set(layer["code"]) <= set(people.loc[people["role"] == role, "target_code"])


def test_demo_never_reports_after_the_moment_it_is_built(backend_name, tmp_path_factory):
    """Issue 16 item 12: built at 06:15 (no --until), nothing is reported, fed back, rectified or verified
    later that day; each grid's 本月问题 tile agrees with its ledger; most grids have a sample (issue 12 §5)
    in November and October; the demo's 负面清单 events are confirmed, in past months, and count."""
    from datetime import datetime

    import time_machine

    from gis.metrics import negative, scores
    from gis.problems import ledger

    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "early"))
    at = datetime(2026, 11, 21, 6, 15)
    with time_machine.travel(at.astimezone(), tick=False):
        build_demo(engine, n_problems=4000, seed=5, out_dir=None)
        with engine.connect() as conn:
            latest = conn.execute(text(
                "SELECT max(reported_at), max(acknowledged_at), max(rectified_at), max(verified_at) FROM problems")).one()
            inspected = conn.execute(text("SELECT max(inspected_on) FROM inspections")).scalar()
        assert all(v is not None and datetime.fromisoformat(str(v)) <= at for v in latest), latest
        assert str(inspected) <= "2026-11-20"  # the 21st's inspections have not been done by 06:15
        nov = scores.monthly_scores(engine, date(2026, 11, 1), at).set_index("code")
        for code in ("DC-01", "DC-07", "DC-33"):
            month = ledger.ledger(engine, code, date_from=date(2026, 11, 1), date_to=date(2026, 11, 21), now=at)
            assert nov.at[code, "problems"] == len(month), code
        assert nov["ranked"].sum() >= 50  # a few grids may stay below GRIDMAP_MIN_INSPECTIONS
        october = scores.monthly_scores(engine, date(2026, 10, 1), at)
        assert october["ranked"].sum() >= 55
        events = negative.events(engine)
        assert events["status"].tolist() == ["已确认", "已确认"]
        assert [str(d)[:7] for d in events["occurred_on"]] == ["2026-10", "2026-09"]
        veto = events[events["effect"] == "否决"].iloc[0]
        sept = scores.monthly_scores(engine, date(2026, 9, 1), at).set_index("code")
        assert bool(sept.at[veto["grid_code"], "vetoed"]) and sept.at[veto["grid_code"], "rank"] == sept["rank"].max()
        assert not nov["vetoed"].any()
