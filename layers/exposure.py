"""The 曝光台's map layer: exposed problems as numbered red markers (pure: a frame in, a folium layer out)."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from layers.common import geojson_layer

STATE_COLORS = {"超期未改": "#dc2626", "整改中": "#f59e0b", "已整改": "#16a34a"}


def exposed_problems(df: pd.DataFrame, name: str = "曝光问题") -> folium.GeoJson:
    """Exposed problems (columns code, category, unit, state, deadline_text, lon, lat) as circles
    coloured by state, with a tooltip; every text is escaped."""
    gdf = gpd.GeoDataFrame(df.assign(kind="exposure"), geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                           crs="EPSG:4326")

    def style(feature):
        color = STATE_COLORS.get(feature["properties"].get("state"), "#64748b")
        return {"fill": True, "fillColor": color, "fillOpacity": 0.9, "color": "#ffffff", "weight": 2, "radius": 9}

    layer = geojson_layer(gdf, name, style, tooltip={"code": "编号", "category": "类型", "unit": "责任单位",
                                                    "state": "状态", "deadline_text": "整改时限"},
                          properties=["kind", "code"], font_size="16px")
    layer.marker = folium.CircleMarker()
    return layer
