"""Shared helpers for map layers: escaping user text, GeoJSON with tooltips.

Every string property is HTML-escaped before it reaches Leaflet: folium's tooltips and
popups insert property values as HTML, so a name like ``<img onerror=…>`` would run.

branca renders each map element's template and then hands the output to ``Element(text)``, which compiles
it as a Jinja template again: the data inside (a problem's description, an area's name) was read as
template code on the server (``{{ this.__init__.__globals__ }}`` in a description ran when the grid page
drew its map; ``{% endif %}`` broke the page), and compiling the 400 KB of a grid's map took a quarter of
the page's time. `MacroElement.render` is replaced here by the same steps keeping the output as text.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping

import folium
import geopandas as gpd
import pandas as pd
import shapely.geometry
from branca.element import Element, Figure, MacroElement
from folium.template import Template

# folium writes every map's data with Jinja's `tojson`, which spells each Chinese character as a 6-byte
# \uXXXX escape: a grid page's 1,000 problems came to 511 KB, 412 KB as UTF-8. The HTML-safe escaping of
# < > & ' stays (Jinja applies it after json.dumps). One environment serves every folium template.
Template("").environment.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}


class RenderedText(Element):
    """Output a template has already produced, put into the page as it is: never read as a template again."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "RenderedText"
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


def _render_macro(self: MacroElement, **kwargs) -> None:
    """branca's ``MacroElement.render`` (0.8), with the rendered header, html and script kept as text."""
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("只能在地图（Figure）中绘制图层元素。")
    macros = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = macros.get(part)
        if macro is not None:
            getattr(figure, part).add_child(RenderedText(macro(self, kwargs)), name=self.get_name())
    for element in self._children.values():
        element.render(**kwargs)


MacroElement.render = _render_macro


def escape_text(value) -> object:
    """`value` HTML-escaped if it is a string; other values unchanged."""
    return html.escape(value, quote=True) if isinstance(value, str) else value


def escaped(gdf: gpd.GeoDataFrame, columns) -> gpd.GeoDataFrame:
    """`gdf` reduced to `columns` + geometry, with every text value escaped and NA as '' (`_cell_texts`)."""
    out = gdf[list(columns) + [gdf.geometry.name]].copy()
    for col in columns:
        out[col] = pd.Series(_cell_texts(gdf[col]), index=gdf.index, dtype=object)
    return out


def _cell_texts(series: pd.Series) -> list:
    """A column's values as map properties: numbers rounded to 2 places, text HTML-escaped, NA as ''. A plain
    list: per-cell access to pandas' Arrow-backed strings cost more than the escaping."""
    values, missing = series.tolist(), series.isna().tolist()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return ["" if gap else round(float(v), 2) for v, gap in zip(values, missing)]
    return ["" if gap else html.escape(str(v), quote=True) for v, gap in zip(values, missing)]


def feature_collection(gdf: gpd.GeoDataFrame, columns) -> dict:
    """`gdf` as a GeoJSON FeatureCollection (a dict) carrying `columns` as `escaped` writes them.

    Built from whole columns at once: GeoDataFrame.to_json read each cell through pandas, and a grid's map
    (a thousand problems, its areas, the other grids) spent most of its build time there.
    """
    columns = list(columns)
    shapes = [None if g is None or g.is_empty else shapely.geometry.mapping(g) for g in gdf.geometry.values]
    rows = zip(*(_cell_texts(gdf[c]) for c in columns)) if columns else ((),) * len(gdf)
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": dict(zip(columns, row)), "geometry": shape}
                         for row, shape in zip(rows, shapes)]}


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
    tip = None
    if tooltip:
        tip = folium.GeoJsonTooltip(fields=list(tooltip), aliases=list(tooltip.values()), sticky=True,
                                    style=f"font-size:{font_size};")
    pop = folium.GeoJsonPopup(fields=list(popup), aliases=list(popup.values())) if popup else None
    return folium.GeoJson(
        feature_collection(gdf, columns), name=name, style_function=style, tooltip=tip, popup=pop,
        highlight_function=(lambda _f: highlight) if highlight else None, show=show,
    )
