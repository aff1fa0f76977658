"""Grid (网格) layers: outlines coloured by a category or a value, with code labels."""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd

from layers.common import geojson_layer
from layers.labels import MapLabels, map_labels

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


def grid_labels(gdf: gpd.GeoDataFrame, column: str = "code", font_size: int = 12, color: str = "#1e293b", halo: str = "#ffffff",
                selectable: bool = False) -> MapLabels:
    """Code labels at each grid's representative point, kept inside the map and apart (layers/labels.py).

    `selectable`: a click on a label selects its grid (as a click on its fill would); otherwise clicks
    go through to the map. Rows keep their order as the labels' priority.
    """
    css = (f".gm-label{{font-size:{font_size}px;font-weight:600;color:{color};"
           f"text-shadow:0 0 3px {halo},0 0 3px {halo}}}")
    return map_labels(gdf, title=column, code="code" if "code" in gdf.columns else column, css=css,
                      cls="gm-label", selectable=selectable)
