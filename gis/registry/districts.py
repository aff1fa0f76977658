"""The 市文明办's edits of the districts registry (区县, issue 17): add a district with its boundary, and set
the settings where it differs from the deployment's (score thresholds, the 测评 sample, the 十差单位 minimum).

Only a city-level 管理员 (no district of their own) may: a district's administrator manages their own
district's users and data, not the city's map of districts. Bad input is refused with a Chinese message
naming the field; the change and its audit entry are written in one transaction.
"""

from __future__ import annotations

import json
import pandas as pd
import shapely
from sqlalchemy import Engine, func, select

from gis.config import SETTINGS
from gis.db.models import District, Grid, Problem
from gis.geo.areas import current_layer_id
from gis.geo.districts import DISTRICT_SETTINGS, DistrictError, DistrictSpec, district_table, insert_district
from gis.people import audit
from gis.people.permissions import Actor, PermissionDenied, district_scope, require


def _require_city_admin(actor: Actor) -> None:
    require(actor, "district.manage")
    if district_scope(actor) is not None:
        raise PermissionDenied(f"无权操作：区县的设置只能由市级管理员修改（您的账户属于区县 {actor.district_code}）。")


def check_settings(name: str, settings: dict[str, str]) -> dict[str, str]:
    """`settings` checked as the deployment's own are (gis.config): only DISTRICT_SETTINGS, each valid."""
    for key, raw in settings.items():
        if key not in DISTRICT_SETTINGS:
            raise DistrictError(f"区县 {name} 的设置 {key} 不能按区县设置；可设置：{'、'.join(DISTRICT_SETTINGS)}。")
        check = SETTINGS[key].check
        why = check(str(raw)) if check else None
        if why:
            raise DistrictError(f"区县 {name} 的设置 {key}=“{raw}”无效：{why}。")
    green = float(settings.get("GRIDMAP_SCORE_GREEN", SETTINGS["GRIDMAP_SCORE_GREEN"].default))
    yellow = float(settings.get("GRIDMAP_SCORE_YELLOW", SETTINGS["GRIDMAP_SCORE_YELLOW"].default))
    if yellow > green:
        raise DistrictError(f"区县 {name} 的 GRIDMAP_SCORE_YELLOW（{yellow:g}）不能大于 GRIDMAP_SCORE_GREEN（{green:g}）。")
    return {k: str(v) for k, v in settings.items()}


def add_district(engine: Engine, actor: Actor, code: str, name: str, grid_prefix: str, boundary: shapely.Geometry,
                 settings: dict[str, str] | None = None) -> None:
    """Add a district with its WGS84 `boundary` (read from a file by `gis.io.first_run.read_boundary`, as for
    `gis init`). DistrictError (Chinese) on bad input; nothing is written then."""
    _require_city_admin(actor)
    spec = DistrictSpec((code or "").strip(), (name or "").strip(), (grid_prefix or "").strip(), boundary,
                        check_settings(name, settings or {}))
    with engine.begin() as conn:
        district_table(conn)  # the deployment's own district comes first
        insert_district(conn, spec)
        audit.record(conn, actor, "district.add", "district", spec.code,
                     {"name": spec.name, "prefix": spec.grid_prefix, "settings": spec.settings}, district=spec.code)


def set_settings(engine: Engine, actor: Actor, code: str, changes: dict[str, str]) -> dict[str, str]:
    """Set (a value) or clear (an empty value) a district's own settings; returns them as they now are."""
    _require_city_admin(actor)
    t = District.__table__
    with engine.begin() as conn:
        row = conn.execute(select(t.c.id, t.c.name, t.c.settings).where(t.c.code == code)).first()
        if row is None:
            raise DistrictError(f"区县“{code}”不存在。")
        now = json.loads(row.settings) if row.settings else {}
        for key, value in changes.items():
            if str(value).strip():
                now[key] = str(value).strip()
            else:
                now.pop(key, None)
        now = check_settings(row.name, now)
        conn.execute(t.update().where(t.c.id == row.id).values(settings=json.dumps(now, ensure_ascii=False) if now else None))
        audit.record(conn, actor, "district.settings", "district", code, {"changes": changes, "now": now}, district=code)
    return now


def district_list(engine: Engine) -> pd.DataFrame:
    """Every district with its grids (current layer) and problems: code, name, grid_prefix, settings, grids, problems."""
    table = district_table(engine)
    g, p = Grid.__table__, Problem.__table__
    with engine.connect() as conn:
        layer = current_layer_id(conn)
        grids = dict(conn.execute(select(g.c.district_code, func.count()).where(g.c.layer_id == layer)
                                  .group_by(g.c.district_code)).all()) if layer else {}
        problems = dict(conn.execute(select(p.c.district_code, func.count()).group_by(p.c.district_code)).all())
    return table.assign(grids=table["code"].map(grids).fillna(0).astype("int64"),
                        problems=table["code"].map(problems).fillna(0).astype("int64"))
