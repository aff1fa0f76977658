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
                    areas: dict[str, gpd.GeoDataFrame], problems: pd.DataFrame, star: pd.DataFrame,
                    display: Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame] = lambda frame: frame) -> folium.Map:
    """Add every layer of one grid's map to `m` (and a layer control).

    Frames are WGS84; `problems` and `star` (the open problem, zero or one row) are ledger rows with
    ``lon`` / ``lat``; `display` turns a frame into the basemap's datum (e.g. GCJ-02).
    """
    grid, others, problems, star = display(grid), display(others), display(_points(problems)), display(_points(star))
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
    for row in star.itertuples():
        folium.Marker([row.geometry.y, row.geometry.x], tooltip=f"当前问题 {escape_text(row.code)}",
                      icon=folium.Icon(icon="star", prefix="fa", color="red")).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
