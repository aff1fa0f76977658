"""`python -m gis init --boundary FILE [--coords gcj02|bd09] --name 区名 [--admin NAME --password -]`.

A new city's first run (gis.io.first_run): district, first 管理员, default 问题类型. No terminal prompt:
the generated password is printed once; `--password -` reads one line from standard input. Safe to run
again (it says what exists and changes nothing). Exit codes: 0 done, 1 invalid input (nothing written).
"""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("init", help="新城市上线：设置辖区边界、创建首个管理员、载入默认问题类型（可重复运行）",
                       description="新城市上线（无演示数据）。重复运行时只报告已有内容，不做任何更改。")
    p.add_argument("--boundary", help="辖区边界文件（Shapefile、GeoJSON、GeoPackage）")
    p.add_argument("--coords", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                   help="边界经纬度的来源：wgs84（默认）、gcj02（高德/DataV）、bd09（百度）")
    p.add_argument("--name", help="辖区名称，如 东昌府区")
    p.add_argument("--admin", default="admin", help="首个管理员的用户名（默认 admin）")
    p.add_argument("--password", help="管理员密码；“-” 表示从标准输入读取一行；省略则生成并显示一次")
    p.set_defaults(func=cmd_init)


def cmd_init(args) -> int:
    from gis.cli.data import _engine
    from gis.io import InputError
    from gis.io.first_run import init_city

    password = args.password
    if password == "-":
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        result = init_city(_engine(args), args.name, boundary=args.boundary, coords=args.coords,
                           admin=args.admin, password=password)
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        print("未做任何更改。", file=sys.stderr)
        return 1
    for line in result.lines:
        print(f"· {line}")
    if result.admin and result.password and args.password is None:
        print(f"管理员 {result.admin} 的初始密码（只显示这一次，请登录后修改）：{result.password}")
    print("初始化完成。" if result.changed else "已初始化过，未做任何更改。")
    return 0
