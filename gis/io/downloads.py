"""Downloads of one grid: its problem ledger as .xlsx (Chinese headers), its layers as a GeoPackage.

Both return bytes (for st.download_button) and take the same ledger frame the page shows, so
a download always matches the table on screen. The workbook comes from `gis.io.sheets`: a description
starting with ``=`` stays text in Excel, never a formula.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
from gis.io import sheets
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
    """The ledger as an .xlsx workbook: sheet 问题台账 (header frozen, filterable) and sheet 说明,
    written by the one formula-safe sheet writer (`gis.io.sheets`)."""
    table = ledger_table(df)
    keys = [c for c in LEDGER_HEADERS if c in df.columns]
    widths = {LEDGER_HEADERS[k]: WIDTHS.get(k, 16 if k.endswith("_at") or k == "deadline" else 11) for k in keys}
    info = [["网格", f"{grid_code} {grid_name}".strip()],
            ["导出时间", (now or datetime.now()).strftime("%Y-%m-%d %H:%M")],
            ["问题条数", len(table)],
            ["说明", "是否超期、反馈不过夜按导出时间计算；整改时限来自问题类型表。"]]
    return sheets.xlsx_bytes(sheets.Sheet("问题台账", table, widths=widths, datetime_format="yyyy-mm-dd hh:mm"),
                             sheets.Sheet("说明", rows=info))


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
