"""Downloads of one grid: its problem ledger as .xlsx (Chinese headers), its layers as a GeoPackage.

Both return bytes (for st.download_button) and take the same ledger frame the page shows, so
a download always matches the table on screen. Text cells are written as text: a description
starting with ``=`` stays a string in Excel, never a formula.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from gis.io.files import write_geopackage

# Ledger column → Chinese header, in export order.
LEDGER_HEADERS = {
    "code": "问题编号", "category": "问题类型", "status": "状态", "source": "来源", "description": "问题描述",
    "reported_at": "上报时间", "deadline": "整改时限", "overdue": "是否超期", "ack": "反馈不过夜",
    "unit": "责任单位", "compound": "小区", "street": "街巷", "village": "城中村",
    "acknowledged_at": "签收时间", "rectified_at": "整改时间", "verified_at": "核查时间",
    "rework_count": "返工次数", "deduction": "扣分", "standard_code": "测评标准", "reporter": "上报人",
    "lon": "经度", "lat": "纬度",
}
WIDTHS = {"description": 40, "unit": 18, "compound": 14, "street": 12, "village": 10}


def ledger_table(df: pd.DataFrame) -> pd.DataFrame:
    """The ledger with Chinese headers and display values (是/否 for overdue), in export order."""
    out = df[[c for c in LEDGER_HEADERS if c in df.columns]].copy()
    if "overdue" in out:
        out["overdue"] = out["overdue"].map({True: "是", False: "否"})
    return out.rename(columns=LEDGER_HEADERS)


def ledger_xlsx(df: pd.DataFrame, grid_code: str, grid_name: str = "", now: datetime | None = None) -> bytes:
    """The ledger as an .xlsx workbook: sheet 问题台账 with a header row, frozen, filterable."""
    table = ledger_table(df)
    wb = Workbook()
    ws = wb.active
    ws.title = "问题台账"
    ws.append(list(table.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
        cell.alignment = Alignment(horizontal="center")
    for row in table.itertuples(index=False, name=None):
        ws.append([_value(v) for v in row])
    for cell in (c for r in ws.iter_rows(min_row=2) for c in r):
        if isinstance(cell.value, str):
            cell.data_type = "s"  # never a formula, whatever the text starts with
        elif isinstance(cell.value, datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
    keys = [c for c in LEDGER_HEADERS if c in df.columns]
    for i, key in enumerate(keys, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(key, 16 if key.endswith("_at") or key == "deadline" else 11)
    ws.freeze_panes = "A2"
    if len(table):
        ws.auto_filter.ref = ws.dimensions
    info = wb.create_sheet("说明")
    info.append(["网格", f"{grid_code} {grid_name}".strip()])
    info.append(["导出时间", (now or datetime.now()).strftime("%Y-%m-%d %H:%M")])
    info.append(["问题条数", len(table)])
    info.append(["说明", "是否超期、反馈不过夜按导出时间计算；整改时限来自问题类型表。"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _value(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def problems_layer(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Ledger rows as a point layer (WGS84)."""
    cols = [c for c in LEDGER_HEADERS if c in df.columns and c not in ("lon", "lat")]
    out = df[cols].copy()
    out["overdue"] = out["overdue"].astype(bool) if "overdue" in out else False
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")


def grid_geopackage(grid: gpd.GeoDataFrame, areas: dict[str, gpd.GeoDataFrame], ledger: pd.DataFrame) -> bytes:
    """The grid's layers in one GeoPackage: grid, compounds, streets, villages, points, problems."""
    layers = {"grid": grid, **{f"{k}s": v for k, v in areas.items() if len(v)}, "problems": problems_layer(ledger)}
    layers = {k: v for k, v in layers.items() if len(v)}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_geopackage(layers, Path(tmp) / "grid.gpkg")
        return path.read_bytes()
