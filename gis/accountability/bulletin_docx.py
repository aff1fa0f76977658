"""The 督查通报 as Word (python-docx), in the usual government layout: the 发文机关 in red over a
red rule, the 文号, the title, the body by sections, the date at the end."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from gis.accountability.fonts import header_size


RED = RGBColor(0xC0, 0x00, 0x00)
BODY_FONT, TITLE_FONT = "仿宋", "方正小标宋简体"  # the usual government fonts; Word substitutes if absent


def _font(run, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)
    if color is not None:
        run.font.color.rgb = color


def _para(doc, text: str, size: float = 14, bold: bool = False, align=None, color=None, font=BODY_FONT):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    _font(p.add_run(text), font, size, bold, color)
    return p


def _red_rule(paragraph) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "18"), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(k), v)
    border.append(bottom)
    ppr.append(border)


def _table(doc, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), BODY_FONT, 10.5, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(str(text)), BODY_FONT, 10.5)


def write_docx(b, path: Path) -> Path:
    """Write bulletin `b` (gis.accountability.bulletin.Bulletin) to `path`."""
    doc = Document()
    sec = doc.sections[0]
    sec.page_height, sec.page_width = Cm(29.7), Cm(21.0)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(3.7), Cm(3.5), Cm(2.8), Cm(2.6)
    _para(doc, b.issuer, header_size(b.issuer), True, WD_ALIGN_PARAGRAPH.CENTER, RED, TITLE_FONT)
    _red_rule(_para(doc, b.number, 14, align=WD_ALIGN_PARAGRAPH.CENTER))
    _para(doc, b.title, 20, True, WD_ALIGN_PARAGRAPH.CENTER, font=TITLE_FONT)
    for heading, blocks in b.sections:
        _para(doc, heading, 15, True, font="黑体")
        for block in blocks:
            kind = block[0]
            if kind == "p":
                _para(doc, block[1])
            elif kind == "table":
                if block[2]:
                    _table(doc, block[1], block[2])
                else:
                    _para(doc, "（无）", 12)
            elif kind == "image":
                doc.add_picture(str(block[1]), width=Cm(15))
                doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            elif kind == "photos":
                table = doc.add_table(rows=2, cols=len(block[1]))
                for i, (caption, photo) in enumerate(block[1]):
                    cell = table.cell(0, i)
                    if photo is not None:
                        cell.paragraphs[0].add_run().add_picture(str(photo), width=Cm(7))
                    else:
                        _font(cell.paragraphs[0].add_run("（无照片）"), BODY_FONT, 10.5)
                    _font(table.cell(1, i).paragraphs[0].add_run(caption), BODY_FONT, 10.5)
    _para(doc, b.issuer, 14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, f"{b.issued_on.year}年{b.issued_on.month}月{b.issued_on.day}日", 14, align=WD_ALIGN_PARAGRAPH.RIGHT)
    doc.core_properties.title = b.title
    doc.save(str(path))
    return path
