"""A new city's first run without the demo (`python -m gis init`, or 初始化 on the sign-in page of an empty system).

`init_city` sets the district (its boundary file → `gis.geo.district.save_district`), creates the first
管理员 (`gis.people.auth.add_first_admin`: only while there is no user at all) and loads the default 问题类型
(`gis.problems.categories.load_defaults`). Each step that finds its thing already there says so and changes
nothing, so running it twice is safe. Bad input (an unreadable or non-polygonal boundary, a short password)
is refused before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import Engine

from gis.geo import district
from gis.io import InputError, readers
from gis.io import crs as crsmod
from gis.people import audit, auth
from gis.people.permissions import Actor
from gis.problems import categories

MAX_NAME = 20


@dataclass
class InitResult:
    lines: list[str] = field(default_factory=list)  # what was done or found, in Chinese, in order
    password: str | None = None  # the first administrator's password when it was generated here
    admin: str | None = None  # the administrator created (None: users existed)
    changed: bool = False


def read_boundary(path: str | Path, coords: str = "wgs84", layer: str | None = None) -> tuple[shapely.Geometry, str]:
    """The district polygon in WGS84 from a boundary file (GeoJSON, Shapefile, GeoPackage; several features
    are merged), and a note on the CRS. Raises InputError (Chinese) when it is not a usable boundary."""
    if coords not in crsmod.COORD_SYSTEMS:
        raise InputError(f"未知的坐标来源“{coords}”：可选 wgs84、gcj02、bd09。")
    src = readers.read(path, layer=layer)
    if src.table or src.geoms is None or len(src.geoms) == 0:
        raise InputError(f"{src.name} 中没有几何：辖区边界应为面（Shapefile、GeoJSON 或 GeoPackage）。")
    geoms = shapely.force_2d(src.geoms)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    polys = geoms[np.isin(shapely.get_type_id(geoms), (3, 6))]
    if len(polys) == 0:
        raise InputError(f"{src.name} 中没有面要素：辖区边界应为面（Polygon / MultiPolygon）。")
    b = shapely.bounds(polys)
    choice = crsmod.choose(src.crs, src.crs_how, None, (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2)
    wgs = crsmod.geoms_to_wgs84(polys, choice.crs, coords)
    boundary = shapely.union_all(shapely.make_valid(wgs))
    x0, y0, x1, y1 = shapely.bounds(boundary)
    if not (73 <= x0 and x1 <= 136 and 3 <= y0 and y1 <= 54):
        raise InputError(f"{src.name} 的边界换算为经纬度后不在中国境内（{x0:.3f}–{x1:.3f}, {y0:.3f}–{y1:.3f}）："
                         "请检查坐标系（.prj）与 --coords。")
    if boundary.geom_type not in ("Polygon", "MultiPolygon"):
        boundary = shapely.union_all([g for g in shapely.get_parts(boundary) if g.geom_type == "Polygon"])
    note = choice.note + (f"坐标来源：{crsmod.COORD_LABELS[coords]}，已转换为 WGS84。" if coords != "wgs84" else "")
    return boundary, note


def init_city(engine: Engine, name: str, boundary: str | Path | None = None, coords: str = "wgs84",
              admin: str = "admin", password: str | None = None, via: str = "命令行",
              only_without_users: bool = False) -> InitResult:
    """Set the district, create the first 管理员, load the default categories (see the module doc).

    `only_without_users` (the sign-in page's 初始化, reachable signed out): refuse everything unless there
    is no user at all — and create the administrator first, so a second person racing the first changes
    nothing either."""
    out = InitResult()
    if only_without_users and auth.user_count(engine) > 0:
        raise InputError("系统中已有用户：初始化只能在没有任何用户时进行，请登录。")
    name = (name or "").strip()
    have_district = district.custom_district()
    geom = None
    if not have_district:
        if not name or len(name) > MAX_NAME:
            raise InputError(f"请给出辖区名称（1–{MAX_NAME} 字），如 --name 东昌府区。")
        if boundary is None:
            raise InputError("请给出辖区边界文件（--boundary FILE，Shapefile、GeoJSON 或 GeoPackage）。")
        geom, note = read_boundary(boundary, coords)
        out.lines.append(f"辖区边界：{Path(boundary).name}，{note}")
    if password is not None:
        try:
            auth.check_password(password)  # refused before anything is written
        except auth.AuthError as exc:
            raise InputError(str(exc)) from exc
    if auth.user_count(engine) == 0:
        try:
            out.password = auth.add_first_admin(engine, admin, password, via=via)
            out.admin = admin
            out.changed = True
            out.lines.append(f"已创建管理员“{admin}”。")
        except auth.AuthError as exc:
            if auth.user_count(engine) == 0 or only_without_users:
                raise InputError(str(exc)) from exc
            out.lines.append("已有用户（刚由他人创建），未创建管理员。")
    else:
        out.lines.append(f"已有用户（{len(auth.list_users(engine))} 个），未创建管理员；请用已有的管理员账户登录。")
    with engine.begin() as conn:
        inserted, existing = categories.load_defaults(conn)
        if inserted:
            audit.record(conn, Actor.system(via), "city.categories", "category", None,
                         {"inserted": inserted, "file": categories.DEFAULTS_FILE.name})
    if inserted:
        out.changed = True
        out.lines.append(f"已载入默认问题类型 {inserted} 个（数字城管分类，含别名）。")
    else:
        out.lines.append(f"默认问题类型已存在（{existing} 个），未更改。")
    if have_district:
        out.lines.append(f"辖区已设置为“{district.district_name()}”（{district.district_file()}），未更改。")
    else:
        path = district.save_district(name, geom)
        with engine.begin() as conn:
            audit.record(conn, Actor.system(via), "city.district", "district", name[:64], {"file": str(path)})
        out.changed = True
        out.lines.append(f"已设置辖区“{name}”：{path}")
    return out
