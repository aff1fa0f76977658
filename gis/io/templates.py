"""模板下载: a blank import template per import kind — the Chinese headers of its fields and one example row.

Headers are the field labels of `gis.io.fields` (the ones exports write), plus 经度/纬度 for point kinds
and a WKT column for lines and polygons, so a template filled in imports as it is. The example row lies
inside the district in force (`gis.geo.district`), so it passes the district check too. Written through
the one sheet writer (`gis.io.sheets`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import shapely

from gis.geo.district import district_boundary
from gis.io import InputError, roster, sheets
from gis.io.fields import DATASET_LABELS, GEOMETRY, KINDS, fields

# one example value per field (field name → value); fields left out stay empty in the example row
EXAMPLES: dict[str, dict[str, object]] = {
    "grids": {"code": "WG-01", "name": "示例网格", "subdistrict": "示例街道"},
    "streets": {"code": "JX-001", "name": "示例路", "road_class": "主干道"},
    "compounds": {"code": "XQ-001", "name": "示例小区", "households": 320, "property_company": "示例物业公司"},
    "villages": {"code": "CZC-01", "name": "示例村", "households": 150},
    "points": {"code": "DW-001", "name": "示例农贸市场", "kind": "农贸市场", "ref_code": ""},
    "categories": {"code": "S0301", "name": "违法建设", "kind": "事件", "major": "施工管理", "time_limit": 20,
                   "time_unit": "工作日", "urgent_hours": 4, "deduction": 3, "standard_code": "",
                   "aliases": "违章建筑、私搭乱建"},
    "units": {"code": "DW-CGJ", "name": "区综合行政执法局", "kind": "区直部门", "contact": "张三",
              "phone": "0635-0000000"},
    "leaders": {"code": "RY-001", "name": "张三", "title": "副局长", "level": "县级", "unit_code": "DW-CGJ",
                "unit_name": "区综合行政执法局", "phone": "13800000000"},
    "assignments": {"target_kind": "网格", "target_code": "WG-01", "role": "网格长", "person_code": "RY-001",
                    "person_name": "张三", "unit_code": "", "valid_from": date(2026, 1, 1).isoformat()},
    "assessment": {"item": "市容环境", "content": "门前三包", "text": "临街门店落实门前三包责任，店外无乱堆乱放",
                   "points": 2, "method": "实地考察", "point_kinds": "商业大街、主次干道", "negative": "否"},
    "problems": {"code": "WT-0001", "category": "暴露垃圾", "description": "路口垃圾桶满溢，有暴露垃圾",
                 "reported_at": "2026-11-20 09:30", "source": "市民热线", "reporter": "", "status": "待派遣"},
}
_SHAPES = {"MultiPolygon": 150.0, "Polygon": 60.0}  # half-width of the example square, metres


def _example_geometry(kind: str) -> dict[str, object]:
    """Coordinates (WGS84) for the example row: a point, line or square near the district's inner point."""
    want = GEOMETRY[kind]
    if want is None:
        return {}
    p = district_boundary().representative_point()
    x, y = round(p.x, 6), round(p.y, 6)
    if want == "Point":
        return {"经度": x, "纬度": y}
    d = 0.001  # about 100 m
    if want == "LineString":
        geom = shapely.LineString([(x - d, y), (x + d, y)])
    else:
        h = _SHAPES[want] / 100_000
        geom = shapely.box(x - h, y - h, x + h, y + h)
    return {"WKT": shapely.to_wkt(geom, rounding_precision=6, trim=True)}


USERS = "users"  # the user roster (gis.io.roster): not an import kind of gis.io.fields, created by `gis user import`
TEMPLATE_KINDS = (*KINDS, USERS)
TEMPLATE_LABELS = {**DATASET_LABELS, USERS: "用户名单"}


def template_frame(kind: str) -> pd.DataFrame:
    """The template of `kind`: one column per field (its Chinese label) plus coordinates, one example row."""
    if kind == USERS:
        return roster.template()
    if kind not in KINDS:
        raise InputError(f"未知的数据类型“{kind}”：可选 {'、'.join(KINDS)}。")
    example = EXAMPLES[kind]
    row = {f.label + ("*" if f.required else ""): example.get(f.name, "") for f in fields(kind)}
    row.update(_example_geometry(kind))
    return pd.DataFrame([row]).astype(object)


def template_bytes(kind: str, fmt: str = ".xlsx") -> bytes:
    """The template as .xlsx (default) or .csv bytes (`gis.io.sheets`)."""
    return sheets.table_bytes(template_frame(kind), fmt, sheet_name=TEMPLATE_LABELS[kind])


def write_template(kind: str, path: str | Path) -> Path:
    """Write the template of `kind` to `path` (.xlsx or .csv, from the extension)."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise InputError(f"模板只能写成 .xlsx 或 .csv：{path.name}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(template_bytes(kind, path.suffix.lower()))
    return path


def file_name(kind: str, fmt: str = ".xlsx") -> str:
    return f"{TEMPLATE_LABELS[kind]}导入模板{fmt}"
