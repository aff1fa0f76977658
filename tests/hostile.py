"""Generators of hostile files: small on disk, expensive to parse (for tests and measurements).

- `xlsx_bomb`: a workbook whose one sheet repeats the same row `rows` times; deflate packs the
  repetitive XML ~1000:1, so a 1 MB file unpacks to ~1 GB of XML. `dimension` may lie.
- `xlsx_shared_strings_bomb`: a tiny sheet whose sharedStrings.xml is huge.
- `long_cell_csv`: a CSV with one cell of `chars` characters (pyarrow's "straddling object").
- `big_csv`: a CSV of `rows` problem-like rows, written in blocks (no big string in memory).
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
         'Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
             'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
             '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>')
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_COLS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _write(path: Path, sheet_chunks, shared: str | bytes | None = None, shared_chunks=None, pad: int = 0) -> Path:
    """The workbook; `pad` bytes of incompressible noise (a stored image, say) lower the zip's overall
    unpacked/packed ratio, so the checks behind the ratio rule get their turn."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        if pad:
            zf.writestr("xl/media/image1.png", random.Random(0).randbytes(pad), compress_type=zipfile.ZIP_STORED)
        zf.writestr("[Content_Types].xml", _CONTENT_TYPES)
        zf.writestr("_rels/.rels", _RELS)
        zf.writestr("xl/workbook.xml", _WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            for chunk in sheet_chunks:
                out.write(chunk.encode())
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            if shared_chunks is not None:
                for chunk in shared_chunks:
                    out.write(chunk.encode())
            else:
                out.write((shared or f'<sst {_NS} count="1" uniqueCount="1"><si><t>甲</t></si></sst>').encode())
    return path


def xlsx_bomb(path: Path, rows: int = 1_000_000, cols: int = 10, dimension: str | None = None, pad: int = 0) -> Path:
    """A workbook of `rows` identical rows (header row first); `dimension` defaults to the truth."""
    letters = _COLS[:cols]
    dim = dimension or f"A1:{letters[-1]}{rows + 1}"

    def chunks():
        yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {_NS}><dimension ref="{dim}"/><sheetData>'
        head = "".join(f'<c t="inlineStr"><is><t>列{c}</t></is></c>' for c in letters)
        yield f"<row>{head}</row>"
        row = "<row>" + '<c t="s"><v>0</v></c>' * cols + "</row>"  # no r= attributes: identical rows pack ~1000:1
        for _ in range(rows // 10_000):
            yield row * 10_000
        yield row * (rows % 10_000) + "</sheetData></worksheet>"

    return _write(path, chunks(), pad=pad)


def xlsx_shared_strings_bomb(path: Path, strings: int = 2_000_000, pad: int = 0) -> Path:
    """A one-cell sheet with `strings` shared strings (~50 bytes each, packed ~1000:1)."""
    def sheet():
        yield (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><dimension ref="A1:A2"/><sheetData>'
               '<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row>'
               '</sheetData></worksheet>')

    def shared():
        yield f'<sst {_NS} count="{strings}" uniqueCount="{strings}">'
        s = "<si><t>" + "东昌府区网格化管理问题描述" * 3 + "</t></si>"
        for _ in range(strings // 10_000):
            yield s * 10_000
        yield "</sst>"

    return _write(path, sheet(), shared_chunks=shared(), pad=pad)


def long_cell_csv(path: Path, chars: int = 2_000_000) -> Path:
    """A problems CSV whose first description is `chars` characters long."""
    head = "问题编号,问题类型,问题描述,上报时间,经度,纬度\n"
    rows = [f"LC-{i:03d},暴露垃圾,{'长' * chars if i == 0 else '短描述'},2026-11-01 08:00,115.98,36.45\n"
            for i in range(3)]
    path.write_text(head + "".join(rows), encoding="utf-8")
    return path


def big_csv(path: Path, rows: int) -> Path:
    """A problems CSV of `rows` rows (~100 bytes each), written in blocks."""
    with open(path, "w", encoding="utf-8") as out:
        out.write("问题编号,问题类型,问题描述,上报时间,经度,纬度\n")
        for start in range(0, rows, 100_000):
            out.write("".join(f"BIG-{i:08d},暴露垃圾,东昌路路口暴露垃圾未及时清运 第{i}号,2026-11-01 08:00,115.98,36.45\n"
                              for i in range(start, min(rows, start + 100_000))))
    return path
