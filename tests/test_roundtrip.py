"""Every grids export reads back through the one reader (gis.io): the 数据管理 import (AppTest),
the 网格规划 boundary upload (`edits.read_upload`, what the page calls) and `gis check-grids FILE`.

A shapefile written by `gis export grids` names the sub-district `subdistrct` (10 characters):
it must come back as 所属街道 everywhere.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from gis.cli.main import main
from gis.io import exporter, importer
from gis.people.permissions import Actor
from gis.planning import edits
from pages.ui import md_escape
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

FORMATS = [".gpkg", ".shp", ".geojson", ".xlsx", ".csv", ".zip"]
ADMIN = Actor("admin", "管理员")
MIME = {".csv": "text/csv", ".zip": "application/zip"}


def _export(engine, tmp_path: Path, fmt: str) -> list[tuple[str, bytes]]:
    """`gis export grids` to `fmt` as the uploaded files (a zipped shapefile for .zip)."""
    url = engine.url.render_as_string(hide_password=False)
    suffix = ".shp" if fmt == ".zip" else fmt
    path = tmp_path / f"网格{suffix}"
    assert main(["--database", url, "export", "grids", str(path)]) == 0
    if suffix != ".shp":
        return [(path.name, path.read_bytes())]
    parts = sorted(tmp_path.glob("网格.*"))
    assert "subdistrct" in pd.DataFrame(__import__("pyogrio").read_dataframe(path)).columns
    if fmt == ".shp":
        return [(p.name, p.read_bytes()) for p in parts]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in parts:
            zf.write(p, p.name)
    return [("网格_shp.zip", buf.getvalue())]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = a.sort_values("code").reset_index(drop=True), b.sort_values("code").reset_index(drop=True)
    for col in ("code", "name", "subdistrict"):
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
    ga, gb = shapely.normalize(a.geometry.to_numpy()), shapely.normalize(b.geometry.to_numpy())
    assert np.all(shapely.equals_exact(ga, gb, 1e-7))


@pytest.mark.parametrize("fmt", FORMATS)
def test_grids_export_round_trips_through_data_page_planning_and_check(city_rw, monkeypatch, captured_maps,
                                                                         tmp_path, capsys, fmt):
    before = exporter.frame(city_rw, "grids")
    assert set(before["subdistrict"]) - {""}  # the fixture city has sub-districts to lose
    files = _export(city_rw, tmp_path, fmt)

    # 网格规划: the boundary upload (one file: a zipped shapefile stands for .shp)
    if fmt != ".shp":
        name, data = files[0]
        candidate = edits.read_upload(data, name)
        _same(candidate, before)
        assert edits.changed_codes(edits.apply_file(candidate, candidate, whole_layer=True), candidate) == \
            {"added": [], "removed": [], "changed": []}

        # gis check-grids FILE: the same file is the current layer, so it is clean
        path = tmp_path / "check" / name
        path.parent.mkdir()
        path.write_bytes(data)
        url = city_rw.url.render_as_string(hide_password=False)
        assert main(["--database", url, "check-grids", str(path)]) == 0
        assert "检查通过：4 个网格" in capsys.readouterr().out

    # 数据管理: upload and import as a 管理员 — every grid updated in place, nothing added
    at = run_app(city_rw.url.render_as_string(hide_password=False), monkeypatch, page="pages/data.py", actor=ADMIN)
    at.selectbox(key=next(w.key for w in at.selectbox if w.label == "导入为")).set_value("grids")
    at.file_uploader(key="data_upload").set_value(
        [(n, d, MIME.get(Path(n).suffix, "application/octet-stream")) for n, d in files])
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    counts = importer.counts(city_rw)
    at.button(key="data_go").click().run()
    assert not at.exception
    assert at.success[-1].value.endswith(md_escape("已导入 4 条网格（新增 0，更新 4）。"))
    assert importer.counts(city_rw) == counts
    _same(exporter.frame(city_rw, "grids"), before)


def test_planning_upload_refuses_what_the_reader_refuses(tmp_path):
    with pytest.raises(edits.PlanningError, match="不支持的文件类型“.txt”"):
        edits.read_upload(b"code,name\n", "网格.txt")
    with pytest.raises(edits.PlanningError, match="缺少必填字段：网格编号"):
        edits.read_upload("名称,WKT\n甲,\"POLYGON((115.98 36.44,115.99 36.44,115.99 36.45,115.98 36.44))\"\n"
                          .encode("utf-8"), "网格.csv")
    slip = io.BytesIO()
    with zipfile.ZipFile(slip, "w") as zf:
        zf.writestr("../evil.geojson", "{}")
    with pytest.raises(edits.PlanningError, match="指向压缩包之外"):
        edits.read_upload(slip.getvalue(), "x.zip")
