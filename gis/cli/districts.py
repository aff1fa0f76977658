"""`python -m gis district list|add|set`: the districts (区县) of the deployment, as the operator (管理员);
the rules are `gis.registry.districts`.

Exit codes: 0 done, 1 invalid input (nothing written), 2 usage error.
"""

from __future__ import annotations

import sys

from gis.db.engine import get_engine
from gis.geo.districts import DISTRICT_SETTINGS, DistrictError
from gis.io import InputError
from gis.io.first_run import read_boundary
from gis.people.permissions import Actor, PermissionDenied
from gis.registry import districts


def _pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DistrictError(f"设置“{item}”格式不对，应为 名称=值（清除：名称=），例如 GRIDMAP_SCORE_GREEN=85。")
        out[key.strip()] = value.strip()
    return out


def _cmd_district(args) -> int:
    engine = get_engine(args.database)
    actor = Actor.system()
    try:
        if args.action == "add":
            missing = [f for f, v in (("--code", args.code), ("--name", args.name), ("--prefix", args.prefix),
                                      ("--boundary", args.boundary)) if not v]
            if missing:
                raise DistrictError(f"新增区县须给出 {'、'.join(missing)}。")
            boundary, note = read_boundary(args.boundary, args.coords)
            districts.add_district(engine, actor, args.code, args.name, args.prefix, boundary, _pairs(args.set))
            print(f"已新增区县 {args.code} {args.name}（网格编码前缀 {args.prefix}）。边界：{note}")
        elif args.action == "set":
            if not args.code or not args.set:
                raise DistrictError("修改区县设置须给出 --code 和至少一个 --set 名称=值。")
            now = districts.set_settings(engine, actor, args.code, _pairs(args.set))
            print(f"区县 {args.code} 的设置：" + ("、".join(f"{k}={v}" for k, v in now.items()) or "全部沿用全市设置"))
        else:
            for r in districts.district_list(engine).itertuples():
                own = "、".join(f"{k}={v}" for k, v in r.settings.items()) or "沿用全市设置"
                print(f"{r.code}  {r.name}  前缀 {r.grid_prefix}  网格 {r.grids}  问题 {r.problems:,}  设置：{own}")
    except (DistrictError, InputError, PermissionDenied) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def register(sub) -> None:
    p = sub.add_parser("district", help="区县：列出、新增（含边界）、按区县设置阈值")
    p.add_argument("action", choices=("list", "add", "set"), help="list 列出；add 新增；set 修改区县设置")
    p.add_argument("--code", help="区县行政区划代码（6 位），如 371521")
    p.add_argument("--name", help="区县名称，如 阳谷县")
    p.add_argument("--prefix", help="该区县网格编码前缀，如 YG")
    p.add_argument("--boundary", help="区县边界文件（GeoJSON、Shapefile 或 GeoPackage）")
    p.add_argument("--coords", default="wgs84", choices=("wgs84", "gcj02", "bd09"),
                   help="边界坐标系：wgs84（默认，含 CGCS2000 与带 .prj 的投影坐标）、gcj02 或 bd09")
    p.add_argument("--set", action="append", metavar="名称=值",
                   help="区县自己的设置（可多次），可设置：" + "、".join(DISTRICT_SETTINGS))
    p.set_defaults(func=_cmd_district)
