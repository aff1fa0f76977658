"""问题类型 registry (categories): the default set, their aliases, and turning a ledger's names into ours.

The default set (`default_categories.csv` beside this module, 60 rows) follows the national 数字城管
classification of CJ/T 214-2007 / GB/T 30428.2-2013 (数字化城市管理信息系统 第 2 部分：管理部件和事件):
部件 classes 公用设施, 道路交通, 市容环境, 园林绿化, 房屋土地, 其他设施 and 事件 classes 市容环境, 宣传广告,
施工管理, 突发事件, 街面秩序, 其他事件, with the sub-classes a 创城 ledger uses most. The class names are the
standard's; the 4-digit sub-class numbers (B = 部件, S = 事件) are this project's own numbering inside those
classes, and the time limits are the usual 立结案 limits of city 数字城管 rules — a city replaces either with its
own table (`gis import categories`). The file has the import's Chinese headers, so it is also a valid
`gis import categories` file; 测评标准编号 is empty: it belongs to a city's own 测评体系.

Aliases (别名, table ``category_aliases``): other names a ledger uses for one category (违章建筑 = 私搭乱建 →
违法建设). Imports store a problem under the canonical name (`canonical`); an unknown name is refused with the
closest known names (`suggest`).
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, delete, select

from gis.db.models import Category, CategoryAlias

DEFAULTS_FILE = Path(__file__).with_name("default_categories.csv")
KINDS = ("部件", "事件")
ALIAS_SEPARATORS = r"[、,，;；/|\s]+"
# the columns of a category frame (the fields of import kind "categories", gis.io.fields)
COLUMNS = ["code", "name", "kind", "major", "time_limit", "time_unit", "urgent_hours", "deduction", "standard_code",
           "aliases"]
HEADERS = {"分类编码": "code", "问题类型": "name", "部件事件": "kind", "大类": "major", "整改时限": "time_limit",
           "时限单位": "time_unit", "紧急处置时限（小时）": "urgent_hours", "扣分": "deduction",
           "测评标准编号": "standard_code", "别名": "aliases"}
# 自然时 equivalent of a limit (Category.deadline_hours, the fallback when no unit is set)
_NATURAL = {"工作时": 24 / 8, "工作日": 24 * 7 / 5, "自然时": 1.0}


@lru_cache(maxsize=1)
def _defaults() -> pd.DataFrame:
    df = pd.read_csv(DEFAULTS_FILE, dtype=str, encoding="utf-8", keep_default_na=False).rename(columns=HEADERS)
    for col in ("time_limit", "urgent_hours", "deduction"):
        df[col] = pd.to_numeric(df[col].replace("", None)).astype("Float64")
    for col in ("code", "standard_code", "aliases"):
        df[col] = df[col].replace("", None)
    return df[COLUMNS]


def default_categories() -> pd.DataFrame:
    """The default 问题类型 (COLUMNS; `aliases` as one 、-separated text per row)."""
    return _defaults().copy()


def split_aliases(text) -> list[str]:
    """The aliases in one cell ("违章建筑、私搭乱建"), trimmed, in order, without repeats."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    return list(dict.fromkeys(a for a in pd.Series([str(text)]).str.split(ALIAS_SEPARATORS, regex=True)[0] if a))


def natural_hours(limit, unit) -> float:
    """The 自然时 equivalent of `limit` `unit`s (stored as deadline_hours; used only when a unit is missing)."""
    return float(limit) * _NATURAL.get(unit, 1.0)


def known_names(conn: Connection) -> tuple[set[str], dict[str, str]]:
    """(category names, alias → category name) in the database."""
    names = set(conn.execute(select(Category.__table__.c.name)).scalars())
    a = CategoryAlias.__table__
    return names, dict(conn.execute(select(a.c.alias, a.c.name)).all())


def write_categories(conn: Connection, frame: pd.DataFrame) -> tuple[int, int]:
    """Upsert categories by name (columns as COLUMNS); a row's aliases replace that category's aliases.

    Returns (inserted, updated). Runs inside the caller's transaction; the caller has validated the rows
    (units, numbers, aliases not naming another category: `alias_conflicts`)."""
    t, a = Category.__table__, CategoryAlias.__table__
    names, _ = known_names(conn)
    rows = frame.reset_index(drop=True).astype(object).where(frame.reset_index(drop=True).notna(), None)
    inserted = updated = 0
    for row in rows.to_dict("records"):
        values = {k: row.get(k) for k in ("code", "kind", "major", "time_limit", "time_unit", "urgent_hours",
                                          "deduction", "standard_code")}
        values["deduction"] = float(values["deduction"] or 0.0)
        values["deadline_hours"] = natural_hours(values["time_limit"], values["time_unit"])
        if row["name"] in names:
            conn.execute(t.update().where(t.c.name == row["name"]).values(values))
            updated += 1
        else:
            conn.execute(t.insert().values(name=row["name"], **values))
            names.add(row["name"])
            inserted += 1
        aliases = split_aliases(row.get("aliases"))
        if row.get("aliases") is not None:
            conn.execute(delete(a).where((a.c.name == row["name"]) | a.c.alias.in_(aliases)))
            if aliases:
                conn.execute(a.insert(), [{"alias": x, "name": row["name"]} for x in aliases])
    return inserted, updated


def alias_conflicts(conn: Connection, frame: pd.DataFrame) -> pd.Series:
    """Per row: why its aliases cannot be stored (an alias that is a category's own name), or None."""
    names, _ = known_names(conn)
    names |= set(frame["name"].dropna())
    out = []
    for name, text in zip(frame["name"], frame["aliases"]):
        clash = [x for x in split_aliases(text) if x in names and x != name]
        out.append(f"别名“{'、'.join(clash)}”本身是问题类型名称，不能作别名" if clash else None)
    return pd.Series(out, index=frame.index, dtype=object)


def load_defaults(conn: Connection) -> tuple[int, int]:
    """Insert the default categories that the database lacks, with their aliases (existing categories and
    aliases are left exactly as they are: safe to run again). Returns (inserted, already there)."""
    names, aliases = known_names(conn)
    todo = default_categories()
    todo = todo[~todo["name"].isin(names) & ~todo["name"].isin(aliases)].copy()
    taken = names | set(aliases) | set(todo["name"])
    todo["aliases"] = ["、".join(x for x in split_aliases(t) if x not in taken) or None for t in todo["aliases"]]
    inserted, _ = write_categories(conn, todo)
    return inserted, len(default_categories()) - inserted


def link_aliases(conn: Connection) -> int:
    """On a database with its own categories (the demo's): for each default group (a name and its aliases)
    of which exactly one member is a category there, make the group's other names aliases of it
    (违法建设 → the demo's 违章建筑). Adds alias rows only; returns how many."""
    names, aliases = known_names(conn)
    new = []
    for name, text in zip(*default_categories()[["name", "aliases"]].T.to_numpy()):
        group = [name, *split_aliases(text)]
        present = [g for g in group if g in names]
        if len(present) != 1:
            continue
        for other in group:
            if other not in names and other not in aliases:
                new.append({"alias": other, "name": present[0]})
                aliases[other] = present[0]
    if new:
        conn.execute(CategoryAlias.__table__.insert(), new)
    return len(new)


def suggest(value: str, known: list[str], n: int = 3) -> list[str]:
    """The known names closest to `value` (difflib), best first."""
    return difflib.get_close_matches(str(value), known, n=n, cutoff=0.34)


def canonical(conn: Connection, values: pd.Series, renames: dict[str, str] | None = None
              ) -> tuple[pd.Series, pd.Series]:
    """A ledger's category names as stored: `renames` (--map 旧名=新名) first, then aliases.

    Returns (names, reasons): `reasons` is None where the name is known, else the Chinese reason with
    the closest known names."""
    names, aliases = known_names(conn)
    mapped = values.replace(renames) if renames else values
    out = mapped.map(lambda v: aliases.get(v, v) if isinstance(v, str) else v)
    unknown = out.notna() & ~out.isin(names)
    reasons = pd.Series(None, index=values.index, dtype=object)
    if unknown.any():
        pool = sorted(names) + sorted(aliases)
        why = {}
        for value in out[unknown].unique():
            close = suggest(value, pool)
            hint = (f"；最接近的有：{'、'.join(close)}（可用 --map {value}={aliases.get(close[0], close[0])} "
                    "或页面上的“问题类型对应”指定）") if close else "；请先导入该问题类型（gis import categories）"
            why[value] = f"问题类型“{value}”不在问题类型表中{hint}"
        reasons[unknown] = out[unknown].map(why)
    return out, reasons


def parse_renames(items: list[str] | None) -> dict[str, str]:
    """`--map 旧名=新名` options (repeatable; several in one, separated by 、 or ,) as a dict.

    Raises ValueError (Chinese) for an item without '=' or with an empty side."""
    out: dict[str, str] = {}
    for item in items or []:
        for part in pd.Series([item]).str.split(r"[、,，;；\n]+", regex=True)[0]:
            part = part.strip()
            if not part:
                continue
            old, sep, new = part.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise ValueError(f"名称对应“{part}”格式不对，应为 旧名=新名（如 违建=违法建设）。")
            out[old.strip()] = new.strip()
    return out


__all__ = ["COLUMNS", "DEFAULTS_FILE", "KINDS", "alias_conflicts", "canonical", "default_categories",
           "link_aliases", "load_defaults", "natural_hours", "parse_renames", "split_aliases", "suggest",
           "write_categories"]
