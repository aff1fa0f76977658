"""`python -m gis move --to postgresql+psycopg://…/库名 [--from sqlite:///…]`: a SpatiaLite database into an
empty PostGIS database, counts checked (gis.db.move).

The source is --from, else the global --database, else DATABASE_URL. Exit codes: 0 moved and every count
equal, 1 the copy failed or a count differs (the target rolled back to an empty schema), 2 refused before
anything was copied (source, target or schema revision; nothing written).
"""

from __future__ import annotations

import sys
import unicodedata

from gis.config import database_url
from gis.db.move import MoveFailed, MoveRefused, MoveReport, move


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int, right: bool = False) -> str:
    pad = " " * max(0, width - _width(text))
    return pad + text if right else text + pad


def counts_table(report: MoveReport) -> str:
    """The per-table counts with Chinese headings, one line per table and a total."""
    head = ["表", "源行数", "目标行数", "核对", "用时"]
    rows = [[t.table, f"{t.source:,}", "—" if t.target is None else f"{t.target:,}",
             "一致" if t.equal else "不一致", f"{t.seconds:.1f} s"] for t in report.tables]
    source = sum(t.source for t in report.tables)
    target = sum(t.target or 0 for t in report.tables)
    rows.append(["合计", f"{source:,}", f"{target:,}", "一致" if report.ok else "不一致",
                 f"{sum(t.seconds for t in report.tables):.1f} s"])
    widths = [max(_width(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(_cell(v, w, right=i > 0) for i, (v, w) in enumerate(zip(r, widths))) for r in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cmd_move(args) -> int:
    source = args.source or args.database or database_url()
    print("迁移 SpatiaLite → PostGIS")
    try:
        report = move(args.target, source, progress=print)
    except MoveRefused as exc:
        print(f"未迁移：{exc}", file=sys.stderr)
        return 2
    except MoveFailed as exc:
        if exc.report is not None:
            print(counts_table(exc.report))
        print(f"迁移失败：{exc}", file=sys.stderr)
        return 1
    print(f"源：{report.source}\n目标：{report.target}（结构版本 {report.revision}）")
    print(counts_table(report))
    if report.analyze_error:
        print(f"各表行数一致，数据已提交；但 ANALYZE 失败：{report.analyze_error}（可稍后在目标数据库手动运行 ANALYZE）。"
              f"总用时 {report.seconds:.1f} s。")
    else:
        print(f"各表行数一致；已对目标数据库运行 ANALYZE（{report.analyze_seconds:.1f} s）。总用时 {report.seconds:.1f} s。")
    print(f"改用 PostGIS：设置 DATABASE_URL={report.target}（密码按实际填写）。")
    return 0


def register(sub) -> None:
    """Add the `move` sub-command to the parser."""
    p = sub.add_parser("move", help="把 SpatiaLite 数据库迁移到空的 PostGIS 数据库（逐表核对行数）",
                       description="把 SpatiaLite 数据库整体复制到空的 PostGIS 数据库：用本系统的迁移建立表结构，"
                                   "在一个事务中逐表复制（保留编号与几何），核对每表行数后提交，再运行 ANALYZE。"
                                   "任何一步失败则目标数据库回滚，只留空表结构；源数据库不做任何更改。")
    p.add_argument("--to", dest="target", required=True, metavar="URL",
                   help="目标 PostGIS 数据库，如 postgresql+psycopg://用户@主机:5432/库名（须为空库）")
    p.add_argument("--from", dest="source", default=None, metavar="URL",
                   help="源 SpatiaLite 数据库 sqlite:///路径（默认取 --database，再默认 DATABASE_URL）")
    p.set_defaults(func=_cmd_move)
