"""Layers of one grid's map: compounds, streets, urban villages, inspection points and problems.

Pure: GeoDataFrames in, folium layers out (no gis/, no Streamlit). Every text property goes
through `layers.common.geojson_layer`, which escapes it. Area features carry ``kind`` and
``code`` so that a click (st_folium's ``last_active_drawing``) says which area was clicked.
Inspection-point icons are Font Awesome 6 (vendored; ``folium.Icon(prefix="fa")``).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd
from folium.utilities import JsCode

from layers.common import escape_text, geojson_layer

STATUS_COLORS = {"待立案": "#94a3b8", "待派遣": "#f59e0b", "整改中": "#2563eb", "待核查": "#7c3aed", "已结案": "#16a34a",
                 "不予立案": "#cbd5e1"}
OVERDUE_COLOR = "#dc2626"

# Inspection point kind → (Font Awesome icon, awesome-markers colour).
POINT_ICONS = {
    "主次干道": ("road", "darkblue"), "背街小巷": ("route", "cadetblue"), "商业大街": ("store", "purple"),
    "农贸市场": ("basket-shopping", "orange"), "学校": ("school", "darkgreen"), "医院": ("hospital", "red"),
    "公共厕所": ("restroom", "lightblue"), "广场公园": ("tree", "green"), "车站": ("bus", "darkpurple"),
    "九小门店": ("shop", "pink"), "小区": ("building", "blue"), "城中村": ("house-chimney", "beige"),
    "机关单位": ("landmark", "gray"), "建筑工地": ("helmet-safety", "darkred"),
}
DEFAULT_ICON = ("location-dot", "lightgray")

AREA_STYLES = {
    "compound": {"color": "#0f766e", "fillColor": "#14b8a6", "weight": 1.5, "fillOpacity": 0.25},
    "village": {"color": "#a16207", "fillColor": "#facc15", "weight": 1.5, "fillOpacity": 0.25, "dashArray": "4 3"},
}
STREET_COLORS = {"主干道": "#475569", "次干道": "#64748b", "背街小巷": "#94a3b8"}
STREET_WEIGHTS = {"主干道": 6, "次干道": 4, "背街小巷": 3}
HIGHLIGHT = {"weight": 4, "color": "#ffd400"}


def grid_outline(grid: gpd.GeoDataFrame, name: str = "网格边界") -> folium.GeoJson:
    """The grid's own outline (thick, unfilled), with its code and name in the tooltip."""
    return geojson_layer(grid, name, lambda _f: {"color": "#1e293b", "weight": 3, "fill": False, "dashArray": "8 4"},
                         tooltip={"code": "网格编号", "name": "网格名称"}, properties=["code"])


def _with_kind(gdf: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    return gdf.assign(kind=kind)


def area_polygons(gdf: gpd.GeoDataFrame, kind: str, name: str, tooltip: dict[str, str],
                  show: bool = True) -> folium.GeoJson:
    """Compounds (kind ``compound``) or urban villages (``village``) as clickable polygons."""
    style = AREA_STYLES[kind]
    return geojson_layer(_with_kind(gdf, kind), name, lambda _f: style, tooltip=tooltip, highlight=HIGHLIGHT,
                         properties=["kind", "code"], show=show)


def streets(gdf: gpd.GeoDataFrame, name: str = "街巷", show: bool = True) -> folium.GeoJson:
    """Streets as clickable lines, wider for main roads."""
    def style(feature):
        cls = feature["properties"].get("road_class", "")
        return {"color": STREET_COLORS.get(cls, "#64748b"), "weight": STREET_WEIGHTS.get(cls, 3), "opacity": 0.85}

    return geojson_layer(_with_kind(gdf, "street"), name, style, tooltip={"name": "街巷", "road_class": "等级"},
                         highlight={"weight": 8, "color": "#ffd400"}, properties=["kind", "code", "road_class"],
                         show=show)


def inspection_points(gdf: gpd.GeoDataFrame, name: str = "点位", show: bool = True) -> folium.FeatureGroup:
    """Inspection points with a Font Awesome icon for each kind (one sub-layer per kind)."""
    group = folium.FeatureGroup(name=name, show=show)
    for kind, sub in gdf.groupby("kind", sort=True):
        icon, color = POINT_ICONS.get(kind, DEFAULT_ICON)
        layer = geojson_layer(_with_kind(sub, "point").assign(point_kind=kind), f"{name}·{kind}", lambda _f: {},
                              tooltip={"name": "点位", "point_kind": "类别", "code": "编号"},
                              properties=["kind", "code"])
        layer.marker = folium.Marker(icon=folium.Icon(icon=icon, prefix="fa", color=color, icon_color="white"))
        layer.add_to(group)
    return group


#: The canvas every problem circle of a map is drawn on (created by the first circle, shared by the rest).
PROBLEM_CANVAS = JsCode("(window.gmProblemCanvas = window.gmProblemCanvas || L.canvas({padding: 0.2}))")


def problems(df: pd.DataFrame, name: str = "问题", show: bool = True) -> folium.GeoJson:
    """Problems (a ledger frame with lon/lat, or a GeoDataFrame of it) as circles coloured by status;
    overdue ones get a red ring and are drawn larger."""
    base = df if isinstance(df, gpd.GeoDataFrame) else gpd.GeoDataFrame(
        df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
    gdf = base.assign(kind="problem", overdue_text=base["overdue"].map({True: "已超期", False: ""}),
                      reported=pd.to_datetime(base["reported_at"]).dt.strftime("%m-%d %H:%M"),
                      deadline_text=pd.to_datetime(base["deadline"]).dt.strftime("%m-%d %H:%M"))
    tooltip = {"code": "编号", "category": "类型", "status": "状态", "overdue_text": "超期",
               "description": "描述", "reported": "上报", "deadline_text": "时限", "unit": "责任单位"}

    def style(feature):
        props = feature["properties"]
        overdue = props.get("overdue_text") == "已超期"
        return {"fill": True, "fillColor": STATUS_COLORS.get(props.get("status"), "#64748b"), "fillOpacity": 0.9,
                "color": OVERDUE_COLOR if overdue else "#ffffff", "weight": 3 if overdue else 1,
                "radius": 8 if overdue else 6}

    layer = geojson_layer(gdf, name, style, tooltip=tooltip, properties=["kind", "code", "status"], show=show,
                          highlight={"weight": 4, "color": "#ffd400"})
    # one canvas for a map's problem circles: a thousand SVG elements took the browser longer to build than the
    # rest of the page (issue 16 §13); outlines and areas stay SVG (their paths are what tests and users click)
    layer.marker = folium.CircleMarker(radius=6, fill=True)
    layer.marker.options["renderer"] = PROBLEM_CANVAS  # folium keeps only path options from the constructor
    return layer


def legend_html(counts: dict[str, int] | None = None) -> str:
    """An HTML legend of problem statuses and the overdue ring (HTML, not a branca ColorMap)."""
    items = []
    for status, color in STATUS_COLORS.items():
        n = f" {counts.get(status, 0):,}" if counts else ""
        items.append(f'<span style="display:inline-flex;align-items:center;margin-right:14px">'
                     f'<span style="width:12px;height:12px;border-radius:50%;background:{color};'
                     f'display:inline-block;margin-right:5px"></span>{escape_text(status)}{n}</span>')
    items.append(f'<span style="display:inline-flex;align-items:center"><span style="width:12px;height:12px;'
                 f'border-radius:50%;border:3px solid {OVERDUE_COLOR};display:inline-block;margin-right:5px">'
                 f'</span>已超期</span>')
    return '<div style="font-size:13px;line-height:1.8">' + "".join(items) + "</div>"
