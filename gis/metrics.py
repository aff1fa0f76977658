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
          − 超期扣分 = 20 × 超期率 (share of the month's problems rectified late or still overdue)
    clamped to 0..100. A grid with no inspection counts as pass rate 100 % but is not ranked.

A grid with fewer than ``GRIDMAP_MIN_INSPECTIONS`` inspections in the month is "样本不足": it
keeps its score and colour but gets no rank. Colours (三色牌): 绿 ≥ ``GRIDMAP_SCORE_GREEN``,
黄 ≥ ``GRIDMAP_SCORE_YELLOW``, else 红 — read by `thresholds()`, the one place they live.

Problem definitions (t = the evaluation moment):
- 问题数: problems reported in the month;
- 应结案: of those, whose rectification deadline has passed (deadline ≤ t);
- 结案: of 应结案, closed (已结案, verified ≤ t); 按期结案: closed and rectified ≤ deadline;
- 返工: of 应结案, sent back at least once (rework_count > 0);
- 超期 (for the score): deadline < t and (not rectified, or rectified after the deadline);
- overdue now (现超期): reported ≤ t, deadline < t, not rectified by t, not closed by t;
- average time to rectify: mean hours from report to rectification, over the month's problems
  rectified by t.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Date, DateTime, Engine, bindparam, text

from gis.areas import current_layer_id
from gis.config import setting
from gis.models import STATUS_CLOSED

DEFAULT_GREEN = 80.0
DEFAULT_YELLOW = 60.0
DEFAULT_MIN_INSPECTIONS = 30
DEFAULT_REFRESH_SECONDS = 60
DEDUCTION_WEIGHT, DEDUCTION_CAP, OVERDUE_WEIGHT = 10.0, 30.0, 20.0
COLORS = ("红", "黄", "绿")

SCORE_COLUMNS = ["code", "name", "subdistrict", "score", "rank", "color", "inspections", "pass_rate",
                 "deduction", "overdue_penalty", "problems", "open", "overdue", "ranked"]


# --------------------------------------------------------------------------- settings

@dataclass(frozen=True)
class Thresholds:
    green: float
    yellow: float

    def color(self, score: float) -> str:
        return "绿" if score >= self.green else "黄" if score >= self.yellow else "红"


def thresholds() -> Thresholds:
    """三色牌 thresholds: GRIDMAP_SCORE_GREEN (default 80) and GRIDMAP_SCORE_YELLOW (default 60)."""
    green = float(setting("GRIDMAP_SCORE_GREEN", str(DEFAULT_GREEN)))
    yellow = float(setting("GRIDMAP_SCORE_YELLOW", str(DEFAULT_YELLOW)))
    if yellow > green:
        raise ValueError(f"GRIDMAP_SCORE_YELLOW ({yellow}) must not exceed GRIDMAP_SCORE_GREEN ({green})")
    return Thresholds(green, yellow)


def min_inspections() -> int:
    """Minimum inspections in a month for a grid to be ranked (GRIDMAP_MIN_INSPECTIONS, default 30)."""
    return int(setting("GRIDMAP_MIN_INSPECTIONS", str(DEFAULT_MIN_INSPECTIONS)))


def refresh_seconds() -> int:
    """How often the wall screen refreshes itself (GRIDMAP_WALL_REFRESH, seconds, default 60)."""
    return max(5, int(setting("GRIDMAP_WALL_REFRESH", str(DEFAULT_REFRESH_SECONDS))))


# --------------------------------------------------------------------------- months

def month_start(d: date | datetime) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def _now(as_of: datetime | None) -> datetime:
    if as_of is None:
        return datetime.now().replace(microsecond=0)
    if not isinstance(as_of, datetime):  # a date means the end of that day
        return datetime.combine(as_of, datetime.min.time()) + timedelta(days=1)
    return as_of


def month_end_as_of(month: date, as_of: datetime | None = None) -> datetime:
    """The moment `month` is evaluated at: the end of that month, or `as_of` (default now) if earlier."""
    return min(_now(as_of), datetime.combine(add_months(month_start(month), 1), datetime.min.time()))


def _current_month(t: datetime) -> date:
    """The month `t` falls in (midnight on the 1st still belongs to the month before)."""
    return month_start(t - timedelta(microseconds=1))


def _months(first: date, last: date, as_of: datetime) -> list[dict]:
    """One row per month from `first` to `last`: key, start, end, evaluation moment t."""
    rows, m = [], month_start(first)
    while m <= last:
        nxt = add_months(m, 1)
        t = min(as_of, datetime.combine(nxt, datetime.min.time()))
        rows.append({"k": m.strftime("%Y-%m"), "m0": datetime.combine(m, datetime.min.time()),
                     "m1": datetime.combine(nxt, datetime.min.time()), "t": t,
                     "d0": m, "d1": nxt, "dt": t.date()})
        m = nxt
    return rows


class _Sql:
    """Builds one portable SQL statement with its bind parameters (SQLite and PostgreSQL)."""

    def __init__(self, engine: Engine):
        self.pg = engine.dialect.name == "postgresql"
        self.params: dict = {}
        self.binds: list = []

    def bind(self, name: str, value, type_=None) -> str:
        self.params[name] = value
        if type_ is not None:
            self.binds.append(bindparam(name, type_=type_))
        if self.pg and type_ is DateTime:
            return f"CAST(:{name} AS TIMESTAMP)"
        if self.pg and type_ is Date:
            return f"CAST(:{name} AS DATE)"
        return f":{name}"

    def months_cte(self, months: list[dict]) -> str:
        parts = []
        for i, m in enumerate(months):
            cols = [f"{self.bind(f'k{i}', m['k'])} AS k"]
            cols += [f"{self.bind(f'{c}{i}', m[c], DateTime)} AS {c}" for c in ("m0", "m1", "t")]
            cols += [f"{self.bind(f'{c}{i}', m[c], Date)} AS {c}" for c in ("d0", "d1", "dt")]
            parts.append("SELECT " + ", ".join(cols))
        return "months AS MATERIALIZED (" + " UNION ALL ".join(parts) + ")"

    def no_index(self, col: str) -> str:
        """`col` in a form SQLite will not pick an index for (unary +): steers its planner, which
        has no statistics, to the selective index of the other terms. Plain on PostgreSQL."""
        return col if self.pg else f"+{col}"

    def month_key(self, col: str) -> str:
        """'YYYY-MM' of a date or timestamp column (SQLite stores them as ISO text)."""
        return f"to_char({col}, 'YYYY-MM')" if self.pg else f"substr({col}, 1, 7)"

    def reported_between(self, months: list[dict], alias: str = "p") -> str:
        """Index-friendly range on reported_at covering `months`."""
        a = self.bind("first_ts", months[0]["m0"], DateTime)
        b = self.bind("last_ts", months[-1]["m1"], DateTime)
        return f"{alias}.reported_at >= {a} AND {alias}.reported_at < {b}"

    def hours(self, a: str, b: str) -> str:
        """Hours from timestamp `a` to timestamp `b`."""
        if self.pg:
            return f"(EXTRACT(EPOCH FROM ({b} - {a})) / 3600.0)"
        return f"((julianday({b}) - julianday({a})) * 24.0)"

    def problem_filters(self, alias: str = "p", category=None, source=None, subdistrict=None) -> str:
        out = ""
        if category:
            out += f" AND {alias}.category = {self.bind('category', category)}"
        if source:
            out += f" AND {alias}.source = {self.bind('source', source)}"
        if subdistrict:
            out += (f" AND {alias}.grid_id IN (SELECT id FROM grids WHERE subdistrict = "
                    f"{self.bind('subdistrict', subdistrict)})")
        return out

    def run(self, engine: Engine, sql: str, conn=None, many: bool = False) -> pd.DataFrame:
        """The result as a frame; `many` (thousands of rows): built from plain tuples, much faster."""
        stmt = text(sql).bindparams(*self.binds) if self.binds else text(sql)
        if conn is None:
            with engine.connect() as c:
                return self.run(engine, sql, c, many)
        res = conn.execute(stmt, self.params)
        rows = [tuple(r) for r in res.all()] if many else res.all()
        return pd.DataFrame(rows, columns=list(res.keys()))


def _closed(alias: str = "p", t: str = "m.t") -> str:
    return f"({alias}.status = '{STATUS_CLOSED}' AND COALESCE({alias}.verified_at, {alias}.reported_at) <= {t})"


# --------------------------------------------------------------------------- scores

#: The per-grid sums a 综合得分 is computed from (see `score_table`).
INPUT_COLUMNS = ["code", "name", "subdistrict", "inspections", "ok_points", "all_points", "problems", "ded",
                 "open", "overdue"]
_SUMS = ["inspections", "ok_points", "all_points", "problems", "ded", "open", "overdue"]


def _inspection_sums() -> str:
    """The inspection sums of the score (alias i: inspections, s: standards), for any grouping."""
    return ("COUNT(*) AS n, SUM(CASE WHEN i.passed THEN COALESCE(s.points, 1.0) ELSE 0.0 END) AS ok_points, "
            "SUM(COALESCE(s.points, 1.0)) AS all_points")


def _problem_sums(t: str = "m.t") -> str:
    """The problem sums of the score (alias p) as of `t`, for any grouping."""
    return f"""COUNT(*) AS n, SUM(p.deduction) AS ded,
           SUM(CASE WHEN p.deadline < {t} AND (p.rectified_at IS NULL OR p.rectified_at > p.deadline)
                    THEN 1 ELSE 0 END) AS overdue,
           SUM(CASE WHEN {_closed('p', t)} THEN 0 ELSE 1 END) AS open_n"""


def _score_inputs(engine: Engine, months: list[dict], category=None, source=None) -> pd.DataFrame:
    """Column k plus INPUT_COLUMNS: for each month of `months` and each current grid, the sums
    of its inspections and problems (grouped by the stored grid ids' codes).

    SQLite runs one statement per month and reads problems grid by grid (outer loop over
    `grids`, inner range on the covering index ix_problems_grid_month), so it aggregates in
    index order instead of sorting the rows; PostgreSQL hash-aggregates all months at once.
    """
    q = _Sql(engine)
    if len(months) != 1 and not q.pg:
        return pd.concat([_score_inputs(engine, [m], category, source) for m in months], ignore_index=True)
    if q.pg:  # hash aggregate by month and grid
        month_col, month_rows, month_group = "m.k", "months m CROSS JOIN problems p CROSS JOIN grids gg", "m.k, "
    else:  # grids outermost: SQLite groups in index order, no sort
        month_col = f"CAST({q.bind('k_only', months[0]['k'])} AS TEXT)"
        month_rows, month_group = "grids gg CROSS JOIN months m CROSS JOIN problems p", ""
    with engine.connect() as conn:
        layer = current_layer_id(conn)
        ins_filter = ""
        if category:
            ins_filter = (f" AND i.standard_code IN (SELECT code FROM standards WHERE category = "
                          f"{q.bind('icategory', category)})")
        sql = f"""
WITH {q.months_cte(months)},
cur AS (SELECT code, name, subdistrict FROM grids WHERE layer_id = {q.bind('layer', layer)}),
ins AS (
  SELECT m.k, g.code, {_inspection_sums()}
  FROM months m
  JOIN inspections i ON i.inspected_on >= m.d0 AND i.inspected_on < m.d1 AND i.inspected_on <= m.dt
  JOIN grids g ON g.id = i.grid_id
  LEFT JOIN standards s ON s.code = i.standard_code
  WHERE i.inspected_on >= {q.bind('first_d', months[0]['d0'], Date)}
    AND i.inspected_on < {q.bind('last_d', months[-1]['d1'], Date)}{ins_filter}
  GROUP BY m.k, g.code),
prob AS (
  SELECT x.k, g.code, SUM(x.n) AS n, SUM(x.ded) AS ded, SUM(x.overdue) AS overdue, SUM(x.open_n) AS open_n
  FROM (
    SELECT {month_col} AS k, gg.id AS grid_id, {_problem_sums()}
    FROM {month_rows}
    WHERE p.grid_id = gg.id AND p.reported_at >= m.m0 AND p.reported_at < m.m1 AND p.reported_at <= m.t
      AND {q.reported_between(months)}{q.problem_filters('p', category, source)}
    GROUP BY {month_group}gg.id) x
  JOIN grids g ON g.id = x.grid_id
  GROUP BY x.k, g.code)
SELECT m.k, c.code, c.name, c.subdistrict, COALESCE(i.n, 0) AS inspections,
       COALESCE(i.ok_points, 0.0) AS ok_points, COALESCE(i.all_points, 0.0) AS all_points,
       COALESCE(pr.n, 0) AS problems, COALESCE(pr.ded, 0.0) AS ded,
       COALESCE(pr.open_n, 0) AS open_n, COALESCE(pr.overdue, 0) AS overdue
FROM months m CROSS JOIN cur c
LEFT JOIN ins i ON i.k = m.k AND i.code = c.code
LEFT JOIN prob pr ON pr.k = m.k AND pr.code = c.code
ORDER BY m.k, c.code"""
        df = q.run(engine, sql, conn)
    return _typed_inputs(df.rename(columns={"open_n": "open"}))


def _typed_inputs(df: pd.DataFrame) -> pd.DataFrame:
    for col in ("inspections", "problems", "open", "overdue"):
        df[col] = df[col].astype("int64")
    for col in ("ok_points", "all_points", "ded"):
        df[col] = df[col].astype("float64")
    return df


def mean_deduction(inputs: pd.DataFrame) -> float:
    """全市网格平均扣分 of one month's `inputs` (the mean of `ded` over the current grids)."""
    return float(inputs["ded"].mean()) if len(inputs) else 0.0


def score_table(inputs: pd.DataFrame, min_sample: int | None = None, mean_ded: float | None = None) -> pd.DataFrame:
    """The 综合得分 arithmetic — the one place it lives — on per-grid sums (INPUT_COLUMNS, and k
    when several months are given): pass rate, deductions relative to the city mean, overdue
    share, clamp, rank (city-wide within each month, ranked grids only, ties share the best
    rank) and colour.

    `mean_ded` fixes the city mean (default: `mean_deduction` of `inputs`, per month). Returns k
    (if given) and SCORE_COLUMNS, best first, unranked last. NumPy on a few dozen rows.
    """
    th = thresholds()
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
    problems = inputs["problems"].to_numpy(np.int64)
    overdue = inputs["overdue"].to_numpy(np.int64)
    ok, allp = inputs["ok_points"].to_numpy(np.float64), inputs["all_points"].to_numpy(np.float64)
    inspections = inputs["inspections"].to_numpy(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        deduction = np.where(mean > 0, np.minimum(DEDUCTION_WEIGHT * ded / mean, DEDUCTION_CAP), 0.0)
        overdue_penalty = np.where(problems > 0, OVERDUE_WEIGHT * overdue / problems, 0.0)
        pass_rate = np.where(allp > 0, ok * 1.0 / allp, np.nan)
    raw = 100.0 * np.where(np.isnan(pass_rate), 1.0, pass_rate) - deduction - overdue_penalty
    score = np.clip(raw, 0.0, 100.0)
    ranked = inspections >= min_n
    rank = np.full(len(inputs), -1, dtype=np.int64)
    for kk in set(k):
        idx = np.flatnonzero((k == kk) & ranked)
        s = score[idx]
        rank[idx] = 1 + (s[None, :] > s[:, None]).sum(axis=1)  # SQL RANK(): ties share the best rank
    codes = inputs["code"].astype(str).to_numpy(object)
    order = sorted(range(len(inputs)), key=lambda i: (k[i], not ranked[i], -score[i], codes[i]))
    df = pd.DataFrame({
        "k": k, "code": codes, "name": inputs["name"].to_numpy(object),
        "subdistrict": inputs["subdistrict"].to_numpy(object), "score": score,
        "rank": pd.array(np.where(ranked, rank, 0), dtype="Int64"), "color": [th.color(v) for v in score],
        "inspections": inspections, "pass_rate": pass_rate, "deduction": deduction,
        "overdue_penalty": overdue_penalty, "problems": problems, "open": inputs["open"].to_numpy(np.int64),
        "overdue": overdue, "ranked": ranked})
    df.loc[~ranked, "rank"] = pd.NA
    df = df.iloc[order].reset_index(drop=True)
    for col in ("k", "code", "name", "subdistrict", "color"):
        df[col] = df[col].astype(inputs["code"].dtype if col == "code" else "str")
    cols = (["k"] if multi else []) + SCORE_COLUMNS
    return df[cols]


def _scores(engine: Engine, months: list[dict], subdistrict=None, category=None, source=None,
            min_sample: int | None = None, grid_code: str | None = None) -> pd.DataFrame:
    """The score table for each month of `months` (column k) and each current grid:
    `score_table` of `_score_inputs`."""
    df = score_table(_score_inputs(engine, months, category, source), min_sample)
    if subdistrict:
        df = df[df["subdistrict"] == subdistrict]
    if grid_code:
        df = df[df["code"] == grid_code]
    return df.reset_index(drop=True)


def score_inputs(engine: Engine, month: date, as_of: datetime | None = None) -> pd.DataFrame:
    """INPUT_COLUMNS of every current grid for `month`, evaluated as `monthly_scores` does."""
    t = _now(as_of)
    return _score_inputs(engine, _months(month_start(month), month_start(month), t)).drop(columns="k")


def item_inputs(engine: Engine, month: date, as_of: datetime | None = None, codes: list[str] | None = None,
                bbox: tuple[float, float, float, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same sums as `score_inputs`, one level finer, for re-assigning items to other grids:

    - problems of the month, one row each: id, code (its stored grid's), lon, lat, problems (1),
      ded, open, overdue;
    - inspections of the month per inspection point: point_id, code (stored grid's),
      inspections, ok_points, all_points.

    `codes` keeps only items stored in grids with these codes (any layer); `bbox` (minx, miny,
    maxx, maxy) only the problems located in it.
    """
    months = _months(month_start(month), month_start(month), _now(as_of))
    if codes is not None and not len(codes):
        return (pd.DataFrame(columns=["id", "code", "lon", "lat", "problems", "ded", "open", "overdue"]),
                pd.DataFrame(columns=["point_id", "code", "inspections", "ok_points", "all_points"]))

    def code_filter(q: _Sql) -> str:
        if codes is None:
            return ""
        return " AND g.code IN (" + ", ".join(q.bind(f"c{i}", c) for i, c in enumerate(codes)) + ")"

    q = _Sql(engine)
    box = ""
    if bbox is not None:
        box = (f" AND p.lon BETWEEN {q.bind('minx', float(bbox[0]))} AND {q.bind('maxx', float(bbox[2]))}"
               f" AND p.lat BETWEEN {q.bind('miny', float(bbox[1]))} AND {q.bind('maxy', float(bbox[3]))}")
    sql = f"""
WITH {q.months_cte(months)}
SELECT p.id, g.code, p.lon, p.lat, {_problem_sums()}
FROM grids g CROSS JOIN months m CROSS JOIN problems p
WHERE p.grid_id = g.id AND p.reported_at >= m.m0 AND p.reported_at < m.m1 AND p.reported_at <= m.t
  AND {q.reported_between(months)}{code_filter(q)}{box}
GROUP BY p.id, g.code, p.lon, p.lat
ORDER BY p.id"""
    problems = q.run(engine, sql, many=True).rename(columns={"n": "problems", "open_n": "open"})
    q = _Sql(engine)
    sql = f"""
WITH {q.months_cte(months)}
SELECT i.point_id, g.code, {_inspection_sums()}
FROM grids g CROSS JOIN months m CROSS JOIN inspections i
LEFT JOIN standards s ON s.code = i.standard_code
WHERE i.grid_id = g.id AND i.inspected_on >= m.d0 AND i.inspected_on < m.d1 AND i.inspected_on <= m.dt{code_filter(q)}
GROUP BY i.point_id, g.code
ORDER BY i.point_id, g.code"""
    inspections = q.run(engine, sql).rename(columns={"n": "inspections"})
    for frame, ints, floats in ((problems, ("problems", "open", "overdue"), ("ded", "lon", "lat")),
                                (inspections, ("inspections",), ("ok_points", "all_points"))):
        for col in ints:
            frame[col] = frame[col].astype("int64")
        for col in floats:
            frame[col] = frame[col].astype("float64")
    return problems, inspections


def reassign(inputs: pd.DataFrame, moved: list[pd.DataFrame], codes: list[str] | None = None) -> pd.DataFrame:
    """`inputs` (INPUT_COLUMNS, one month) after moving items: each frame of `moved` has rows of
    `item_inputs` with a column to_code; an item's sums leave its code and go to to_code ('' =
    no grid). `codes`: the grids after the change (default: those of `inputs` and every to_code);
    a new grid starts from zero. Grids no item leaves or enters keep their sums exactly."""
    have = list(inputs["code"].astype(str))
    if codes is None:
        codes = have + sorted({c for f in moved for c in f["to_code"] if c and c not in set(have)})
    codes = [str(c) for c in codes]
    pos = {c: i for i, c in enumerate(codes)}
    src = np.array([pos.get(c, -1) for c in have], dtype=np.int64)
    keep = src >= 0
    out = {"code": codes}
    for col in ("name", "subdistrict"):
        values = np.full(len(codes), None, dtype=object)
        values[src[keep]] = inputs[col].to_numpy(object)[keep]
        out[col] = values
    for col in _SUMS:
        values = np.zeros(len(codes), dtype=np.float64 if col in ("ok_points", "all_points", "ded") else np.int64)
        values[src[keep]] = inputs[col].to_numpy()[keep]
        out[col] = values
    for frame in moved:
        frame = frame[frame["code"].astype(str) != frame["to_code"].astype(str)]
        if frame.empty:
            continue
        a = np.array([pos.get(str(c), -1) for c in frame["code"]], dtype=np.int64)
        b = np.array([pos.get(str(c), -1) for c in frame["to_code"]], dtype=np.int64)
        for col in [c for c in _SUMS if c in frame.columns]:
            w = frame[col].to_numpy(np.float64)
            minus = np.bincount(a[a >= 0], weights=w[a >= 0], minlength=len(codes))
            plus = np.bincount(b[b >= 0], weights=w[b >= 0], minlength=len(codes))
            touched = (minus != 0) | (plus != 0)
            values = out[col]
            if values.dtype == np.int64:
                values[touched] = values[touched] - np.rint(minus[touched]).astype(np.int64) \
                    + np.rint(plus[touched]).astype(np.int64)
            else:
                values[touched] = values[touched] - minus[touched] + plus[touched]
    return pd.DataFrame(out)[INPUT_COLUMNS]


def scores_with_assignment(engine: Engine, month: date, problem_grid: pd.Series | None = None,
                           point_grid: pd.Series | None = None, as_of: datetime | None = None,
                           codes: list[str] | None = None, min_sample: int | None = None) -> pd.DataFrame:
    """`monthly_scores` columns for `month` if the problems in `problem_grid` (index: problem id →
    grid code) and the inspections of the points in `point_grid` (index: point id → grid code)
    counted for those grids; the city mean deduction stays as it is. `codes`: the grids after the
    change (see `reassign`)."""
    t = _now(as_of)
    inputs = score_inputs(engine, month, t)
    problems, inspections = item_inputs(engine, month, t)
    moved = []
    for frame, key, target in ((problems, "id", problem_grid), (inspections, "point_id", point_grid)):
        if target is not None and len(target):
            rows = frame[frame[key].isin(target.index)]
            moved.append(rows.assign(to_code=rows[key].map(target).fillna("").astype(str)))
    return score_table(reassign(inputs, moved, codes), min_sample, mean_deduction(inputs))


def monthly_scores(engine: Engine, month: date, as_of: datetime | None = None, subdistrict=None, category=None,
                   source=None, min_sample: int | None = None) -> pd.DataFrame:
    """综合得分 of every current grid for `month` (any day of it), best first, unranked last.

    Columns: code, name, subdistrict, score (0–100), rank (Int64, NA when 样本不足), color
    ('红'|'黄'|'绿'), inspections, pass_rate (0–1, NaN without inspections), deduction (问题扣分),
    overdue_penalty (超期扣分), problems, open, overdue, ranked (bool). Ranks are city-wide;
    `subdistrict` only selects rows. `category` restricts problems (and inspections to the
    standards of that category), `source` restricts problems.
    """
    t = _now(as_of)
    df = _scores(engine, _months(month_start(month), month_start(month), t), subdistrict, category, source, min_sample)
    return df.drop(columns="k").reset_index(drop=True)


def score_trend(engine: Engine, grid_code: str, months: int = 12, as_of: datetime | None = None,
                min_sample: int | None = None) -> pd.DataFrame:
    """One grid's score and city rank for each of the last `months` months (oldest first).

    Columns: month (first day, date), score, rank (Int64, NA when 样本不足). Computed by
    `_scores`: one statement on PostgreSQL, one per month on SQLite.
    """
    t = _now(as_of)
    last = _current_month(t)
    now = datetime.now()
    key = (str(engine.url), min_inspections() if min_sample is None else int(min_sample), thresholds())
    # A month that has ended (evaluated at its end) is kept for FROZEN_TTL_SECONDS: the city
    # table serves every grid. The other months are computed together.
    months_list = _months(add_months(last, 1 - months), last, t)
    frozen = {m["k"] for m in months_list if m["t"] == m["m1"] and m["m1"] <= now}
    tables = {m["k"]: _memo_get(("scores", m["k"], *key)) for m in months_list if m["k"] in frozen}
    todo = [m for m in months_list if tables.get(m["k"]) is None]
    if todo:
        fresh = _scores(engine, todo, min_sample=min_sample)
        for m in todo:
            tables[m["k"]] = fresh[fresh["k"] == m["k"]]
            if m["k"] in frozen:
                _memo_put(("scores", m["k"], *key), tables[m["k"]])
    parts = [tables[m["k"]][tables[m["k"]]["code"] == grid_code] for m in months_list]
    df = pd.concat(parts, ignore_index=True)
    df["month"] = pd.to_datetime(df["k"] + "-01").dt.date
    return df[["month", "score", "rank"]].reset_index(drop=True)


def rankings(scores: pd.DataFrame, n: int = 10) -> dict[str, pd.DataFrame]:
    """红黑榜 from a `monthly_scores` frame: the `n` best and `n` worst ranked grids, and the
    grids listed as 样本不足 (not ranked). The worst list is worst first."""
    ranked = scores[scores["ranked"]].sort_values(["rank", "code"])
    return {"best": ranked.head(n).reset_index(drop=True),
            "worst": ranked.sort_values(["rank", "code"], ascending=[False, True]).head(n).reset_index(drop=True),
            "insufficient": scores[~scores["ranked"]].sort_values("code").reset_index(drop=True)}


def color_counts(scores: pd.DataFrame) -> dict[str, int]:
    """三色牌 totals: how many grids are 绿, 黄, 红."""
    counts = scores["color"].value_counts()
    return {c: int(counts.get(c, 0)) for c in ("绿", "黄", "红")}


# --------------------------------------------------------------------------- problem KPIs

STAT_COLUMNS = ["month", "problems", "due", "closed", "on_time", "rework", "avg_hours",
                "closure_rate", "on_time_rate", "rework_rate"]


def monthly_stats(engine: Engine, first: date, last: date, as_of: datetime | None = None, subdistrict=None,
                  category=None, source=None) -> pd.DataFrame:
    """Problem figures per month from `first` to `last` (each month as of its end, or `as_of`).

    Columns: month (date), problems (问题数), due (应结案数), closed (结案数), on_time (按期结案数),
    rework (返工数), avg_hours (average hours to rectify), closure_rate (结案率), on_time_rate
    (按期结案率), rework_rate (返工率) — rates 0–1, NaN when nothing was due.
    """
    t = _now(as_of)
    months = _months(month_start(first), month_start(last), t)
    now = datetime.now()
    key = (str(engine.url), subdistrict, category, source)
    # A month that ended before now is evaluated at its end: its figures cannot change, so they are
    # kept for FROZEN_TTL_SECONDS and only the current month is queried again on each refresh.
    frozen = [m for m in months if m["t"] == m["m1"] and m["m1"] <= now]
    todo = [m for m in months if m not in frozen or _memo_get(("stats", m["k"], *key)) is None]
    fresh = _stats_rows_parallel(engine, todo, subdistrict, category, source) if todo else pd.DataFrame()
    for m in frozen:
        if m in todo:
            _memo_put(("stats", m["k"], *key), fresh[fresh["k"] == m["k"]])
    parts = [_memo_get(("stats", m["k"], *key)) if m not in todo else fresh[fresh["k"] == m["k"]] for m in months]
    df = pd.concat(parts, ignore_index=True)
    df["month"] = pd.to_datetime(df["k"] + "-01").dt.date
    for col in ("problems", "due", "closed", "on_time", "rework"):
        df[col] = df[col].fillna(0).astype("int64")
    df["avg_hours"] = df["avg_hours"].astype("float64")
    due_n = df["due"].where(df["due"] > 0)
    df["closure_rate"] = df["closed"] / due_n
    df["on_time_rate"] = df["on_time"] / due_n
    df["rework_rate"] = df["rework"] / due_n
    return df[STAT_COLUMNS]


FROZEN_TTL_SECONDS = 3600
_MEMO: dict = {}


def _memo_get(key):
    hit = _MEMO.get(key)
    if hit is None or time.monotonic() - hit[0] > FROZEN_TTL_SECONDS:
        return None
    return hit[1]


def _memo_put(key, value) -> None:
    if len(_MEMO) > 4096:
        _MEMO.clear()
    _MEMO[key] = (time.monotonic(), value)


def clear_memo() -> None:
    """Forget the figures kept for past months (after a write that back-dates records)."""
    _MEMO.clear()


def _stats_rows(engine: Engine, months: list[dict], subdistrict=None, category=None, source=None) -> pd.DataFrame:
    """The monthly_stats counts of each month of `months` (column k), in one statement.

    One plain aggregate per month, UNION ALL. SQLite reads each month grid by grid from the
    covering index ix_problems_grid_month (outer loop over the distinct grid ids, NULL
    included); PostgreSQL reads the month's range of ix_problems_reported.
    """
    q = _Sql(engine)
    filters = q.problem_filters('p', category, source, subdistrict)

    def aggregates(t: str) -> str:
        due = f"p.deadline <= {t}"
        closed = _closed('p', t)
        return f"""COUNT(*) AS problems,
         SUM(CASE WHEN {due} THEN 1 ELSE 0 END) AS due,
         SUM(CASE WHEN {due} AND {closed} THEN 1 ELSE 0 END) AS closed,
         SUM(CASE WHEN {due} AND {closed} AND p.rectified_at <= p.deadline THEN 1 ELSE 0 END) AS on_time,
         SUM(CASE WHEN {due} AND p.rework_count > 0 THEN 1 ELSE 0 END) AS rework,
         AVG(CASE WHEN p.rectified_at <= {t} THEN {q.hours('p.reported_at', 'p.rectified_at')} END) AS avg_hours"""

    # One plain aggregate per month (no GROUP BY: SQLite would sort ~80,000 rows a month, and
    # PostgreSQL misjudges the number of month groups and sorts on disk).
    parts = []
    for i, m in enumerate(months):
        t = q.bind(f"t{i}", m["t"], DateTime)
        rows = "problems p" if q.pg else "gids g CROSS JOIN problems p"
        parts.append(f"""SELECT CAST({q.bind(f'k{i}', m['k'])} AS TEXT) AS k, {aggregates(t)}
FROM {rows}
WHERE {'TRUE' if q.pg else 'p.grid_id IS g.id'} AND p.reported_at >= {q.bind(f'm0{i}', m['m0'], DateTime)}
  AND p.reported_at < {q.bind(f'm1{i}', m['m1'], DateTime)} AND p.reported_at <= {t}{filters}""")
    sql = "\nUNION ALL\n".join(parts)
    if not q.pg:
        # SQLite: each month read grid by grid from ix_problems_grid_month, in index order.
        # The distinct grid ids by a loose index scan (one seek per id), then NULL (no grid).
        sql = ("WITH RECURSIVE nn(id) AS (SELECT MIN(grid_id) FROM problems UNION ALL\n"
               "  SELECT (SELECT MIN(grid_id) FROM problems WHERE grid_id > nn.id) FROM nn WHERE nn.id IS NOT NULL),\n"
               "gids AS MATERIALIZED (SELECT id FROM nn WHERE id IS NOT NULL UNION ALL SELECT NULL)\n" + sql)
    df = q.run(engine, sql)
    return pd.DataFrame({"k": [m["k"] for m in months]}).merge(df, on="k", how="left")


def _stats_rows_parallel(engine: Engine, months: list[dict], subdistrict=None, category=None,
                         source=None) -> pd.DataFrame:
    """`_stats_rows` split over two connections on SQLite, which runs one query on one core:
    WAL lets two readers work at once and the driver releases the GIL while SQLite computes."""
    if engine.dialect.name != "sqlite" or len(months) < 4:
        return _stats_rows(engine, months, subdistrict, category, source)
    half = (len(months) + 1) // 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(lambda ms: _stats_rows(engine, ms, subdistrict, category, source),
                              (months[:half], months[half:])))
    return pd.concat(parts, ignore_index=True)


def _open_at(q: _Sql, t: str, columns: str, filters: str = "") -> str:
    """Rows of problems open at `t` (reported by t, not closed by t), from index ranges.

    Open = status ≠ 已结案, or 已结案 but verified after t (index ix_problems_status_verified). A closed problem with no verified_at counts as closed
    from its report on (as in `_closed`). Exactly ``reported_at <= t AND NOT _closed(p, t)``.
    """
    c = q.bind("closed_status", STATUS_CLOSED)
    rest = f"{q.no_index('p.reported_at')} <= {t}{filters}"
    # status ≠ c as two ranges, each its own branch: SQLite (no statistics) would otherwise
    # scan the whole covering index rather than OR two index ranges.
    return f"""SELECT {columns} FROM problems p WHERE p.status < {c} AND {rest}
UNION ALL
SELECT {columns} FROM problems p WHERE p.status > {c} AND {rest}
UNION ALL
SELECT {columns} FROM problems p WHERE p.status = {c} AND p.verified_at > {t} AND {rest}"""


def overdue_now(engine: Engine, as_of: datetime | None = None, subdistrict=None, category=None, source=None) -> int:
    """现超期: problems reported by `as_of`, past their deadline, not rectified and not closed then."""
    t = _now(as_of)
    key = ("overdue", str(engine.url), t, subdistrict, category, source)
    if t <= datetime.now() - timedelta(minutes=1) and (hit := _memo_get(key)) is not None:
        return hit  # a moment in the past: the count cannot change
    q = _Sql(engine)
    tt = q.bind("t", t, DateTime)
    cond = (f" AND p.deadline < {tt} AND (p.rectified_at IS NULL OR p.rectified_at > {tt})"
            + q.problem_filters('p', category, source, subdistrict))
    sql = f"SELECT COUNT(*) FROM ({_open_at(q, tt, 'p.id', cond)}) o"
    n = int(q.run(engine, sql).iloc[0, 0])
    if t <= datetime.now() - timedelta(minutes=1):
        _memo_put(key, n)
    return n


KPI_LABELS = {
    "problems": ("问题数", "件"),
    "closure_rate": ("结案率", "%"),
    "on_time_rate": ("按期结案率", "%"),
    "rework_rate": ("返工率", "%"),
    "overdue_now": ("现超期", "件"),
    "avg_hours": ("平均整改用时", "小时"),
}
#: For each KPI, whether a rise is good news (drives the arrow colour on the wall).
KPI_HIGHER_IS_BETTER = {"problems": False, "closure_rate": True, "on_time_rate": True, "rework_rate": False,
                        "overdue_now": False, "avg_hours": False}


def kpis(engine: Engine, month: date, as_of: datetime | None = None, subdistrict=None, category=None,
         source=None) -> pd.DataFrame:
    """KPI tiles for `month` against the month before.

    One row per KPI (index: problems, closure_rate, on_time_rate, rework_rate, overdue_now,
    avg_hours) with label, unit, value, previous, change (value − previous; rates in
    percentage points), higher_is_better. Rates are in percent.
    """
    t = _now(as_of)
    m = month_start(month)
    prev = add_months(m, -1)
    stats = monthly_stats(engine, prev, m, t, subdistrict, category, source).set_index("month")
    end_of = {mm: min(t, datetime.combine(add_months(mm, 1), datetime.min.time())) for mm in (prev, m)}
    rows = []
    for key, (label, unit) in KPI_LABELS.items():
        vals = []
        for mm in (m, prev):
            if key == "overdue_now":
                v = float(overdue_now(engine, end_of[mm], subdistrict, category, source))
            else:
                v = stats.at[mm, key] if mm in stats.index else float("nan")
                v = float(v) * (100.0 if unit == "%" else 1.0) if pd.notna(v) else float("nan")
            vals.append(v)
        rows.append({"key": key, "label": label, "unit": unit, "value": vals[0], "previous": vals[1],
                     "change": vals[0] - vals[1], "higher_is_better": KPI_HIGHER_IS_BETTER[key]})
    return pd.DataFrame(rows).set_index("key")


def trend(engine: Engine, months: int = 12, as_of: datetime | None = None, subdistrict=None, category=None,
          source=None) -> pd.DataFrame:
    """The last `months` months up to `as_of`'s month: `monthly_stats` columns, oldest first."""
    t = _now(as_of)
    last = _current_month(t)
    return monthly_stats(engine, add_months(last, 1 - months), last, t, subdistrict, category, source)


# --------------------------------------------------------------------------- units

def worst_units(engine: Engine, month: date, as_of: datetime | None = None, n: int = 10, subdistrict=None,
                category=None, source=None) -> pd.DataFrame:
    """十差单位: the `n` responsible units doing worst with the month's problems.

    Worst = most 超期 problems (rectified late or still overdue), then the lower 按期结案率,
    then more problems. Columns: unit, problems, due, on_time, overdue, on_time_rate, avg_hours.
    """
    t = _now(as_of)
    q = _Sql(engine)
    months = _months(month_start(month), month_start(month), t)
    sql = f"""
WITH {q.months_cte(months)},
agg AS (
  SELECT p.unit_id, COUNT(*) AS problems,
         SUM(CASE WHEN p.deadline <= m.t THEN 1 ELSE 0 END) AS due,
         SUM(CASE WHEN p.deadline <= m.t AND {_closed()} AND p.rectified_at <= p.deadline THEN 1 ELSE 0 END) AS on_time,
         SUM(CASE WHEN p.deadline < m.t AND (p.rectified_at IS NULL OR p.rectified_at > p.deadline)
                  THEN 1 ELSE 0 END) AS overdue,
         AVG(CASE WHEN p.rectified_at <= m.t THEN {q.hours('p.reported_at', 'p.rectified_at')} END) AS avg_hours
  FROM months m
  JOIN problems p ON p.reported_at >= m.m0 AND p.reported_at < m.m1 AND p.reported_at <= m.t
  WHERE p.unit_id IS NOT NULL{q.problem_filters('p', category, source, subdistrict)}
  GROUP BY p.unit_id)
SELECT u.name AS unit, a.problems, a.due, a.on_time, a.overdue, a.avg_hours,
       CASE WHEN a.due > 0 THEN a.on_time * 1.0 / a.due END AS on_time_rate
FROM agg a JOIN units u ON u.id = a.unit_id
WHERE a.overdue > 0
ORDER BY a.overdue DESC, on_time_rate ASC, a.problems DESC, u.name
LIMIT {int(n)}"""
    df = q.run(engine, sql)
    for col in ("problems", "due", "on_time", "overdue"):
        df[col] = df[col].astype("int64")
    for col in ("avg_hours", "on_time_rate"):
        df[col] = df[col].astype("float64")
    return df[["unit", "problems", "due", "on_time", "overdue", "on_time_rate", "avg_hours"]]


# --------------------------------------------------------------------------- filters

def filter_options(engine: Engine) -> dict[str, list[str]]:
    """Choices for the wall's filters: sub-districts of the current layer, categories, sources."""
    from gis.models import SOURCES

    with engine.connect() as conn:
        layer = current_layer_id(conn)
        sds = [r[0] for r in conn.execute(text("SELECT DISTINCT subdistrict FROM grids WHERE layer_id = :l "
                                               "ORDER BY subdistrict"), {"l": layer})]
        cats = [r[0] for r in conn.execute(text("SELECT name FROM categories ORDER BY name"))]
    return {"subdistrict": sds, "category": cats, "source": list(SOURCES)}
