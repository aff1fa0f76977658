"""Exports by file extension, and round trips: what was imported exports back the same."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from gis.io import InputError, exporter, importer
from gis.people.permissions import Actor
from tests import smallcity

ADMIN = Actor.system("测试管理员")
FORMATS = [".gpkg", ".shp", ".geojson", ".xlsx", ".csv"]


def _same_geoms(a, b, tol=1e-7) -> bool:
    a, b = shapely.normalize(np.asarray(a, dtype=object)), shapely.normalize(np.asarray(b, dtype=object))
    return bool(np.all(shapely.equals_exact(a, b, tol)))


@pytest.mark.parametrize("suffix", FORMATS)
def test_every_layer_round_trips_through_every_format(city_rw, tmp_path, suffix):
    for kind in ("grids", "streets", "compounds", "villages", "points", "problems"):
        before = exporter.frame(city_rw, kind)
        path = tmp_path / f"{kind}{suffix}"
        assert exporter.export(city_rw, kind, path) == len(before)
        counts = importer.counts(city_rw)
        result = importer.import_file(city_rw, ADMIN, kind, path)
        assert result.written, (kind, result.prepared.error_lines())
        assert (result.inserted, result.updated) == (0, len(before))
        assert importer.counts(city_rw) == counts
        after = exporter.frame(city_rw, kind)
        cols = [c for c in before.columns if c != "geometry"]
        pd.testing.assert_frame_equal(pd.DataFrame(after[cols]), pd.DataFrame(before[cols]), check_dtype=False,
                                      check_exact=False, rtol=1e-6)
        assert _same_geoms(after.geometry, before.geometry), kind


def test_shapefile_has_prj_and_utf8_cpg_and_xlsx_chinese_headers(city_engine, tmp_path):
    shp = tmp_path / "grids.shp"
    exporter.export(city_engine, "grids", shp)
    assert shp.with_suffix(".cpg").read_text() == "UTF-8"
    assert "GCS_WGS_1984" in shp.with_suffix(".prj").read_text() or "WGS 84" in shp.with_suffix(".prj").read_text()
    info = pyogrio.read_info(shp)
    assert info["encoding"] == "UTF-8" and info["crs"] == "EPSG:4326"
    names = gpd.read_file(shp)["name"].tolist()
    assert names == smallcity.grids()["name"].tolist()
    xlsx = tmp_path / "problems.xlsx"
    exporter.export(city_engine, "problems", xlsx)
    table = pd.read_excel(xlsx, dtype=str)
    assert list(table.columns[:9]) == ["问题编号", "问题类型", "测评标准编号", "问题描述", "问题来源", "上报人", "上报时间",
                                      "整改时限", "状态"]
    assert list(table.columns[-3:]) == ["网格编号", "经度", "纬度"]
    row = table.set_index("问题编号").loc["WT05"]
    assert row["上报时间"] == "2026-11-12 10:00:00" and row["网格编号"] == "T-01" and row["经度"] == "115.99"
    grids = pd.read_csv(tmp_path / "g.csv") if exporter.export(city_engine, "grids", tmp_path / "g.csv") else None
    assert list(grids.columns) == ["网格编号", "网格名称", "所属街道", "面积（平方米）", "WKT"]


def test_unknown_format_and_kind(city_engine, tmp_path):
    with pytest.raises(InputError, match="不支持导出为“.kml”：可选 .gpkg、.shp、.geojson、.xlsx、.csv。"):
        exporter.export(city_engine, "grids", tmp_path / "a.kml")
    with pytest.raises(InputError, match="不能导出“leaders”"):
        exporter.export(city_engine, "leaders", tmp_path / "a.csv")
