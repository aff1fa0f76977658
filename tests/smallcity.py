"""A small hand-made city for fast tests: 4 grids, 3 streets, 2 compounds, 1 village, 6 points.

Layout (WGS84), a 2 x 2 block split at lon 115.99 and lat 36.45:

    T-03 (NW) | T-04 (NE)          东昌路 runs along lat 36.45 (the shared edge),
    ----------+----------          柳园路 along lon 115.99, 双井街 is a lane in T-01.
    T-01 (SW) | T-02 (SE)          Compound 阳光小区 in T-01, 花园小区 in T-04; 许营村 in T-02.

Every number here is small enough to check by hand; tests compute expectations from it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, MultiPolygon, Point, box

W, E, S, N, MX, MY = 115.98, 116.00, 36.44, 36.46, 115.99, 36.45
UNTIL = date(2026, 11, 20)
LAYER_START = datetime(2025, 11, 1)


def _gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def grids() -> gpd.GeoDataFrame:
    cells = {"T-01": box(W, S, MX, MY), "T-02": box(MX, S, E, MY), "T-03": box(W, MY, MX, N), "T-04": box(MX, MY, E, N)}
    sub = {"T-01": "古楼街道", "T-02": "古楼街道", "T-03": "柳园街道", "T-04": "柳园街道"}
    return _gdf([{"code": c, "name": f"{sub[c]}{c[-1]}号网格", "subdistrict": sub[c], "geometry": MultiPolygon([g])}
                 for c, g in cells.items()])


def city() -> dict[str, pd.DataFrame]:
    streets = _gdf([
        {"code": "JX-001", "name": "东昌路", "road_class": "主干道", "geometry": LineString([(W, MY), (E, MY)])},
        {"code": "JX-002", "name": "柳园路", "road_class": "主干道", "geometry": LineString([(MX, S), (MX, N)])},
        {"code": "JX-003", "name": "双井街", "road_class": "背街小巷", "geometry": LineString([(115.982, 36.443), (115.988, 36.443)])},
    ])
    compounds = _gdf([
        {"code": "XQ-0001", "name": "阳光小区", "households": 600, "property_company": "阳光物业", "geometry": box(115.982, 36.444, 115.986, 36.448)},
        {"code": "XQ-0002", "name": "花园小区", "households": 300, "property_company": None, "geometry": box(115.993, 36.453, 115.997, 36.457)},
    ])
    villages = _gdf([{"code": "CZC-01", "name": "许营村", "households": 420, "geometry": box(115.992, 36.442, 115.998, 36.447)}])
    points = _gdf([
        {"code": "DW-0001", "name": "东昌路(柳园路西段)", "kind": "主次干道", "ref_code": "JX-001", "geometry": Point(115.985, MY)},
        {"code": "DW-0002", "name": "双井街", "kind": "背街小巷", "ref_code": "JX-003", "geometry": Point(115.985, 36.443)},
        {"code": "DW-0003", "name": "阳光小区", "kind": "小区", "ref_code": "XQ-0001", "geometry": Point(115.984, 36.446)},
        {"code": "DW-0004", "name": "许营村", "kind": "城中村", "ref_code": "CZC-01", "geometry": Point(115.995, 36.445)},
        {"code": "DW-0005", "name": "古楼农贸市场", "kind": "农贸市场", "ref_code": None, "geometry": Point(115.985, 36.455)},
        {"code": "DW-0006", "name": "花园小区", "kind": "小区", "ref_code": "XQ-0002", "geometry": Point(115.995, 36.455)},
    ])
    units = pd.DataFrame([
        {"code": "U-001", "name": "市城管局", "kind": "市直部门", "contact": "王强", "phone": "0635-8211001"},
        {"code": "U-002", "name": "古楼街道办事处", "kind": "街道办事处", "contact": "李娜", "phone": "0635-8211002"},
        {"code": "U-003", "name": "柳园街道办事处", "kind": "街道办事处", "contact": "赵敏", "phone": "0635-8211003"},
    ])
    persons = pd.DataFrame([
        {"code": "P-001", "name": "张建国", "title": "市人大常委会副主任", "level": "市级", "unit_code": "U-001", "phone": "13906350001"},
        {"code": "P-002", "name": "刘洪涛", "title": "市政协副主席", "level": "市级", "unit_code": "U-001", "phone": "13906350002"},
        {"code": "P-003", "name": "陈丽", "title": "区委常委", "level": "县级", "unit_code": "U-002", "phone": "13906350003"},
        {"code": "P-004", "name": "孙伟", "title": "副区长", "level": "县级", "unit_code": "U-003", "phone": "13906350004"},
        {"code": "P-011", "name": "周杰", "title": "网格长", "level": "社区", "unit_code": "U-002", "phone": "13906350011"},
        {"code": "P-012", "name": "吴芳", "title": "网格长", "level": "社区", "unit_code": "U-002", "phone": "13906350012"},
        {"code": "P-013", "name": "郑磊", "title": "网格长", "level": "社区", "unit_code": "U-003", "phone": "13906350013"},
        {"code": "P-014", "name": "冯静", "title": "网格长", "level": "社区", "unit_code": "U-003", "phone": "13906350014"},
    ])
    start = date(2025, 1, 1)
    rows = []
    for i, code in enumerate(["T-01", "T-02", "T-03", "T-04"]):
        unit = "U-002" if i < 2 else "U-003"
        rows += [
            {"target_kind": "grid", "target_code": code, "role": "帮包市级领导", "person_code": "P-001" if i < 2 else "P-002", "unit_code": "U-001"},
            {"target_kind": "grid", "target_code": code, "role": "帮包县级领导", "person_code": "P-003" if i < 2 else "P-004", "unit_code": unit},
            {"target_kind": "grid", "target_code": code, "role": "网格长", "person_code": f"P-01{i + 1}", "unit_code": unit},
            {"target_kind": "grid", "target_code": code, "role": "网格员", "person_code": f"P-01{i + 1}", "unit_code": unit},
            {"target_kind": "grid", "target_code": code, "role": "责任单位", "person_code": None, "unit_code": unit},
        ]
    for kind, layer in (("street", streets), ("compound", compounds), ("village", villages), ("point", points)):
        for code in layer["code"]:
            rows += [{"target_kind": kind, "target_code": code, "role": "责任单位", "person_code": None, "unit_code": "U-001" if kind == "street" else "U-002"},
                     {"target_kind": kind, "target_code": code, "role": "帮包县级领导", "person_code": "P-003", "unit_code": "U-002"}]
    assignments = pd.DataFrame(rows).assign(valid_from=start, valid_to=None)
    standards = pd.DataFrame([
        {"code": "1.1.1", "item": "市容环境", "content": "主次干道", "text": "无占道经营、马路市场", "points": 2.0, "negative": False, "category": "占道经营"},
        {"code": "1.2.1", "item": "环境卫生", "content": "背街小巷", "text": "无暴露垃圾、无卫生死角", "points": 2.0, "negative": False, "category": "暴露垃圾"},
        {"code": "9.1.1", "item": "负面清单", "content": "露天烧烤", "text": "城区无露天烧烤", "points": 3.0, "negative": True, "category": "露天烧烤"},
    ])
    categories = pd.DataFrame([
        {"name": "占道经营", "deadline_hours": 24.0, "deduction": 1.0, "standard_code": "1.1.1"},
        {"name": "暴露垃圾", "deadline_hours": 4.0, "deduction": 1.0, "standard_code": "1.2.1"},
        {"name": "露天烧烤", "deadline_hours": 2.0, "deduction": 2.0, "standard_code": "9.1.1"},
    ])
    return {
        "grids": grids(), "streets": streets, "compounds": compounds, "villages": villages, "points": points,
        "units": units, "persons": persons, "assignments": assignments, "standards": standards,
        "categories": categories, "problems": problems(), "inspections": inspections(),
    }


def _problem(code, cat, lon, lat, reported, status, unit="U-002", hours=None, ack=None, fixed=None, verified=None, rework=0, source="暗访"):
    deadline_hours = {"占道经营": 24, "暴露垃圾": 4, "露天烧烤": 2}[cat]
    std = {"占道经营": "1.1.1", "暴露垃圾": "1.2.1", "露天烧烤": "9.1.1"}[cat]
    deduction = {"占道经营": 1.0, "暴露垃圾": 1.0, "露天烧烤": 4.0}[cat]
    return {
        "code": code, "category": cat, "standard_code": std, "description": f"{cat}问题 {code}",
        "lon": lon, "lat": lat, "reported_at": reported, "source": source,
        "deadline": reported + timedelta(hours=deadline_hours), "status": status,
        "unit_code": None if status == "待派遣" else unit, "acknowledged_at": ack, "rectified_at": fixed,
        "verified_at": verified, "rework_count": rework, "deduction": deduction, "reporter": "暗访组",
    }


def problems() -> pd.DataFrame:
    """Ten problems. November 2026 is 'this month' (UNTIL = 2026-11-20); October the last.

    - P01..P04 in T-01 (SW), P05 on the T-01/T-02 edge (lon 115.99), P06 at the centre (all four grids),
    - P07 in the village (T-02), P08 in T-04, P09/P10 in October.
    """
    d = datetime
    rows = [
        _problem("WT01", "占道经营", 115.984, 36.446, d(2026, 11, 2, 9), "已结案", ack=d(2026, 11, 2, 10), fixed=d(2026, 11, 2, 20), verified=d(2026, 11, 3, 9)),
        _problem("WT02", "暴露垃圾", 115.985, 36.4431, d(2026, 11, 5, 9), "已结案", ack=d(2026, 11, 5, 9, 30), fixed=d(2026, 11, 5, 18), verified=d(2026, 11, 6, 9), rework=1),
        _problem("WT03", "占道经营", 115.983, 36.445, d(2026, 11, 10, 8), "整改中", ack=d(2026, 11, 10, 9)),
        _problem("WT04", "露天烧烤", 115.981, 36.441, d(2026, 11, 19, 22), "待派遣", source="市民热线"),
        _problem("WT05", "占道经营", 115.99, 36.445, d(2026, 11, 12, 10), "待核查", ack=d(2026, 11, 12, 11), fixed=d(2026, 11, 13, 9)),
        _problem("WT06", "暴露垃圾", 115.99, 36.45, d(2026, 11, 15, 10), "整改中", ack=d(2026, 11, 15, 23)),
        _problem("WT07", "暴露垃圾", 115.995, 36.445, d(2026, 11, 16, 7), "已结案", ack=d(2026, 11, 16, 8), fixed=d(2026, 11, 16, 10), verified=d(2026, 11, 16, 15)),
        _problem("WT08", "露天烧烤", 115.996, 36.455, d(2026, 11, 18, 21), "整改中", unit="U-003", ack=d(2026, 11, 18, 21, 30), source="网格员巡查"),
        _problem("WT09", "占道经营", 115.984, 36.446, d(2026, 10, 8, 9), "已结案", ack=d(2026, 10, 8, 10), fixed=d(2026, 10, 10, 9), verified=d(2026, 10, 10, 15)),
        _problem("WT10", "暴露垃圾", 115.996, 36.455, d(2026, 10, 20, 9), "已结案", unit="U-003", ack=d(2026, 10, 20, 10), fixed=d(2026, 10, 20, 11), verified=d(2026, 10, 20, 16)),
    ]
    return pd.DataFrame(rows)


def inspections() -> pd.DataFrame:
    rows = []
    for point, passes in (("DW-0001", [1, 1, 0, 1]), ("DW-0002", [0, 0, 1, 1]), ("DW-0003", [1, 1, 1, 1]),
                          ("DW-0004", [0, 1, 0, 0]), ("DW-0005", [1, 0, 1, 1]), ("DW-0006", [1, 1, 1, 0])):
        for i, ok in enumerate(passes):
            rows.append({"point_code": point, "standard_code": "1.1.1" if i % 2 == 0 else "1.2.1",
                         "inspected_on": date(2026, 11, 3 + 4 * i), "passed": bool(ok), "score": 2.0 if ok else 0.0, "inspector": "测评组"})
    return pd.DataFrame(rows)
