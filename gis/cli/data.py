"""`python -m gis import KIND FILE …` and `python -m gis export KIND FILE` (registered by gis.cli.main).

Exit codes: 0 done, 1 invalid input (nothing written), 2 usage error. The CLI acts as
`Actor.system()` (the operator at the server, a 管理员).
"""

from __future__ import annotations

import argparse
import sys

from gis.io import InputError
from gis.io.fields import EXPORT_KINDS, DATASET_LABELS, GEOMETRY, KINDS
from gis.io.templates import TEMPLATE_KINDS, TEMPLATE_LABELS

GEO_KINDS = tuple(k for k in KINDS if GEOMETRY[k])  # the kinds with a place: --district applies to them


def register(sub) -> None:
    imp = sub.add_parser("import", help="导入数据文件（Shapefile、GeoPackage、GeoJSON、CSV、Excel）",
                         description="导入数据：整个文件在一个事务中写入，任何一行有问题则全部不写入。")
    imp.add_argument("kind", choices=KINDS, help="数据类型：" + "、".join(f"{k}（{DATASET_LABELS[k]}）" for k in KINDS))
    imp.add_argument("file", help=".shp、.zip、.gpkg、.geojson、.csv 或 .xlsx")
    imp.add_argument("--layer", help="GeoPackage 图层、Excel 工作表或压缩包中的文件名")
    imp.add_argument("--crs", help="文件的坐标系，如 EPSG:4548（覆盖 .prj）")
    imp.add_argument("--encoding", help="属性表/CSV 的字符编码，如 gbk（覆盖 .cpg 与自动检测）")
    imp.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                     help="经纬度的来源：wgs84（默认）、gcj02（高德/腾讯）、bd09（百度）")
    imp.add_argument("--dry-run", action="store_true", help="只校验，不写入")
    imp.add_argument("--repair", action="store_true", help="用 make_valid 修复无效几何（并报告）")
    imp.add_argument("--map", action="append", metavar="旧名=新名", dest="renames",
                     help="问题类型名称对应，仅用于本次导入（可重复），如 --map 违建=违法建设")
    imp.add_argument("--district", metavar="区县",
                     help="导入到该区县（代码如 371521 或名称如 阳谷县）：每一行的位置都须在该区县内，否则不写入；"
                          "只用于带位置的数据（" + "、".join(f"{k} {DATASET_LABELS[k]}" for k in GEO_KINDS) + "）")
    imp.set_defaults(func=cmd_import)

    tpl = sub.add_parser("template", help="写出导入模板（中文表头与一行示例）",
                         description="模板下载：每种导入数据一份，填写后可直接 gis import。")
    tpl.add_argument("kind", choices=TEMPLATE_KINDS,
                     help="数据类型：" + "、".join(f"{k}（{TEMPLATE_LABELS[k]}）" for k in TEMPLATE_KINDS))
    tpl.add_argument("file", help=".xlsx 或 .csv")
    tpl.set_defaults(func=cmd_template)

    exp = sub.add_parser("export", help="导出数据（格式由扩展名决定：.gpkg .shp .geojson .xlsx .csv）")
    exp.add_argument("kind", choices=EXPORT_KINDS)
    exp.add_argument("file")
    exp.add_argument("--district", metavar="区县", help="只导出该区县的数据（代码如 371521 或名称如 阳谷县）")
    exp.set_defaults(func=cmd_export)


def _engine(args):
    from gis.db import migrate
    from gis.db.engine import get_engine

    engine = get_engine(args.database)
    migrate.upgrade(engine)
    return engine


def _district(engine, text: str | None) -> str | None:
    """The code of the 区县 `text` names (code or name); InputError when there is none."""
    from gis.geo.districts import named_district

    return named_district(engine, text, InputError)


def cmd_import(args: argparse.Namespace) -> int:
    from gis.io.importer import import_file
    from gis.people.permissions import Actor
    from gis.problems.categories import parse_renames

    try:
        renames = parse_renames(args.renames)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    if args.district is not None and args.kind not in GEO_KINDS:
        print(f"错误：--district 只用于带位置的数据（{'、'.join(DATASET_LABELS[k] for k in GEO_KINDS)}）；"
              f"{DATASET_LABELS[args.kind]}是全市共用的，导入时不指定区县。", file=sys.stderr)
        return 2
    try:
        engine = _engine(args)
        result = import_file(engine, Actor.system(), args.kind, args.file, dry_run=args.dry_run,
                             layer=args.layer, crs=args.crs, encoding=args.encoding, coords=args.coords,
                             repair=args.repair, renames=renames or None, district=_district(engine, args.district))
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        print("未写入任何数据。", file=sys.stderr)
        return 1
    p = result.prepared
    for note in p.notes:
        print(f"· {note}")
    for line in p.error_lines(200):
        print(line, file=sys.stderr)
    print(result.summary(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def cmd_template(args: argparse.Namespace) -> int:
    from gis.io.templates import write_template

    try:
        path = write_template(args.kind, args.file)
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已写出{TEMPLATE_LABELS[args.kind]}导入模板：{path}（带 * 的列为必填；示例行请替换为实际数据）")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from gis.io.exporter import export

    try:
        engine = _engine(args)
        district = _district(engine, args.district)
        n = export(engine, args.kind, args.file, district)
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    where = f"（区县 {district}）" if district else ""
    print(f"已导出 {n} 条{DATASET_LABELS[args.kind]}{where}到 {args.file}")
    return 0
