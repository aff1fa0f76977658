"""用户批量导入 (a roster of users): many sign-in accounts from one table, all or none.

A city brings its users with its people: one row per account — 用户名, 姓名, 角色 and, for 网格长 / 网格员,
网格编号. Every row is checked first (role, grid, names unique in the file and new to the system) and
refused by row number in Chinese with nothing written; then all accounts are created in one transaction
with one audit entry each. Passwords are generated (never read from the file, so none sits in a
spreadsheet on a shared drive) and returned once, for the 管理员 to hand out; the first sign-in is
theirs to change with `gis user reset-password`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select

from gis import clock
from gis.db.models import Grid, User
from gis.io import InputError, readers
from gis.people import auth
from gis.people.audit import record
from gis.people.permissions import OWN_GRID_ROLES, ROLES, Actor, require

COLUMNS = {  # field → the headers a roster may use for it (the first is the template's)
    "username": ("用户名", "账号", "登录名", "username"),
    "display_name": ("姓名", "名字", "display_name", "name"),
    "role": ("角色", "role"),
    "grid_code": ("网格编号", "所属网格", "网格", "grid"),
}
PASSWORD_SHEET = "初始密码"


def template() -> pd.DataFrame:
    """The roster's blank template: Chinese headers (required ones starred) and one example row."""
    return pd.DataFrame([{"用户名*": "wangwei", "姓名": "王伟", "角色*": "网格长", "网格编号": "WG-01"}]).astype(object)


def _columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The roster's fields by their headers (a trailing * ignored); InputError naming a missing one."""
    names = {str(c).strip().rstrip("*").strip(): c for c in frame.columns}
    out = {}
    for field, headers in COLUMNS.items():
        hit = next((names[h] for h in headers if h in names), None)
        if hit is None and field in ("username", "role"):
            raise InputError(f"用户名单缺少“{headers[0]}”列（表头须含：用户名、角色；可选：姓名、网格编号）。")
        out[field] = frame[hit] if hit is not None else pd.Series([None] * len(frame), index=frame.index)
    return pd.DataFrame({k: [_text(v) for v in col] for k, col in out.items()}, dtype=object)


def _text(value) -> str | None:
    """A cell as text, None when empty (a reader's NaN may arrive as the text "nan")."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return None if text in EMPTY else text


EMPTY = {"", "nan", "NaN", "None", "<NA>", "NaT"}


def check(engine: Engine, frame: pd.DataFrame, first_row: int = 2) -> tuple[pd.DataFrame, list[str]]:
    """The roster's rows as fields, and one Chinese message per bad row (empty when all are good)."""
    df = _columns(frame)
    with engine.connect() as conn:
        existing = set(conn.execute(select(User.username)).scalars())
        grids = set(conn.execute(select(Grid.code)).scalars())
    errors = []
    seen: set[str] = set()
    for i, row in enumerate(df.itertuples(index=False)):
        at = f"第 {first_row + i} 行"
        name, role, grid = row.username, row.role, row.grid_code
        if not name or len(name) > auth.MAX_USERNAME_LENGTH or any(c.isspace() for c in name):
            errors.append(f"{at}【用户名】：须为 1–{auth.MAX_USERNAME_LENGTH} 个字符，且不含空格（值：{name or '空'}）")
        elif name in existing:
            errors.append(f"{at}【用户名】：用户“{name}”已存在")
        elif name in seen:
            errors.append(f"{at}【用户名】：用户名“{name}”在表中重复")
        seen.add(name or "")
        if role not in ROLES:
            errors.append(f"{at}【角色】：须为 {'、'.join(ROLES)} 之一（值：{role or '空'}）")
        elif role in OWN_GRID_ROLES and not grid:
            errors.append(f"{at}【网格编号】：{role}须填所属网格")
        elif role in OWN_GRID_ROLES and grids and grid not in grids:
            errors.append(f"{at}【网格编号】：网格“{grid}”不存在")
        if row.display_name and len(row.display_name) > 64:
            errors.append(f"{at}【姓名】：最多 64 个字")
    return df, errors


def import_roster(engine: Engine, actor: Actor, frame: pd.DataFrame, first_row: int = 2,
                  now: datetime | None = None) -> pd.DataFrame:
    """Create every account of the roster `frame`, all or none; returns 用户名, 姓名, 角色, 网格编号, 初始密码
    (shown once). InputError listing the bad rows when any row is bad (nothing written)."""
    require(actor, "user.manage")
    df, errors = check(engine, frame, first_row)
    if df.empty:
        raise InputError("用户名单是空的：没有任何一行。")
    if errors:
        raise InputError("用户名单有误，未导入任何用户：\n" + "\n".join(errors))
    now = now or clock.now()
    passwords = [auth.generate_password() for _ in range(len(df))]
    hashes = [auth.hash_password(p) for p in passwords]  # before the write lock: argon2 takes a while
    grid_of = [g if r in OWN_GRID_ROLES else None for r, g in zip(df["role"], df["grid_code"])]
    t = User.__table__
    with engine.begin() as conn:
        taken = set(conn.execute(select(t.c.username).where(t.c.username.in_(list(df["username"])))).scalars())
        if taken:  # created by someone else since the check
            raise InputError(f"用户已存在：{'、'.join(sorted(taken))}；未导入任何用户。")
        conn.execute(t.insert(), [
            {"username": u, "display_name": n, "password_hash": h, "role": r, "grid_code": g, "disabled": False,
             "failed_attempts": 0, "created_at": now}
            for u, n, h, r, g in zip(df["username"], df["display_name"], hashes, df["role"], grid_of)])
        for u, r, g in zip(df["username"], df["role"], grid_of):
            record(conn, actor, "user.add", "user", u, {"role": r, "grid": g, "via": "用户名单"}, at=now)
    return pd.DataFrame({"用户名": df["username"], "姓名": df["display_name"], "角色": df["role"],
                         "网格编号": grid_of, "初始密码": passwords})


def import_roster_file(engine: Engine, actor: Actor, path: str | Path, layer: str | None = None,
                       now: datetime | None = None) -> pd.DataFrame:
    """`import_roster` on a .xlsx / .csv file read through `gis.io.readers` (encoding detected)."""
    source = readers.read(path, layer)
    return import_roster(engine, actor, source.frame, source.first_row, now)
