"""The 测评体系 file (import kind ``assessment``): 测评项目 → 测评内容 → 测评标准 with 分值, 测评方式, 适用点位类型,
and the 负面清单 (rows marked in a 负面清单 column, or with 测评项目 = 负面清单, or on a sheet named 负面清单),
each with 处理方式 (一票否决 / 扣分) and 扣分.

The generic import (gis.io) reads and maps the columns (`gis.io.fields.FIELDS["assessment"]`); this module
checks the values (`check`, `prepare_companion`), resolves codes and references against the database
(`resolve`) and writes the system (`write`), all in the import's one transaction.

- Codes: a row's 标准编号 when the file gives one; else the code of the standard already stored with the
  same 项目 / 内容 / 标准 text (so re-importing a file keeps its codes); else item.content.standard numbers
  in the file's order (the next free one when taken).
- Versions (规则按日期生效, gis.db.rule_versions): the file is the whole system from its 生效日期 (one date
  for the file; without it: all time when no system is stored yet, else today). Each standard's points and
  负面清单 effect take effect from that date; stored standards the file no longer has are retired from it.
  Texts (项目, 内容, 标准, 测评方式, 适用点位类型, 问题类型) are the file's from now on.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, or_, select

from gis import clock
from gis.db import rule_versions as versions
from gis.db.models import POINT_KINDS, Category, CategoryAlias, Standard, StandardVersion

METHODS = ("实地考察", "问卷调查", "材料审核")
DEFAULT_METHOD = "实地考察"
NEGATIVE_ITEM = "负面清单"
NEGATIVE_SHEET = "负面清单"
#: 处理方式 as written in files → the stored negative_effect (gis.db.models.Standard)
EFFECTS = {"一票否决": "否决", "否决": "否决", "扣分": "扣分"}
YES = {"是", "y", "yes", "true", "1", "√", "✓", "负面清单"}
NO = {"否", "n", "no", "false", "0", ""}
MAX_POINTS = 100.0
_SPLIT = re.compile(r"[、,，;；/\s]+")


def _add(errors, df: pd.DataFrame, mask, field: str, reason, values=None) -> None:
    """Add bad rows to `errors` with the row number of their own sheet (the 负面清单 sheet's rows carry
    `_row` and `_sheet`, see `prepare_companion`)."""
    mask = np.asarray(mask, dtype=bool)
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return
    sheet = df["_sheet"].iloc[idx].fillna("").to_numpy(object) if "_sheet" in df else np.full(len(idx), "", object)
    rows = idx + errors.first_row
    if "_row" in df:
        own = df["_row"].iloc[idx].to_numpy(dtype=float)
        rows = np.where(np.isnan(own), rows, own).astype(np.int64)
    vals = [None] * len(idx) if values is None else pd.Series(values).iloc[idx].astype(object).tolist()
    reasons = [reason] * len(idx) if isinstance(reason, str) else pd.Series(reason).iloc[idx].tolist()
    fields = [f"{s}表·{field}" if s else field for s in sheet]
    errors.parts.append(pd.DataFrame({"row": rows, "field": fields, "value": vals, "reason": reasons, "_i": idx}))


def prepare_companion(src, prepare, **options):
    """The 负面清单 sheet of `src` prepared as 测评体系 rows (项目 and 内容 default to 负面清单, every row
    is a 负面清单 item), or None when the workbook has no such sheet."""
    frame = src.sheets.get(NEGATIVE_SHEET)
    if frame is None or frame.empty:
        return None
    frame = frame.copy()
    from dataclasses import replace

    sub = replace(src, frame=frame, sheets={}, name=f"{src.name}（{NEGATIVE_SHEET}表）")
    prepared = prepare(sub, "assessment", negative_sheet=True, optional=("item", "content"), **options)
    prepared.frame["_sheet"] = NEGATIVE_SHEET
    prepared.frame["_row"] = np.arange(len(prepared.frame)) + src.first_row
    if not prepared.errors.empty:
        prepared.errors["field"] = f"{NEGATIVE_SHEET}表·" + prepared.errors["field"].astype(str)
    return prepared


def check(out: pd.DataFrame, errors, negative_sheet: bool = False) -> None:
    """Value checks of mapped 测评体系 rows (in place): 负面清单 marker, 分值, 测评方式, 适用点位类型, 处理方式,
    扣分, one 生效日期; normalises negative (bool), method, point_kinds (comma-separated) and points."""
    if negative_sheet:
        out["item"] = out["item"].fillna(NEGATIVE_ITEM)
        out["content"] = out["content"].fillna(NEGATIVE_ITEM)
    marker = out["negative"].fillna("").astype(str).str.strip().str.lower()
    bad = ~marker.isin(YES | NO)
    errors.add(bad & ~pd.Series(negative_sheet, index=out.index), "负面清单", "应填“是”或留空", out["negative"])
    neg = marker.isin(YES) | (out["item"].astype(str).str.strip() == NEGATIVE_ITEM) | negative_sheet
    out["negative"] = neg.astype(bool)

    pts, ded = out["points"], out["deduction"]
    # ordinary standards: 分值 (0–100], 测评方式, 适用点位类型
    not_number = {i for p in errors.parts for f, i in zip(p["field"], p["_i"]) if f == "分值"}
    blank = pd.Series([i not in not_number for i in range(len(out))], index=out.index)
    errors.add(~neg & pts.isna() & blank, "分值", "缺少分值（测评标准须有分值）")
    errors.add(~neg & pts.notna() & ((pts <= 0) | (pts > MAX_POINTS)), "分值", f"分值应大于 0 且不大于 {MAX_POINTS:g}",
               pts)
    method = out["method"].str.strip()
    errors.add(method.notna() & ~method.isin(METHODS), "测评方式", f"取值不在允许范围（{'、'.join(METHODS)}）", out["method"])
    out["method"] = method.where(method.notna(), None).fillna(DEFAULT_METHOD).where(~neg, method)

    kinds = out["point_kinds"].fillna("").astype(str).map(lambda t: [k for k in _SPLIT.split(t.strip()) if k])
    unknown = kinds.map(lambda ks: "、".join(k for k in ks if k not in POINT_KINDS))
    errors.add(unknown != "", "适用点位类型", "不是点位类型：" + unknown + f"（可用：{'、'.join(POINT_KINDS)}）",
               out["point_kinds"])
    out["point_kinds"] = kinds.map(lambda ks: ",".join(dict.fromkeys(ks)) or None)

    # 负面清单: 处理方式 and 扣分 (the deduction is the standard's points; 一票否决 may give none)
    raw = out["negative_effect"].str.strip()
    effect = raw.map(EFFECTS)
    errors.add(neg & raw.isna(), "处理方式", "负面清单须填处理方式（一票否决 或 扣分）")
    errors.add(neg & raw.notna() & effect.isna(), "处理方式", "取值不在允许范围（一票否决、扣分）", out["negative_effect"])
    errors.add(~neg & raw.notna(), "处理方式", "只有负面清单填写处理方式", out["negative_effect"])
    ded = ded.fillna(pts.where(neg))
    errors.add(neg & (effect == "扣分") & ded.isna(), "扣分", "处理方式为扣分的负面清单须填扣分")
    errors.add(neg & ded.notna() & ((ded <= 0) | (ded > MAX_POINTS)), "扣分", f"扣分应大于 0 且不大于 {MAX_POINTS:g}", ded)
    out["negative_effect"] = effect.where(neg, None)
    out["points"] = pts.where(~neg, ded.fillna(0.0)).astype("Float64")

    # one date for the whole file
    days = out["valid_from"]
    given = days.dropna()
    if len(given):
        first = given.iloc[0]
        errors.add(days.notna() & (days != first), "生效日期", f"全表须为同一生效日期（首个为 {first:%Y-%m-%d}）", days)
    key = out["item"].astype(str) + "\x1f" + out["content"].astype(str) + "\x1f" + out["text"].astype(str)
    dup = key.duplicated(keep="first") & out["text"].notna()
    errors.add(dup, "测评标准", "与前面一行的测评项目、测评内容、测评标准完全相同", out["text"])


def _key(df: pd.DataFrame) -> pd.Series:
    return (df["item"].astype(str).str.strip() + "\x1f" + df["content"].astype(str).str.strip() + "\x1f"
            + df["text"].astype(str).str.strip())


def assign_codes(df: pd.DataFrame, stored: pd.DataFrame) -> pd.Series:
    """Each row's code: the file's, else the stored standard's with the same texts, else the next free
    item.content.standard number in the file's order (see the module doc)."""
    codes = df["code"].astype(object).where(df["code"].notna(), None)
    by_key = dict(zip(_key(stored), stored["code"])) if len(stored) else {}
    keys = _key(df)
    taken = set(stored["code"]) | set(codes.dropna())
    for i in np.flatnonzero(codes.isna().to_numpy()):
        found = by_key.get(keys.iloc[i])
        if found is not None and found not in set(codes.dropna()):
            codes.iloc[i] = found
    items = list(dict.fromkeys(df["item"]))
    contents: dict[str, list[str]] = {}
    counter: dict[tuple[int, int], int] = {}
    for i in range(len(df)):
        item, content = df["item"].iloc[i], df["content"].iloc[i]
        seen = contents.setdefault(item, [])
        if content not in seen:
            seen.append(content)
        a, b = items.index(item) + 1, seen.index(content) + 1
        counter[a, b] = counter.get((a, b), 0) + 1
        if codes.iloc[i] is not None:
            continue
        k = counter[a, b]
        while f"{a}.{b}.{k}" in taken:
            k += 1
        counter[a, b] = k
        codes.iloc[i] = f"{a}.{b}.{k}"
        taken.add(codes.iloc[i])
    return codes


def resolve(conn: Connection, df: pd.DataFrame, errors) -> pd.DataFrame:
    """Codes (`assign_codes`), codes unique across both sheets, 问题类型 known (name or alias), 生效日期."""
    s, c = Standard.__table__, Category.__table__
    stored = pd.DataFrame(conn.execute(select(s.c.code, s.c.item, s.c.content, s.c.text)).all(),
                          columns=["code", "item", "content", "text"])
    df = df.reset_index(drop=True)
    df["code"] = assign_codes(df, stored)
    known = set(conn.execute(select(c.c.name)).scalars())
    a = CategoryAlias.__table__
    aliases = dict(conn.execute(select(a.c.alias, a.c.name)).all())
    cat = pd.Series([None if x is None or pd.isna(x) else (x if x in known else aliases.get(x, x))
                     for x in df["category"]], index=df.index, dtype=object)
    _add(errors, df, cat.notna() & ~cat.isin(known), "问题类型", "问题类型不在问题类型表中（请先配置该类型）", df["category"])
    df["category"] = cat
    if "_sheet" in df:  # a code of the 负面清单 sheet that the first sheet has too
        main = set(df.loc[df["_sheet"].isna(), "code"].dropna())
        _add(errors, df, df["_sheet"].notna() & df["code"].isin(main), "标准编号", "编号与第一张工作表的测评标准重复",
             df["code"])
    day = df["valid_from"].dropna()
    if len(day):
        df.attrs["valid_from"] = day.iloc[0]
    else:
        first = conn.execute(select(s.c.code).limit(1)).first() is None
        df.attrs["valid_from"] = versions.EPOCH if first else clock.now().date()
    return df


def write(conn: Connection, df: pd.DataFrame, _geoms=None) -> tuple[int, int]:
    """Write the system from its 生效日期 (`resolve`): new standards inserted, stored ones updated; from that
    date every standard of the file has the file's rule and every stored one the file lacks is retired
    (versions starting later are replaced). Returns (inserted, updated). A few statements, whatever the size."""
    day: date = df.attrs.get("valid_from") or clock.now().date()
    today = clock.now().date()
    s, v = Standard.__table__, StandardVersion.__table__
    base = pd.DataFrame(conn.execute(select(s.c.code, s.c.points, s.c.negative, s.c.negative_effect)).all(),
                        columns=["code", "points", "negative", "negative_effect"]).set_index("code")
    versioned = set(conn.execute(select(v.c.code).distinct()).scalars())
    rows = [{k: (None if (not isinstance(x, (list, dict)) and pd.isna(x)) else x) for k, x in r.items()}
            for r in df.to_dict("records")]
    texts = ["item", "content", "text", "method", "point_kinds", "category"]
    rule = {r["code"]: {"points": float(r["points"] or 0.0), "negative": bool(r["negative"]),
                        "negative_effect": r["negative_effect"], "active": True} for r in rows}
    gone = sorted(set(base.index) - set(rule))
    # the rule each gone standard had on `day` stays, inactive
    for code in gone:
        rule[code] = {**(versions.in_force(conn, versions.STANDARD, code, day) or {}), "active": False}
    # unversioned stored standards: their row until now is the version [EPOCH, day)
    first = [{"code": c, "valid_from": versions.EPOCH, "valid_to": day, "points": float(base.at[c, "points"]),
              "negative": bool(base.at[c, "negative"]), "negative_effect": base.at[c, "negative_effect"], "active": True}
             for c in base.index if c not in versioned and c in rule and day > versions.EPOCH]
    codes = list(rule)
    for part in range(0, len(codes), 500):
        chunk = codes[part:part + 500]
        conn.execute(v.delete().where(v.c.code.in_(chunk), v.c.valid_from >= day))
        conn.execute(v.update().where(v.c.code.in_(chunk), or_(v.c.valid_to.is_(None), v.c.valid_to > day))
                     .values(valid_to=day))
    new = [r for r in rows if r["code"] not in base.index]
    if new:
        conn.execute(s.insert(), [{"code": r["code"], **{k: r[k] for k in texts},
                                   **{k: rule[r["code"]][k] for k in ("points", "negative", "negative_effect")}}
                                  for r in new])
    old = [r for r in rows if r["code"] in base.index]
    if old:
        conn.execute(s.update().where(s.c.code == bindparam("_code")).values({k: bindparam(k) for k in texts}),
                     [{"_code": r["code"], **{k: r[k] for k in texts}} for r in old])
    later = [{"code": c, "valid_from": day, "valid_to": None, **{f: rule[c].get(f) for f in versions.STANDARD.fields}}
             for c in codes]
    conn.execute(v.insert(), first + later)
    if day <= today:  # the standards table shows the rule in force today
        conn.execute(s.update().where(s.c.code == bindparam("_code"))
                     .values({k: bindparam(k) for k in ("points", "negative", "negative_effect")}),
                     [{"_code": c, **{k: rule[c].get(k) for k in ("points", "negative", "negative_effect")}}
                      for c in codes if rule[c].get("points") is not None])
    return len(new), len(old)
