"""Exports of a grid (gis.io.downloads): the ledger as .xlsx and the layers as a GeoPackage both open
with the usual readers (openpyxl, pyogrio) and match the ledger they came from."""

from __future__ import annotations

import io
from datetime import datetime

import numpy as np
import openpyxl
import pyogrio

from gis.io import downloads

from gis.problems import ledger

from gis.problems import workflow
from gis.people.permissions import Actor

NOW = datetime(2026, 11, 20, 12)


def test_xlsx_matches_the_ledger(city_engine):
    df = ledger.ledger(city_engine, "T-01", now=NOW)
    data = downloads.ledger_xlsx(df, "T-01", "古楼街道1号网格", now=NOW)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["问题台账"]
    rows = list(ws.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert list(header) == list(downloads.LEDGER_HEADERS.values())
    assert len(body) == len(df) == 7
    col = {name: i for i, name in enumerate(header)}
    assert [r[col["问题编号"]] for r in body] == list(df["code"])
    assert [r[col["状态"]] for r in body] == list(df["status"])
    assert [r[col["是否超期"]] for r in body] == ["是" if o else "否" for o in df["overdue"]]
    assert [r[col["反馈不过夜"]] for r in body] == list(df["ack"])
    assert [r[col["上报时间"]] for r in body] == [t.to_pydatetime() for t in df["reported_at"]]
    assert [r[col["责任单位"]] for r in body] == [None if u is None or u != u else u for u in df["unit"]]
    assert wb["说明"]["B1"].value == "T-01 古楼街道1号网格"


def test_xlsx_text_never_becomes_a_formula(city_rw):
    chief = Actor("zhoujie", "网格长", "T-01")
    workflow.create_problem(city_rw, chief, "暴露垃圾", '=HYPERLINK("http://evil","x")', 115.983, 36.447, now=NOW)
    df = ledger.ledger(city_rw, "T-01", now=NOW)
    ws = openpyxl.load_workbook(io.BytesIO(downloads.ledger_xlsx(df, "T-01", now=NOW)))["问题台账"]
    cells = [c for c in ws["E"][1:] if isinstance(c.value, str) and c.value.startswith("=")]
    assert len(cells) == 1 and cells[0].data_type == "s"


def test_geopackage_matches_the_ledger(city_engine, tmp_path):
    df = ledger.ledger(city_engine, "T-01", now=NOW)
    grid = ledger.grid_info(city_engine, "T-01")
    areas = ledger.grid_areas(city_engine, "T-01")
    path = tmp_path / "t01.gpkg"
    path.write_bytes(downloads.grid_geopackage(grid, areas, df))
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert layers == {"grid": "MultiPolygon", "compounds": "Polygon", "streets": "LineString", "points": "Point",
                      "problems": "Point"}  # T-01 has no urban village
    problems = pyogrio.read_dataframe(path, layer="problems")
    assert list(problems["code"]) == list(df["code"])
    assert list(problems["status"]) == list(df["status"])
    assert list(problems["overdue"].astype(bool)) == list(df["overdue"])
    assert np.allclose(problems.geometry.x, df["lon"]) and np.allclose(problems.geometry.y, df["lat"])
    assert problems.crs.to_epsg() == 4326
    assert list(pyogrio.read_dataframe(path, layer="compounds")["name"]) == ["阳光小区"]
    assert list(pyogrio.read_dataframe(path, layer="grid")["code"]) == ["T-01"]
