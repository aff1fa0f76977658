"""Grids coloured by their compliance score (得分等级 colours), with an HTML legend and big labels.

Pure: GeoDataFrame (+ thresholds) → folium elements. The legend is a Leaflet control drawn with
HTML/CSS (a branca ColorMap would pull d3 from a CDN). Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from layers.common import escape_text, geojson_layer
from layers.labels import MapLabels, map_labels

#: Fill per 得分等级 colour, readable on a dark background; NO_DATA for a grid without a score.
NO_DATA = "#64748b"
CARD_FILL = {"绿": "#22c55e", "黄": "#facc15", "红": "#ef4444", "灰": NO_DATA}  # 灰: 样本不足, no colour
HIGHLIGHT = {"weight": 5, "color": "#ffffff", "fillOpacity": 0.85}


def score_style(color_column: str = "color", line_color: str = "#0f172a"):
    def style(feature):
        fill = CARD_FILL.get(feature["properties"].get(color_column), NO_DATA)
        return {"fillColor": fill, "color": line_color, "weight": 2, "fillOpacity": 0.78}
    return style


def score_choropleth(gdf: gpd.GeoDataFrame, tooltip: Mapping[str, str], name: str = "综合得分",
                     color_column: str = "color", font_size: str = "22px") -> folium.GeoJson:
    """Grids filled by their 得分等级 colour (column `color_column`: 红/黄/绿), with a big tooltip."""
    return geojson_layer(gdf, name, score_style(color_column), tooltip=tooltip, highlight=HIGHLIGHT,
                         properties=["code", color_column], font_size=font_size)


def wall_labels(gdf: gpd.GeoDataFrame, title: str = "code", subtitle: str | None = None, font_size: int = 15,
                color: str = "#ffffff", halo: str = "#0b1220", selectable: bool = False) -> MapLabels:
    """Two-line labels at each grid's representative point: `title` (bold) over `subtitle`.

    Placed by layers/labels.py: inside the map, never overlapping; the first rows win when space is
    short (the page orders them), a subtitle is dropped before a title.
    """
    shadow = f"0 0 3px {halo},0 0 3px {halo},0 0 2px {halo}"
    css = (f".gm-wall-label{{font-size:{font_size}px;line-height:1.1;color:{color};font-weight:700;"
           f"text-shadow:{shadow}}}.gm-wall-label .gm-s{{font-size:{round(font_size * 0.85)}px;font-weight:500}}")
    return map_labels(gdf, title=title, subtitle=subtitle, css=css, cls="gm-wall-label", selectable=selectable)


class HtmlLegend(MacroElement):
    """A Leaflet control holding static HTML (the map's legend), added in the map's own script."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function() {
                var div = L.DomUtil.create('div', 'gm-legend');
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
    """)

    def __init__(self, html: str, position: str = "bottomleft"):
        super().__init__()
        self._name = "HtmlLegend"
        self.html = html
        self.position = position


def score_legend(green: float, yellow: float, title: str = "综合得分", font_size: int = 20,
                 position: str = "bottomleft") -> HtmlLegend:
    """The 得分等级 legend: 绿 ≥ green, 黄 ≥ yellow, 红 below; grey for no data."""
    def fmt(v: float) -> str:
        return f"{v:g}"

    rows = [("绿", CARD_FILL["绿"], f"≥ {fmt(green)}"), ("黄", CARD_FILL["黄"], f"{fmt(yellow)} – {fmt(green)}"),
            ("红", CARD_FILL["红"], f"&lt; {fmt(yellow)}"), ("灰", NO_DATA, "样本不足")]
    items = "".join(
        f'<div style="display:flex;align-items:center;gap:8px;margin:4px 0">'
        f'<span style="display:inline-block;width:26px;height:18px;background:{fill};border-radius:3px"></span>'
        f'<span>{label} {text}</span></div>' for label, fill, text in rows)
    html = (f'<div style="background:rgba(11,18,32,.88);color:#e2e8f0;padding:10px 14px;border-radius:8px;'
            f'font-size:{font_size}px;line-height:1.2;border:1px solid #334155">'
            f'<div style="font-weight:700;margin-bottom:4px">{escape_text(title)}</div>{items}</div>')
    return HtmlLegend(html, position)
