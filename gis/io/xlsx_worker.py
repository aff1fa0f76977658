"""The worker process of `gis.io.xlsx.read_sheet`: stream one sheet into columns of strings.

``python -m gis.io.xlsx_worker FILE OUT SHEET MAX_CELLS MAX_COLUMNS MEMORY_MB`` — limits its own
address space to MEMORY_MB first (not through preexec_fn: the server forking from a threaded process);
the parent kills it after its time limit. Reads with openpyxl in read-only mode (rows streamed from the XML), turns
every value into text the way ``pandas.read_excel(dtype=str)`` does (integral floats without
``.0``, empty cells as ""), stops at MAX_CELLS cells, and pickles (header, columns) to OUT.
A refusal is printed as ``InputError: <Chinese message>`` (``{name}`` stands for the file name)
on the last line of stderr, exit code 3.
"""

from __future__ import annotations

import pickle
import resource
import sys


class Refused(Exception):
    """The sheet is beyond the limits; args[0] is the Chinese message."""


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _unique(names: list[str]) -> list[str]:
    """Duplicate headers as pandas names them: 名称, 名称.1, …; empty ones as Unnamed: i."""
    seen: dict[str, int] = {}
    out = []
    for i, n in enumerate(names):
        n = n if n != "" else f"Unnamed: {i}"
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out


def read(path: str, sheet: str, max_cells: int, max_columns: int) -> tuple[list[str], list[list[str]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    if sheet and sheet not in wb.sheetnames:
        raise Refused(f"{{name}} 中没有工作表“{sheet}”；已有工作表：{'、'.join(wb.sheetnames)}。")
    ws = wb[sheet] if sheet else wb.worksheets[0]
    ws.reset_dimensions()  # read every row there is, whatever <dimension> claims (as pandas does)
    header: list[str] | None = None
    columns: list[list[str]] = []
    cells = rows = 0
    blank_tail = 0  # trailing empty rows are dropped, as pandas does
    for row in ws.iter_rows(values_only=True):
        if len(row) > max_columns:
            trimmed = row[:max_columns]
            if any(v is not None for v in row[max_columns:]):
                raise Refused(f"{{name}} 有超过 {max_columns} 列的数据，超出 Excel 导入上限，已停止。"
                                  "请另存为 CSV（UTF-8）后导入。")
            row = trimmed
        if header is None:
            header = [_text(v).strip() for v in row]
            while header and header[-1] == "":
                header.pop()
            columns = [[] for _ in header]
            continue
        values = [_text(v) for v in row]
        if len(values) > len(header) and any(values[len(header):]):
            extra = len(values) - len(header)  # data beyond the header: unnamed columns, as pandas does
            header += [""] * extra
            columns += [[""] * rows for _ in range(extra)]
        values = values[:len(header)] + [""] * (len(header) - len(values))
        cells += len(values)
        if cells > max_cells:
            raise Refused(f"{{name}} 的单元格超过 {max_cells // 10_000} 万个，超出 Excel 导入上限，已停止。"
                              "请另存为 CSV（UTF-8）后导入。")
        blank_tail = blank_tail + 1 if not any(values) else 0
        for col, v in zip(columns, values):
            col.append(v)
        rows += 1
    wb.close()
    if header is None:
        return [], []
    if blank_tail:
        columns = [c[:-blank_tail] for c in columns]
    return _unique(header), columns


def main(argv: list[str]) -> int:
    path, out, sheet, max_cells, max_columns, memory_mb = argv
    limit = int(memory_mb) << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        result = read(path, sheet, int(max_cells), int(max_columns))
    except Refused as exc:
        print(f"InputError: {exc.args[0]}", file=sys.stderr)
        return 3
    with open(out, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
