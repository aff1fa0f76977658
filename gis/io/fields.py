"""Which file column feeds which field: the fields of each kind, their Chinese headers, and guessing.

Each field has a Chinese label (the header written on export, so exports import back as they are)
and aliases: the usual Chinese headers of city ledgers, English names, and the 10-character
names that Shapefiles force (see gis.io.files.SHAPEFILE_NAMES). Matching ignores case, spaces,
underscores and full-width brackets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gis.geo.kinds import AREA_LABELS

KINDS = ("grids", "streets", "compounds", "villages", "points", "categories", "units", "leaders", "assignments",
         "problems", "assessment")
EXPORT_KINDS = ("grids", "streets", "compounds", "villages", "points", "problems")
# the Chinese name of each data set: the area layers take theirs from gis.geo.kinds
DATASET_LABELS = {**{f"{kind}s": label for kind, label in AREA_LABELS.items()},
                  "categories": "问题类型", "units": "责任单位", "leaders": "责任人", "assignments": "帮包关系",
                  "problems": "问题", "assessment": "测评体系标准"}
# geometry each kind needs: None for plain tables
GEOMETRY = {"grids": "MultiPolygon", "streets": "LineString", "compounds": "Polygon", "villages": "Polygon",
            "points": "Point", "problems": "Point", "categories": None, "units": None, "leaders": None,
            "assignments": None, "assessment": None}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    type: str = "text"  # text | int | float | datetime | date


def _f(name, label, *aliases, required=False, type="text"):
    return Field(name, label, (label, name, *aliases), required, type)


CODE = _f("code", "编号", "代码", "id", "编码")
NAME = _f("name", "名称", "名字", "title")

FIELDS: dict[str, tuple[Field, ...]] = {
    "grids": (
        _f("code", "网格编号", "编号", "网格代码", "网格编码", "code", "wgbh", required=True),
        _f("name", "网格名称", "名称", "name", "wgmc", required=True),
        _f("subdistrict", "所属街道", "街道", "街道办事处", "乡镇街道", "subdistrct", "subdistric", "jd"),
    ),
    "streets": (
        _f("code", "街巷编号", "编号", "道路编号", "code", required=True),
        _f("name", "街巷名称", "道路名称", "名称", "name", required=True),
        _f("road_class", "道路等级", "等级", "类别", "类型", "road_class", "roadclass"),
    ),
    "compounds": (
        _f("code", "小区编号", "编号", "code", required=True),
        _f("name", "小区名称", "名称", "name", required=True),
        _f("households", "户数", "住户数", "households", "househol", "househo", type="int"),
        _f("property_company", "物业公司", "物业", "物业服务企业", "property", "property_c"),
    ),
    "villages": (
        _f("code", "城中村编号", "编号", "村编号", "code", required=True),
        _f("name", "城中村名称", "村名", "名称", "name", required=True),
        _f("households", "户数", "住户数", "households", "househol", "househo", type="int"),
    ),
    "points": (
        _f("code", "点位编号", "编号", "code", required=True),
        _f("name", "点位名称", "名称", "name", required=True),
        _f("kind", "点位类型", "类型", "类别", "kind", required=True),
        _f("ref_code", "关联编号", "对象编号", "ref_code", "ref"),
    ),
    # the headers of gis/problems/default_categories.csv (gis.problems.categories.HEADERS)
    "categories": (
        _f("code", "分类编码", "编码", "类型编码", "code"),
        _f("name", "问题类型", "类型名称", "问题类别", "名称", "name", required=True),
        _f("kind", "部件事件", "部件/事件", "类别", "kind"),
        _f("major", "大类", "所属大类", "major"),
        _f("time_limit", "整改时限", "时限", "处置时限", "time_limit", required=True, type="float"),
        _f("time_unit", "时限单位", "单位", "time_unit", required=True),
        _f("urgent_hours", "紧急处置时限（小时）", "紧急处置时限", "紧急时限", "urgent_hours", type="float"),
        _f("deduction", "扣分", "扣分值", "deduction", required=True, type="float"),
        _f("standard_code", "测评标准编号", "标准编号", "standard_code"),
        _f("aliases", "别名", "其他名称", "aliases"),
    ),
    "units": (
        _f("code", "单位编号", "编号", "单位代码", "code", required=True),
        _f("name", "单位名称", "责任单位", "名称", "name", required=True),
        _f("kind", "单位类型", "类型", "kind"),
        _f("contact", "联系人", "负责人", "contact"),
        _f("phone", "联系电话", "电话", "手机", "phone", "tel"),
    ),
    "leaders": (
        _f("code", "人员编号", "编号", "责任人编号", "code", required=True),
        _f("name", "姓名", "责任人", "名称", "name", required=True),
        _f("title", "职务", "title"),
        _f("level", "级别", "层级", "level"),
        _f("unit_code", "单位编号", "unit_code"),
        _f("unit_name", "所属单位", "单位", "单位名称", "工作单位", "unit", "unit_name"),
        _f("phone", "联系电话", "电话", "手机", "手机号", "phone", "tel"),
    ),
    "assignments": (
        _f("target_kind", "对象类型", "类型", "target_kind", required=True),
        _f("target_code", "对象编号", "网格编号", "编号", "target_code", required=True),
        _f("role", "帮包角色", "角色", "职责", "role", required=True),
        _f("person_code", "人员编号", "责任人编号", "person_code"),
        _f("person_name", "责任人", "姓名", "person", "person_name"),
        _f("unit_code", "单位编号", "责任单位编号", "unit_code"),
        _f("valid_from", "开始日期", "起始日期", "生效日期", "valid_from", type="date"),
        _f("valid_to", "结束日期", "终止日期", "valid_to", type="date"),
    ),
    "problems": (
        _f("code", "问题编号", "编号", "工单编号", "工单号", "案件编号", "code", required=True),
        _f("category", "问题类型", "类型", "问题类别", "案件类型", "category", required=True),
        _f("description", "问题描述", "描述", "内容", "问题内容", "descr", "description", required=True),
        _f("reported_at", "上报时间", "发现时间", "时间", "受理时间", "reported", "reported_at", required=True, type="datetime"),
        _f("source", "问题来源", "来源", "source"),
        _f("reporter", "上报人", "发现人", "reporter"),
        _f("status", "状态", "办理状态", "status"),
        _f("deadline", "整改时限", "截止时间", "deadline", type="datetime"),
        _f("unit_code", "责任单位编号", "单位编号", "unit_code"),
        _f("standard_code", "测评标准编号", "标准编号", "std_code", "standard_code"),
        _f("acknowledged_at", "签收时间", "acked_at", "acknowledged_at", type="datetime"),
        _f("rectified_at", "整改时间", "rectif_at", "rectified_at", type="datetime"),
        _f("verified_at", "核查时间", "结案时间", "verif_at", "verified_at", type="datetime"),
        _f("rework_count", "退回次数", "rework", "rework_count", type="int"),
        _f("deduction", "扣分", "deduction", type="float"),
        _f("grid_code", "网格编号", "所属网格", "grid_code"),
        _f("street_name", "所属街道", "街道"),
        _f("person_name", "责任人"),
        _f("phone", "联系电话", "电话"),
    ),
    # 测评体系 (gis.registry.assessment_file): one row per 测评标准; 负面清单 rows marked (or on a sheet 负面清单)
    "assessment": (
        _f("code", "标准编号", "编号", "指标编号", "序号", "code"),
        _f("item", "测评项目", "项目", "一级指标", "item", required=True),
        _f("content", "测评内容", "二级指标", "content", required=True),
        _f("text", "测评标准", "标准", "三级指标", "测评要求", "负面清单事项", "事项", "text", required=True),
        _f("points", "分值", "分数", "标准分", "points", type="float"),
        _f("method", "测评方式", "测评方法", "method"),
        _f("point_kinds", "适用点位类型", "适用点位", "点位类型", "point_kinds"),
        _f("category", "问题类型", "关联问题类型", "category"),
        _f("negative", "负面清单", "是否负面清单", "negative"),
        _f("negative_effect", "处理方式", "负面清单处理方式", "effect"),
        _f("deduction", "扣分", "扣分值", "deduction", type="float"),
        _f("valid_from", "生效日期", "启用日期", "执行日期", "valid_from", type="date"),
    ),
}
# informational columns: exported, accepted on import, not stored (they are computed from geometry)
INFO_FIELDS = {"grid_code", "street_name", "person_name", "phone"}

LON = ("经度", "lon", "lng", "longitude", "x", "x坐标", "东经", "经度坐标")
LAT = ("纬度", "lat", "latitude", "y", "y坐标", "北纬", "纬度坐标")
WKT = ("wkt", "geometry", "geom", "几何", "坐标串", "shape", "the_geom")


def _key(text) -> str:
    return re.sub(r"[\s_\-（）()【】\[\]：:*＊]", "", str(text)).lower()  # 网格编号* (a template's required mark)


def fields(kind: str) -> tuple[Field, ...]:
    return FIELDS[kind]


def field_labels(kind: str) -> dict[str, str]:
    return {f.name: f.label for f in FIELDS[kind]}


def guess_mapping(columns, kind: str) -> dict[str, str | None]:
    """field name → file column (or None). Earlier aliases win; each column feeds one field."""
    by_key = {}
    for col in columns:
        by_key.setdefault(_key(col), col)
    taken: set[str] = set()
    mapping: dict[str, str | None] = {}
    specs = FIELDS[kind]
    # pass 1: exact labels (the export headers) first, so 编号 goes to the right field
    for rank in range(max(len(f.aliases) for f in specs)):
        for f in specs:
            if f.name in mapping or rank >= len(f.aliases):
                continue
            col = by_key.get(_key(f.aliases[rank]))
            if col is not None and col not in taken:
                mapping[f.name] = col
                taken.add(col)
    for f in specs:
        mapping.setdefault(f.name, None)
    return mapping


def coordinate_columns(columns) -> tuple[str | None, str | None, str | None]:
    """(lon column, lat column, WKT column) among `columns`, by the usual headers."""
    by_key = {}
    for col in columns:
        by_key.setdefault(_key(col), col)

    def find(names):
        return next((by_key[_key(n)] for n in names if _key(n) in by_key), None)

    return find(LON), find(LAT), find(WKT)
