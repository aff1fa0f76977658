"""Impact preview (调整影响) of a candidate grid layer, before it is saved.

Compared with the layer it is based on (the check context's reference layer):
- ``moved_area``: how many m² pass from which grid to which;
- ``areas``: compounds, villages (largest share), streets (longest share) and inspection points
  (containment) whose grid changes;
- ``problems``: open problems (未结案) whose location falls in another grid afterwards — they stay
  attributed to the grid of their time, but the planner should know;
- ``responsibles``: the leaders, grid chiefs and units assigned to the affected grids (帮包), and
  which areas each gains or loses;
- ``scores``: the affected grids' 综合得分 this month before (`gis.metrics.scores.monthly_scores`) and
  after the change, and their open-problem counts before and after. After = this month's
  problems and inspection points of the affected grids whose location falls in another grid are
  counted for that grid (`gis.metrics.reassign.item_inputs` → `reassign` → `score_table`, the same
  arithmetic as the before-score); the city mean deduction stays as it is.

Only what lies in the changed region is looked at (vectorised, STRtree), and problems are read
with one range query on their stored lon/lat, so the preview stays fast with a million problems.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Engine, and_, func, select

from gis.geo.assign import NONE, Layer, points_in_polygons
from gis.geo.kinds import AREA_LABELS
from gis.db.models import OPEN_STATUSES, Assignment, Grid, Person, Problem, Unit
from gis.planning.edits import candidate_from, changed_codes
from gis.geo.crs import areas_m2, polygonal, to_metric
from gis.planning.topology import CheckContext

MIN_MOVED_M2 = 1.0
NO_GRID = "（无网格）"  # where area goes that no grid covers any more (a gap), or comes from
SCORE_NOTE = ("调整前为本月综合得分（按问题、测评上报时所属网格统计）；调整后为把受影响网格本月的问题和"
              "测评点位按位置重新归属到新网格后，用同一公式算出的得分，全市平均扣分按调整前计。"
              "未结案问题数同样按位置重新归属。")


@dataclass
class Impact:
    changed: dict[str, list[str]]
    moved_area: pd.DataFrame = field(default_factory=pd.DataFrame)
    areas: pd.DataFrame = field(default_factory=pd.DataFrame)
    problems: pd.DataFrame = field(default_factory=pd.DataFrame)
    responsibles: pd.DataFrame = field(default_factory=pd.DataFrame)
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    note: str = SCORE_NOTE
    seconds: float = 0.0

    def tables(self) -> list[tuple[str, pd.DataFrame, str | None]]:
        """The preview as (title, table with Chinese headers, caption) — what the planning page shows."""
        out = []
        for title, name, headers, dropped, caption in TABLES:
            frame = getattr(self, name).drop(columns=dropped, errors="ignore").rename(columns=headers)
            out.append((title, frame.round({c: 1 for c in frame.select_dtypes("number").columns}), caption))
        return out

    @property
    def affected(self) -> list[str]:
        return sorted(set(self.changed["added"]) | set(self.changed["removed"]) | set(self.changed["changed"]))

    @property
    def involved(self) -> list[str]:
        """The changed grids and every grid that gains or loses area to them (e.g. a neighbour overlapped)."""
        moved = set(self.moved_area["from_grid"]) | set(self.moved_area["to_grid"]) if len(self.moved_area) else set()
        return sorted((set(self.affected) | moved) - {NO_GRID})

    def summary(self) -> str:
        if not self.affected:
            return "与现行版本相比没有改动。"
        involved = self.involved
        parts = [f"涉及网格 {len(involved)} 个（{'、'.join(involved)}）"]
        if len(self.moved_area):
            between = self.moved_area[(self.moved_area["from_grid"] != NO_GRID) & (self.moved_area["to_grid"] != NO_GRID)]
            parts.append(f"转移面积 {between['area_m2'].sum() / 1e4:,.2f} 公顷")
            for side, text in (("to_grid", "不再属于任何网格（空隙）"), ("from_grid", "新纳入网格")):
                m2 = self.moved_area.loc[self.moved_area[side] == NO_GRID, "area_m2"].sum()
                if m2 > 0:
                    parts.append(f"{m2 / 1e4:,.2f} 公顷{text}")
        counts = self.areas["kind"].value_counts() if len(self.areas) else {}
        for kind in ("小区", "城中村", "街巷", "点位"):
            if kind in counts:
                parts.append(f"{kind} {counts[kind]} 个改变所属网格")
        if len(self.problems):
            parts.append(f"未结案问题 {len(self.problems)} 条位置改属他网格")
        return "；".join(parts) + "。"


TABLES = (  # the preview's tables: (title, Impact attribute, Chinese headers, columns dropped, caption)
    ("面积转移", "moved_area", {"from_grid": "原网格", "to_grid": "新网格", "area_m2": "面积(m²)"}, [], None),
    ("小区/街巷/城中村/点位", "areas", {"kind": "类型", "code": "编号", "name": "名称", "from_grid": "原网格",
                                "to_grid": "新网格"}, [], None),
    ("未结案问题", "problems", {"code": "问题编号", "category": "类型", "status": "状态", "reported_at": "上报时间",
                           "from_grid": "原网格", "to_grid": "新网格"}, ["lon", "lat"],
     "历史问题仍归属其上报时的网格；发布后新上报的问题归入新网格。"),
    ("帮包领导与责任单位", "responsibles", {"grid": "网格", "change": "变化", "role": "角色", "who": "责任人/单位",
                                   "items": "涉及区域", "area_m2": "面积(m²)"}, [], None),
    ("本月得分与问题数", "scores", {"code": "网格", "score_before": "调整前得分", "score_after": "调整后得分",
                             "score_change": "变化", "open_before": "未结案问题（调整前）",
                             "open_after": "未结案问题（调整后）"}, [], SCORE_NOTE),
)


def _owner(items: np.ndarray, grids: np.ndarray, codes: np.ndarray, measure) -> np.ndarray:
    """For each item, the code of the grid holding its largest share (by `measure`), '' if none."""
    out = np.full(len(items), "", dtype=object)
    if len(items) == 0 or len(grids) == 0:
        return out
    ii, gj = shapely.STRtree(grids).query(items, predicate="intersects")
    if len(ii) == 0:
        return out
    size = measure(shapely.intersection(items[ii], grids[gj]))
    order = np.lexsort((-size, ii))
    ii, gj, size = ii[order], gj[order], size[order]
    first = np.r_[True, ii[1:] != ii[:-1]] & (size > 0)
    out[ii[first]] = codes[gj[first]]
    return out


def _lengths(geoms) -> np.ndarray:
    return shapely.length(to_metric(geoms))


def month_scores(engine: Engine, month: date | None = None, as_of: datetime | None = None) -> pd.DataFrame:
    """This month's score inputs and 综合得分 of every current grid (gis.metrics.scores), or an empty frame.

    Columns: gis.metrics.scores.INPUT_COLUMNS, score, month, as_of (the evaluation moment, so that the
    after-scores are counted at the same moment). It does not depend on the edit: pages compute
    it once (cached) and pass it to `impact`.
    """
    from gis.metrics import periods
    from gis.metrics.scores import INPUT_COLUMNS, score_inputs, score_table

    as_of = periods.as_of_moment(as_of)
    month = periods.month_start(month or periods.current_month(as_of))
    inputs = score_inputs(engine, month, as_of)  # database errors surface: the page says so in Chinese
    if inputs.empty:  # no grid in force: nothing to score, the preview keeps the problem counts
        return pd.DataFrame(columns=[*INPUT_COLUMNS, "score", "month", "as_of"])
    scores = score_table(inputs).set_index("code")["score"]
    return inputs.assign(score=inputs["code"].map(scores), month=month, as_of=as_of)


def impact(engine: Engine, candidate: gpd.GeoDataFrame, context: CheckContext,
           scores: pd.DataFrame | None = None) -> Impact:
    """What `candidate` changes compared with `context.reference` (the version it is based on).

    `scores` is `month_scores(engine)` (computed here when not given).
    """
    t0 = time.perf_counter()
    cand = candidate_from(candidate)  # checks the CRS first
    ref = context.reference
    if ref is None:
        raise ValueError("没有现行网格版本可供比较，无法预览调整影响。")
    diff = changed_codes(cand, ref)
    result = Impact(diff)
    affected = set(diff["added"]) | set(diff["removed"]) | set(diff["changed"])
    if not affected:
        result.seconds = time.perf_counter() - t0
        return result
    ref_codes = ref["code"].astype(str).to_numpy()
    new_codes = cand["code"].astype(str).to_numpy()
    ref_geoms = context._geoms("reference")
    new_geoms = polygonal(cand.geometry.to_numpy())
    old_aff = np.isin(ref_codes, list(affected))
    new_aff = np.isin(new_codes, list(affected))
    region = shapely.union_all(np.concatenate([ref_geoms[old_aff], new_geoms[new_aff]]))
    shapely.prepare(region)

    result.moved_area = _moved_area(ref_geoms, ref_codes, old_aff, new_geoms, new_codes, new_aff)

    # compounds, villages, streets, points whose grid changes
    rows = []
    for kind, name, measure in (("compound", "compounds", areas_m2), ("village", "villages", areas_m2),
                                ("street", "streets", _lengths), ("point", "points", None)):
        frame = getattr(context, name)
        if frame is None or len(frame) == 0:
            continue
        geoms, tree = context.raw_tree(name)
        near = tree.query(region, predicate="intersects")
        if len(near) == 0:
            continue
        sub = geoms[near]
        if measure is None:
            x, y = shapely.get_x(sub), shapely.get_y(sub)
            before = _point_owner(x, y, ref_geoms, ref_codes)
            after = _point_owner(x, y, new_geoms, new_codes)
        else:
            before = _owner(sub, ref_geoms, ref_codes, measure)
            after = _owner(sub, new_geoms, new_codes, measure)
        moved_items = before != after
        for k in np.flatnonzero(moved_items):
            r = frame.iloc[near[k]]
            rows.append({"kind": AREA_LABELS[kind], "code": r["code"], "name": r["name"],
                         "from_grid": before[k], "to_grid": after[k]})
    result.areas = pd.DataFrame(rows, columns=["kind", "code", "name", "from_grid", "to_grid"])

    result.problems = _moved_problems(engine, region, ref_geoms, ref_codes, new_geoms, new_codes)
    involved = result.involved
    result.responsibles = _responsibles(engine, set(involved), result)
    scores = month_scores(engine) if scores is None else scores
    result.scores = _scores(engine, involved, result, scores,
                            _after_inputs(engine, scores, involved, (ref_geoms, ref_codes),
                                          (new_geoms, new_codes), context))
    result.seconds = time.perf_counter() - t0
    return result


def _moved_area(ref_geoms, ref_codes, old_aff, new_geoms, new_codes, new_aff) -> pd.DataFrame:
    """m² passing from grid to grid: every piece of a grid before that lies in another grid after, where
    either grid is one of the changed ones — so a neighbour that gives way (or is overlapped by an
    uploaded boundary) is listed too. Area that no grid holds any more goes to NO_GRID, area that
    no grid held before comes from NO_GRID."""
    cols = ["from_grid", "to_grid", "area_m2"]
    old_idx, new_idx = np.flatnonzero(old_aff), np.flatnonzero(new_aff)
    a_i, a_j = shapely.STRtree(new_geoms).query(ref_geoms[old_idx], predicate="intersects")
    b_j, b_i = shapely.STRtree(ref_geoms).query(new_geoms[new_idx], predicate="intersects")
    pairs = np.unique(np.column_stack([np.r_[old_idx[a_i], b_i], np.r_[a_j, new_idx[b_j]]]).reshape(-1, 2), axis=0)
    oi, nj = pairs[:, 0], pairs[:, 1]
    keep = ref_codes[oi] != new_codes[nj]
    oi, nj = oi[keep], nj[keep]
    frames = [pd.DataFrame({"from_grid": ref_codes[oi], "to_grid": new_codes[nj],
                            "area_m2": areas_m2(shapely.intersection(ref_geoms[oi], new_geoms[nj]))})]
    # only the grids near the changed ones can cover what they lost or held what they won
    new_all = shapely.union_all(new_geoms[np.unique(np.r_[a_j, new_idx])])
    ref_all = shapely.union_all(ref_geoms[np.unique(np.r_[b_i, old_idx])])
    lost = shapely.difference(ref_geoms[old_aff], new_all)
    won = shapely.difference(new_geoms[new_aff], ref_all)
    frames.append(pd.DataFrame({"from_grid": ref_codes[old_aff], "to_grid": NO_GRID, "area_m2": areas_m2(lost)}))
    frames.append(pd.DataFrame({"from_grid": NO_GRID, "to_grid": new_codes[new_aff], "area_m2": areas_m2(won)}))
    out = pd.concat(frames, ignore_index=True)[cols]
    return out[out["area_m2"] > MIN_MOVED_M2].sort_values(["from_grid", "to_grid"]).reset_index(drop=True)


def _point_owner(x, y, geoms, codes) -> np.ndarray:
    ids = points_in_polygons(x, y, Layer.of(np.arange(len(geoms)), geoms))
    return np.where(ids == NONE, "", codes[np.clip(ids, 0, None)]).astype(object)


def _moved_problems(engine, region, ref_geoms, ref_codes, new_geoms, new_codes) -> pd.DataFrame:
    p = Problem.__table__
    minx, miny, maxx, maxy = region.bounds
    stmt = (select(p.c.code, p.c.category, p.c.status, p.c.reported_at, p.c.lon, p.c.lat)
            .where(p.c.status.in_(OPEN_STATUSES), p.c.lon.between(minx, maxx), p.c.lat.between(miny, maxy)))
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(stmt).all(), columns=["code", "category", "status", "reported_at", "lon", "lat"])
    cols = ["code", "category", "status", "reported_at", "from_grid", "to_grid", "lon", "lat"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    x, y = df["lon"].to_numpy(float), df["lat"].to_numpy(float)
    inside = shapely.intersects_xy(region, x, y)
    df, x, y = df[inside], x[inside], y[inside]
    df = df.assign(from_grid=_point_owner(x, y, ref_geoms, ref_codes), to_grid=_point_owner(x, y, new_geoms, new_codes))
    return df[df["from_grid"] != df["to_grid"]][cols].sort_values("reported_at").reset_index(drop=True)


def _responsibles(engine, affected: set[str], result: Impact) -> pd.DataFrame:
    cols = ["grid", "change", "role", "who", "items", "area_m2"]
    a, p, u = Assignment.__table__, Person.__table__, Unit.__table__
    stmt = (select(a.c.target_code, a.c.role, func.coalesce(p.c.name, u.c.name).label("who"))
            .select_from(a.outerjoin(p, a.c.person_id == p.c.id).outerjoin(u, a.c.unit_id == u.c.id))
            .where(a.c.target_kind == "grid", a.c.valid_to.is_(None), a.c.target_code.in_(sorted(affected)))
            .order_by(a.c.target_code, a.c.role, a.c.id))
    with engine.connect() as conn:
        people = pd.DataFrame(conn.execute(stmt).all(), columns=["target_code", "role", "who"])
    if people.empty:
        return pd.DataFrame(columns=cols)
    gains: dict[tuple[str, str], list[str]] = {}
    area: dict[tuple[str, str], float] = {}
    for r in result.areas.itertuples():
        gains.setdefault((r.from_grid, "减少"), []).append(f"{r.kind}{r.name}")
        gains.setdefault((r.to_grid, "增加"), []).append(f"{r.kind}{r.name}")
    for r in result.moved_area.itertuples():
        area[(r.from_grid, "减少")] = area.get((r.from_grid, "减少"), 0.0) + r.area_m2
        area[(r.to_grid, "增加")] = area.get((r.to_grid, "增加"), 0.0) + r.area_m2
    rows = []
    for (grid, change) in sorted(set(gains) | set(area)):
        items = gains.get((grid, change), [])
        text = "、".join(items[:12]) + (f" 等 {len(items)} 处" if len(items) > 12 else "")
        for p in people[people["target_code"] == grid].itertuples():
            rows.append({"grid": grid, "change": change, "role": p.role, "who": p.who, "items": text,
                         "area_m2": round(area.get((grid, change), 0.0), 1)})
    return pd.DataFrame(rows, columns=cols)


def _after_inputs(engine, scores: pd.DataFrame, affected: list[str], ref, new, context) -> pd.DataFrame | None:
    """gis.metrics.scores score inputs after the change: this month's problems and inspection points of
    the affected grids counted for the candidate grid their location falls in (when it differs
    from the reference layer's)."""
    from gis.metrics import reassign
    from gis.metrics.scores import INPUT_COLUMNS

    if not len(scores):
        return None
    month, as_of = scores["month"].iloc[0], scores["as_of"].iloc[0]
    as_of = as_of.to_pydatetime() if hasattr(as_of, "to_pydatetime") else as_of
    inputs = scores[INPUT_COLUMNS]
    old_codes = [c for c in affected if c in set(ref[1])]
    # only where a boundary moved can an item change grid: the bounds of the area that differs
    old_at = dict(zip(ref[1], ref[0]))
    new_at = dict(zip(new[1], new[0]))
    empty = shapely.Polygon()
    changed = shapely.union_all([shapely.symmetric_difference(old_at.get(c, empty), new_at.get(c, empty))
                                 for c in affected])
    if changed.is_empty:
        return reassign.reassign(inputs, [], list(new[1]))
    problems, inspections = reassign.item_inputs(engine, month, as_of, old_codes, changed.bounds)
    moved = []
    if len(problems):
        x, y = problems["lon"].to_numpy(float), problems["lat"].to_numpy(float)
        before, after = _point_owner(x, y, *ref), _point_owner(x, y, *new)
        moved.append(problems[before != after].assign(to_code=after[before != after]))
    points = context.points
    if len(inspections) and points is not None and len(points):
        geom = inspections["point_id"].map(pd.Series(points.geometry.to_numpy(), index=points["id"].to_numpy()))
        rows = inspections[geom.notna().to_numpy()]
        geoms = geom[geom.notna()].to_numpy()
        x, y = shapely.get_x(geoms), shapely.get_y(geoms)
        before, after = _point_owner(x, y, *ref), _point_owner(x, y, *new)
        moved.append(rows[before != after].assign(to_code=after[before != after]))
    return reassign.reassign(inputs, moved, list(new[1]))


def _scores(engine, codes: list[str], result: Impact, scores: pd.DataFrame,
            after_inputs: pd.DataFrame | None = None) -> pd.DataFrame:
    from gis.metrics.scores import INPUT_COLUMNS, mean_deduction, score_table

    p, g = Problem.__table__, Grid.__table__
    stmt = (select(g.c.code, func.count()).select_from(p.join(g, p.c.grid_id == g.c.id))
            .where(and_(p.c.status.in_(OPEN_STATUSES), g.c.code.in_(codes))).group_by(g.c.code))
    with engine.connect() as conn:
        open_before = dict(conn.execute(stmt).all())
    df = pd.DataFrame({"code": codes})
    df["open_before"] = df["code"].map(open_before).fillna(0).astype(int)
    moved = result.problems
    leave = moved["from_grid"].value_counts() if len(moved) else pd.Series(dtype=int)
    come = moved["to_grid"].value_counts() if len(moved) else pd.Series(dtype=int)
    df["open_after"] = (df["open_before"] - df["code"].map(leave).fillna(0) + df["code"].map(come).fillna(0)).astype(int)
    gone = set(result.changed["removed"])
    df.loc[df["code"].isin(gone), "open_after"] = 0
    df["score_before"] = df["code"].map(scores.set_index("code")["score"]).astype(float) if len(scores) else np.nan
    df["score_after"] = np.nan
    if after_inputs is not None:
        inputs = scores[INPUT_COLUMNS]
        after = score_table(after_inputs, mean_ded=mean_deduction(inputs)).set_index("code")["score"]
        df["score_after"] = df["code"].map(after).astype(float)
    df["score_change"] = df["score_after"] - df["score_before"]
    return df[["code", "score_before", "score_after", "score_change", "open_before", "open_after"]]
