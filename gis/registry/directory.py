"""单位与人员 on 系统管理: a 管理员 corrects a 责任单位's or a 责任人's details without a re-import.

Units (name, kind, contact, phone) and people (name, title, level, phone, unit) are loaded by
`gis import units` / `gis import leaders`; who answers for what (帮包关系) stays with the assignments import,
which keeps its history by date. Each edit checks the permission first (``registry.edit``), refuses bad
input in Chinese naming the field (nothing written), and writes the change with one audit entry listing
every field changed as "old → new".
"""

from __future__ import annotations

import re

import pandas as pd
from sqlalchemy import Engine, select

from gis.db.models import Person, Unit
from gis.people import audit
from gis.people.permissions import Actor, require_role
from gis.registry.edits import RegistryError

# field → (label, required); lengths come from the columns themselves
UNIT_FIELDS = {"name": ("名称", True), "kind": ("类型", False), "contact": ("联系人", False), "phone": ("电话", False)}
PERSON_FIELDS = {"name": ("姓名", True), "title": ("职务", False), "level": ("级别", False), "phone": ("电话", False)}
_PHONE = re.compile(r"^[0-9+\-() ]{3,32}$")


def _clean(table, fields: dict, values: dict, what: str) -> dict:
    """The given `values` of `fields`, stripped and checked (required, length, phone); RegistryError if bad."""
    out = {}
    for name, raw in values.items():
        if name not in fields:
            raise RegistryError(f"{what}没有“{name}”这一项。")
        label, required = fields[name]
        text = "" if raw is None or (not isinstance(raw, str) and pd.isna(raw)) else str(raw).strip()
        if required and not text:
            raise RegistryError(f"{what}的{label}不能为空。")
        limit = table.c[name].type.length
        if limit and len(text) > limit:
            raise RegistryError(f"{what}的{label}最多 {limit} 个字（现为 {len(text)} 个）。")
        if name == "phone" and text and not _PHONE.match(text):
            raise RegistryError(f"{what}的电话“{text}”只能含数字、空格和 + - ( )。")
        out[name] = text or None
    return out


def _changes(before, after: dict, fields: dict) -> dict:
    return {fields[k][0]: f"{getattr(before, k) or '（空）'} → {v or '（空）'}"
            for k, v in after.items() if (getattr(before, k) or None) != v}


def update_unit(engine: Engine, actor: Actor, code: str, **values) -> dict:
    """Correct 责任单位 `code`'s details (`values`: name, kind, contact, phone). Returns {label: "old → new"}
    of what changed (empty: nothing to change, nothing written)."""
    require_role(actor, "registry.edit")
    t = Unit.__table__
    clean = _clean(t, UNIT_FIELDS, values, f"责任单位 {code} ")
    with engine.begin() as conn:
        row = conn.execute(select(t).where(t.c.code == code)).first()
        if row is None:
            raise RegistryError(f"责任单位编号“{code}”不存在。")
        changed = _changes(row, clean, UNIT_FIELDS)
        if changed:
            conn.execute(t.update().where(t.c.id == row.id).values(clean))
            audit.record(conn, actor, "registry.unit", "unit", code, changed)
    return changed


def update_person(engine: Engine, actor: Actor, code: str, unit_code: str | None = None, **values) -> dict:
    """Correct 责任人 `code`'s details (`values`: name, title, level, phone) and, given `unit_code`, the unit
    they belong to ("" = none). Returns {label: "old → new"} of what changed."""
    require_role(actor, "registry.edit")
    t, u = Person.__table__, Unit.__table__
    clean = _clean(t, PERSON_FIELDS, values, f"责任人 {code} ")
    with engine.begin() as conn:
        row = conn.execute(select(t).where(t.c.code == code)).first()
        if row is None:
            raise RegistryError(f"责任人编号“{code}”不存在。")
        changed = _changes(row, clean, PERSON_FIELDS)
        if unit_code is not None:
            unit_code = unit_code.strip() or None
            unit_id = None
            if unit_code:
                unit_id = conn.execute(select(u.c.id).where(u.c.code == unit_code)).scalar()
                if unit_id is None:
                    raise RegistryError(f"所属单位编号“{unit_code}”不存在。")
            if unit_id != row.unit_id:
                old = conn.execute(select(u.c.code).where(u.c.id == row.unit_id)).scalar() if row.unit_id else None
                changed["所属单位"] = f"{old or '（无）'} → {unit_code or '（无）'}"
                clean["unit_id"] = unit_id
        if changed:
            conn.execute(t.update().where(t.c.id == row.id).values(clean))
            audit.record(conn, actor, "registry.person", "person", code, changed)
    return changed


def unit_rows(engine: Engine) -> pd.DataFrame:
    """Every 责任单位: code, name, kind, contact, phone (by code)."""
    t = Unit.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.code, t.c.name, t.c.kind, t.c.contact, t.c.phone).order_by(t.c.code)).all()
    return pd.DataFrame(rows, columns=["code", "name", "kind", "contact", "phone"])


def person_rows(engine: Engine) -> pd.DataFrame:
    """Every 责任人: code, name, title, level, phone, unit_code (by code)."""
    t, u = Person.__table__, Unit.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.code, t.c.name, t.c.title, t.c.level, t.c.phone, u.c.code.label("unit_code"))
                            .select_from(t.outerjoin(u, u.c.id == t.c.unit_id)).order_by(t.c.code)).all()
    return pd.DataFrame(rows, columns=["code", "name", "title", "level", "phone", "unit_code"])
