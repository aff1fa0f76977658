"""`python -m gis check-grids [FILE]`: the topology report of the current grids or of a boundary file.

Exit codes: 0 clean (warnings allowed), 1 a gap, overlap or invalid geometry, 2 unreadable.
"""

from __future__ import annotations

import sys

from gis.db.engine import get_engine
from gis.geo.crs import CRSError
from gis.planning.edits import PlanningError, candidate_from, read_boundary_file
from gis.planning.topology import CheckContext, check_grids, load_context


def _cmd_check_grids(args) -> int:
    """`python -m gis check-grids [FILE]`: 0 clean (warnings allowed), 1 gap/overlap/invalid, 2 unreadable."""
    context = CheckContext.from_frames()
    try:
        engine = get_engine(args.database)
        context = load_context(engine)
        if context.reference is None or len(context.reference) == 0:
            context.reference = None
    except Exception as exc:  # no database / not migrated: a file can still be checked on its own
        if not args.file:
            print(f"无法读取数据库中的现行网格：{exc}", file=sys.stderr)
            return 2
        print(f"（未读取数据库：{exc}；只检查文件本身与区界）", file=sys.stderr)
    if args.file:
        try:
            candidate = read_boundary_file(args.file, args.crs)
        except PlanningError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(f"检查文件 {args.file}（{len(candidate)} 个网格，对照现行网格版本）")
    else:
        if context.reference is None:
            print("数据库中没有已发布的网格版本。", file=sys.stderr)
            return 2
        candidate = candidate_from(context.reference)
        print("检查现行网格版本")
    try:
        report = check_grids(candidate, context)
    except (CRSError, PlanningError) as exc:  # the message names what is wrong (Chinese)
        print(str(exc), file=sys.stderr)
        return 2
    print(report.to_text())
    return 1 if report.has_errors else 0


def register(sub) -> None:
    """Add the `check-grids` sub-command to the parser."""
    p = sub.add_parser("check-grids", help="检查网格拓扑（现行版本或边界文件）：重叠、空隙、无效几何、超出区界、分割小区")
    p.add_argument("file", nargs="?", help="GeoJSON / GeoPackage / Shapefile（或其 .zip）；省略则检查现行网格")
    p.add_argument("--crs", choices=["wgs84", "gcj02", "bd09"], default="wgs84",
                   help="经纬度文件的坐标系（默认 wgs84；已声明投影坐标系的文件自动转换）")
    p.set_defaults(func=_cmd_check_grids)
