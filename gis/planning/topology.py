"""Topology checks of a candidate grid layer (网格拓扑检查), each problem reported with its place.

A candidate layer is a GeoDataFrame of grids (``code``, ``geometry`` in WGS84; ``name``
optional). `check_grids` reports, as one table of issues:

| kind             | level | what                                                                  |
|------------------|-------|-----------------------------------------------------------------------|
| ``invalid``      | 错误  | invalid geometry (self-intersection …), at the point GEOS names       |
| ``empty``        | 错误  | a grid without area                                                   |
| ``duplicate``    | 错误  | two grids with the same code                                          |
| ``overlap``      | 错误  | two grids overlap: which, how many m², where                          |
| ``gap``          | 错误  | a gap of more than 1 m² inside the urban core                         |
| ``outside``      | 警告  | a part of a grid outside the district boundary                        |
| ``multipart``    | 警告  | a grid made of separate pieces                                        |
| ``compound_split`` / ``village_split`` | 警告 | a compound / urban village cut by a grid boundary by more than 5 % of its area |

Overlaps and gaps nowhere wider than 5 cm (`NOISE_WIDTH_M`) are not reported: they are
coordinate noise — e.g. a vertex lying on a neighbour's edge in a projected CRS is about 1 cm off
that edge in WGS84 — not something a planner drew or could see.

**The urban core** is the area enclosed by the current published layer together with the
candidate: the union of both, holes filled. A gap is any part of the core that no candidate
grid covers — a hole left where a boundary was pulled back, a sliver between two drawn
edges, or a hole inside the layer.

The overlays (intersections, unions, differences) run in WGS84, the CRS the grids are stored
in, where their edges are straight: a straight WGS84 edge is a curve in a projected CRS, so a
vertex lying exactly on a neighbour's edge would show up as a centimetre-wide sliver there. All
areas are then measured in EPSG:4548 (CGCS2000 / 3-degree Gauss-Krüger CM 117E, metres). Shapely
2 array operations and an STRtree: a whole check of the 61 demo grids with their 662
compounds take a few tens of milliseconds, so every edit is checked in full.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis.geo.crs import WGS84_CRS, as_wgs84, areas_m2, polygonal, to_metric
from gis.geo.district import district_boundary, district_name


GAP_MIN_M2 = 1.0  # gaps up to this area are drawing noise
OVERLAP_MIN_M2 = 0.1  # overlaps up to this area are floating-point noise
OUTSIDE_MIN_M2 = 1.0
SPLIT_SHARE = 0.05  # a compound or village cut by more than 5 % of its area is reported
PIECE_MIN_M2 = 1.0  # pieces of a multipart grid smaller than this are ignored
NOISE_WIDTH_M = 0.05  # overlaps and gaps nowhere wider than 5 cm are coordinate noise, not drawing errors

ERROR, WARNING = "错误", "警告"
ISSUE_LABELS = {
    "invalid": "几何无效", "empty": "空几何", "duplicate": "编号重复", "overlap": "网格重叠", "gap": "网格空隙",
    "outside": "超出区界", "multipart": "多块不相连", "compound_split": "小区被分割", "village_split": "城中村被分割",
}
ERROR_KINDS = frozenset({"invalid", "empty", "duplicate", "overlap", "gap"})
ISSUE_COLUMNS = ["kind", "level", "label", "grids", "other", "area_m2", "lon", "lat", "message"]

_REASONS = {
    "Self-intersection": "自相交", "Ring Self-intersection": "环自相交", "Too few points": "顶点过少",
    "Hole lies outside shell": "内环位于外环之外", "Nested shells": "外环嵌套", "Nested holes": "内环嵌套",
    "Interior is disconnected": "内部不连通", "Invalid Coordinate": "坐标无效", "Ring is not closed": "环未闭合",
    "Duplicate Rings": "环重复", "Too few points in geometry component": "顶点过少",
}
_REASON_POINT = re.compile(r"\[\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)")

@dataclass
class CheckContext:
    """What a candidate is checked against: the current published grids, compounds, villages, district.

    Everything is kept in WGS84 and in metres; build it once (``from_frames`` or
    ``gis.planning.topology.load_context``) and reuse it for every edit of a session.
    """

    reference: gpd.GeoDataFrame | None = None  # current published grids (code, name, geometry)
    compounds: gpd.GeoDataFrame | None = None  # code, name, geometry
    villages: gpd.GeoDataFrame | None = None
    district: object | None = None  # WGS84 polygon; None = not checked
    streets: gpd.GeoDataFrame | None = None  # for the impact preview (gis.planning.impact)
    points: gpd.GeoDataFrame | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_frames(cls, reference=None, compounds=None, villages=None, district="default") -> "CheckContext":
        """A context from frames in any declared CRS (reprojected to WGS84; a frame without a CRS is refused)."""
        reference = None if reference is None else as_wgs84(reference, "现行网格图层")
        compounds = None if compounds is None else as_wgs84(compounds, "小区图层")
        villages = None if villages is None else as_wgs84(villages, "城中村图层")
        return cls(reference=reference, compounds=compounds, villages=villages,
                   district=district_boundary() if isinstance(district, str) and district == "default" else district)

    def _geoms(self, name: str) -> np.ndarray:
        """Valid polygons of one of the frames (WGS84)."""
        if name not in self._cache:
            gdf = getattr(self, name)
            geoms = np.array([], dtype=object) if gdf is None or len(gdf) == 0 else gdf.geometry.to_numpy()
            self._cache[name] = polygonal(geoms) if len(geoms) else geoms
        return self._cache[name]

    def _areas(self, name: str) -> np.ndarray:
        key = f"area_{name}"
        if key not in self._cache:
            self._cache[key] = areas_m2(self._geoms(name))
        return self._cache[key]

    def reference_core(self):
        """The reference layer's union (WGS84), holes filled (None without a reference)."""
        if "core" not in self._cache:
            ref = self._geoms("reference")
            self._cache["core"] = _filled(shapely.union_all(ref)) if len(ref) else None
        return self._cache["core"]

    def changed_mask(self, codes: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """True for candidate grids whose code is new or whose geometry differs from the reference."""
        if self.reference is None or len(self.reference) == 0:
            return np.ones(len(codes), dtype=bool)
        if "ref_wkb" not in self._cache:
            self._cache["ref_wkb"] = dict(zip(self.reference["code"].astype(str),
                                              shapely.to_wkb(self.reference.geometry.to_numpy())))
        ref = self._cache["ref_wkb"]
        wkb = shapely.to_wkb(raw)
        return np.array([ref.get(c) != w for c, w in zip(codes, wkb)], dtype=bool)

    def area_tree(self, name: str) -> shapely.STRtree:
        key = f"tree_{name}"
        if key not in self._cache:
            self._cache[key] = shapely.STRtree(self._geoms(name))
        return self._cache[key]

    def raw_tree(self, name: str) -> tuple[np.ndarray, shapely.STRtree]:
        """Geometries of a frame as stored (lines and points too) and their STRtree, built once."""
        key = f"raw_{name}"
        if key not in self._cache:
            gdf = getattr(self, name)
            geoms = np.array([], dtype=object) if gdf is None or len(gdf) == 0 else gdf.geometry.to_numpy()
            self._cache[key] = (geoms, shapely.STRtree(geoms))
        return self._cache[key]

    def reference_cut(self, name: str) -> np.ndarray:
        """Indices of the compounds / villages already cut by the reference layer."""
        key = f"cut_{name}"
        if key not in self._cache:
            self._cache[key] = _cut_index(self._geoms(name), self._areas(name), self._geoms("reference"))
        return self._cache[key]

    def district_geom(self):
        """The district polygon (WGS84, prepared), or None."""
        if self.district is not None:
            shapely.prepare(self.district)
        return self.district


def load_context(engine, layer_id: int | None = None) -> CheckContext:
    """The check context from the database: the grids of `layer_id` (default: current), compounds, villages."""
    from gis.db.models import Compound, Grid, InspectionPoint, Street, UrbanVillage
    from gis.db.store import read_frame
    from gis.geo.areas import current_layer_id

    with engine.connect() as conn:
        layer_id = current_layer_id(conn) if layer_id is None else layer_id
        g = Grid.__table__
        ref = read_frame(conn, g, g.c.layer_id == layer_id, ["id", "code", "name", "subdistrict"]) if layer_id else None
        compounds = read_frame(conn, Compound.__table__, None, ["id", "code", "name"])
        villages = read_frame(conn, UrbanVillage.__table__, None, ["id", "code", "name"])
        streets = read_frame(conn, Street.__table__, None, ["id", "code", "name"])
        points = read_frame(conn, InspectionPoint.__table__, None, ["id", "code", "name", "kind"])
    context = CheckContext.from_frames(ref, compounds, villages)
    context.streets, context.points = streets, points
    return context


def _filled(geom):
    """`geom` (polygonal) with every hole filled."""
    if geom is None or geom.is_empty:
        return geom
    shells = [shapely.Polygon(p.exterior) for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
    return shapely.union_all(shells) if shells else geom


def _point_of(geoms) -> tuple[np.ndarray, np.ndarray]:
    """lon, lat of a point inside each (WGS84) geometry."""
    if len(geoms) == 0:
        return np.array([]), np.array([])
    pts = shapely.point_on_surface(np.asarray(geoms, dtype=object))
    return shapely.get_x(pts), shapely.get_y(pts)


def _wide(geoms) -> np.ndarray:
    """True where a piece is somewhere wider than NOISE_WIDTH_M (it survives an inward buffer)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(0, dtype=bool)
    return ~shapely.is_empty(shapely.buffer(to_metric(geoms), -NOISE_WIDTH_M / 2))


def _reason(text: str) -> tuple[str, float | None, float | None]:
    """A Chinese reason and the location GEOS gives in `shapely.is_valid_reason`'s text."""
    name = text.split("[")[0].strip()
    m = _REASON_POINT.search(text)
    x, y = (float(m.group(1)), float(m.group(2))) if m else (None, None)
    return _REASONS.get(name, name), x, y


@dataclass
class CheckReport:
    """The issues found, one row each (kind, level, label, grids, other, area_m2, lon, lat, message, geometry)."""

    issues: gpd.GeoDataFrame
    n_grids: int
    seconds: float = 0.0

    @property
    def errors(self) -> gpd.GeoDataFrame:
        return self.issues[self.issues["level"] == ERROR]

    @property
    def warnings(self) -> gpd.GeoDataFrame:
        return self.issues[self.issues["level"] == WARNING]

    @property
    def has_errors(self) -> bool:
        """True when there is an invalid geometry, an overlap, a gap, a duplicate code or an empty grid."""
        return bool(len(self.errors))

    def counts(self) -> dict[str, int]:
        """Number of issues per label (Chinese), in ISSUE_LABELS order."""
        vc = self.issues["kind"].value_counts()
        return {ISSUE_LABELS[k]: int(vc[k]) for k in ISSUE_LABELS if k in vc}

    def summary(self) -> str:
        if self.issues.empty:
            return f"检查通过：{self.n_grids} 个网格，未发现问题。"
        parts = "，".join(f"{k} {v} 处" for k, v in self.counts().items())
        verdict = "有错误，不能发布" if self.has_errors else "无错误，仅有警告"
        return f"{self.n_grids} 个网格：{parts}（{verdict}）。"

    def table(self) -> pd.DataFrame:
        """The issues as a plain table with Chinese headers, numbered 序号 as on the map's markers."""
        df = pd.DataFrame(self.issues[ISSUE_COLUMNS])
        df.insert(0, "序号", range(1, len(df) + 1))
        df["area_m2"] = df["area_m2"].round(1)
        df["lon"] = df["lon"].round(6)
        df["lat"] = df["lat"].round(6)
        return df.rename(columns={"level": "级别", "label": "问题", "grids": "网格", "other": "涉及", "area_m2": "面积(m²)",
                                  "lon": "经度", "lat": "纬度", "message": "说明"}).drop(columns=["kind"])

    def to_text(self) -> str:
        """The report as plain text lines (the CLI prints this)."""
        lines = [self.summary()]
        for row in self.issues.itertuples():
            where = f"({row.lon:.6f}, {row.lat:.6f})" if pd.notna(row.lon) else ""
            lines.append(f"  [{row.level}] {row.label}：{row.message} {where}".rstrip())
        return "\n".join(lines)


class _Issues:
    def __init__(self):
        self.rows: list[dict] = []
        self.geoms: list = []

    def add(self, kind, grids, other, area, lon, lat, message, geom=None):
        self.rows.append({"kind": kind, "level": ERROR if kind in ERROR_KINDS else WARNING, "label": ISSUE_LABELS[kind],
                          "grids": grids, "other": other, "area_m2": float(area) if area is not None else np.nan,
                          "lon": lon, "lat": lat, "message": message})
        self.geoms.append(geom)

    def frame(self) -> gpd.GeoDataFrame:
        df = pd.DataFrame(self.rows, columns=ISSUE_COLUMNS)
        out = np.array(self.geoms, dtype=object)
        df = df.astype({"area_m2": float, "lon": float, "lat": float})
        order = df["level"].map({ERROR: 0, WARNING: 1}).to_numpy()
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(out, crs=WGS84_CRS))
        return gdf.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)


def _label(codes: np.ndarray, idx) -> str:
    return "、".join(str(codes[i]) for i in idx)


def check_grids(candidate: gpd.GeoDataFrame, context: CheckContext | None = None) -> CheckReport:
    """Check a candidate layer (WGS84 GeoDataFrame with ``code``) against `context`.

    Without a context only the candidate itself is checked (validity, overlaps, holes) and the
    district boundary; pass ``CheckContext.from_frames(...)`` or ``load_context(engine)`` for the rest.
    The candidate's CRS is checked first: a frame in metres (e.g. EPSG:4548) is reprojected to
    WGS84, a frame without a CRS is refused (`gis.geo.crs.CRSError`, a Chinese message).
    """
    import time

    t0 = time.perf_counter()
    candidate = as_wgs84(candidate, "候选网格图层")
    if "code" not in candidate:
        raise ValueError("候选网格图层缺少网格编号字段（code）。")
    context = context or CheckContext.from_frames()
    issues = _Issues()
    codes = np.asarray([str(c) for c in candidate["code"].tolist()], dtype=object)
    raw = candidate.geometry.to_numpy()
    n = len(codes)

    # 1. validity, emptiness, duplicate codes
    valid = shapely.is_valid(raw)
    for i in np.flatnonzero(~valid):
        reason, x, y = _reason(shapely.is_valid_reason(raw[i]))
        if x is None:
            x, y = shapely.get_x(shapely.point_on_surface(raw[i])), shapely.get_y(shapely.point_on_surface(raw[i]))
        issues.add("invalid", codes[i], "", None, x, y, f"网格 {codes[i]} 的几何无效：{reason}")
    geoms = polygonal(raw)  # topology in the stored CRS: straight WGS84 edges are curves in EPSG:4548
    area = areas_m2(geoms)
    for i in np.flatnonzero(area <= 0):
        issues.add("empty", codes[i], "", 0.0, np.nan, np.nan, f"网格 {codes[i]} 没有面积")
    dup = pd.Series(codes).duplicated(keep=False).to_numpy()
    for code in sorted(set(codes[dup])):
        idx = np.flatnonzero(codes == code)
        lon, lat = _point_of(geoms[idx[:1]])
        issues.add("duplicate", code, "", None, lon[0], lat[0], f"编号 {code} 出现 {len(idx)} 次")

    # 2. overlaps between pairs of grids
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    inner = shapely.relate_pattern(geoms[i], geoms[j], "T********")  # interiors meet: cheap prefilter
    i, j = i[inner], j[inner]
    if len(i):
        inter = shapely.intersection(geoms[i], geoms[j])
        hit = (areas_m2(inter) > OVERLAP_MIN_M2) & _wide(inter)
        inter = polygonal(inter[hit])
        inter_area = areas_m2(inter)
        lon, lat = _point_of(inter)
        for k, (a, b, ar, g) in enumerate(zip(i[hit], j[hit], inter_area, inter)):
            issues.add("overlap", f"{codes[a]}、{codes[b]}", codes[b], ar, lon[k], lat[k],
                       f"网格 {codes[a]} 与 {codes[b]} 重叠 {ar:,.1f} m²", g)

    # 3. gaps inside the urban core
    union = shapely.union_all(geoms) if n else shapely.MultiPolygon()
    core = _filled(union)
    ref_core = context.reference_core()
    if ref_core is not None:
        core = shapely.union(core, ref_core) if core is not None and not core.is_empty else ref_core
    if core is not None and not core.is_empty:
        gaps = shapely.get_parts(shapely.difference(core, union))
        gap_area = areas_m2(gaps) if len(gaps) else np.array([])
        keep = gap_area > GAP_MIN_M2
        keep[keep] = _wide(gaps[keep])
        gaps, gap_area = gaps[keep], gap_area[keep]
        if len(gaps):
            lon, lat = _point_of(gaps)
            gi, gj = tree.query(gaps, predicate="dwithin", distance=1e-5)
            for k, (g, ar) in enumerate(zip(gaps, gap_area)):
                near = _label(codes, np.unique(gj[gi == k]))
                issues.add("gap", near, "", ar, lon[k], lat[k],
                           f"网格 {near or '（无）'} 之间有 {ar:,.1f} m² 未被任何网格覆盖", g)

    # 4. parts outside the district
    district = context.district_geom()
    if district is not None and n:
        out_idx = np.flatnonzero(~shapely.contains_properly(district, geoms) & (area > 0))
        if len(out_idx):
            outside = polygonal(shapely.difference(geoms[out_idx], district))
            out_area = areas_m2(outside)
            hit = out_area > OUTSIDE_MIN_M2
            lon, lat = _point_of(outside[hit])
            for k, (gi_, ar, g) in enumerate(zip(out_idx[hit], out_area[hit], outside[hit])):
                issues.add("outside", codes[gi_], district_name(), ar, lon[k], lat[k],
                           f"网格 {codes[gi_]} 有 {ar:,.1f} m² 位于{district_name()}区界之外", g)

    # 5. grids in several separate pieces
    for i_ in np.flatnonzero(shapely.get_num_geometries(geoms) > 1):
        parts = shapely.get_parts(geoms[i_])
        part_area = areas_m2(parts)
        big, big_area = parts[part_area > PIECE_MIN_M2], part_area[part_area > PIECE_MIN_M2]
        if len(big) > 1:
            small = big[np.argsort(big_area)[:-1]]
            lon, lat = _point_of(small[:1])
            issues.add("multipart", codes[i_], "", float(np.sort(big_area)[:-1].sum()), lon[0], lat[0],
                       f"网格 {codes[i_]} 由 {len(big)} 块不相连的部分组成", shapely.union_all(small))

    # 6. compounds and villages cut by a grid boundary: those cut in the reference layer, and
    #    those touching a grid that differs from the reference (the others cannot have changed)
    changed = context.changed_mask(codes, raw)
    for kind, name, label in (("compound_split", "compounds", "小区"), ("village_split", "villages", "城中村")):
        frame = getattr(context, name)
        if frame is None or len(frame) == 0 or n == 0:
            continue
        subset = np.union1d(context.area_tree(name).query(geoms[changed], predicate="intersects")[1],
                            context.reference_cut(name))
        _split_areas(issues, kind, label, frame, context._geoms(name), context._areas(name),
                     subset.astype(np.int64), geoms, codes, tree)

    return CheckReport(issues.frame(), n, time.perf_counter() - t0)


def _cut_shares(area_geoms, area_m2, subset, geoms, tree):
    """(area index, grid index, share of the area) for the areas in `subset` that touch several grids."""
    ai, gj = tree.query(area_geoms[subset], predicate="intersects")
    ai = subset[ai]
    several = np.bincount(ai, minlength=len(area_geoms)) > 1  # only these can be cut
    keep = several[ai]
    ai, gj = ai[keep], gj[keep]
    pieces = shapely.intersection(area_geoms[ai], geoms[gj])
    share = areas_m2(pieces) / np.maximum(area_m2[ai], 1e-9)
    return ai, gj, share


def _cut_index(area_geoms, area_m2, geoms) -> np.ndarray:
    """Indices of the areas cut by more than SPLIT_SHARE by the polygons `geoms`."""
    if len(area_geoms) == 0 or len(geoms) == 0:
        return np.array([], dtype=np.int64)
    ai, gj, share = _cut_shares(area_geoms, area_m2, np.arange(len(area_geoms)), geoms, shapely.STRtree(geoms))
    total = np.bincount(ai, weights=share, minlength=len(area_geoms))
    best = np.zeros(len(area_geoms))
    np.maximum.at(best, ai, share)
    return np.flatnonzero(total - best > SPLIT_SHARE)


def _split_areas(issues: _Issues, kind, label, frame, area_geoms, area_m2, subset, geoms, codes, tree) -> None:
    if len(subset) == 0:
        return
    ai, gj, share = _cut_shares(area_geoms, area_m2, subset, geoms, tree)
    if len(ai) == 0:
        return
    order = np.lexsort((-share, ai))  # by area, largest share first
    ai, gj, share = ai[order], gj[order], share[order]
    first = np.r_[True, ai[1:] != ai[:-1]]
    minor = np.bincount(ai[~first], weights=share[~first], minlength=len(area_geoms))
    cut = np.flatnonzero(minor > SPLIT_SHARE)
    if len(cut) == 0:
        return
    names = frame["name" if "name" in frame else "code"].tolist()
    acodes = frame["code"].tolist()
    for a in cut:
        rows = np.flatnonzero((ai == a) & (share > 1e-6))
        shares = "，".join(f"{codes[gj[r]]} {share[r]:.0%}" for r in rows)
        piece = shapely.intersection(area_geoms[a], geoms[gj[rows[1]]])
        lon, lat = _point_of(np.array([piece], dtype=object))
        grids = _label(codes, gj[rows])
        issues.add(kind, grids, f"{names[a]}（{acodes[a]}）", float(minor[a]) * area_m2[a],
                   lon[0], lat[0], f"{label}{names[a]}（{acodes[a]}）被网格边界分割：{shares}", piece)


# --------------------------------------------------------------------------- command line
