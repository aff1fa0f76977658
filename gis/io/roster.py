"""用户批量导入 (a roster of users): many sign-in accounts from one table, all or none.

A city brings its users with its people: one row per account — 用户名, 姓名, 角色, for 网格长 / 网格员
网格编号, and 区县 where it is not otherwise known. Every row is checked first (role, grid, district, names
unique in the file and new to the system) and refused by row number in Chinese with nothing written; then
all accounts are created in one transaction with one audit entry each.

Each account's district (区县, issue 17) follows the rule of a single account (`gis.people.auth.new_user_district`):
its grid's; else the row's 区县 column, else the district chosen for the import (`district`, ``--district``);
else the importing administrator's own. A district's 管理员 imports into their district only; an account that
must have a district (every role but a city-level 领导 / 管理员) and gets none is a bad row. Passwords are generated (never read from the file, so none sits in a
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
from gis.geo.districts import district_names, district_table
from gis.io import InputError, readers
from gis.people import auth
from gis.people.audit import record
from gis.people.permissions import OWN_GRID_ROLES, ROLES, Actor, district_scope, require

COLUMNS = {  # field → the headers a roster may use for it (the first is the template's)
    "username": ("用户名", "账号", "登录名", "username"),
    "display_name": ("姓名", "名字", "display_name", "name"),
    "role": ("角色", "role"),
    "grid_code": ("网格编号", "所属网格", "网格", "grid"),
    "district": ("区县", "所属区县", "区县代码", "district"),
}
PASSWORD_SHEET = "初始密码"
DISTRICT_HINT = "在“区县”列填写，或导入时选定区县 --district"  # where a row's district is given


def template() -> pd.DataFrame:
    """The roster's blank template: Chinese headers (required ones starred) and one example row."""
    return pd.DataFrame([{"用户名*": "wangwei", "姓名": "王伟", "角色*": "网格长", "网格编号": "WG-01",
                          "区县": ""}]).astype(object)


def _columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The roster's fields by their headers (a trailing * ignored); InputError naming a missing one."""
    names = {str(c).strip().rstrip("*").strip(): c for c in frame.columns}
    out = {}
    for field, headers in COLUMNS.items():
        hit = next((names[h] for h in headers if h in names), None)
        if hit is None and field in ("username", "role"):
            raise InputError(f"用户名单缺少“{headers[0]}”列（表头须含：用户名、角色；可选：姓名、网格编号、区县）。")
        out[field] = frame[hit] if hit is not None else pd.Series([None] * len(frame), index=frame.index)
    return pd.DataFrame({k: [_text(v) for v in col] for k, col in out.items()}, dtype=object)


def _text(value) -> str | None:
    """A cell as text, None when empty (a reader's NaN may arrive as the text "nan")."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return None if text in EMPTY else text


EMPTY = {"", "nan", "NaN", "None", "<NA>", "NaT"}


def chosen_district(engine: Engine, actor: Actor, district: str | None) -> str | None:
    """The district an import's rows default to: `district` (a code), else the administrator's own (None: a
    city-level administrator's import, no default). A district's 管理员 may choose only their own
    (PermissionDenied); an unknown code: InputError."""
    district = (district or "").strip() or district_scope(actor)
    require(actor, "user.manage", district_code=district)
    if district is not None and district not in set(district_table(engine)["code"]):
        raise InputError(f"区县“{district}”不存在：可选 {district_names(engine)}。")
    return district


def _grid_districts(conn) -> dict[str, str | None]:
    """Every grid code → its district (the newest layer's row wins, as for a single account)."""
    g = Grid.__table__
    return dict(conn.execute(select(g.c.code, g.c.district_code).order_by(g.c.layer_id, g.c.id)).all())


def _row_district(actor: Actor, role: str, cell: str | None, chosen: str | None, grid: str | None,
                  of_grid: str | None, table: pd.DataFrame) -> str | None:
    """One row's district by `auth.new_user_district` — the 区县 cell (code or name) else the import's `chosen`
    one; AuthError (Chinese) when it is unknown, differs from the chosen one, or cannot be theirs."""
    given = None
    if cell:
        hit = table[(table["code"] == cell) | (table["name"] == cell)]
        if hit.empty:
            raise auth.AuthError(f"区县“{cell}”不存在（可选：{'、'.join(table['code'] + ' ' + table['name'])}）。")
        given = str(hit["code"].iloc[0])
        if chosen is not None and given != chosen:
            raise auth.AuthError(f"区县 {given} 与本次导入选定的区县 {chosen} 不一致。")
    return auth.new_user_district(actor, role, given or chosen, grid, of_grid, table["code"].tolist(),
                                  hint=DISTRICT_HINT)


def check(engine: Engine, actor: Actor, frame: pd.DataFrame, first_row: int = 2,
          district: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """The roster's rows as fields (with ``district_code``, each account's district), and one Chinese message
    per bad row (empty when all are good). `district`: the import's chosen district (see `chosen_district`)."""
    df = _columns(frame)
    table = district_table(engine)
    with engine.connect() as conn:
        existing = set(conn.execute(select(User.username)).scalars())
        grid_districts = _grid_districts(conn)
    grids = set(grid_districts)
    errors, districts = [], []
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
        grid_ok = False
        if role not in ROLES:
            errors.append(f"{at}【角色】：须为 {'、'.join(ROLES)} 之一（值：{role or '空'}）")
        elif role in OWN_GRID_ROLES and not grid:
            errors.append(f"{at}【网格编号】：{role}须填所属网格")
        elif role in OWN_GRID_ROLES and grids and grid not in grids:
            errors.append(f"{at}【网格编号】：网格“{grid}”不存在")
        else:
            grid_ok = True
        own = grid if role in OWN_GRID_ROLES else None
        found = None
        if grid_ok:
            try:
                found = _row_district(actor, role, row.district, district, own, grid_districts.get(own), table)
            except auth.AuthError as exc:
                errors.append(f"{at}【区县】：{str(exc).rstrip('。')}")
        districts.append(found)
        if row.display_name and len(row.display_name) > 64:
            errors.append(f"{at}【姓名】：最多 64 个字")
    df["district_code"] = pd.Series(districts, index=df.index, dtype=object)
    return df, errors


def import_roster(engine: Engine, actor: Actor, frame: pd.DataFrame, first_row: int = 2,
                  now: datetime | None = None, district: str | None = None) -> pd.DataFrame:
    """Create every account of the roster `frame`, all or none; returns 用户名, 姓名, 角色, 网格编号, 区县, 初始密码
    (shown once). `district`: the district of the rows that name none (default: the administrator's own).
    InputError listing the bad rows when any row is bad (nothing written)."""
    require(actor, "user.manage")
    district = chosen_district(engine, actor, district)
    df, errors = check(engine, actor, frame, first_row, district)
    if df.empty:
        raise InputError("用户名单是空的：没有任何一行。")
    if errors:
        raise InputError("用户名单有误，未导入任何用户：\n" + "\n".join(errors))
    now = now or clock.now()
    passwords = [auth.generate_password() for _ in range(len(df))]
    hashes = [auth.hash_password(p) for p in passwords]  # before the write lock: argon2 takes a while
    grid_of = [g if r in OWN_GRID_ROLES else None for r, g in zip(df["role"], df["grid_code"])]
    rows = list(zip(df["username"], df["display_name"], hashes, df["role"], grid_of, df["district_code"]))
    t = User.__table__
    with engine.begin() as conn:
        taken = set(conn.execute(select(t.c.username).where(t.c.username.in_(list(df["username"])))).scalars())
        if taken:  # created by someone else since the check
            raise InputError(f"用户已存在：{'、'.join(sorted(taken))}；未导入任何用户。")
        conn.execute(t.insert(), [
            {"username": u, "display_name": n, "password_hash": h, "role": r, "grid_code": g, "disabled": False,
             "failed_attempts": 0, "created_at": now, "district_code": d}
            for u, n, h, r, g, d in rows])
        for u, _, _, r, g, d in rows:
            record(conn, actor, "user.add", "user", u, {"role": r, "grid": g, "district": d, "via": "用户名单"},
                   at=now, district=d)
    return pd.DataFrame({"用户名": df["username"], "姓名": df["display_name"], "角色": df["role"],
                         "网格编号": grid_of, "区县": df["district_code"], "初始密码": passwords})


def import_roster_file(engine: Engine, actor: Actor, path: str | Path, layer: str | None = None,
                       now: datetime | None = None, district: str | None = None) -> pd.DataFrame:
    """`import_roster` on a .xlsx / .csv file read through `gis.io.readers` (encoding detected)."""
    source = readers.read(path, layer)
    return import_roster(engine, actor, source.frame, source.first_row, now, district)
