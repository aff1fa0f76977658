"""The 督查通报 as PDF, typeset by Typst (the `typst` wheel bundles the compiler) with Debian's Noto
CJK fonts, which Typst embeds (subsetted) in the PDF. Every text is passed as a Typst string
literal, so user text cannot inject markup."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import typst

from gis.accountability.fonts import font_dir, header_size


def s(text) -> str:
    """`text` as a Typst string literal (content context: ``#"…"``)."""
    body = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'#"{body}"'


def _table(header: list[str], rows: list[list[str]]) -> str:
    cells = ", ".join(f"[*{s(h)}*]" for h in header)
    cells += "".join(", " + ", ".join(f"[{s(c)}]" for c in row) for row in rows)
    return (f"#table(columns: {len(header)}, stroke: 0.5pt, inset: 4pt, align: left, {cells})\n")


def source(b, images: dict[Path, str]) -> str:
    """The Typst source of bulletin `b`; `images` maps each picture to its name next to the source."""
    out = ['#set page(paper: "a4", margin: (top: 3.7cm, bottom: 3.5cm, left: 2.8cm, right: 2.6cm))',
           '#set text(font: ("Noto Serif CJK SC", "Noto Sans CJK SC"), size: 12pt, lang: "zh", region: "cn")',
           "#set par(justify: true, leading: 0.9em)",
           f'#align(center)[#text(size: {header_size(b.issuer):.1f}pt, weight: "bold", fill: rgb("#c00000"), font: "Noto Serif CJK SC")[{s(b.issuer)}]]',
           f"#align(center)[{s(b.number)}]",
           '#line(length: 100%, stroke: 1.5pt + rgb("#c00000"))',
           f'#align(center)[#text(size: 18pt, weight: "bold")[{s(b.title)}]]', ""]
    for heading, blocks in b.sections:
        out.append(f'#text(size: 14pt, weight: "bold", font: "Noto Sans CJK SC")[{s(heading)}]\n')
        for block in blocks:
            kind = block[0]
            if kind == "p":
                out.append(f"{s(block[1])}\n")
            elif kind == "table":
                out.append(_table(block[1], block[2]) if block[2] else f"{s('（无）')}\n")
            elif kind == "image":
                out.append(f'#align(center)[#image("{images[block[1]]}", width: 90%)]\n')
            elif kind == "photos":
                cells = []
                for caption, photo in block[1]:
                    pic = f'#image("{images[photo]}", height: 4.5cm)' if photo is not None else s("（无照片）")
                    cells.append(f"[{pic} \\ {s(caption)}]")
                out.append(f"#grid(columns: {len(cells)}, gutter: 8pt, {', '.join(cells)})\n")
    out.append(f"#align(right)[{s(b.issuer)} \\ {s(f'{b.issued_on.year}年{b.issued_on.month}月{b.issued_on.day}日')}]")
    return "\n".join(out)


def write_pdf(b, path: Path) -> Path:
    """Compile bulletin `b` to `path` (A4, CJK fonts embedded)."""
    with tempfile.TemporaryDirectory(prefix="bulletin-") as tmp:
        root = Path(tmp)
        images: dict[Path, str] = {}
        for _, blocks in b.sections:
            for block in blocks:
                pics = [block[1]] if block[0] == "image" else [p for _, p in block[1]] if block[0] == "photos" else []
                for pic in pics:
                    if pic is not None and pic not in images:
                        name = f"img{len(images)}{Path(pic).suffix.lower()}"
                        shutil.copyfile(pic, root / name)
                        images[pic] = name
        (root / "main.typ").write_text(source(b, images), encoding="utf-8")
        pdf = typst.compile(str(root / "main.typ"), root=str(root), font_paths=[str(font_dir())],
                            ignore_system_fonts=True)
    Path(path).write_bytes(pdf)
    os.chmod(path, 0o644)
    return Path(path)
