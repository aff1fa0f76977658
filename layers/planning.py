"""Map layers of the planning page (网格规划): the candidate grids, check issues, the Draw tools.

Pure: GeoDataFrames in, folium elements out (no gis/, no Streamlit). Every text shown is escaped.
"""

from __future__ import annotations

import json

import folium
import geopandas as gpd
from branca.element import MacroElement
from folium.plugins import Draw
from folium.template import Template

from layers.common import escape_text, geojson_layer

CHANGED_COLOR = "#f28e2b"
GRID_COLOR = "#4e79a7"
ISSUE_COLORS = {"错误": "#d62728", "警告": "#e6a100"}
AREA_COLORS = {"overlap": "#d62728", "gap": "#9467bd", "outside": "#8c564b", "multipart": "#e6a100",
               "compound_split": "#e6a100", "village_split": "#e6a100"}


def candidate_grids(gdf: gpd.GeoDataFrame, changed: set[str], name: str = "方案网格") -> folium.GeoJson:
    """The candidate layer: changed grids in orange, the others in blue, with a tooltip."""
    data = gdf.assign(state=gdf["code"].isin(changed).map({True: "已修改", False: "未改动"}))

    def style(feature):
        hot = feature["properties"]["state"] == "已修改"
        return {"fillColor": CHANGED_COLOR if hot else GRID_COLOR, "color": "#b45309" if hot else "#334155",
                "weight": 2.5 if hot else 1.2, "fillOpacity": 0.35 if hot else 0.15}

    return geojson_layer(data, name, style, tooltip={"code": "网格编号", "name": "网格名称", "subdistrict": "所属街道",
                                                     "state": "状态"},
                         highlight={"weight": 4, "color": "#ffd400"}, properties=["code"])


def issue_areas(issues: gpd.GeoDataFrame, name: str = "问题区域") -> folium.GeoJson | None:
    """Overlaps, gaps, parts outside the district and cut pieces as filled polygons."""
    shapes = issues[issues.geometry.notna() & ~issues.geometry.is_empty] if len(issues) else issues
    if len(shapes) == 0:
        return None

    def style(feature):
        color = AREA_COLORS.get(feature["properties"]["kind"], "#d62728")
        return {"fillColor": color, "color": color, "weight": 2, "fillOpacity": 0.55, "dashArray": "4 3"}

    return geojson_layer(shapes, name, style, tooltip={"label": "问题", "message": "说明"},
                         properties=["kind"])


def issue_markers(issues: gpd.GeoDataFrame, name: str = "检查问题位置") -> folium.FeatureGroup:
    """A numbered circle at each issue's location (red: 错误, amber: 警告), the message in its tooltip."""
    group = folium.FeatureGroup(name=name, show=True)
    located = issues[issues["lon"].notna() & issues["lat"].notna()] if len(issues) else issues
    for n, row in enumerate(located.itertuples(), start=1):
        color = ISSUE_COLORS.get(row.level, "#d62728")
        text = f"{n}. [{row.level}] {row.label}：{row.message}"
        folium.CircleMarker([row.lat, row.lon], radius=9, color="#ffffff", weight=2, fill=True, fill_color=color,
                            fill_opacity=0.95, tooltip=escape_text(text)).add_to(group)
        folium.Marker([row.lat, row.lon], icon=folium.DivIcon(
            html=f'<div class="gm-issue" style="font:700 11px sans-serif;color:#fff;transform:translate(-50%,-50%);'
                 f'pointer-events:none">{n}</div>', icon_size=(0, 0))).add_to(group)
    return group


# Leaflet.draw's texts in Chinese: the whole ``L.drawLocal`` object of leaflet.draw 1.0.4, translated.
DRAW_LOCALE = {
    "draw": {
        "toolbar": {
            "actions": {"title": "取消绘制", "text": "取消"},
            "finish": {"title": "完成绘制", "text": "完成"},
            "undo": {"title": "删除最后画的一个顶点", "text": "删除上一个顶点"},
            "buttons": {"polyline": "画折线", "polygon": "画多边形", "rectangle": "画矩形", "circle": "画圆",
                        "marker": "放置标记", "circlemarker": "放置圆形标记"},
        },
        "handlers": {
            "circle": {"tooltip": {"start": "按住并拖动鼠标画圆。"}, "radius": "半径"},
            "circlemarker": {"tooltip": {"start": "点击地图放置圆形标记。"}},
            "marker": {"tooltip": {"start": "点击地图放置标记。"}},
            "polygon": {"tooltip": {"start": "点击地图开始画多边形。", "cont": "继续点击添加顶点。",
                                    "end": "点击第一个顶点闭合多边形。"}},
            "polyline": {"error": "<strong>错误：</strong>边线不能交叉！",
                         "tooltip": {"start": "点击地图开始画线。", "cont": "继续点击添加顶点。",
                                     "end": "点击最后一个顶点结束画线。"}},
            "rectangle": {"tooltip": {"start": "按住并拖动鼠标画矩形。"}},
            "simpleshape": {"tooltip": {"end": "松开鼠标完成绘制。"}},
        },
    },
    "edit": {
        "toolbar": {
            "actions": {"save": {"title": "保存修改", "text": "保存"},
                        "cancel": {"title": "取消编辑，放弃所有修改", "text": "取消"},
                        "clearAll": {"title": "清除所有图形", "text": "全部清除"}},
            "buttons": {"edit": "编辑边界顶点", "editDisabled": "没有可编辑的图形", "remove": "删除图形",
                        "removeDisabled": "没有可删除的图形"},
        },
        "handlers": {
            "edit": {"tooltip": {"text": "拖动白色方块（顶点）修改边界。", "subtext": "点“取消”放弃修改。"}},
            "remove": {"tooltip": {"text": "点击要删除的图形。"}},
        },
    },
}

_EDITABLE = Template("""
{% macro script(this, kwargs) %}
    L.geoJSON({{ this.data|tojson }}, {style: function () { return {{ this.style|tojson }}; }})
      .eachLayer(function (layer) { {{ this._parent.get_name() }}.addLayer(layer); });
{% endmacro %}
""")


class _EditableShapes(MacroElement):
    """GeoJSON features added to a FeatureGroup as plain polygons (each keeps its ``feature``).

    Leaflet.draw edits only layers that have ``editing`` (L.Polygon …), not an L.GeoJSON group:
    a folium.GeoJson inside the Draw plugin's group shows no vertex handles. Added one by one,
    every polygon gets its handles, and ``toGeoJSON()`` still returns its properties (the code).
    """

    _template = _EDITABLE

    def __init__(self, data: dict, style: dict):
        super().__init__()
        self._name = "EditableShapes"
        self.data, self.style = data, style


def editable_grid(gdf: gpd.GeoDataFrame, name: str = "可编辑网格") -> folium.FeatureGroup:
    """The grid(s) to edit, as plain polygons inside a FeatureGroup handed to the Draw plugin.

    Each part is its own polygon carrying the grid's ``code``, so the edited shapes come back
    from st_folium's ``all_drawings`` with their code.
    """
    group = folium.FeatureGroup(name=name, show=True)
    parts = gdf[["code", "geometry"]].explode(index_parts=False)
    features = [{"type": "Feature", "properties": {"code": escape_text(str(row.code))},
                 "geometry": row.geometry.__geo_interface__} for row in parts.itertuples()]
    _EditableShapes({"type": "FeatureCollection", "features": features},
                    {"color": "#b45309", "weight": 3, "fillColor": CHANGED_COLOR, "fillOpacity": 0.25}).add_to(group)
    return group


class _ChineseDraw(Draw):
    """folium's Draw plugin with Leaflet.draw's texts in Chinese: ``L.drawLocal`` is set in the plugin's
    own script, just before the toolbar is built (st_folium renders only the map elements' scripts)."""

    _template = Template("""
        {% macro html(this, kwargs) %}{% endmacro %}
        {% macro script(this, kwargs) %}
            L.drawLocal = {{ this.locale }};
            {{ this.draw_script(kwargs) }}
        {% endmacro %}
    """)

    locale = json.dumps(DRAW_LOCALE, ensure_ascii=False)

    def draw_script(self, kwargs) -> str:
        return Draw._template.module.script(self, kwargs)


def draw_tools(mode: str, feature_group: folium.FeatureGroup | None = None) -> Draw:
    """The Draw plugin for a mode: ``polygon`` (draw or edit a grid), ``line`` (split line) or ``none``."""
    off = {"polyline": False, "polygon": False, "rectangle": False, "circle": False, "marker": False,
           "circlemarker": False}
    if mode == "polygon":
        off.update(polygon={"allowIntersection": True, "showArea": False,
                            "shapeOptions": {"color": "#b45309", "weight": 3}},
                   rectangle={"shapeOptions": {"color": "#b45309"}})
    elif mode == "line":
        off.update(polyline={"shapeOptions": {"color": "#d62728", "weight": 4}})
    return _ChineseDraw(feature_group=feature_group, draw_options=off, position="topleft", show_geometry_on_click=False,
                        edit_options={"edit": feature_group is not None, "remove": True})
