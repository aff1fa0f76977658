"""A real city on day one (issue 13), the README's "新城市上线（无演示数据）" path through the CLI and a page:

empty database → `gis init` with the real district boundary (GCJ-02, as published) → grids from a real
shapefile (Voronoi cells of the 27 sub-district points, clipped to the boundary, GCJ-02 without .prj, GBK:
the way a city's file arrives) → default categories → units, people and assignments from one Excel
workbook filled in from the templates → a problems CSV in GBK with GCJ-02 coordinates, an alias (违章建筑)
and a name of the ledger's own (垃圾乱倒, refused with suggestions, then `--map 垃圾乱倒=暴露垃圾`) → the
wall's figures (`gis figures --json`) and the grid page (AppTest) show the numbers.
"""

from __future__ import annotations

import uuid
import json
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from gis.cli.main import main
from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Category, Problem, User
from gis.geo import district
from gis.io import importer, sheets
from gis.io.fields import fields
from gis.io.templates import template_frame
from tests import assessment_files as af
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)
from tests.conftest import new_database_url

DATA = Path(__file__).parent / "data"
BOUNDARY = Path(__file__).parents[1] / "data" / "shapefiles" / "source" / "dongchangfu_boundary_gcj02.geojson"
POINTS = DATA / "dongchangfu_subdistrict_points.csv"
PER_GRID = (3, 1, 2)  # problems in the first three grids (by code); the rest get none


def _run(capsys, url, *argv, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        import io
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["--database", url, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def grid_cells() -> gpd.GeoDataFrame:
    """Voronoi cells of the sub-district points clipped to the district, in GCJ-02 (as the sources are)."""
    boundary = gpd.read_file(BOUNDARY).geometry.union_all()
    pts = pd.read_csv(POINTS)
    seeds = shapely.points(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(list(seeds)), extend_to=boundary))
    rows = []
    for seed, name in zip(seeds, pts["station_name"]):
        cell = next(c for c in cells if c.contains(seed))
        clipped = shapely.intersection(cell, boundary)
        if clipped.area > 1e-6:
            rows.append((name, clipped))
    gdf = gpd.GeoDataFrame({"所属街道": [n for n, _ in rows]}, geometry=[g for _, g in rows])
    gdf.insert(0, "网格编号", [f"DCF-{i:02d}" for i in range(1, len(gdf) + 1)])
    gdf.insert(1, "网格名称", gdf["所属街道"] + "网格")
    return gdf


def write_city_shapefile(gdf: gpd.GeoDataFrame, folder: Path) -> Path:
    """GBK attributes, no .prj, no .cpg: what a city's GIS office sends."""
    path = folder / "网格.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided": on purpose
        gdf.to_file(path, engine="pyogrio", encoding="gbk")
    for extra in (".prj", ".cpg"):
        path.with_suffix(extra).unlink(missing_ok=True)
    return path


def filled(kind: str, rows: list[dict]) -> pd.DataFrame:
    """A template of `kind` (its headers) filled with `rows` (field name → value) instead of the example."""
    headers = list(template_frame(kind).columns)
    by_field = {f.name: h for f, h in zip(fields(kind), headers)}
    return pd.DataFrame([{by_field[k]: v for k, v in r.items()} for r in rows], columns=headers)


@pytest.fixture
def fresh_url(backend_name, tmp_path_factory) -> str:
    url = new_database_url(backend_name, tmp_path_factory, f"firstcity{uuid.uuid4().hex[:6]}")
    migrate.upgrade(get_engine(url))
    return url


def test_day_one_from_an_empty_database(fresh_url, tmp_path, capsys, monkeypatch, captured_maps):
    url, engine = fresh_url, get_engine(fresh_url)
    assert not district.custom_district()

    # 1. init: district, first administrator (password from stdin), default categories
    code, out, err = _run(capsys, url, "init", "--boundary", str(BOUNDARY), "--coords", "gcj02", "--name", "东昌府区",
                          "--admin", "wangchuang", "--password", "-", stdin="chuangcheng-2026\n",
                          monkeypatch=monkeypatch)
    assert code == 0, err
    assert "已创建管理员“wangchuang”" in out and "已载入默认问题类型 60 个" in out and "初始化完成。" in out
    assert "chuangcheng-2026" not in out  # a password given is never echoed
    assert district.custom_district() and district.district_name() == "东昌府区"
    # the saved boundary is the published one converted from GCJ-02 (a few hundred metres west-south-west)
    raw = gpd.read_file(BOUNDARY).geometry.union_all()
    assert 0.9999 < district.district_boundary().area / raw.area < 1.0001
    assert not district.district_boundary().centroid.equals_exact(raw.centroid, 1e-4)
    with engine.connect() as conn:
        assert conn.execute(select(User.role).where(User.username == "wangchuang")).scalar_one() == "管理员"
        assert conn.execute(select(Category.time_unit).where(Category.name == "违法建设")).scalar_one() == "工作日"
    # safe twice: says what exists, changes nothing
    code, out, _ = _run(capsys, url, "init", "--name", "别的区", "--admin", "another")
    assert code == 0 and "已初始化过，未做任何更改。" in out and "辖区已设置为“东昌府区”" in out
    assert district.district_name() == "东昌府区"
    with engine.connect() as conn:
        assert conn.execute(select(User.username)).scalars().all() == ["wangchuang"]

    # `make run` (gis demo --if-empty) leaves the new city alone; a plain `gis demo` refuses
    code, out, _ = _run(capsys, url, "demo", "--if-empty")
    assert code == 0 and "不构建示范城区" in out
    code, _, err = _run(capsys, url, "demo", "--no-files")
    assert code == 1 and "不构建示范城区" in err
    assert importer.counts(engine)["problems"] == 0

    # 2. grids from the city's shapefile (GCJ-02, no .prj, GBK)
    cells = grid_cells()
    assert 20 <= len(cells) <= 27
    shp = write_city_shapefile(cells, tmp_path)
    code, out, err = _run(capsys, url, "import", "grids", str(shp), "--coords", "gcj02")
    assert code == 0, err
    assert f"已导入 {len(cells)} 条网格" in out

    # 3. the city's 测评体系: one workbook, the system on its first sheet and the 负面清单 on a second
    book = af.write_workbook(tmp_path / "测评体系.xlsx", af.system_frame(), af.negative_frame())
    code, out, err = _run(capsys, url, "import", "assessment", str(book))
    assert code == 0, err
    assert "已导入 216 条测评体系标准（新增 216，更新 0）" in out and "30 条负面清单" in out

    # 4. units, people and assignments: one workbook, one sheet each, filled in from the templates
    codes = sorted(cells["网格编号"])
    units = filled("units", [{"code": "DW-ZF", "name": "区综合行政执法局", "kind": "区直部门", "phone": "0635-8210001"},
                             {"code": "DW-GL", "name": "古楼街道办事处", "kind": "街道"}])
    people = filled("leaders", [{"code": "RY-01", "name": "李明", "title": "网格长", "unit_code": "DW-GL",
                                 "phone": "13906350011"},
                                {"code": "RY-02", "name": "赵强", "title": "网格员", "unit_code": "DW-GL"}])
    links = filled("assignments", [{"target_kind": "网格", "target_code": codes[0], "role": "网格长", "person_code": "RY-01"},
                                   {"target_kind": "网格", "target_code": codes[0], "role": "网格员", "person_code": "RY-02"},
                                   {"target_kind": "网格", "target_code": codes[0], "role": "责任单位", "unit_code": "DW-ZF"}])
    book = tmp_path / "单位与人员.xlsx"
    book.write_bytes(sheets.xlsx_bytes(sheets.Sheet("责任单位", units), sheets.Sheet("责任人", people),
                                       sheets.Sheet("帮包关系", links)))
    for kind, sheet, n in (("units", "责任单位", 2), ("leaders", "责任人", 2), ("assignments", "帮包关系", 3)):
        code, out, err = _run(capsys, url, "import", kind, str(book), "--layer", sheet)
        assert code == 0, err
        assert f"已导入 {n} 条" in out

    # 5. the problems ledger: GBK CSV, GCJ-02 coordinates, an alias and a name of its own
    rows = []
    inside = {c: shapely.get_coordinates(g.representative_point())[0] for c, g in zip(cells["网格编号"], cells.geometry)}
    names = ["暴露垃圾", "违章建筑", "垃圾乱倒", "占道经营", "井盖缺失", "垃圾乱倒"]
    for g, n in zip(codes, PER_GRID):
        for _ in range(n):
            i = len(rows)
            x, y = inside[g] + [0.0004 * (i % 3), 0.0003 * (i % 2)]
            rows.append({"工单编号": f"RX2026110{i:03d}", "问题类型": names[i], "问题描述": f"市民反映：{names[i]}",
                         "受理时间": f"2026-11-{3 + i:02d} 09:{10 + i}", "经度": round(x, 6), "纬度": round(y, 6)})
    ledger = tmp_path / "12345工单.csv"
    pd.DataFrame(rows).to_csv(ledger, index=False, encoding="gbk")

    code, out, err = _run(capsys, url, "import", "problems", str(ledger), "--coords", "gcj02")
    assert code == 1
    assert "问题类型“垃圾乱倒”不在问题类型表中；最接近的有：" in err and "--map 垃圾乱倒=" in err
    assert "第 4 行【问题类型】" in err and "第 7 行【问题类型】" in err and "违章建筑" not in err
    assert importer.counts(engine)["problems"] == 0

    code, out, err = _run(capsys, url, "import", "problems", str(ledger), "--coords", "gcj02", "--map", "垃圾乱倒=暴露垃圾")
    assert code == 0, err
    assert "已导入 6 条问题" in out
    with engine.connect() as conn:
        stored = dict(conn.execute(select(Problem.code, Problem.category)).all())
    assert stored["RX2026110001"] == "违法建设" and stored["RX2026110002"] == "暴露垃圾"
    assert sorted(set(stored.values())) == ["井盖缺失", "占道经营", "暴露垃圾", "违法建设"]

    # 6. the wall's figures and the grid page
    code, out, err = _run(capsys, url, "figures", "--month", "2026-11", "--json")
    assert code == 0, err
    figures = json.loads(out)
    assert figures["city"]["立案数"] == 6
    assert {g: figures["grids"][g]["立案数"] for g in codes[:4]} == {codes[0]: 3, codes[1]: 1, codes[2]: 2, codes[3]: 0}

    at = run_app(url, monkeypatch, page="pages/grid.py", query={"grid": codes[0]})
    assert not at.exception
    assert "问题台账（3 条）" in [s.value for s in at.subheader]
    card = "".join(m.value for m in at.markdown)
    for text in ("李明", "13906350011", "赵强", "区综合行政执法局"):
        assert text in card
