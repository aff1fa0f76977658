"""Read queries shared by pages and the CLI: the current grids, summary counts, responsibility.

Plain values and GeoDataFrames in, plain values and GeoDataFrames out; no Streamlit here.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine, and_, func, select

from gis.geo.areas import current_layer_id
from gis.db.models import (
    OPEN_STATUSES, Assignment, Compound, Grid, InspectionPoint, Person, Problem, Street, Unit, UrbanVillage,
)
from gis.db.store import read_frame

GRID_ROLES = ("帮包市级领导", "帮包县级领导", "网格长")


def current_grids(engine: Engine, district: str | None = None) -> gpd.GeoDataFrame:
    """The grids of the layer in force (of `district`, 区县, when given): id, code, name, subdistrict,
    area_m2, district_code, geometry."""
    g = Grid.__table__
    with engine.connect() as conn:
        layer_id = current_layer_id(conn)
        where = g.c.layer_id == layer_id if district is None else and_(g.c.layer_id == layer_id, g.c.district_code == district)
        return read_frame(conn, g, where, ["id", "code", "name", "subdistrict", "area_m2", "district_code"])


def layer_frame(engine: Engine, model) -> gpd.GeoDataFrame:
    """A whole area layer (streets, compounds, villages or points) as a GeoDataFrame."""
    with engine.connect() as conn:
        return read_frame(conn, model.__table__)


def city_counts(engine: Engine, district: str | None = None) -> dict[str, int]:
    """How many grids (current layer), streets, compounds, villages, points, problems and open problems
    (of `district`, 区县, when given)."""
    g = Grid.__table__
    with engine.connect() as conn:
        layer_id = current_layer_id(conn)

        def count(model, *where) -> int:
            t = model.__table__
            if district is not None:
                where = (*where, t.c.district_code == district)
            return conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()

        p = Problem.__table__
        return {
            "grids": count(Grid, g.c.layer_id == layer_id),
            "streets": count(Street),
            "compounds": count(Compound),
            "villages": count(UrbanVillage),
            "points": count(InspectionPoint),
            "problems": count(Problem),
            "open_problems": count(Problem, p.c.status.in_(OPEN_STATUSES)),
        }


def responsibles(engine: Engine, target_kind: str, roles=GRID_ROLES) -> pd.DataFrame:
    """Current assignments of one kind of area: target_code, role, person, title, unit, phone.

    For 责任单位 rows the person columns are empty and the unit's phone is given.
    """
    a, p, u = Assignment.__table__, Person.__table__, Unit.__table__
    stmt = (select(a.c.target_code, a.c.role, p.c.name.label("person"), p.c.title, u.c.name.label("unit"),
                   func.coalesce(p.c.phone, u.c.phone).label("phone"))
            .select_from(a.outerjoin(p, a.c.person_id == p.c.id).outerjoin(u, a.c.unit_id == u.c.id))
            .where(a.c.target_kind == target_kind, a.c.valid_to.is_(None), a.c.role.in_(roles))
            .order_by(a.c.target_code, a.c.role, a.c.id))
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=["target_code", "role", "person", "title", "unit", "phone"])


def grid_leaders(engine: Engine) -> pd.DataFrame:
    """One row per current grid code: its 帮包市级领导, 帮包县级领导 and 网格长 with phones."""
    rows = responsibles(engine, "grid", GRID_ROLES).drop_duplicates(["target_code", "role"])
    wide = rows.pivot(index="target_code", columns="role", values=["person", "phone"])
    wide.columns = [f"{role}{'电话' if what == 'phone' else ''}" for what, role in wide.columns]
    return wide.reset_index().rename(columns={"target_code": "code"})
