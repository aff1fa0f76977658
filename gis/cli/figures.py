"""`python -m gis figures --month YYYY-MM [--district 区县] [--subdistrict 街道] [--grid CODE] [--as-of …] [--json]`:
every figure of a month, as on the wall (gis.metrics.monthly).

Exit codes: 0 done, 1 invalid input (unknown grid or district, bad month), 2 usage error (e.g. a 街道
given as --district).
"""

from __future__ import annotations

import json
import sys

from gis.db.engine import get_engine
from gis.metrics.monthly import (
    FiguresError, FiguresUsageError, month_figures, parse_as_of, parse_month, resolve_district,
)


def _cmd_figures(args) -> int:
    engine = get_engine(args.database)
    try:
        month = parse_month(args.month)
        as_of = parse_as_of(args.as_of)
        district = resolve_district(engine, args.district) if args.district is not None else None
        data = month_figures(engine, month, as_of, args.subdistrict, args.grid, district=district)
    except FiguresUsageError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except FiguresError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return 0
    print(f"{data['month']} 指标（统计时点 {data['as_of']}）")
    for name, value in data["city"].items():
        print(f"  {name}：{_show(name, value)}")
    for code, block in data["grids"].items():
        rank = "样本不足" if block["样本不足"] else f"第 {block['排名']} 名"
        print(f"  {code}：综合得分 {block['综合得分']:.2f}（{rank}），应结案 {block['应结案数']}，"
              f"按期结案率 {_show('按期结案率', block['按期结案率'])}")
    for code, block in data.get("区县", {}).items():
        score = "—" if block["区县得分"] is None else f"{block['区县得分']:.2f}（第 {block['排名']} 名）"
        print(f"  {code} {block['名称']}：区县得分 {score}，问题数 {block['问题数']}，应结案 {block['应结案数']}，"
              f"按期结案率 {_show('按期结案率', block['按期结案率'])}")
    return 0


def _show(name: str, value) -> str:
    if value is None:
        return "—"
    if name.endswith("率"):
        return f"{value * 100:.2f}%"
    return f"{value:g}"


def register(sub) -> None:
    p = sub.add_parser("figures", help="输出某月全部指标（全市、各网格、各责任单位），--json 为机器可读格式")
    p.add_argument("--month", required=True, help="月份 YYYY-MM")
    p.add_argument("--district", default=None,
                   help="只统计该区县（区县代码如 371521，或名称如 阳谷县）；不给出时为全市，多个区县时另列各区县主要指标")
    p.add_argument("--subdistrict", default=None, help="只统计该街道（网格所属街道）")
    p.add_argument("--grid", default=None, help="只列出该网格（编号，如 DC-07）")
    p.add_argument("--as-of", dest="as_of", default=None, help="统计时点 YYYY-MM-DD（当日结束）或 YYYY-MM-DDTHH:MM；默认月末或现在")
    p.add_argument("--json", action="store_true", help="输出 JSON（中文键名，比率为小数）")
    p.set_defaults(func=_cmd_figures)
