"""The one writer of spreadsheets (.xlsx) and CSV files the app hands out, formula-safe.

A spreadsheet runs a cell as a formula when its text starts with ``=``, ``+``, ``-`` or ``@``
(and some also after a leading tab or carriage return): a problem description reading
``=HYPERLINK("http://evil", "点此")`` would become a live link in the ledger a leader opens.
Every export — ``gis export`` / 数据管理, the grid ledger download, the audit log, the list of
bad rows — goes through this module, so the rule lives in one place:

- **xlsx**: text cells are written as strings (never a formula element) with Excel's quote
  prefix set, so they stay text even after someone edits the cell; the text itself is unchanged
  (an export imports back as it was). Numbers and datetimes stay numbers and datetimes.
  Header row bold on dark blue, frozen, filterable; written in openpyxl's streaming mode.
- **csv**: UTF-8 with a BOM (Excel on Chinese Windows opens it right); a text cell that starts
  like a formula gets a leading apostrophe (``'=HYPERLINK…``), the usual CSV defence.
  `unescape_csv` removes exactly that apostrophe when such a file is imported back.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
_CENTER = Alignment(horizontal="center")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def risky(value) -> bool:
    """True for text a spreadsheet could run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def escape_csv(value):
    """A CSV cell that no spreadsheet runs: formula-like text gets a leading apostrophe."""
    return ESCAPE + value if risky(value) else value


def unescape_csv(values: pd.Series) -> pd.Series:
    """Undo `escape_csv` on a text column read from a CSV (only an apostrophe before a formula start)."""
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return values
    hit = values.str.match("'[=+\\-@\t\r]", na=False).to_numpy(dtype=bool)
    if not hit.any():
        return values
    out = values.copy()
    out[hit] = values[hit].str.slice(1)
    return out


@dataclass
class Sheet:
    """One worksheet: a frame (its columns are the header row), or plain `rows` without a header."""

    name: str
    frame: pd.DataFrame | None = None
    rows: Sequence[Sequence] = ()
    widths: dict[str, float] = field(default_factory=dict)  # header → column width
    datetime_format: str = "yyyy-mm-dd hh:mm:ss"


def _cell_value(v):
    """A driver-neutral Python value: None for NA, datetime for timestamps, int/float for numpy scalars."""
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        return str(v)
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (int, float, datetime, date, bool)):
        return v
    return str(v)


def _rows(frame: pd.DataFrame):
    cols = [frame[c].astype(object).to_numpy() for c in frame.columns]
    for i in range(len(frame)):
        yield [_cell_value(col[i]) for col in cols]


def _text_cell(ws, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws)
    cell._value, cell.data_type = value, "s"  # set directly: assigning .value would make "=…" a formula
    cell.quotePrefix = True
    return cell


def _write_sheet(wb: Workbook, sheet: Sheet) -> None:
    ws = wb.create_sheet(sheet.name[:31])
    if sheet.frame is None:
        for row in sheet.rows:
            ws.append([_text_cell(ws, v) if risky(v) else _cell_value(v) for v in row])
        return
    headers = [str(c) for c in sheet.frame.columns]
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = sheet.widths.get(h, max(10, min(40, 2 * len(h) + 4)))
    ws.freeze_panes = "A2"
    if headers and len(sheet.frame):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(sheet.frame) + 1}"
    head = []
    for h in headers:
        cell = _text_cell(ws, h) if risky(h) else WriteOnlyCell(ws, value=h)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _CENTER
        head.append(cell)
    ws.append(head)
    for values in _rows(sheet.frame):
        out = []
        for v in values:
            if risky(v):
                out.append(_text_cell(ws, v))
            elif isinstance(v, datetime):
                cell = WriteOnlyCell(ws, value=v)
                cell.number_format = sheet.datetime_format
                out.append(cell)
            else:
                out.append(v)
        ws.append(out)


def xlsx_bytes(*sheets: Sheet) -> bytes:
    """A workbook holding `sheets`, as bytes (for a download button or a file)."""
    if not sheets:
        raise ValueError("xlsx_bytes needs at least one sheet")
    wb = Workbook(write_only=True)
    for sheet in sheets:
        _write_sheet(wb, sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as CSV: UTF-8 with BOM, header row as given, formula-like text escaped."""
    safe = frame.copy()
    for col in safe.columns:
        s = safe[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s):
            safe[col] = s.astype(object).map(escape_csv)
    safe.columns = [escape_csv(str(c)) for c in safe.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def table_bytes(frame: pd.DataFrame, fmt: str, sheet_name: str = "Sheet1", widths: dict | None = None) -> bytes:
    """One table as ``csv`` or ``xlsx`` bytes."""
    fmt = fmt.lower().lstrip(".")
    if fmt == "csv":
        return csv_bytes(frame)
    if fmt == "xlsx":
        return xlsx_bytes(Sheet(sheet_name, frame, widths=widths or {}))
    raise ValueError(f"unknown table format {fmt!r}: csv or xlsx")


def write_table(frame: pd.DataFrame, path: str | Path, sheet_name: str = "Sheet1") -> Path:
    """Write one table to `path` (.csv or .xlsx, from the extension)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(table_bytes(frame, path.suffix, sheet_name))
    return path
