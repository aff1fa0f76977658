"""Grid (网格) layers: outlines coloured by a category or a value, with code labels."""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd

from layers.common import escape_text, geojson_layer

# Twelve distinguishable fills for sub-districts (colour-blind-safe-ish, readable on light and dark).
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948",
           "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#86bcb6", "#d37295")
HIGHLIGHT = {"weight": 4, "color": "#ffd400", "fillOpacity": 0.55}


def category_colors(values) -> dict[str, str]:
    """A stable colour for each distinct value (sorted), cycling through PALETTE."""
    return {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(sorted(set(values)))}


def grids_by_category(gdf: gpd.GeoDataFrame, column: str, tooltip: Mapping[str, str],
                      name: str = "网格", line_color: str = "#334155") -> folium.GeoJson:
    """Grids filled by the category in `column` (e.g. sub-district), with a tooltip."""
    colors = category_colors(gdf[column].astype(str))

    def style(feature):
        return {"fillColor": colors.get(feature["properties"][column], "#999999"), "color": line_color,
                "weight": 1.5, "fillOpacity": 0.35}

    return geojson_layer(gdf, name, style, tooltip=tooltip, highlight=HIGHLIGHT, properties=["code", column])


def grid_labels(gdf: gpd.GeoDataFrame, column: str = "code", name: str = "网格编号",
                font_size: int = 12, color: str = "#1e293b", halo: str = "#ffffff") -> folium.FeatureGroup:
    """Text labels at each grid's representative point (inside the polygon)."""
    group = folium.FeatureGroup(name=name, show=True)
    gdf = gdf[~(gdf.geometry.is_empty | gdf.geometry.isna())]
    points = gdf.geometry.representative_point()
    style = (f"font-size:{font_size}px;font-weight:600;color:{color};white-space:nowrap;"
             f"text-shadow:0 0 3px {halo},0 0 3px {halo};transform:translate(-50%,-50%);")
    for text, pt in zip(gdf[column].astype(str), points):
        folium.Marker(
            [pt.y, pt.x],
            icon=folium.DivIcon(html=f'<div class="gm-label" style="{style}">{escape_text(text)}</div>', icon_size=(0, 0)),
        ).add_to(group)
    return group
