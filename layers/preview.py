"""Preview of a file about to be imported: its features drawn over the map, tooltips escaped.

Pure: a GeoDataFrame (WGS84) in, a folium layer out. Points are small circles (no icon images),
lines and polygons a bright outline, so the preview stands out from the grids beneath it.
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd

from layers.common import escaped, geojson_layer

COLOR = "#e8590c"


def preview_layer(gdf: gpd.GeoDataFrame, tooltip: Mapping[str, str], name: str = "待导入") -> folium.GeoJson:
    """The features of `gdf` in orange, with `tooltip` (column → label)."""
    if len(gdf) and (gdf.geom_type == "Point").all():
        data = escaped(gdf, list(tooltip))
        tip = folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values()), sticky=True)
        return folium.GeoJson(
            data.to_json(drop_id=True, ensure_ascii=False), name=name, tooltip=tip,
            marker=folium.CircleMarker(radius=5, weight=1, color="#ffffff", fill=True, fill_opacity=0.9),
            style_function=lambda _f: {"fillColor": COLOR, "color": "#7c2d12", "weight": 1, "radius": 5},
        )

    def style(_feature):
        return {"color": COLOR, "weight": 2.5, "fillColor": COLOR, "fillOpacity": 0.15}

    return geojson_layer(gdf, name, style, tooltip=dict(tooltip), highlight={"weight": 4, "fillOpacity": 0.35})
