"""Every number on the leaders' wall screen (领导大屏), each computed by one function, in SQL.

All aggregation runs in the database with GROUP BY on the area ids stored at ingest
(``problems.grid_id``, ``inspections.grid_id``, ``problems.unit_id``); Python only shapes the
few dozen result rows (the 综合得分 arithmetic, `score_table`, runs on those per-grid sums).
Every function takes ``as_of`` (default: now) so that results are reproducible: a month is
always evaluated **as of the end of that month, or as of ``as_of`` if that is earlier**
(so last month's figures do not drift as late closures come in).

综合得分 / 合规指数 (per grid and month, 0–100; see README "综合得分 / 合规指数"):

    score = 100 × 测评通过率 (inspections of the month, weighted by the standard's points)
          − 问题扣分 = min(30, 10 × 本网格本月问题扣分合计 ÷ 全市网格平均)   (the city average costs 10)
          − 超期扣分 = 20 × 超期率 (超期数 ÷ 应结案数 of the month, `gis.metrics.figures`)
    clamped to 0..100. 测评通过率 counts partial credit (`earned_points_sql`, as 谁丢分 does); 问题扣分
    weighs each problem's deduction by its source (GRIDMAP_SOURCE_WEIGHTS). A grid with no
    inspection has no score.

负面清单 (`gis.metrics.negative`): a confirmed event of the month with effect 扣分 deducts its standard's
points (负面清单扣分) before the clamp; one with effect 否决 vetoes the grid: score 0, shown "一票否决", ranked
last (after every other ranked grid, whatever its sample), colour 红, never on the 红榜.

A grid with fewer than ``GRIDMAP_MIN_INSPECTIONS`` inspection visits (distinct point-days) in the
month is "样本不足": it keeps its score but gets no rank and no colour (灰). Colours (三色牌): 绿 ≥ ``GRIDMAP_SCORE_GREEN``,
黄 ≥ ``GRIDMAP_SCORE_YELLOW``, else 红 — read by `thresholds()`, the one place they live.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, text

from gis.geo.areas import current_layer_id
from gis.geo.districts import district_setting, district_table
from gis.metrics.memo import memo_get, memo_put
from gis.metrics.periods import add_months, as_of_moment, current_month, month_rows, month_start
from gis.metrics.settings import NO_COLOR, Thresholds, min_inspections, thresholds
from gis.metrics import figures, negative
from gis.metrics import inspection_sums as stored_inspections  # the module; `inspection_sums` below is SQL
from gis.metrics.sql import Sql, earned_points_sql, points_sql, visit_key_sql


DEDUCTION_WEIGHT, DEDUCTION_CAP, OVERDUE_WEIGHT = 10.0, 30.0, 20.0


SCORE_COLUMNS = ["code", "name", "subdistrict", "score", "rank", "color", "inspections", "pass_rate",
                 "deduction", "overdue_penalty", "problems", "open", "due", "overdue", "ranked", "vetoed",
                 "negative_deduction", "negative_events", "district_code"]


#: The per-grid sums a 综合得分 is computed from (see `score_table`).
INPUT_COLUMNS = ["code", "name", "subdistrict", "inspections", "ok_points", "all_points", "problems", "ded",
                 "open", "due", "overdue", "vetoed", "negative_deduction", "negative_events", "district_code"]

#: The 负面清单 inputs (`gis.metrics.negative`): they follow the grid code, never summed or moved.
NEGATIVE_COLUMNS = ["vetoed", "negative_deduction", "negative_events"]


SUM_COLUMNS = ["inspections", "ok_points", "all_points", "problems", "ded", "open", "due", "overdue"]


def inspection_sums() -> str:
    """The inspection sums of the score (alias i: inspections; s, sv: `standard_join_sql`), for any grouping:
    n = inspection visits (distinct point-days, the sample the minimum applies to), ok_points = points
    earned (partial credit included, as in 谁丢分), all_points = points at stake."""
    return (f"COUNT(DISTINCT {visit_key_sql('i')}) AS n, SUM({earned_points_sql('i', 's')}) AS ok_points, "
            f"SUM({points_sql('s', 'sv')}) AS all_points")


def _score_inputs(engine: Engine, months: list[dict], category=None, source=None, district=None) -> pd.DataFrame:
    """Column k plus INPUT_COLUMNS and district_code: for each month of `months` and each current grid
    (of `district`, when given), the sums of its inspections (`gis.metrics.inspection_sums`: whole months
    stored, the rest live) and problems (grouped by the stored grid ids' codes; the problem sums are
    `gis.metrics.figures.counts` by grid)."""
    stored = set() if category else stored_inspections.ready(engine, months, district)
    live = [m for m in months if m["k"] not in stored]
    q = Sql(engine)
    with engine.connect() as conn:
        layer = current_layer_id(conn)
        ins_filter = in_district = ""
        if district:
            in_district = f" AND district_code = {q.bind('district', district)}"
            ins_filter = f" AND i.district_code = {q.bind('idistrict', district)}"
        if category:
            ins_filter += (f" AND i.standard_code IN (SELECT code FROM standards WHERE category = "
                          f"{q.bind('icategory', category)})")
        parts = [stored_inspections.stored_sums(q, sorted(stored), district)] if stored else []
        if live:  # only those of the months, when some are stored
            parts.append(stored_inspections.visit_sums(q, live, ins_filter, [m["k"] for m in live] if stored else None))
        sql = f"""
WITH {q.months_cte(months)},
cur AS (SELECT code, name, subdistrict, district_code FROM grids WHERE layer_id = {q.bind('layer', layer)}{in_district}),
ins AS ({" UNION ALL ".join(parts)})
SELECT m.k, c.code, c.name, c.subdistrict, c.district_code, COALESCE(i.n, 0) AS inspections,
       COALESCE(i.ok_points, 0.0) AS ok_points, COALESCE(i.all_points, 0.0) AS all_points
FROM months m CROSS JOIN cur c
LEFT JOIN ins i ON i.k = m.k AND i.code = c.code
ORDER BY m.k, c.code"""
        df = q.run(engine, sql, conn, hashed=True)
    prob = figures.counts(engine, months, "grid", category, source, district=district).rename(
        columns={"key": "code", "reported": "problems"})[["k", "code", "problems", "ded", "open", "due", "overdue"]]
    df = df.merge(prob, on=["k", "code"], how="left")
    for col in ("problems", "ded", "open", "due", "overdue"):
        df[col] = df[col].fillna(0)
    return _typed_inputs(with_negative(df, negative.grid_effects(engine, months, district)))


def with_negative(df: pd.DataFrame, effects: pd.DataFrame) -> pd.DataFrame:
    """`df` (columns k, code) with NEGATIVE_COLUMNS from `gis.metrics.negative.grid_effects`."""
    df = df.drop(columns=[c for c in NEGATIVE_COLUMNS if c in df.columns])
    e = effects.rename(columns={"events": "negative_events"})[["k", "code", *NEGATIVE_COLUMNS]]
    df = df.merge(e, on=["k", "code"], how="left") if len(e) else df.assign(
        vetoed=False, negative_deduction=0.0, negative_events=None)
    df["vetoed"] = df["vetoed"].eq(True)
    df["negative_deduction"] = df["negative_deduction"].fillna(0.0).astype("float64")
    df["negative_events"] = [list(v) if isinstance(v, list) else [] for v in df["negative_events"]]
    return df


def _typed_inputs(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("inspections", "problems", "open", "due", "overdue"):
        df[col] = df[col].astype("int64")
    for col in ("ok_points", "all_points", "ded"):
        df[col] = df[col].astype("float64")
    return df


def mean_deduction(inputs: pd.DataFrame) -> float:
    """全市网格平均扣分 of one month's `inputs` (the mean of `ded` over the current grids)."""
    return float(inputs["ded"].mean()) if len(inputs) else 0.0


def score_table(inputs: pd.DataFrame, min_sample: int | None = None, mean_ded: float | None = None,
                th: Thresholds | None = None) -> pd.DataFrame:
    """The 综合得分 arithmetic — the one place it lives — on per-grid sums (INPUT_COLUMNS, and k
    when several months are given): pass rate, deductions relative to the city mean, overdue
    share, clamp, rank (city-wide within each month, ranked grids only, ties share the best
    rank) and colour.

    `mean_ded` fixes the city mean (default: `mean_deduction` of `inputs`, per month); `th` the colour
    thresholds (default: the deployment's). Returns k (if given) and SCORE_COLUMNS, best first, unranked
    last. NumPy on a few dozen rows.
    """
    th = th or thresholds()
    min_n = min_inspections() if min_sample is None else int(min_sample)
    multi = "k" in inputs.columns
    k = inputs["k"].astype(str).to_numpy(object) if multi else np.full(len(inputs), "", dtype=object)
    if mean_ded is None:
        mean = np.zeros(len(inputs))
        for kk in set(k):
            mask = k == kk
            mean[mask] = mean_deduction(inputs[mask])
    else:
        mean = np.full(len(inputs), float(mean_ded))
    ded = inputs["ded"].to_numpy(np.float64)
    due = inputs["due"].to_numpy(np.int64)
    problems = inputs["problems"].to_numpy(np.int64)
    overdue = inputs["overdue"].to_numpy(np.int64)
    ok, allp = inputs["ok_points"].to_numpy(np.float64), inputs["all_points"].to_numpy(np.float64)
    inspections = inputs["inspections"].to_numpy(np.int64)
    n = len(inputs)
    vetoed = inputs["vetoed"].to_numpy(bool) if "vetoed" in inputs.columns else np.zeros(n, bool)
    neg_ded = (inputs["negative_deduction"].to_numpy(np.float64) if "negative_deduction" in inputs.columns
               else np.zeros(n))
    neg_events = (list(inputs["negative_events"]) if "negative_events" in inputs.columns else [[] for _ in range(n)])
    with np.errstate(divide="ignore", invalid="ignore"):
        deduction = np.where(mean > 0, np.minimum(DEDUCTION_WEIGHT * ded / mean, DEDUCTION_CAP), 0.0)
        overdue_penalty = np.where(due > 0, OVERDUE_WEIGHT * overdue / due, 0.0)
        pass_rate = np.where(allp > 0, ok * 1.0 / allp, np.nan)
    # A grid without inspections has no 测评通过率, hence no score (not 100 %).
    raw = 100.0 * pass_rate - deduction - overdue_penalty - neg_ded
    score = np.clip(raw, 0.0, 100.0)
    score[vetoed] = 0.0  # 一票否决
    ranked = ((inspections >= min_n) & (inspections > 0)) | vetoed
    rank = np.full(len(inputs), -1, dtype=np.int64)
    for kk in set(k):
        idx = np.flatnonzero((k == kk) & ranked & ~vetoed)
        s = score[idx]
        rank[idx] = 1 + (s[None, :] > s[:, None]).sum(axis=1)  # SQL RANK(): ties share the best rank
        rank[(k == kk) & vetoed] = len(idx) + 1  # vetoed: last, together
    codes = inputs["code"].astype(str).to_numpy(object)
    order = sorted(range(len(inputs)), key=lambda i: (k[i], not ranked[i], bool(vetoed[i]),
                                                     -np.nan_to_num(score[i], nan=-1.0), codes[i]))
    df = pd.DataFrame({
        "k": k, "code": codes, "name": inputs["name"].to_numpy(object),
        "subdistrict": inputs["subdistrict"].to_numpy(object), "score": score,
        "rank": pd.array(np.where(ranked, rank, 0), dtype="Int64"),
        "color": [th.color(v) if r else NO_COLOR for v, r in zip(score, ranked)],  # vetoed: score 0 → 红
        "inspections": inspections, "pass_rate": pass_rate, "deduction": deduction,
        "overdue_penalty": overdue_penalty, "problems": problems, "open": inputs["open"].to_numpy(np.int64),
        "due": due, "overdue": overdue, "ranked": ranked, "vetoed": vetoed, "negative_deduction": neg_ded,
        "negative_events": pd.Series(neg_events, dtype=object).to_numpy(object),
        "district_code": (inputs["district_code"].to_numpy(object) if "district_code" in inputs.columns
                          else np.full(n, None, dtype=object))})
    df.loc[~ranked, "rank"] = pd.NA
    df = df.iloc[order].reset_index(drop=True)
    for col in ("k", "code", "name", "subdistrict", "color", "district_code"):
        df[col] = df[col].astype(inputs["code"].dtype if col == "code" else "str")
    cols = (["k"] if multi else []) + SCORE_COLUMNS
    return df[cols]


def _scores(engine: Engine, months: list[dict], subdistrict=None, category=None, source=None,
            min_sample: int | None = None, grid_code: str | None = None, district=None) -> pd.DataFrame:
    """The score table for each month of `months` (column k) and each current grid (of `district`):
    `score_table` of `_score_inputs`, district by district — a grid is scored and ranked among the
    grids of its own district (区县), which runs its campaign, so its score is the same on the
    district's wall and the city's."""
    inputs = _score_inputs(engine, months, category, source, district)
    own = district_table(engine).set_index("code")["settings"]  # a district's own thresholds and sample
    parts = [score_table(part, _setting(own, code, "GRIDMAP_MIN_INSPECTIONS", min_sample),
                         th=Thresholds(float(_setting(own, code, "GRIDMAP_SCORE_GREEN")),
                                       float(_setting(own, code, "GRIDMAP_SCORE_YELLOW"))))
             for code, part in inputs.groupby("district_code", sort=False, dropna=False)]
    df = parts[0] if len(parts) == 1 else _best_first(pd.concat(parts, ignore_index=True)) if parts \
        else score_table(inputs, min_sample)
    if subdistrict:
        df = df[df["subdistrict"] == subdistrict]
    if grid_code:
        df = df[df["code"] == grid_code]
    return df.reset_index(drop=True)


def _setting(own: pd.Series, code, name: str, given=None):
    """A setting as it holds in district `code` (`own`: settings by code), unless the caller gave one."""
    if given is not None:
        return given
    return district_setting(own.get(code) or {}, name)


def _best_first(df: pd.DataFrame) -> pd.DataFrame:
    """`score_table`'s order over several districts' tables: by month, ranked first, vetoed last, best score."""
    key = pd.DataFrame({"k": df["k"] if "k" in df.columns else "", "unranked": ~df["ranked"].astype(bool),
                        "vetoed": df["vetoed"].astype(bool), "neg": -df["score"].fillna(-1.0), "code": df["code"]})
    return df.iloc[key.sort_values(["k", "unranked", "vetoed", "neg", "code"], kind="stable").index].reset_index(drop=True)


def score_inputs(engine: Engine, month: date, as_of: datetime | None = None) -> pd.DataFrame:
    """INPUT_COLUMNS of every current grid for `month`, evaluated as `monthly_scores` does."""
    t = as_of_moment(as_of)
    return _score_inputs(engine, month_rows(month_start(month), month_start(month), t)).drop(columns="k")


def monthly_scores(engine: Engine, month: date, as_of: datetime | None = None, subdistrict=None, category=None,
                   source=None, min_sample: int | None = None, district=None) -> pd.DataFrame:
    """综合得分 of every current grid for `month` (any day of it), best first, unranked last.

    Columns: code, name, subdistrict, score (0–100), rank (Int64, NA when 样本不足), color
    ('红'|'黄'|'绿'), inspections, pass_rate (0–1, NaN without inspections), deduction (问题扣分),
    overdue_penalty (超期扣分), problems (问题数), open (of those, 未结案), due (应结案数),
    overdue (超期数), ranked (bool), district_code. Ranks are within each district (区县; the whole
    deployment when it has one); `district` and `subdistrict` only select rows. `category` restricts problems (and inspections to the
    standards of that category), `source` restricts problems.
    """
    t = as_of_moment(as_of)
    df = _scores(engine, month_rows(month_start(month), month_start(month), t), subdistrict, category, source, min_sample,
                 district=district)
    return df.drop(columns="k").reset_index(drop=True)


def score_trend(engine: Engine, grid_code: str, months: int = 12, as_of: datetime | None = None,
                min_sample: int | None = None) -> pd.DataFrame:
    """One grid's score and rank (among its district's grids) for each of the last `months` months (oldest first).

    Columns: month (first day, date), score, rank (Int64, NA when 样本不足). Computed by
    `_scores`: one statement on PostgreSQL, one per month on SQLite.
    """
    t = as_of_moment(as_of)
    last = current_month(t)
    now = datetime.now()
    with engine.connect() as conn:  # a grid is ranked within its district: that district's table is enough
        district = conn.execute(text("SELECT district_code FROM grids WHERE code = :c ORDER BY layer_id DESC "
                                     "LIMIT 1"), {"c": grid_code}).scalar()
    key = (str(engine.url), district, min_inspections() if min_sample is None else int(min_sample), thresholds())
    # A month that has ended (evaluated at its end) is kept for FROZEN_TTL_SECONDS: the district's
    # table serves every grid of it. The other months are computed together.
    months_list = month_rows(add_months(last, 1 - months), last, t)
    frozen = {m["k"] for m in months_list if m["t"] == m["m1"] and m["m1"] <= now}
    tables = {m["k"]: memo_get(("scores", m["k"], *key)) for m in months_list if m["k"] in frozen}
    todo = [m for m in months_list if tables.get(m["k"]) is None]
    if todo:
        fresh = _scores(engine, todo, min_sample=min_sample, district=district)
        for m in todo:
            tables[m["k"]] = fresh[fresh["k"] == m["k"]]
            if m["k"] in frozen:
                memo_put(("scores", m["k"], *key), tables[m["k"]])
    parts = [tables[m["k"]][tables[m["k"]]["code"] == grid_code] for m in months_list]
    df = pd.concat(parts, ignore_index=True)
    df["month"] = pd.to_datetime(df["k"] + "-01").dt.date
    return df[["month", "score", "rank"]].reset_index(drop=True)


def rankings(scores: pd.DataFrame, n: int = 10) -> dict[str, pd.DataFrame]:
    """红黑榜 from a `monthly_scores` frame: the `n` best and `n` worst ranked grids, and the
    grids listed as 样本不足 (not ranked). The worst list is worst first."""
    ranked = scores[scores["ranked"]].sort_values(["rank", "code"])
    honour = ranked[~ranked["vetoed"]] if "vetoed" in ranked.columns else ranked  # 一票否决: never on the 红榜
    return {"best": honour.head(n).reset_index(drop=True),
            "worst": ranked.sort_values(["rank", "code"], ascending=[False, True]).head(n).reset_index(drop=True),
            "insufficient": scores[~scores["ranked"]].sort_values("code").reset_index(drop=True)}


def color_counts(scores: pd.DataFrame) -> dict[str, int]:
    """三色牌 totals: how many grids are 绿, 黄, 红, and 灰 (样本不足, no colour)."""
    counts = scores["color"].value_counts()
    return {c: int(counts.get(c, 0)) for c in ("绿", "黄", "红", NO_COLOR)}
