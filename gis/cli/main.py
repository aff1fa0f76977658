"""The command line: `python -m gis demo | db …`.

Exit codes: 0 done, 1 invalid input (nothing written), 2 usage error. The database is the
one DATABASE_URL names, as everywhere. Each sub-command is a small function; the heavy
lifting lives in the modules it calls.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

import gis.db.engine  # noqa: F401  (load order, see gis.db.engine)
from gis.cli import accountability, api, data, districts, figures, first_run, grids, move, negative, users
from gis.cli.users import demo_users
from gis.db import migrate
from gis.db.engine import get_engine


def _cmd_demo(args) -> int:
    from gis.demo.build import DEMO_DIR, build_demo
    from gis.io.city import is_empty

    from gis.geo.district import custom_district, district_name

    engine = get_engine(args.database)
    if custom_district():  # `gis init` made this a real city: the demo would wipe it (and needs its own boundary)
        print(f"本系统已用 gis init 设置为新城市（{district_name()}），不构建示范城区。", file=sys.stdout if args.if_empty else sys.stderr)
        return 0 if args.if_empty else 1
    if args.if_empty:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            if not is_empty(conn):
                print("数据库已有数据，跳过示范城区构建。")
                demo_users(engine)  # demo accounts when the users table is empty (gis.cli.users)
                return 0
    report = build_demo(engine, n_problems=args.problems, seed=args.seed, until=args.until,
                        out_dir=None if args.no_files else DEMO_DIR, districts=args.districts)
    counts = ", ".join(f"{k} {v:,}" for k, v in report.counts.items())
    times = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    print(f"示范城区已构建：{counts}")
    print(f"用时：{times}")
    for path in report.files:
        print(f"  写出 {path}")
    _demo_aliases(engine)
    demo_users(engine)  # demo accounts when the users table is empty (gis.cli.users)
    return 0


def _demo_aliases(engine) -> None:
    """The default categories' other names as aliases of the demo's own (违法建设 → 违章建筑): alias rows only."""
    from gis.problems.categories import link_aliases

    with engine.begin() as conn:
        n = link_aliases(conn)
    if n:
        print(f"已为示范问题类型添加 {n} 个别名（如 违法建设 → 违章建筑）。")


def _cmd_db(args) -> int:
    engine = get_engine(args.database)
    if args.action == "upgrade":
        migrate.upgrade(engine)
    elif args.action == "downgrade":
        migrate.downgrade(engine, args.revision or "base")
    print(f"数据库版本：{migrate.current(engine) or '（空）'}")
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("必须是非负整数")
    return value


def _demo_districts(text: str):
    """`--districts`: how many districts in all (1 = 东昌府区 alone), or the further ones by name."""
    from gis.demo.districts import DEMO_DISTRICTS, select_districts

    spec = text.strip()
    try:
        if spec.isdigit() and len(spec) < 6:
            n = int(spec)
            if not 1 <= n <= len(DEMO_DISTRICTS) + 1:
                raise ValueError
            return select_districts(n - 1)
        return select_districts(spec)
    except ValueError:
        names = "、".join(d.name for d in DEMO_DISTRICTS)
        raise argparse.ArgumentTypeError(f"“{text}”无效：应为区县总数 1–{len(DEMO_DISTRICTS) + 1}，"
                                         f"或以逗号分隔的区县名称、代码或前缀（{names}）") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gis", description="创城网格地图 gridmap 命令行")
    parser.add_argument("--database", default=None, help="数据库地址（默认取 DATABASE_URL）")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="构建东昌府区示范城区（网格、街巷、小区、城中村、点位、问题）")
    demo.add_argument("--problems", type=_positive_int, default=50_000, help="问题条数（默认 50000）")
    demo.add_argument("--seed", type=int, default=2024, help="随机种子（默认 2024）")
    demo.add_argument("--until", type=date.fromisoformat, default=None, help="十二个月数据截止到该日结束 YYYY-MM-DD（不晚于现在；默认截止到现在）")
    demo.add_argument("--if-empty", action="store_true", help="仅当数据库为空时构建")
    demo.add_argument("--districts", type=_demo_districts, default=[], metavar="N|名称,…",
                      help="示范区县：总数 N（1 = 仅东昌府区，默认），或东昌府区之外的区县名称，如 阳谷县,临清市")
    demo.add_argument("--no-files", action="store_true", help="不写出 Shapefile / GeoPackage")
    demo.set_defaults(func=_cmd_demo)

    db = sub.add_parser("db", help="数据库结构迁移")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?")
    db.set_defaults(func=_cmd_db)
    users.register(sub)  # user add|disable|enable|reset-password|list, kiosk create|list|revoke
    data.register(sub)  # import KIND FILE [...], export KIND FILE
    grids.register(sub)  # check-grids [FILE]
    figures.register(sub)  # figures --month YYYY-MM [--json]
    accountability.register(sub)  # bulletin YYYY-MM [...], cards rules --month YYYY-MM
    api.register(sub)  # api [--port 8502], apikey create|revoke|list NAME (street, issue 15)
    first_run.register(sub)  # init --boundary FILE --name 区名 [...] (issue 13)
    negative.register(sub)  # negative add|confirm|withdraw|list (负面清单事件, issue 12 §5)
    move.register(sub)  # move --to postgresql+psycopg://…/db [--from sqlite:///…] (issue 17)
    districts.register(sub)  # district list|add|set (区县, issue 17)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
