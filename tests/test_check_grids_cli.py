"""`python -m gis check-grids [FILE]`: exit codes 0 (clean or warnings only), 1 (gap / overlap / invalid), 2 (usage)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
from shapely.geometry import MultiPolygon, box

from gis.cli import main as cli

from gis.geo import china
from tests import smallcity as sc

ROOT = Path(__file__).resolve().parents[1]


def _write(tmp_path, gdf: gpd.GeoDataFrame, name: str, driver: str | None = None) -> str:
    path = tmp_path / name
    gdf.to_file(path, driver=driver, engine="pyogrio")
    return str(path)


def test_current_grids_are_clean(city_url, capsys):
    assert cli.main(["--database", city_url, "check-grids"]) == 0
    out = capsys.readouterr().out
    assert "检查现行网格版本" in out and "检查通过：4 个网格" in out


def test_file_with_an_overlap_exits_1_and_says_where(city_url, tmp_path, capsys):
    grids = sc.grids()
    grids.loc[1, "geometry"] = MultiPolygon([box(sc.MX - 0.001, sc.S, sc.E, sc.MY)])  # T-02 into T-01
    path = _write(tmp_path, grids, "grids.gpkg")
    assert cli.main(["--database", city_url, "check-grids", path]) == 1
    out = capsys.readouterr().out
    assert "网格重叠" in out and "T-01 与 T-02" in out and "(115.98" in out


def test_gap_in_a_gcj02_geojson_exits_1(city_url, tmp_path, capsys):
    grids = sc.grids()
    grids.loc[0, "geometry"] = MultiPolygon([box(sc.W, sc.S, sc.MX - 0.0005, sc.MY)])  # 45 m short of T-02
    path = _write(tmp_path, china.from_wgs84(grids, "gcj02").rename(columns={"code": "编号"}), "grids.geojson")
    assert cli.main(["--database", city_url, "check-grids", path, "--crs", "gcj02"]) == 1
    assert "网格空隙" in capsys.readouterr().out
    # read as WGS84 the same file is 500 m off: all of it is a gap against the current grids, plus overlaps
    assert cli.main(["--database", city_url, "check-grids", path]) == 1


def test_warnings_only_exit_0(city_url, tmp_path, capsys):
    grids = sc.grids()
    grids.loc[len(grids)] = {"code": "T-05", "name": "远郊", "subdistrict": "", "geometry": MultiPolygon([box(116.40, 36.44, 116.41, 36.45)])}
    path = _write(tmp_path, grids, "grids.shp")
    assert cli.main(["--database", city_url, "check-grids", path]) == 0
    out = capsys.readouterr().out
    assert "超出区界" in out and "T-05" in out and "无错误，仅有警告" in out


def test_usage_errors_exit_2(city_url, tmp_path, capsys):
    assert cli.main(["--database", city_url, "check-grids", str(tmp_path / "missing.gpkg")]) == 2
    assert "文件不存在" in capsys.readouterr().err
    assert cli.main(["--database", city_url, "check-grids", _write(tmp_path, sc.grids(), "y.geojson"), "--crs", "mars"]) == 2
    assert "无法识别的坐标系“mars”" in capsys.readouterr().err
    no_code = sc.grids().drop(columns="code")
    assert cli.main(["--database", city_url, "check-grids", _write(tmp_path, no_code, "x.geojson")]) == 2
    assert "缺少必填字段：网格编号" in capsys.readouterr().err


def test_subprocess_exit_code(city_url, tmp_path):
    grids = sc.grids()
    grids.loc[1, "geometry"] = MultiPolygon([box(sc.MX - 0.001, sc.S, sc.E, sc.MY)])
    path = _write(tmp_path, grids, "grids.geojson")
    run = subprocess.run([sys.executable, "-m", "gis", "--database", city_url, "check-grids", path],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "网格重叠" in run.stdout
    run = subprocess.run([sys.executable, "-m", "gis", "--database", city_url, "check-grids"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "检查通过" in run.stdout
