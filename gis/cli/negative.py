"""`python -m gis negative add|confirm|withdraw|list`: 负面清单事件 from the command line, as the operator
(管理员); the rules and the arithmetic are `gis.metrics.negative`.

Exit codes: 0 done, 1 invalid input (nothing written), 2 usage error.
"""

from __future__ import annotations

import sys
from datetime import date

from gis.db.engine import get_engine
from gis.metrics import negative
from gis.metrics.monthly import FiguresError, parse_month
from gis.people.permissions import Actor, PermissionDenied


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise negative.NegativeError(f"发生日期“{text}”格式不对，应为 YYYY-MM-DD，例如 2026-11-03。") from None


def _cmd_negative(args) -> int:
    engine = get_engine(args.database)
    actor = Actor.system()
    try:
        if args.action == "add":
            missing = [flag for flag, v in (("--standard", args.standard), ("--grid", args.grid),
                                            ("--date", args.date), ("--description", args.description)) if not v]
            if missing:
                raise negative.NegativeError(f"登记负面清单事件须给出 {'、'.join(missing)}。")
            code = negative.report(engine, actor, args.standard, args.grid, _date(args.date), args.description,
                                   args.units)
            print(f"已登记负面清单事件 {code}（待确认）。")
        elif args.action in ("confirm", "withdraw"):
            if not args.code:
                raise negative.NegativeError("请给出负面清单事件编号，例如 FM202611-001。")
            if args.action == "confirm":
                negative.confirm(engine, actor, args.code, args.note)
                print(f"已确认负面清单事件 {args.code}，计入发生当月的综合得分。")
            else:
                negative.withdraw(engine, actor, args.code, args.note)
                print(f"已撤销负面清单事件 {args.code}，不计入任何得分。")
        else:
            month = parse_month(args.month) if args.month else None
            df = negative.events(engine, month, args.grid, args.status)
            if df.empty:
                print("没有符合条件的负面清单事件。")
            for r in df.itertuples():
                effect = f"{r.effect}" + (f" {r.points:g} 分" if r.effect == negative.DEDUCT else "")
                print(f"{r.code}  {r.occurred_on}  {r.grid_code}  {r.status}  {r.standard_code} {r.standard}"
                      f"（{effect}）  责任单位 {r.unit_codes or '—'}  {r.description}")
    except (negative.NegativeError, FiguresError, PermissionDenied) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def register(sub) -> None:
    p = sub.add_parser("negative", help="负面清单事件：登记（add）、确认（confirm）、撤销（withdraw）、列出（list）")
    p.add_argument("action", choices=["add", "confirm", "withdraw", "list"])
    p.add_argument("code", nargs="?", default=None, help="事件编号（confirm / withdraw），如 FM202611-001")
    p.add_argument("--standard", default=None, help="负面清单标准编号（add）")
    p.add_argument("--grid", default=None, help="网格编号（add；list 时只列该网格）")
    p.add_argument("--date", default=None, help="发生日期 YYYY-MM-DD（add）")
    p.add_argument("--description", default=None, help="事件经过（add）")
    p.add_argument("--units", default=None, help="涉及的责任单位编号，逗号分隔（add；默认为该网格的责任单位）")
    p.add_argument("--note", default=None, help="确认说明，或撤销理由（withdraw 必填）")
    p.add_argument("--month", default=None, help="只列该月发生的事件 YYYY-MM（list）")
    p.add_argument("--status", default=None, choices=list(negative.STATUSES), help="只列该状态（list）")
    p.set_defaults(func=_cmd_negative)
