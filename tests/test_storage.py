"""The data model on both backends: migrations, the small city's contents, batch assignment."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, inspect, select

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Assignment, Compound, Grid, InspectionPoint, Problem, Street, UrbanVillage
from tests import smallcity
from tests.conftest import new_database_url


def test_migrations_up_and_down(backend_name, tmp_path_factory):
    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "mig"))
    assert migrate.current(engine) is None
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.heads()
    tables = set(inspect(engine).get_table_names())
    assert {"grids", "problems", "assignments", "grid_layers", "users", "audit_log"} <= tables
    migrate.downgrade(engine)
    assert migrate.current(engine) is None
    assert not {"grids", "problems"} & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    assert migrate.current(engine) == migrate.heads()


def _problem_areas(engine) -> pd.DataFrame:
    p, g, c, s, v = (m.__table__ for m in (Problem, Grid, Compound, Street, UrbanVillage))
    stmt = (select(p.c.code, g.c.code.label("grid"), c.c.code.label("compound"), s.c.code.label("street"), v.c.code.label("village"))
            .select_from(p.outerjoin(g, p.c.grid_id == g.c.id).outerjoin(c, p.c.compound_id == c.c.id)
                         .outerjoin(s, p.c.street_id == s.c.id).outerjoin(v, p.c.village_id == v.c.id)))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=["code", "grid", "compound", "street", "village"]).set_index("code")


def test_problems_get_their_areas_on_write(city_engine):
    areas = _problem_areas(city_engine).astype(object).where(lambda d: d.notna(), None)
    assert areas.loc["WT01"].tolist() == ["T-01", "XQ-0001", None, None]
    # 36.4431 is 11 m north of 双井街 (lat 36.443): nearest street within 30 m.
    assert areas.loc["WT02"].tolist() == ["T-01", None, "JX-003", None]
    assert areas.loc["WT07"].tolist() == ["T-02", None, None, "CZC-01"]
    assert areas.loc["WT08"].tolist() == ["T-04", "XQ-0002", None, None]


def test_points_on_shared_boundaries_go_to_the_lowest_grid_id(city_engine):
    areas = _problem_areas(city_engine)
    # WT05 lies on the T-01/T-02 edge; WT06 on the corner shared by all four grids.
    assert areas.loc["WT05", "grid"] == "T-01"
    assert areas.loc["WT06", "grid"] == "T-01"
    # Both also lie on a street (柳园路 / the 东昌路-柳园路 crossing): the lowest street id wins a tie.
    assert areas.loc["WT05", "street"] == "JX-002"
    assert areas.loc["WT06", "street"] == "JX-001"


def test_counts_and_responsibility_coverage(city_engine):
    city = smallcity.city()
    with city_engine.connect() as conn:
        for model, key in ((Grid, "grids"), (Street, "streets"), (Compound, "compounds"),
                           (UrbanVillage, "villages"), (InspectionPoint, "points"), (Problem, "problems")):
            assert conn.execute(select(func.count()).select_from(model.__table__)).scalar() == len(city[key])
        a = Assignment.__table__
        covered = set(conn.execute(select(a.c.target_kind, a.c.target_code).where(a.c.valid_to.is_(None))).all())
    for kind, key in (("grid", "grids"), ("street", "streets"), ("compound", "compounds"), ("village", "villages")):
        assert {(kind, code) for code in city[key]["code"]} <= covered


def test_inspection_points_store_their_grid(city_engine):
    p, g = InspectionPoint.__table__, Grid.__table__
    with city_engine.connect() as conn:
        rows = dict(conn.execute(select(p.c.code, g.c.code).join(g, p.c.grid_id == g.c.id)).all())
    # DW-0001 sits on 东昌路, the T-01/T-03 edge: lowest id wins.
    assert rows == {"DW-0001": "T-01", "DW-0002": "T-01", "DW-0003": "T-01", "DW-0004": "T-02", "DW-0005": "T-03", "DW-0006": "T-04"}


def test_geometries_round_trip_in_wgs84(city_engine):
    from gis.db.store import read_frame

    with city_engine.connect() as conn:
        grids = read_frame(conn, Grid.__table__)
        srid = conn.execute(select(func.ST_SRID(Grid.__table__.c.geom)).limit(1)).scalar()
    assert srid == 4326
    expected = smallcity.grids().set_index("code").geometry
    for code, geom in zip(grids["code"], grids.geometry):
        assert geom.equals(expected[code])
    # Areas are measured in metres (EPSG:4548): 0.01 deg x 0.01 deg at 36.45 N is about 0.99 km².
    assert grids["area_m2"].between(0.95e6, 1.05e6).all()


def test_bulk_insert_round_trips_awkward_text(city_rw):
    from datetime import datetime

    from gis.problems.writes import insert_problems

    nasty = ["制表\t符", "换行\n第二行\r\n", "反斜杠 \\ 与 \\N", "<img src=x onerror=alert(1)>", "", "'; DROP TABLE problems; --"]
    df = pd.DataFrame({
        "code": [f"X{i}" for i in range(len(nasty))], "category": "占道经营", "standard_code": "1.1.1",
        "description": nasty, "source": "暗访", "reporter": None,
        "reported_at": datetime(2026, 11, 19, 8), "deadline": datetime(2026, 11, 20, 8), "status": "待派遣",
        "unit_code": None, "acknowledged_at": None, "rectified_at": None, "verified_at": None,
        "rework_count": 0, "deduction": 1.5, "lon": 115.985, "lat": 36.445,
    })
    with city_rw.begin() as conn:
        assert insert_problems(conn, df) == len(nasty)
    with city_rw.connect() as conn:
        rows = dict(conn.execute(select(Problem.code, Problem.description).where(Problem.code.like("X%"))).all())
        reporter = conn.execute(select(Problem.reporter).where(Problem.code == "X0")).scalar()
    assert [rows[f"X{i}"] for i in range(len(nasty))] == nasty
    assert reporter is None
