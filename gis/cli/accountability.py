"""`python -m gis bulletin YYYY-MM --format docx,pdf --out DIR [...]` (督查通报) and
`python -m gis cards rules --month YYYY-MM [--district 区县]` (the monthly 三色牌 rules: every district, each
by its own lists and settings, or the one named), as the operator (管理员).

Exit codes: 0 done, 1 invalid input (nothing written), 2 usage error.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from gis.db.engine import get_engine
from gis.metrics.monthly import FiguresError, FiguresUsageError, parse_as_of, parse_month, resolve_district
from gis.people.permissions import Actor, PermissionDenied


def _cmd_bulletin(args) -> int:
    from gis.accountability.bulletin import BulletinError, build
    from gis.accountability.fonts import FontMissing

    try:
        month = parse_month(args.month)
        as_of = parse_as_of(args.as_of)
        text = Path(args.requirements).read_text(encoding="utf-8") if args.requirements else None
        issued = date.fromisoformat(args.date) if args.date else None
        engine = get_engine(args.database)
        district = resolve_district(engine, args.district) if args.district is not None else None
        out = build(engine, Actor.system(), month, Path(args.out),
                    [f.strip() for f in args.format.split(",") if f.strip()], args.number, text, args.subdistrict,
                    issued, as_of, district=district)
    except FiguresUsageError as exc:  # a 街道 given as --district
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except (FiguresError, BulletinError, FontMissing, OSError, PermissionDenied) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"参数有误：{exc}", file=sys.stderr)
        return 1
    for fmt in ("docx", "pdf"):
        if fmt in out:
            print(f"写出 {out[fmt]}（{out[fmt].stat().st_size / 1024:.0f} KB）")
    print(f"用时 {out['seconds']:.1f} 秒")
    return 0


def _cmd_cards(args) -> int:
    from gis.accountability.cards import apply_rules

    try:
        engine = get_engine(args.database)
        district = resolve_district(engine, args.district) if args.district is not None else None
        issued = apply_rules(engine, Actor.system(), parse_month(args.month), district=district)
    except FiguresUsageError as exc:  # a 街道 given as --district
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except (FiguresError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(f"按月度规则签发三色牌 {len(issued)} 张" + (f"：{'、'.join(issued)}" if issued else "。"))
    return 0


def register(sub) -> None:
    p = sub.add_parser("bulletin", help="生成某月督查通报（Word / PDF）")
    p.add_argument("month", help="月份 YYYY-MM")
    p.add_argument("--format", default="docx,pdf", help="docx、pdf 或 docx,pdf（默认两者）")
    p.add_argument("--out", default=".", help="输出目录（默认当前目录）")
    p.add_argument("--district", default=None, help="只统计该区县（代码或名称，如 371521 或 阳谷县）；不给：全部（多个区县时为市级通报，含区县对比）")
    p.add_argument("--subdistrict", default=None, help="只统计该街道")
    p.add_argument("--number", type=int, default=None, help="文号序号（默认为月份数）")
    p.add_argument("--requirements", default=None, help="整改要求文本文件（UTF-8，每行一段）")
    p.add_argument("--date", default=None, help="成文日期 YYYY-MM-DD（默认统计时点）")
    p.add_argument("--as-of", dest="as_of", default=None, help="统计时点 YYYY-MM-DD（默认月末或现在）")
    p.set_defaults(func=_cmd_bulletin)
    c = sub.add_parser("cards", help="三色牌：执行月度亮牌规则")
    c.add_argument("action", choices=["rules"])
    c.add_argument("--month", required=True, help="月份 YYYY-MM")
    c.add_argument("--district", default=None,
                   help="只对该区县执行（代码或名称，如 371521 或 阳谷县）；不给：各区县分别执行，各按本区县的榜单和设置")
    c.set_defaults(func=_cmd_cards)
