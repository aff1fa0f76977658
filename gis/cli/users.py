"""`python -m gis user …` and `python -m gis kiosk …`: users and wall-screen tokens from the shell.

The operator at the server's shell acts as 管理员 (``Actor.system``), named after the OS user
in the audit log. Exit codes: 0 done, 1 invalid input (nothing written).
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people.permissions import ROLES, Actor


def _operator() -> Actor:
    try:
        who = getpass.getuser()
    except Exception:  # noqa: BLE001  (no login name in some containers)
        who = "?"
    return Actor.system(f"命令行:{who}")


def _password_arg(value: str | None) -> str | None:
    """`--password -` reads the password from standard input (keeps it out of shell history)."""
    if value == "-":
        return sys.stdin.readline().rstrip("\n")
    return value


def district_arg(engine, text: str | None) -> str | None:
    """`--district` (a 区县's code or name) as its code; AuthError (Chinese) naming the choices when unknown."""
    from gis.geo.districts import named_district
    from gis.people.auth import AuthError

    return named_district(engine, text, AuthError)


def _cmd_user(args) -> int:
    from gis.people import auth

    engine = get_engine(args.database)
    migrate.upgrade(engine)
    actor = _operator()
    try:
        if args.action == "add":
            given = _password_arg(args.password)
            password = auth.add_user(engine, actor, args.name, args.role, given, args.grid, args.display_name,
                                     district_code=district_arg(engine, args.district))
            print(f"已创建用户 {args.name}（{args.role}{'，网格 ' + args.grid if args.grid else ''}）。")
            if not given:
                print(f"初始密码（只显示这一次）：{password}")
        elif args.action == "disable":
            auth.set_disabled(engine, actor, args.name, True)
            print(f"已停用用户 {args.name}。")
        elif args.action == "enable":
            auth.set_disabled(engine, actor, args.name, False)
            print(f"已启用用户 {args.name}。")
        elif args.action == "reset-password":
            given = _password_arg(args.password)
            password = auth.reset_password(engine, actor, args.name, given)
            print(f"已重置用户 {args.name} 的密码并解除锁定。")
            if not given:
                print(f"新密码（只显示这一次）：{password}")
        elif args.action == "import":
            return _import_roster(engine, actor, args)
        else:  # list
            users = auth.list_users(engine)
            if users.empty:
                print("（还没有用户）")
            for u in users.itertuples():
                state = "停用" if u.disabled else ("锁定" if u.locked_until is not None and u.failed_attempts else "正常")
                print(f"{u.username}\t{u.role}\t{u.grid_code or '-'}\t{state}\t最近登录 {u.last_login_at or '-'}")
    except auth.AuthError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0


def _import_roster(engine, actor, args) -> int:
    """`gis user import 用户名单.xlsx [--district 区县] [--out 初始密码.xlsx]`: all accounts or none; passwords
    shown once. `--district`: the 区县 of the rows whose own 区县 column is empty."""
    from gis.io import InputError, roster, sheets

    if not args.name:
        print("错误：请给出用户名单文件，如 gis user import 用户名单.xlsx", file=sys.stderr)
        return 1
    try:
        made = roster.import_roster_file(engine, actor, args.name, args.layer,
                                         district=district_arg(engine, args.district))
    except InputError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    print(f"已创建用户 {len(made)} 个。")
    if args.out:
        Path(args.out).write_bytes(sheets.xlsx_bytes(sheets.Sheet(roster.PASSWORD_SHEET, made)))
        print(f"初始密码已写入 {args.out}（只此一份，请分发后妥善保管或删除）。")
    else:
        print("初始密码（只显示这一次）：")
        for r in made.itertuples(index=False):
            print(f"  {r.用户名}\t{r.角色}\t{r.网格编号 or '-'}\t{r.区县 or '市级'}\t{r.初始密码}")
    return 0


def _cmd_kiosk(args) -> int:
    from gis.people import kiosk
    from gis.people.auth import AuthError

    engine = get_engine(args.database)
    migrate.upgrade(engine)
    try:
        if args.action == "create":
            token = kiosk.create(engine, _operator(), args.name, district=district_arg(engine, args.district))
            print(f"已创建大屏令牌 {args.name}（只显示这一次）：{token}")
            print(f"大屏地址：http://<服务器>:8501/?kiosk={token}")
        elif args.action == "revoke":
            kiosk.revoke(engine, _operator(), args.name)
            print(f"已撤销大屏令牌 {args.name}。")
        else:
            tokens = kiosk.list_tokens(engine)
            for t in tokens.itertuples():
                print(f"{t.name}\t{t.district_code or '市级'}\t创建于 {t.created_at:%Y-%m-%d %H:%M}\t"
                      f"{'已撤销' if t.revoked_at is not None else '有效'}")
            print(f"配置文件中的令牌（GRIDMAP_KIOSK_TOKENS）：{len(kiosk.configured_tokens())} 个")
    except AuthError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    return 0


def demo_users(engine) -> None:
    """After `python -m gis demo`: one account per role when there are no users yet (printed once)."""
    from gis.people.auth import demo_users_file, ensure_demo_users

    made = ensure_demo_users(engine)
    if not made:
        return
    print("已创建示范账户（密码只显示这一次，也写入了 "
          f"{demo_users_file()}，登录后请重置密码并删除该文件）：")
    for username, role, password in made:
        print(f"  {username:<11} {role}\t{password}")


def register(sub) -> None:
    """Add the `user` and `kiosk` sub-commands to the CLI's subparsers."""
    user = sub.add_parser("user", help="用户管理：add / disable / enable / reset-password / list / import")
    user.add_argument("action", choices=["add", "disable", "enable", "reset-password", "list", "import"])
    user.add_argument("name", nargs="?", help="用户名（import 时为用户名单文件 .xlsx / .csv）")
    user.add_argument("--role", choices=ROLES, help="角色（add 时必填）")
    user.add_argument("--grid", help="所属网格编号，网格长 / 网格员必填，如 DC-07")
    user.add_argument("--display-name", help="姓名")
    user.add_argument("--district", metavar="区县",
                      help="所属区县（代码如 371521 或名称如 阳谷县）；import 时用于“区县”列为空的行。"
                           "网格长 / 网格员取其网格的区县；领导 / 管理员不填则为市级")
    user.add_argument("--password", help="密码（不给则随机生成并显示一次；“-”从标准输入读取）")
    user.add_argument("--layer", help="import：用户名单所在的工作表")
    user.add_argument("--out", help="import：把初始密码写入这个 .xlsx（不给则显示在屏幕上）")
    user.set_defaults(func=_checked(_cmd_user, user))

    kiosk = sub.add_parser("kiosk", help="大屏只读令牌：create / list / revoke")
    kiosk.add_argument("action", choices=["create", "list", "revoke"])
    kiosk.add_argument("name", nargs="?", help="令牌名称，如 指挥中心大屏")
    kiosk.add_argument("--district", metavar="区县", help="create：令牌所属区县（代码或名称），只打开该区县的大屏；不填为市级大屏")
    kiosk.set_defaults(func=_checked(_cmd_kiosk, kiosk))


def _checked(fn, parser):
    """Usage errors (a missing NAME or --role) exit with 2 before anything is opened."""

    def run(args) -> int:
        if args.action not in ("list",) and not args.name:
            parser.print_usage(sys.stderr)
            print(f"{parser.prog}: 错误：{args.action} 需要名称", file=sys.stderr)
            return 2
        if getattr(args, "action", None) == "add" and fn is _cmd_user and not args.role:
            parser.print_usage(sys.stderr)
            print(f"{parser.prog}: 错误：add 需要 --role", file=sys.stderr)
            return 2
        return fn(args)

    return run
