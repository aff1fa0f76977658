"""`python -m gis check-grids [FILE]`: the topology report of the current grids or of a boundary file.

The file is read by `gis.io` exactly as an import of grids would read it (`gis.io.boundaries`).
Exit codes: 0 clean (warnings allowed), 1 a gap, overlap or invalid geometry, 2 unreadable.
"""

from __future__ import annotations

import sys

from gis.db.engine import get_engine
from gis.geo.crs import CRSError
from gis.io import InputError
from gis.io.boundaries import read_grids
from gis.io.crs import COORD_SYSTEMS
from gis.planning.edits import PlanningError, candidate_from
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
        coords, crs = args.coords, args.crs
        if crs and crs.lower() in COORD_SYSTEMS:  # --crs gcj02: the older spelling of --coords
            coords, crs = crs.lower(), None
        try:
            grids, notes = read_grids(args.file, crs=crs, coords=coords, layer=args.layer, encoding=args.encoding)
        except InputError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        try:
            candidate = candidate_from(grids)
        except (CRSError, PlanningError) as exc:
            print(str(exc), file=sys.stderr)
            return 2
        print(f"检查文件 {args.file}（{len(candidate)} 个网格，对照现行网格版本）")
        for note in notes:
            print(f"· {note}")
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
    p.add_argument("file", nargs="?", help="与导入相同的文件：GeoPackage、Shapefile（或其 .zip）、GeoJSON、"
                   "带 WKT 列的 CSV / Excel；省略则检查现行网格")
    p.add_argument("--crs", help="文件的坐标系，如 EPSG:4548（覆盖 .prj）；写 wgs84/gcj02/bd09 等同于 --coords")
    p.add_argument("--coords", choices=COORD_SYSTEMS, default="wgs84",
                   help="经纬度的来源：wgs84（默认）、gcj02（高德/腾讯）、bd09（百度）")
    p.add_argument("--layer", help="GeoPackage 图层、Excel 工作表或压缩包中的文件名")
    p.add_argument("--encoding", help="属性表/CSV 的字符编码，如 gbk（覆盖 .cpg 与自动检测）")
    p.set_defaults(func=_cmd_check_grids)
