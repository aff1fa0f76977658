"""Reading an Excel workbook (.xlsx) without letting a hostile one take the server down.

An .xlsx is a zip of XML: a 1 MB file can unpack to a gigabyte of identical rows (201 s and
740 MiB to parse in the server before this module). So, in this order:

1. `inspect` — cheap checks on the zip directory and the first bytes of each sheet, before any
   parsing: total unpacked size (`MAX_UNPACKED`) and ratio to the file (the zip rule of
   `gis.io.readers`), the shared-strings table (`MAX_SHARED_STRINGS`), and the sheet's declared
   `<dimension>` (at most `MAX_CELLS` cells, `MAX_COLUMNS` columns);
2. `read_sheet` — the parse runs in a worker process (`python -m gis.io.xlsx_worker`) with an
   address-space limit (`MEMORY_MB`) and a time limit (`TIMEOUT_S`); it streams the sheet
   (openpyxl read-only) and stops at `MAX_CELLS` whatever the dimension claimed. The worker's
   memory is returned to the system when it exits, and the parse never holds the server's GIL.

Every refusal is an `InputError` in Chinese saying what was too big and what to do (save as CSV).
"""

from __future__ import annotations

import html
import os
import pickle
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from gis.io import InputError

MAX_CELLS = 2_000_000             # 10 万行 × 20 列; larger tables come as CSV
MAX_COLUMNS = 200
MAX_UNPACKED = 256 << 20          # all XML of the workbook, unpacked
MAX_SHARED_STRINGS = 64 << 20     # xl/sharedStrings.xml, unpacked (openpyxl holds it all in memory)
MAX_RATIO = 100                   # unpacked / packed, once above RATIO_FLOOR (as for any zip)
RATIO_FLOOR = 5 << 20
MEMORY_MB = 1536                  # the worker's address space
TIMEOUT_S = 120.0
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_ROOT = Path(__file__).resolve().parents[2]


def _mb(n: int) -> str:
    return f"{n / (1 << 20):.1f} MB"


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.decode():
        n = n * 26 + ord(ch) - 64
    return n


def _too_big(name: str, what: str) -> InputError:
    return InputError(f"{name} {what}，超出 Excel 导入上限（{MAX_CELLS // 10_000} 万个单元格、{MAX_COLUMNS} 列），"
                      "已拒绝且未解析。请另存为 CSV（UTF-8）后导入。")


def inspect(path: Path, name: str | None = None) -> None:
    """Refuse a workbook whose zip directory or declared dimensions are too large (no XML is parsed)."""
    name = name or path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"无法读取 {name}：不是有效的 Excel (.xlsx) 文件，或已损坏（{type(exc).__name__}）。") from None
    with zf:
        infos = zf.infolist()
        total = sum(i.file_size for i in infos)
        packed = max(path.stat().st_size, 1)
        if total > MAX_UNPACKED or (total > RATIO_FLOOR and total > MAX_RATIO * packed):
            raise InputError(f"{name} 解压后有 {_mb(total)}（文件本身 {_mb(packed)}），疑似压缩炸弹或表格过大，"
                             "已拒绝且未解析。请另存为 CSV（UTF-8）后导入。")
        for info in infos:
            lower = info.filename.lower()
            if lower.endswith("sharedstrings.xml") and info.file_size > MAX_SHARED_STRINGS:
                raise InputError(f"{name} 的共享字符串表解压后有 {_mb(info.file_size)}（上限 {_mb(MAX_SHARED_STRINGS)}），"
                                 "已拒绝且未解析。请另存为 CSV（UTF-8）后导入。")
            if lower.startswith("xl/worksheets/") and lower.endswith(".xml"):
                with zf.open(info) as fh:
                    head = fh.read(4096)
                m = _DIMENSION.search(head)
                if m and m.group(3):
                    rows = int(m.group(4)) - int(m.group(2)) + 1
                    cols = _column_number(m.group(3)) - _column_number(m.group(1)) + 1
                    if cols > MAX_COLUMNS or rows * cols > MAX_CELLS:
                        raise _too_big(name, f"的工作表声明有 {rows:,} 行 × {cols:,} 列")


def read_sheet(path: Path, sheet: str | None, name: str | None = None) -> pd.DataFrame:
    """The sheet (`sheet`, else the first) as strings, header row as the columns; see the module doc."""
    name = name or path.name
    inspect(path, name)
    with tempfile.TemporaryDirectory(prefix="gridmap-xlsx-") as tmp:
        out = Path(tmp) / "sheet.pickle"
        cmd = [sys.executable, "-m", "gis.io.xlsx_worker", str(path), str(out), sheet or "", str(MAX_CELLS),
               str(MAX_COLUMNS), str(MEMORY_MB)]
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
        try:
            run = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, env=env, cwd=_ROOT)
        except subprocess.TimeoutExpired:
            raise InputError(f"{name} 过于复杂，{TIMEOUT_S:g} 秒内未能读完，已停止。请另存为 CSV（UTF-8）后导入。") from None
        if run.returncode != 0 or not out.exists():
            message = run.stderr.decode("utf-8", errors="replace").strip().splitlines()
            last = message[-1] if message else ""
            if last.startswith("InputError: "):
                raise InputError(last.removeprefix("InputError: ").replace("{name}", name))
            if any(m in last for m in ("MemoryError", "Memory allocation", "Cannot allocate")) or run.returncode < 0:
                raise InputError(f"{name} 读取时所需内存超过 {MEMORY_MB} MB，已停止。请另存为 CSV（UTF-8）后导入。")
            raise InputError(f"无法读取 {name}：不是有效的 Excel (.xlsx) 文件，或已损坏（{last[:120]}）。")
        with open(out, "rb") as fh:
            header, columns = pickle.load(fh)
    frame = pd.DataFrame(dict(enumerate(columns)), dtype="str") if columns else pd.DataFrame()
    frame.columns = header
    return frame


_SHEET_NAME = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"')


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheet names in order, read from xl/workbook.xml without parsing it (call after
    `inspect`); [] when the workbook has none that can be read this way."""
    try:
        with zipfile.ZipFile(path) as zf, zf.open("xl/workbook.xml") as fh:
            head = fh.read(1 << 20)
    except (KeyError, zipfile.BadZipFile, OSError):
        return []
    return [html.unescape(m.decode("utf-8", errors="replace")) for m in _SHEET_NAME.findall(head)]
