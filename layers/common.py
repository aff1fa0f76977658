"""Shared helpers for map layers: escaping user text, GeoJSON with tooltips.

Every string property is HTML-escaped before it reaches Leaflet: folium's tooltips and
popups insert property values as HTML, so a name like ``<img onerror=…>`` would run.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import folium
import geopandas as gpd
import pandas as pd
from folium.template import Template

# folium writes every map's data with Jinja's `tojson`, which spells each Chinese character as a 6-byte
# \uXXXX escape: a grid page's 1,000 problems came to 511 KB, 412 KB as UTF-8. The HTML-safe escaping of
# < > & ' stays (Jinja applies it after json.dumps). One environment serves every folium template.
Template("").environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}


def escape_text(value) -> object:
    """`value` HTML-escaped if it is a string; other values unchanged."""
    return html.escape(value, quote=True) if isinstance(value, str) else value


def escaped(gdf: gpd.GeoDataFrame, columns) -> gpd.GeoDataFrame:
    """`gdf` reduced to `columns` + geometry, with every text value escaped and NA as ''."""
    out = gdf[list(columns) + [gdf.geometry.name]].copy()
    for col in columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            out[col] = series.astype(float).round(2).astype(object).where(series.notna(), "")
        else:
            out[col] = series.astype(object).where(series.notna(), "").map(lambda v: escape_text(str(v)))
    return out


def geojson_layer(
    gdf: gpd.GeoDataFrame,
    name: str,
    style: Callable[[dict], dict],
    tooltip: Mapping[str, str] | None = None,
    popup: Mapping[str, str] | None = None,
    highlight: dict | None = None,
    properties: list[str] | None = None,
    show: bool = True,
    font_size: str = "14px",
) -> folium.GeoJson:
    """A GeoJSON layer whose features carry `properties` (and the tooltip/popup columns), escaped.

    `tooltip` / `popup` map column → Chinese label.
    """
    columns = list(dict.fromkeys([*(properties or []), *(tooltip or {}), *(popup or {})]))
    data = escaped(gdf, columns)
    tip = None
    if tooltip:
        tip = folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values()), sticky=True,
                                    style=f"font-size:{font_size};")
    pop = folium.GeoJsonPopup(fields=list(popup), aliases=list(popup.values())) if popup else None
    return folium.GeoJson(
        data.to_json(drop_id=True, ensure_ascii=False), name=name, style_function=style, tooltip=tip, popup=pop,
        highlight_function=(lambda _f: highlight) if highlight else None, show=show,
    )
