"""Every spreadsheet the app produces goes through gis.io.sheets and none carries a live formula.

Each export path gets a hostile cell (=, +, -, @, tab, CR at the start) and is opened the way a user
would: the .xlsx as XML (no ``<f>`` formula element), the .csv as text (an apostrophe before the
formula). Exports still import back unchanged.
"""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import openpyxl
import pandas as pd
import pytest

from gis.cli.main import main
from gis.io import exporter, importer, sheets
from gis.people import audit, auth
from gis.people.permissions import Actor
from gis.io import downloads
from gis.problems import ledger, workflow
from pages.ui import md_escape
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 20, 12)
HOSTILE = ['=HYPERLINK("http://evil.example","点此")', "+1+2", "-3+4", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]
XLSX_READ_BACK = [t.replace("\r", "\n") for t in HOSTILE]  # a raw CR in XML reads back as LF (openpyxl
                                                            # escapes it as &#13; only when lxml is installed)
CHIEF = Actor("zhoujie", "网格长", "T-01")
ADMIN = Actor.system("测试管理员")


def _formulas(xlsx: bytes) -> list[str]:
    """Every worksheet XML that holds a formula element."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as zf:
        return [n for n in zf.namelist() if n.startswith("xl/worksheets/") and b"<f>" in zf.read(n)]


def _hostile_problems(engine) -> list[str]:
    """Problems reported with hostile descriptions (the workflow strips the leading tab / CR; the rest stay)."""
    codes = []
    for text in HOSTILE:
        codes.append(workflow.create_problem(engine, CHIEF, "暴露垃圾", text, 115.983, 36.447, now=NOW)["code"])
    return codes


STORED = [t.strip() for t in HOSTILE]


def test_writer_keeps_text_as_text_and_numbers_as_numbers():
    frame = pd.DataFrame({"文字": HOSTILE, "数": [-1, 2.5, -3, 4, 5, 6],
                          "时间": pd.to_datetime(["2026-11-20 08:30"] * 6)})
    data = sheets.xlsx_bytes(sheets.Sheet("表", frame))
    assert _formulas(data) == []
    ws = openpyxl.load_workbook(io.BytesIO(data))["表"]
    assert [c.value for c in ws[1]] == ["文字", "数", "时间"]
    assert [c.value.replace("\r", "\n") for c in ws["A"][1:]] == XLSX_READ_BACK
    assert all(c.data_type == "s" and c.quotePrefix for c in ws["A"][1:])
    assert [c.value for c in ws["B"][1:]] == [-1, 2.5, -3, 4, 5, 6]
    assert ws["C2"].value == datetime(2026, 11, 20, 8, 30)
    csv = sheets.csv_bytes(frame)
    assert csv.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", keep_default_na=False)
    assert back["文字"].tolist() == ["'" + t for t in HOSTILE]
    assert back["数"].tolist() == [-1, 2.5, -3, 4, 5, 6]
    assert sheets.unescape_csv(back["文字"]).tolist() == HOSTILE


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_gis_export_problems_is_formula_safe_and_round_trips(city_rw, tmp_path, capsys, suffix):
    codes = _hostile_problems(city_rw)
    url = city_rw.url.render_as_string(hide_password=False)
    path = tmp_path / f"问题{suffix}"
    assert main(["--database", url, "export", "problems", str(path)]) == 0
    capsys.readouterr()
    if suffix == ".xlsx":
        assert _formulas(path.read_bytes()) == []
        ws = openpyxl.load_workbook(path)["problems"]
        header = [c.value for c in ws[1]]
        col = header.index("问题描述") + 1
        texts = {ws.cell(r, 1).value: ws.cell(r, col) for r in range(2, ws.max_row + 1)}
        assert [texts[c].value for c in codes] == STORED
        assert all(texts[c].data_type == "s" for c in codes)
    else:
        raw = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False).set_index("问题编号")
        assert raw.loc[codes, "问题描述"].tolist() == ["'" + t for t in STORED]
    before = exporter.frame(city_rw, "problems").set_index("code")
    result = importer.import_file(city_rw, ADMIN, "problems", path)
    assert result.written, result.prepared.error_lines()
    after = exporter.frame(city_rw, "problems").set_index("code")
    assert after.loc[codes, "description"].tolist() == STORED
    others = ~before.index.isin(codes)
    assert after["description"][others].equals(before["description"][others])


def test_grid_ledger_download_is_formula_safe(city_rw):
    codes = _hostile_problems(city_rw)
    df = ledger.ledger(city_rw, "T-01", now=NOW)
    data = downloads.ledger_xlsx(df, "T-01", "=cmd|' /C calc'!A0", now=NOW)
    assert _formulas(data) == []
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb["问题台账"]
    header = [c.value for c in ws[1]]
    rows = {r[0].value: r[header.index("问题描述")] for r in ws.iter_rows(min_row=2)}
    assert [rows[c].value for c in codes] == STORED
    assert wb["说明"]["B1"].value == "T-01 =cmd|' /C calc'!A0"


def test_audit_log_export_is_formula_safe(city_rw):
    name = '=HYPERLINK("http://x","y")'
    auth.authenticate(city_rw, name, "whatever")
    frame = audit.entries(city_rw)
    assert frame["actor"].iloc[0] == name
    csv = sheets.table_bytes(frame, "csv")
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert back["actor"].iloc[0] == "'" + name
    xlsx = sheets.table_bytes(frame, "xlsx", sheet_name="审计日志")
    assert _formulas(xlsx) == []
    assert openpyxl.load_workbook(io.BytesIO(xlsx))["审计日志"]["B2"].value == name


def test_data_page_export_is_formula_safe(city_rw, monkeypatch, captured_maps):
    codes = _hostile_problems(city_rw)
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/data.py", actor=Actor("admin", "管理员"))
    at.selectbox(key="export_kind").set_value("problems")
    at.selectbox(key="export_format").set_value(".xlsx")
    at.button(key="export_go").click().run()
    assert not at.exception
    data, name, n, _ = at.session_state["export_file"]
    assert at.success[-1].value == md_escape(f"已生成 {name}：{n:,} 条问题。")
    assert _formulas(data) == []
    ws = openpyxl.load_workbook(io.BytesIO(data))["problems"]
    descr = [c.value for c in ws["D"][1:]]
    assert set(STORED) <= set(descr) and len(codes) == len(HOSTILE)
