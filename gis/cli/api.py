"""`python -m gis api [--port 8502] [--root-path /api]` (serve the Open311 API) and `python -m gis apikey create|revoke|list NAME`."""

from __future__ import annotations

import sys

from gis.cli.users import _operator, district_arg
from gis.db import migrate
from gis.db.engine import get_engine


def _cmd_api(args) -> int:
    import uvicorn

    from gis.api.app import create_app

    engine = get_engine(args.database)
    migrate.upgrade(engine)
    print(f"Open311 接口：http://{args.host}:{args.port}/docs")
    # Behind a reverse proxy (nginx, 127.0.0.1): uvicorn takes the client's address from X-Forwarded-For
    # (FORWARDED_ALLOW_IPS, default 127.0.0.1), and --root-path makes photo links carry the proxy's prefix.
    uvicorn.run(create_app(engine), host=args.host, port=args.port, log_level="warning", access_log=False,
                root_path=args.root_path)
    return 0


def _cmd_apikey(args) -> int:
    from gis.people import apikeys
    from gis.people.auth import AuthError

    if args.action != "list" and not args.name:
        print("错误：请给出接口客户端名称，如 12345热线。", file=sys.stderr)
        return 2
    engine = get_engine(args.database)
    migrate.upgrade(engine)
    try:
        if args.action == "create":
            key = apikeys.create(engine, _operator(), args.name, district=district_arg(engine, args.district))
            print(f"已创建接口密钥 {args.name}（只显示这一次，请交给对方系统保存）：{key}")
        elif args.action == "revoke":
            apikeys.revoke(engine, _operator(), args.name)
            print(f"已撤销接口密钥 {args.name}。")
        else:
            keys = apikeys.list_keys(engine)
            if keys.empty:
                print("（还没有接口密钥）")
            for k in keys.itertuples():
                print(f"{k.name}\t{k.district_code or '市级'}\t创建于 {k.created_at:%Y-%m-%d %H:%M}\t"
                      f"{'已撤销' if k.revoked_at is not None else '有效'}")
    except AuthError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0


def register(sub) -> None:
    """Add the `api` and `apikey` sub-commands."""
    api = sub.add_parser("api", help="启动 Open311 问题受理接口（默认 http://127.0.0.1:8502）")
    api.add_argument("--port", type=int, default=8502, help="端口（默认 8502）")
    api.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    api.add_argument("--root-path", default="", help="经反向代理挂在子路径下时的前缀，如 /api（默认无）")
    api.set_defaults(func=_cmd_api)
    key = sub.add_parser("apikey", help="Open311 接口密钥：create / revoke / list")
    key.add_argument("action", choices=["create", "revoke", "list"])
    key.add_argument("name", nargs="?", help="接口客户端名称，如 12345热线")
    key.add_argument("--district", metavar="区县", help="create：密钥所属区县（代码或名称），只受理该区县的问题；不填为全市")
    key.set_defaults(func=_cmd_apikey)
