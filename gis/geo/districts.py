"""The districts (区县) of one deployment, kept in the database (issue 17).

A city's 文明办 runs several districts in one deployment: each is a row of ``districts`` — its national
administrative code (行政区划代码, e.g. 371502), name, boundary (WGS84), the prefix of its grid codes
and the settings where it differs from the deployment's. Every area, problem, inspection, card and
negative-list event carries the ``district_code`` of the district it lies in, set when it is written
(`codes_at`); users are scoped by theirs (`gis.people.permissions.district_scope`).

`gis.geo.district` (singular) stays the one place that reads the deployment's *own* boundary file
(`gis init`, or the demo's 东昌府区): it becomes this registry's first row (`home_district`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, func, select, text

from gis.config import setting
from gis.db.models import District
from gis.db.store import bulk_insert
from gis.geo import district as own
from gis.geo.assign import NONE, Layer, points_in_polygons
from gis.geo.crs import METRIC_CRS, WGS84

#: Settings a district may set for itself (the rest are the deployment's): the 综合得分's colour thresholds,
#: the 测评 sample a grid needs to be ranked, the 应结案 cases a unit needs to be among the 十差单位.
DISTRICT_SETTINGS = ("GRIDMAP_SCORE_GREEN", "GRIDMAP_SCORE_YELLOW", "GRIDMAP_MIN_INSPECTIONS",
                     "GRIDMAP_UNIT_MIN_CASES")


class DistrictError(ValueError):
    """A district that cannot be added; the message is shown as is (Chinese)."""


@dataclass(frozen=True)
class DistrictSpec:
    """One district as written: code, name, grid-code prefix, WGS84 boundary, its own settings."""

    code: str
    name: str
    grid_prefix: str
    boundary: shapely.Geometry = field(compare=False)
    settings: dict = field(default_factory=dict, compare=False)


def home_district() -> DistrictSpec:
    """The deployment's own district: the boundary `gis init` set (or the demo's 东昌府区), its code
    from ``GRIDMAP_DISTRICT_CODE`` and grid prefix from ``GRIDMAP_GRID_PREFIX``."""
    return DistrictSpec(setting("GRIDMAP_DISTRICT_CODE"), own.district_name(), setting("GRIDMAP_GRID_PREFIX"),
                        own.district_boundary())


def check_spec(spec: DistrictSpec) -> None:
    """Raise DistrictError (Chinese, naming the field) unless `spec` can be written."""
    if not (spec.code.isdigit() and len(spec.code) == 6):
        raise DistrictError(f"区县代码“{spec.code}”无效：应为 6 位国家行政区划代码，例如 371502。")
    if not spec.name.strip():
        raise DistrictError(f"区县 {spec.code} 缺少名称。")
    if not (spec.grid_prefix.isascii() and spec.grid_prefix.isalnum() and 1 <= len(spec.grid_prefix) <= 8):
        raise DistrictError(f"区县 {spec.name} 的网格编码前缀“{spec.grid_prefix}”无效：应为 1–8 位字母或数字。")
    if spec.boundary is None or shapely.is_empty(spec.boundary) or \
            shapely.get_type_id(spec.boundary) not in (3, 6) or not shapely.is_valid(spec.boundary):
        raise DistrictError(f"区县 {spec.name} 的边界无效：应为有效的面（Polygon / MultiPolygon，WGS84）。")
    unknown = sorted(set(spec.settings) - set(DISTRICT_SETTINGS))
    if unknown:
        raise DistrictError(f"区县 {spec.name} 的设置 {'、'.join(unknown)} 不能按区县设置；可设置："
                            f"{'、'.join(DISTRICT_SETTINGS)}。")


def insert_district(conn: Connection, spec: DistrictSpec) -> None:
    """Write one district in the caller's transaction (checked first; its code and prefix must be new)."""
    check_spec(spec)
    t = District.__table__
    clash = conn.execute(select(t.c.code, t.c.name).where(
        (t.c.code == spec.code) | (t.c.grid_prefix == spec.grid_prefix))).first()
    if clash is not None:
        raise DistrictError(f"区县 {spec.code} {spec.name}：代码或网格编码前缀与已有的“{clash.name}”（{clash.code}）重复。")
    boundary = shapely.multipolygons(shapely.get_parts(spec.boundary)) if shapely.get_type_id(spec.boundary) == 3 \
        else spec.boundary
    row = pd.DataFrame({"code": [spec.code], "name": [spec.name], "grid_prefix": [spec.grid_prefix],
                        "settings": [json.dumps(spec.settings, ensure_ascii=False) if spec.settings else None]})
    bulk_insert(conn, t, row, [shapely.force_2d(boundary)])


def ensure_home(conn: Connection) -> str:
    """The home district's code, writing its row first when the deployment has no district yet."""
    first = conn.execute(select(District.__table__.c.code).order_by(District.__table__.c.id).limit(1)).scalar()
    if first is not None:
        return first
    home = home_district()
    insert_district(conn, home)
    return home.code


def district_table(conn: Connection | Engine) -> pd.DataFrame:
    """Every district, in the order they were added: code, name, grid_prefix, settings (dict). A
    deployment always has its own: when none is written yet, it is (`ensure_home`)."""
    t = District.__table__
    with _connected(conn, write=True) as c:
        ensure_home(c)
        rows = c.execute(select(t.c.code, t.c.name, t.c.grid_prefix, t.c.settings).order_by(t.c.id)).all()
    df = pd.DataFrame(rows, columns=["code", "name", "grid_prefix", "settings"])
    df["settings"] = [json.loads(s) if isinstance(s, str) and s else {} for s in df["settings"]]
    return df


def district_shapes(conn: Connection | Engine) -> gpd.GeoDataFrame:
    """Every district with its boundary (WGS84), in the order they were added."""
    t = District.__table__
    with _connected(conn, write=True) as c:
        ensure_home(c)
        rows = c.execute(select(t.c.id, t.c.code, t.c.name, func.ST_AsBinary(t.c.geom))).all()
    geoms = shapely.from_wkb([bytes(r[3]) for r in rows]) if rows else []
    return gpd.GeoDataFrame({"id": [r[0] for r in rows], "code": [r[1] for r in rows], "name": [r[2] for r in rows]},
                            geometry=list(geoms), crs=WGS84).sort_values("id").reset_index(drop=True)


def codes_at(conn: Connection, x, y) -> np.ndarray:
    """The code of the district each point (lon `x`, lat `y`, WGS84) lies in.

    A point in no district's boundary (a survey point just over the line, a problem reported on the
    boundary road) goes to the first district — the deployment's own — as before districts existed.
    With one district nothing is computed."""
    x = np.asarray(x, dtype=np.float64)
    shapes = district_shapes(conn)
    if len(shapes) == 1:
        return np.full(len(x), shapes["code"].iloc[0], dtype=object)
    ids = points_in_polygons(x, y, Layer.of(shapes["id"], shapes.geometry.to_numpy()))
    by_id = dict(zip(shapes["id"], shapes["code"]))
    first = shapes["code"].iloc[0]
    return np.array([by_id.get(i, first) if i != NONE else first for i in ids.tolist()], dtype=object)


def codes_of_shapes(conn: Connection, geoms) -> np.ndarray:
    """`codes_at` of each shape's representative point (an area lies in the district of its inside)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.array([], dtype=object)
    pts = shapely.point_on_surface(geoms)
    return codes_at(conn, shapely.get_x(pts), shapely.get_y(pts))


def find_district(conn: Connection | Engine, text: str | None) -> str | None:
    """The code of the district `text` names — its 6-digit code (371521) or its name (阳谷县) — or None."""
    wanted = (text or "").strip()
    if not wanted:
        return None
    table = district_table(conn)
    hit = table[(table["code"] == wanted) | (table["name"] == wanted)]
    return str(hit["code"].iloc[0]) if len(hit) else None


def named_district(conn: Connection | Engine, text: str | None, error: type[Exception] = ValueError) -> str | None:
    """The code of the district a command's `--district` names (code or name); None when none is given;
    `error` (in Chinese, listing the districts there are) when it names none."""
    if text is None or not text.strip():
        return None
    code = find_district(conn, text)
    if code is None:
        raise error(f"区县“{text.strip()}”不存在：可选 {district_names(conn)}（代码或名称）。")
    return code


def district_names(conn: Connection | Engine) -> str:
    """Every district as "371502 东昌府区、371521 阳谷县", for a message listing the choices."""
    return "、".join(f"{c} {n}" for c, n in district_table(conn)[["code", "name"]].itertuples(index=False))


def districts_with_margin(conn: Connection | Engine, margin_m: float, code: str | None = None) -> shapely.Geometry:
    """The districts' boundaries (only district `code`'s, when given) grown by `margin_m` metres (measured
    in EPSG:4548), as one prepared WGS84 geometry: where an import's rows may lie."""
    shapes = district_shapes(conn)
    if code is not None:
        shapes = shapes[shapes["code"] == code]
    grown = gpd.GeoSeries([shapely.union_all(shapes.geometry.to_numpy())], crs=WGS84).to_crs(METRIC_CRS).buffer(margin_m)
    area = grown.to_crs(WGS84).iloc[0]
    shapely.prepare(area)
    return area


def district_setting(settings: dict, name: str) -> str | None:
    """A setting as it holds in one district: its own value (`settings`, from `district_table`) else the deployment's."""
    if name not in DISTRICT_SETTINGS:
        raise ValueError(f"{name} is not a per-district setting")
    return settings.get(name) or setting(name)


class _connected:
    """`with _connected(engine_or_connection) as conn`: a connection either way (from an engine: a
    transaction, committed on success, when `write`), closed only if opened here."""

    def __init__(self, conn: Connection | Engine, write: bool = False):
        self.given, self.write, self.opened = conn, write, None

    def __enter__(self) -> Connection:
        if isinstance(self.given, Connection):
            return self.given
        self.opened = self.given.begin() if self.write else self.given.connect()
        return self.opened.__enter__()

    def __exit__(self, *exc) -> None:
        if self.opened is not None:
            self.opened.__exit__(*exc)


_AREA_TABLES = {"street": "streets", "compound": "compounds", "village": "villages", "point": "points"}


def district_of_target(conn: Connection, kind: str, code: str) -> str:
    """The district an accountable target (grid, street, compound, village, point, unit) belongs to.

    A grid or area has its own; a unit (责任单位) has none of its own and takes that of the first grid
    it answers for (帮包); anything else falls to the first district."""
    if kind == "grid":
        sql = "SELECT district_code FROM grids WHERE code = :c ORDER BY layer_id DESC LIMIT 1"
    elif kind in _AREA_TABLES:
        sql = f"SELECT district_code FROM {_AREA_TABLES[kind]} WHERE code = :c"
    elif kind == "unit":
        sql = ("SELECT g.district_code FROM assignments a JOIN units u ON u.id = a.unit_id "
               "JOIN grids g ON g.code = a.target_code WHERE a.target_kind = 'grid' AND u.code = :c "
               "ORDER BY g.layer_id DESC, a.id LIMIT 1")
    else:
        sql = None
    found = conn.execute(text(sql), {"c": code}).scalar() if sql else None
    return found or ensure_home(conn)


def district_units(conn: Connection, code: str) -> set[str]:
    """The codes of the units (责任单位) answering (帮包) for a grid, street, compound, village or point of district
    `code`: a unit has no district of its own, it works where its places are."""
    parts = " UNION ".join(
        f"SELECT a.unit_id FROM assignments a JOIN {table} x ON x.code = a.target_code "
        f"WHERE a.target_kind = '{kind}' AND x.district_code = :d AND a.unit_id IS NOT NULL"
        for kind, table in {"grid": "grids", **_AREA_TABLES}.items())
    sql = f"SELECT u.code FROM units u WHERE u.id IN ({parts})"
    return set(conn.execute(text(sql), {"d": code}).scalars())
