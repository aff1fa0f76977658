"""The 网格详情 map's layers: the other grids (click to go there), the grid's outline, its urban villages,
compounds, streets and inspection points, its problems (open on top) and a star on the open problem.

Pure: GeoDataFrames in (already in the basemap's datum), folium elements added to a map; no gis/, no
Streamlit. Area and problem features carry ``kind`` and ``code`` so that a click says what was hit.
"""

from __future__ import annotations

from typing import Callable

import folium
import geopandas as gpd
import pandas as pd

from layers import areas as area_layers
from layers.common import escape_text, geojson_layer


def _points(df: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def add_grid_detail(m: folium.Map, grid: gpd.GeoDataFrame, others: gpd.GeoDataFrame,
                    areas: dict[str, gpd.GeoDataFrame], problems: pd.DataFrame, star: pd.DataFrame | None,
                    display: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] = lambda frame: frame) -> folium.Map:
    """Add every layer of one grid's map to `m` (and a layer control).

    Frames are WGS84; `problems` and `star` (the open problem, zero or one row) are ledger rows with
    ``lon`` / ``lat``; `display` turns a frame into the basemap's datum (e.g. GCJ-02). A page that
    opens problems on a map it keeps passes ``star=None`` and sends `star_group` beside the map instead
    (st_folium's ``feature_group_to_add``): opening a problem then does not rebuild the map.
    """
    grid, others, problems = display(grid), display(others), display(_points(problems))
    star = display(_points(star)) if star is not None else None
    areas = {kind: display(frame) for kind, frame in areas.items()}
    geojson_layer(others.assign(kind="grid"), "其他网格（点击进入）",
                  lambda _f: {"color": "#94a3b8", "weight": 1, "fillOpacity": 0.04},
                  tooltip={"code": "网格编号", "name": "网格名称"}, properties=["kind", "code"],
                  highlight={"weight": 3, "color": "#ffd400", "fillOpacity": 0.15}).add_to(m)
    area_layers.grid_outline(grid).add_to(m)
    if len(areas["village"]):
        area_layers.area_polygons(areas["village"], "village", "城中村", {"name": "城中村", "households": "户数"}).add_to(m)
    if len(areas["compound"]):
        area_layers.area_polygons(areas["compound"], "compound", "小区",
                                  {"name": "小区", "households": "户数", "property_company": "物业"}).add_to(m)
    if len(areas["street"]):
        area_layers.streets(areas["street"]).add_to(m)
    if len(areas["point"]):
        area_layers.inspection_points(areas["point"], show=False).add_to(m)
    if len(problems):
        on_top = problems.sort_values("status", key=lambda s: s.eq("已结案"), ascending=False, kind="stable")
        area_layers.problems(on_top, name=f"问题（{len(problems):,}）").add_to(m)
    if star is not None:
        for marker in star_markers(star):
            marker.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def star_markers(star: gpd.GeoDataFrame) -> list[folium.Marker]:
    """A red star on each row of `star` (points in the basemap's datum), its code in the tooltip."""
    return [folium.Marker([row.geometry.y, row.geometry.x], tooltip=f"当前问题 {escape_text(row.code)}",
                          icon=folium.Icon(icon="star", prefix="fa", color="red")) for row in star.itertuples()]


def star_group(star: pd.DataFrame, display: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] = lambda frame: frame
               ) -> folium.FeatureGroup:
    """The open problem's star as its own layer (empty when no problem is open), for ``feature_group_to_add``."""
    group = folium.FeatureGroup(name="当前问题", control=False)
    for marker in star_markers(display(_points(star))):
        marker.add_to(group)
    return group
