"""Importing real-world files: every format, every coordinate-system path, encodings, bad input.

Expectations come from the small city (tests/smallcity.py: 4 grids T-01..T-04, 10 problems) and
from the files written by tests/io_files.py; every refused import must leave the row counts unchanged.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import select

from gis.geo.areas import current_layer_id
from gis.io import InputError, importer
from gis.geo.district import district_boundary
from gis.io.validate import parse_datetimes
from gis.db.models import AuditEntry, Grid, Problem
from gis.people.permissions import Actor, PermissionDenied
from gis.db.store import read_frame
from tests import io_files as f

ADMIN = Actor.system("测试管理员")
GBK_HEADERS = ("网格编号", "网格名称", "所属街道")
REAL_SHP = Path(__file__).parent / "data" / "shandong_districts_shp" / "shandong_district.shp"


def _grids(engine) -> gpd.GeoDataFrame:
    g = Grid.__table__
    with engine.connect() as conn:
        return read_frame(conn, g, g.c.layer_id == current_layer_id(conn), ["id", "code", "name", "subdistrict", "area_m2", "revision"])


def _refused(engine, kind, path, message, **opts):
    before = importer.counts(engine)
    with pytest.raises(InputError) as exc:
        importer.import_file(engine, ADMIN, kind, path, **opts)
    assert str(exc.value) == message
    assert importer.counts(engine) == before


# ---------------------------------------------------------------- coordinate systems, shapefiles

def test_shapefile_in_gauss_krueger_4548_upserts_grids(city_rw, tmp_path):
    shp = f.write_shp(f.grid_frame("EPSG:4548"), tmp_path / "grids_4548.shp")
    old_t01 = _grids(city_rw).set_index("code").loc["T-01"]
    result = importer.import_file(city_rw, ADMIN, "grids", shp)
    assert result.written and (result.inserted, result.updated) == (2, 1)
    assert "文件 .prj 中声明的坐标系：EPSG:4548 CGCS2000 / 3-degree Gauss-Kruger CM 117E。" in result.prepared.notes
    grids = _grids(city_rw).set_index("code")
    assert sorted(grids.index) == ["G-05", "G-06", "T-01", "T-02", "T-03", "T-04"]
    # back in WGS84 to well under a centimetre, area measured in EPSG:4548
    expected_g05 = MultiPolygon([box(115.98, 36.46, 115.99, 36.47)])
    assert shapely.normalize(grids.loc["G-05", "geometry"]).equals_exact(shapely.normalize(expected_g05), 1e-7)
    expected = gpd.GeoSeries([box(115.98, 36.44, 115.99, 36.451)], crs=4326).to_crs(4548).area.iloc[0]
    assert grids.loc["T-01", "area_m2"] == pytest.approx(expected, rel=1e-6)
    # T-01 is updated in place (same row id, so problems keep pointing at it), revision bumped
    assert grids.loc["T-01", "id"] == old_t01["id"] and grids.loc["T-01", "revision"] == old_t01["revision"] + 1
    assert grids.loc["T-01", "name"] == "古楼街道1号网格（调整）"
    # importing the same file again updates, never duplicates
    again = importer.import_file(city_rw, ADMIN, "grids", shp)
    assert (again.inserted, again.updated) == (0, 3)
    assert len(_grids(city_rw)) == 6
    with city_rw.connect() as conn:
        actions = [r[0] for r in conn.execute(select(AuditEntry.__table__.c.action)
                                              .where(AuditEntry.__table__.c.actor == "测试管理员"))]
    assert actions == ["import.grids", "import.grids"]


def test_gauss_krueger_without_prj_is_guessed_and_said(tmp_path):
    shp = f.write_shp(f.grid_frame("EPSG:4548"), tmp_path / "noprj.shp", prj=False)
    p = importer.load(shp, "grids")
    assert p.ok and p.crs.startswith("EPSG:4548")
    assert ("文件未声明坐标系：坐标为米制平面坐标且不带带号，按本区所在的 CGCS2000 3 度带（中央经线 117°E，EPSG:4548）处理。"
            "如不正确请用 --crs 指定。") in p.notes
    zoned = f.write_shp(f.grid_frame("EPSG:4527"), tmp_path / "zone39.shp", prj=False)  # zone 39: x = 39 500 000 ± …
    p = importer.load(zoned, "grids")
    assert p.ok and p.crs.startswith("EPSG:4527")
    assert "文件未声明坐标系：X 坐标带 39 号带带号，推断为 CGCS2000 3 度带高斯-克吕格投影（EPSG:4527）。" in p.notes
    assert np.allclose(shapely.bounds(p.geoms[0]), [115.98, 36.46, 115.99, 36.47], atol=1e-7)
    # --crs overrides the guess (and the .prj)
    p = importer.load(shp, "grids", crs="EPSG:4548")
    assert "按指定的坐标系 EPSG:4548 CGCS2000 / 3-degree Gauss-Kruger CM 117E 读取。" in p.notes


def test_cgcs2000_geographic_is_accepted(tmp_path):
    shp = f.write_shp(f.grid_frame("EPSG:4490"), tmp_path / "g4490.shp")
    p = importer.load(shp, "grids")
    assert p.ok and p.crs.startswith("EPSG:4490")
    assert np.allclose(shapely.bounds(p.geoms[0]), [115.98, 36.46, 115.99, 36.47], atol=1e-6)


def test_gbk_dbf_without_cpg_is_detected(city_rw, tmp_path):
    shp = f.write_shp(f.grid_frame(headers=GBK_HEADERS), tmp_path / "gbk.shp", encoding="GBK", cpg=False)
    assert not shp.with_suffix(".cpg").exists()
    result = importer.import_file(city_rw, ADMIN, "grids", shp)
    assert result.written
    assert "没有 .cpg 文件：检测到属性表字符编码为 GB18030（GBK 的超集）。" in result.prepared.notes
    names = _grids(city_rw).set_index("code")["name"]
    assert names["G-05"] == "新区1号网格" and names["T-01"] == "古楼街道1号网格（调整）"


def test_garbled_chinese_never_reaches_the_database(city_rw, tmp_path):
    shp = f.write_shp(f.grid_frame(headers=GBK_HEADERS), tmp_path / "wrongcpg.shp", encoding="GBK", cpg=False)
    shp.with_suffix(".cpg").write_text("ISO-8859-1")  # a lying .cpg: GBK bytes read as Latin-1
    _refused(city_rw, "grids", shp, "wrongcpg.shp 的表头是乱码（Íø¸ñ±àºÅ、Íø¸ñÃû³Æ、ËùÊô½ÖµÀ）：字符编码不对，请用 --encoding 指定（如 gbk）。")
    # the encoding option overrides the .cpg
    assert importer.load(shp, "grids", encoding="gbk").ok
    csv = f.write_csv(f.problems_frame(), tmp_path / "p.csv", encoding="gbk")
    before = importer.counts(city_rw)
    with pytest.raises(InputError, match="p.csv 不能按 UTF-8 解码（第 1 行）。请检查 --encoding。"):
        importer.import_file(city_rw, ADMIN, "problems", csv, encoding="utf-8")
    assert importer.counts(city_rw) == before


def test_real_shapefile_gcj02_no_prj_no_cpg():
    """The real AMap shapefile: UTF-8 without .cpg, no .prj, GCJ-02 — read right once GCJ-02 is declared."""
    opts = dict(mapping={"code": "adcode"}, check_district=False)
    p = importer.load(REAL_SHP, "grids", coords="gcj02", **opts)
    assert p.ok and len(p.frame) == 137
    assert "没有 .cpg 文件：检测到属性表字符编码为 UTF-8。" in p.notes and "没有 .prj 文件：坐标系未声明。" in p.notes
    assert "坐标来源：GCJ-02（高德、腾讯地图），已转换为 WGS84。" in p.notes
    row = p.frame.index[p.frame["code"] == "371502"][0]
    assert p.frame.loc[row, "name"] == "东昌府区"
    assert p.source.frame.loc[row, "ctname"] == "聊城市" and p.source.frame.loc[row, "prname"] == "山东省"
    ours = gpd.GeoSeries([p.geoms[row], district_boundary()], crs=4326).to_crs(4548)
    assert ours.iloc[0].centroid.distance(ours.iloc[1].centroid) < 50
    assert ours.iloc[0].symmetric_difference(ours.iloc[1]).area / ours.iloc[1].area < 0.01
    # not declared: a guess (lon/lat), said, and the polygon sits ~500 m off
    raw = importer.load(REAL_SHP, "grids", **opts)
    assert "若数据来自高德/腾讯地图（GCJ-02）或百度地图（BD-09），请在“经纬度来源”中选择相应坐标，系统会换算为 WGS84。" in raw.notes
    off = gpd.GeoSeries([raw.geoms[row], district_boundary()], crs=4326).to_crs(4548)
    assert off.iloc[0].centroid.distance(off.iloc[1].centroid) > 300
    # the district check refuses the rest of Shandong, naming the rows
    checked = importer.load(REAL_SHP, "grids", coords="gcj02", mapping={"code": "adcode"})
    assert set(checked.errors["row"]) == set(range(1, 138)) - {row + 1}
    assert set(checked.errors["reason"]) == {"几何超出辖区范围（辖区边界外 3 km 以上）"}


# ---------------------------------------------------------------- tables, GeoJSON, GeoPackage, zip

def test_gbk_csv_problems_get_their_areas_in_the_same_transaction(city_rw, tmp_path):
    csv = f.write_csv(f.problems_frame(), tmp_path / "hotline.csv", encoding="gbk")
    result = importer.import_file(city_rw, ADMIN, "problems", csv)
    assert result.written and result.inserted == 3
    assert "检测到 CSV 字符编码为 GB18030（GBK 的超集）。" in result.prepared.notes
    t, g = Problem.__table__, Grid.__table__
    with city_rw.connect() as conn:
        rows = conn.execute(select(t.c.code, t.c.description, t.c.reported_at, t.c.deadline, t.c.status, t.c.source,
                                   g.c.code, t.c.compound_id.is_not(None), t.c.village_id.is_not(None))
                            .join(g, g.c.id == t.c.grid_id).where(t.c.code.like("IM-%")).order_by(t.c.code)).all()
    assert [r[0] for r in rows] == ["IM-001", "IM-002", "IM-003"]
    assert rows[0][1] == "东昌路早市占道"
    assert pd.Timestamp(rows[0][2]) == pd.Timestamp("2025-03-05 08:30")
    assert pd.Timestamp(rows[1][2]) == pd.Timestamp("2025-03-05")
    assert pd.Timestamp(rows[0][3]) == pd.Timestamp("2025-03-06 08:30")  # 占道经营: 24 h
    assert pd.Timestamp(rows[2][3]) == pd.Timestamp("2025-03-05 02:00")  # 露天烧烤: 2 h
    assert [r[4] for r in rows] == ["待派遣"] * 3 and rows[0][5] == "市民热线"
    assert [r[6] for r in rows] == ["T-01", "T-01", "T-02"]
    assert [r[7] for r in rows] == [True, False, False] and [r[8] for r in rows] == [False, False, True]
    again = importer.import_file(city_rw, ADMIN, "problems", csv)
    assert (again.inserted, again.updated) == (0, 3) and importer.counts(city_rw)["problems"] == 13


def test_xlsx_geojson_and_geopackage(city_rw, tmp_path):
    xlsx = tmp_path / "台账.xlsx"
    f.problems_frame().to_excel(xlsx, index=False)
    assert importer.import_file(city_rw, ADMIN, "problems", xlsx).inserted == 3
    gj = tmp_path / "g.geojson"
    f.grid_frame().to_file(gj, driver="GeoJSON", engine="pyogrio")
    assert importer.import_file(city_rw, ADMIN, "grids", gj, dry_run=True).ok
    gpkg = tmp_path / "city.gpkg"
    f.grid_frame().to_file(gpkg, layer="grids", engine="pyogrio")
    f.grid_frame().to_file(gpkg, layer="others", engine="pyogrio")
    _refused(city_rw, "grids", gpkg, "city.gpkg 有多个图层：grids、others。请用 --layer 选择其中一个。")
    _refused(city_rw, "grids", gpkg, "city.gpkg 中没有图层“nope”；已有图层：grids、others。", layer="nope")
    assert importer.import_file(city_rw, ADMIN, "grids", gpkg, layer="grids").inserted == 2


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_gcj02_and_bd09_points_are_converted(tmp_path, system):
    path, truth = f.gcj_points(tmp_path / f"{system}.csv", system)
    p = importer.load(path, "points", coords=system)
    assert p.ok
    assert np.allclose(p.frame[["lon", "lat"]].to_numpy(float), truth, atol=1e-7)
    raw = importer.load(path, "points")  # not declared: hundreds of metres off
    assert not np.allclose(raw.frame[["lon", "lat"]].to_numpy(float), truth, atol=1e-3)


def test_gcj02_is_refused_for_projected_data(tmp_path):
    shp = f.write_shp(f.grid_frame("EPSG:4548"), tmp_path / "x.shp")
    with pytest.raises(InputError, match="坐标来源 GCJ-02（高德、腾讯地图） 只适用于经纬度数据"):
        importer.load(shp, "grids", coords="gcj02")


def test_swapped_lon_lat_rows_are_detected(tmp_path):
    df = f.problems_frame()
    df.loc[1, ["经度", "纬度"]] = [36.4431, 115.985]
    p = importer.load(f.write_csv(df, tmp_path / "swap.csv"), "problems")
    assert p.ok
    assert "检测到 1 行经纬度颠倒，已交换：第 3 行。" in p.notes
    assert p.frame.loc[1, ["lon", "lat"]].tolist() == [115.985, 36.4431]


def test_zip_shapefile_and_wkt_csv(city_rw, tmp_path):
    shp = f.write_shp(f.grid_frame("EPSG:4548"), tmp_path / "src" / "网格.shp")
    z = f.shapefile_zip(shp, tmp_path / "grids.zip")
    assert importer.import_file(city_rw, ADMIN, "grids", z).inserted == 2
    wkt = pd.DataFrame({"编号": ["XQ-0100"], "名称": ["新建小区"], "户数": ["120"],
                        "WKT": ["POLYGON ((115.981 36.441, 115.983 36.441, 115.983 36.443, 115.981 36.441))"]})
    r = importer.import_file(city_rw, ADMIN, "compounds", f.write_csv(wkt, tmp_path / "xq.csv"))
    assert r.inserted == 1


# ---------------------------------------------------------------- bad input

def test_broken_files_give_clear_messages_and_write_nothing(city_rw, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    _refused(city_rw, "problems", empty, "empty.csv 是空文件（0 字节）。")
    header = tmp_path / "header.csv"
    header.write_text("问题编号,问题类型,问题描述,上报时间,经度,纬度\n", encoding="utf-8")
    _refused(city_rw, "problems", header, "header.csv 中没有数据行（要素数为 0）。")
    shp = f.write_shp(f.grid_frame(), tmp_path / "cut.shp")
    shp.write_bytes(shp.read_bytes()[:150])  # truncated mid-record
    with pytest.raises(InputError, match=r"^无法读取 cut.shp：文件已损坏、被截断或格式不对"):
        importer.import_file(city_rw, ADMIN, "grids", shp)
    lonely = tmp_path / "lonely.shp"
    lonely.write_bytes(b"\0" * 100)
    _refused(city_rw, "grids", lonely, "Shapefile lonely.shp 不完整：缺少 lonely.dbf、lonely.shx。"
             "请一并上传 .shp、.dbf、.shx（以及 .prj、.cpg），或打包成 .zip。")
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"this is not a geopackage" * 10)
    with pytest.raises(InputError, match=r"^无法读取 junk.gpkg：文件已损坏、被截断或格式不对"):
        importer.import_file(city_rw, ADMIN, "grids", junk)
    bad_xlsx = tmp_path / "bad.xlsx"
    bad_xlsx.write_bytes(b"PK\x03\x04 broken")
    _refused(city_rw, "problems", bad_xlsx, "无法读取 bad.xlsx：不是有效的 Excel (.xlsx) 文件，或已损坏（BadZipFile）。")
    doc = tmp_path / "a.docx"
    doc.write_bytes(b"x")
    _refused(city_rw, "problems", doc, "不支持的文件类型“.docx”：只支持 .shp（或其 .zip）、.gpkg、.geojson、.csv、.xlsx。")
    _refused(city_rw, "problems", tmp_path / "missing.csv", f"文件不存在：{tmp_path / 'missing.csv'}")


def test_zip_slip_and_zip_bomb_are_refused(city_rw, tmp_path):
    slip = f.zip_of({"ok.csv": b"a,b\n1,2\n", "../../evil.csv": b"x"}, tmp_path / "slip.zip")
    _refused(city_rw, "problems", slip, "压缩包中的路径“../../evil.csv”指向压缩包之外，已拒绝整个压缩包。")
    assert not (tmp_path.parent / "evil.csv").exists()
    absolute = f.zip_of({"/etc/evil.csv": b"x"}, tmp_path / "abs.zip")
    _refused(city_rw, "problems", absolute, "压缩包中的路径“/etc/evil.csv”指向压缩包之外，已拒绝整个压缩包。")
    bomb = f.zip_of({"big.csv": b"0" * (50 << 20)}, tmp_path / "bomb.zip")
    size = bomb.stat().st_size
    _refused(city_rw, "problems", bomb, f"压缩包 bomb.zip 解压后有 50.0 MB，远大于压缩包本身（{size / 1024:.1f} KB），"
             "疑似压缩炸弹，已拒绝。")


def test_every_bad_row_is_reported_with_its_number(city_rw, tmp_path):
    df = pd.DataFrame({
        "问题编号": ["B-1", "B-2", "B-2", "B-4", "", "B-6", "B-7"],
        "问题类型": ["占道经营", "占道经营", "暴露垃圾", "外星人", "占道经营", "占道经营", "占道经营"],
        "问题描述": ["好", "好", "好", "好", "好", "好", ""],
        "上报时间": ["2025年3月5日 08:30", "2025/13/45", "2025-03-05", "2025-03-05", "2025-03-05", "2025-03-05", "2025-03-05"],
        "经度": ["115.984", "115.984", "115.984", "115.984", "115.984", "117.0", "abc"],
        "纬度": ["36.446", "36.446", "36.446", "36.446", "36.446", "36.65", "36.446"],
    })
    before = importer.counts(city_rw)
    result = importer.import_file(city_rw, ADMIN, "problems", f.write_csv(df, tmp_path / "bad.csv"))
    assert not result.written and importer.counts(city_rw) == before
    got = {(r.row, r.reason) for r in result.errors.itertuples()}
    assert got == {
        (3, "无法识别的日期时间（可用 2025-03-05 08:30、2025/3/5、2025年3月5日 08:30）"),
        (4, "编号重复，与第 3 行相同"),
        (5, "问题类型“外星人”不在问题类型表中；请先导入该问题类型（gis import categories）"),  # no close name (issue 13)
        (6, "缺少必填字段“问题编号”"),
        (7, "坐标超出辖区范围（辖区边界外 3 km 以上）"),
        (8, "缺少必填字段“问题描述”"),
        (8, "经度不是数字"),
    }
    assert result.summary() == "bad.csv：6 行有问题（共 7 处），未导入任何数据。"
    missing = f.problems_frame().drop(columns=["问题描述"])
    _refused(city_rw, "problems", f.write_csv(missing, tmp_path / "nodesc.csv"),
             "缺少必填字段：问题描述（可用表头：问题描述、description、描述、内容）。"
             "文件的表头：问题编号、问题类型、上报时间、经度、纬度、上报人。")


def test_invalid_and_wrong_geometries(city_rw, tmp_path):
    gdf = gpd.GeoDataFrame({"编号": ["V-1", "V-2"], "名称": ["领结", "点"]},
                           geometry=[f.bowtie(), Point(115.985, 36.445)], crs=4326)
    shp = f.write_shp(gdf.iloc[[0]], tmp_path / "bow.shp")
    before = importer.counts(city_rw)
    r = importer.import_file(city_rw, ADMIN, "grids", shp)
    assert not r.written and importer.counts(city_rw) == before
    assert r.prepared.error_lines() == ["第 1 行【几何】：几何无效：Self-intersection[115.983 36.443]（可用 --repair 修复）"]
    fixed = importer.import_file(city_rw, ADMIN, "grids", shp, repair=True)
    assert fixed.written and fixed.inserted == 1
    assert "已修复 1 个无效几何（make_valid）：第 1 行。" in fixed.prepared.notes
    assert _grids(city_rw).set_index("code").loc["V-1", "geometry"].is_valid
    gj = tmp_path / "pt.geojson"
    gdf.iloc[[1]].to_file(gj, driver="GeoJSON", engine="pyogrio")
    r = importer.import_file(city_rw, ADMIN, "grids", gj)
    assert r.prepared.error_lines() == ["第 1 行【几何】：几何类型为 Point，应为面（MultiPolygon）"]


def test_only_admins_import(city_rw, tmp_path):
    csv = f.write_csv(f.problems_frame(), tmp_path / "p.csv")
    with pytest.raises(PermissionDenied, match="角色“网格员”不能执行“导入数据”"):
        importer.import_file(city_rw, Actor("wang", "网格员", "T-01"), "problems", csv)
    assert importer.counts(city_rw)["problems"] == 10


def test_leaders_and_assignments(city_rw, tmp_path):
    leaders = pd.DataFrame({"人员编号": ["P-101", "P-001"], "姓名": ["马骏", "张建国"], "职务": ["副市长", "市人大常委会主任"],
                            "所属单位": ["市政府办公室", "市城管局"], "联系电话": ["13906350101", "13906350001"]})
    r = importer.import_file(city_rw, ADMIN, "leaders", f.write_csv(leaders, tmp_path / "l.csv"))
    assert (r.inserted, r.updated) == (1, 1)
    links = pd.DataFrame({"对象类型": ["网格", "小区", "网格"], "对象编号": ["T-01", "XQ-0001", "T-99"],
                          "帮包角色": ["帮包市级领导", "帮包县级领导", "网格长"], "责任人": ["马骏", "马骏", "马骏"],
                          "开始日期": ["2025年3月1日", "2025/3/1", "2025-03-01"]})
    bad = importer.import_file(city_rw, ADMIN, "assignments", f.write_csv(links, tmp_path / "a.csv"))
    assert bad.prepared.error_lines() == ["第 4 行【对象编号】：对象编号在现行网格中不存在（值：T-99）"]
    n = importer.counts(city_rw)["assignments"]
    ok = importer.import_file(city_rw, ADMIN, "assignments", f.write_csv(links.iloc[:2], tmp_path / "a2.csv"))
    assert ok.inserted == 2 and importer.counts(city_rw)["assignments"] == n + 2
    again = importer.import_file(city_rw, ADMIN, "assignments", f.write_csv(links.iloc[:2], tmp_path / "a2.csv"))
    assert (again.inserted, again.updated) == (0, 2) and importer.counts(city_rw)["assignments"] == n + 2


def test_chinese_date_formats():
    s = pd.Series(["2025年3月5日 08:30", "2025/3/5", "2025-03-05", "2025.3.5 8:05:09", "2025年03月05日8时30分", "", "昨天"])
    parsed, bad = parse_datetimes(s)
    assert parsed.iloc[:5].tolist() == [pd.Timestamp("2025-03-05 08:30"), pd.Timestamp("2025-03-05"),
                                        pd.Timestamp("2025-03-05"), pd.Timestamp("2025-03-05 08:05:09"),
                                        pd.Timestamp("2025-03-05 08:30")]
    assert pd.isna(parsed.iloc[5]) and bad.tolist() == [False] * 6 + [True]


def test_big_batches_rebuild_indexes_and_roll_back_whole(city_rw, tmp_path, monkeypatch):
    """Batches from BULK_ROWS rows drop and rebuild the table's secondary indexes inside the transaction;
    a failure while writing rolls everything back, indexes included."""
    from sqlalchemy import inspect

    monkeypatch.setattr(importer, "BULK_ROWS", 1)
    names = lambda: sorted(i["name"] for i in inspect(city_rw).get_indexes("problems"))  # noqa: E731
    before_idx, before = names(), importer.counts(city_rw)
    csv = f.write_csv(f.problems_frame(), tmp_path / "p.csv")

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "insert_problems", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        importer.import_file(city_rw, ADMIN, "problems", csv)
    assert importer.counts(city_rw) == before and names() == before_idx
    monkeypatch.undo()
    monkeypatch.setattr(importer, "BULK_ROWS", 1)
    assert importer.import_file(city_rw, ADMIN, "problems", csv).inserted == 3
    assert names() == before_idx and importer.counts(city_rw)["problems"] == 13
