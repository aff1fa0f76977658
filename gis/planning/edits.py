"""Edit operations on a candidate grid layer (网格规划): each takes a layer and returns a new one.

A *candidate layer* is a WGS84 GeoDataFrame with ``code``, ``name``, ``subdistrict`` and
``geometry`` (MultiPolygon), one row per grid — what a draft version will hold. Nothing here
touches the database: `gis.planning.versions` saves a candidate, `gis.planning.topology` checks it,
`gis.planning.impact` says what it changes.

- `replace_geometry`: a grid's new outline (edited vertices, or a drawn replacement);
- `add_grid`: a newly drawn grid;
- `split_grid`: cut a grid in two along a drawn line (area preserved);
- `merge_grids`: two adjacent grids become one (area preserved);
- `read_boundary_file` / `apply_file`: a boundary file made in QGIS or exported by `gis export grids`,
  read by `gis.io` (the one reader of files).

Drawn shapes are snapped to the neighbouring grids (`gis.planning.snapping`, default 5 m) and the
overlap is removed by differencing, the neighbours giving way.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiPolygon

from gis.db import limits
from gis.geo.crs import WGS84, areas_m2, as_wgs84, from_metric, polygonal, require_wgs84, to_metric
from gis.io import InputError, boundaries, readers
from gis.planning import snapping

COLUMNS = ["code", "name", "subdistrict"]
SPLIT_EXTEND_M = 10.0  # a split line is extended by this much at both ends, to cross the boundary


class PlanningError(ValueError):
    """An edit that cannot be done; the message is for the planner (Chinese)."""


def candidate_from(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A clean candidate layer (code, name, subdistrict, MultiPolygon geometry in WGS84) from any grid frame.

    The frame's CRS is checked first: a frame in another CRS (e.g. EPSG:4548 metres) is reprojected
    to WGS84, a frame without a CRS is refused (`gis.geo.crs.CRSError`, a Chinese message), and a
    frame without a ``code`` column is refused (PlanningError).
    """
    gdf = as_wgs84(gdf, "网格图层")
    if "code" not in gdf:
        raise PlanningError("网格图层缺少网格编号字段（code）。")
    out = gpd.GeoDataFrame(
        {c: (gdf[c].astype(object).where(gdf[c].notna(), "") if c in gdf else "") for c in COLUMNS},
        geometry=gpd.GeoSeries(_multi(gdf.geometry.to_numpy()), crs=WGS84), crs=WGS84)
    out["code"] = out["code"].astype(str)
    return out.reset_index(drop=True)


def _multi(geoms) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    for i, g in enumerate(geoms):
        if g is not None and g.geom_type == "Polygon":
            out[i] = MultiPolygon([g])
    return out


def _index(layer: gpd.GeoDataFrame, code: str) -> int:
    hits = np.flatnonzero(layer["code"].to_numpy() == code)
    if len(hits) == 0:
        raise PlanningError(f"没有编号为 {code} 的网格。")
    return int(hits[0])


def _polygon_of(geom):
    """A drawn shape as a valid MultiPolygon, or a PlanningError."""
    if geom is None or geom.is_empty:
        raise PlanningError("绘制的图形为空。")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise PlanningError("请绘制多边形（面），不是线或点。")
    fixed = polygonal([geom])[0]
    if fixed.is_empty:
        raise PlanningError("绘制的多边形没有面积。")
    return fixed


def _check_names(code: str | None, name: str | None, subdistrict: str | None = None) -> None:
    """A planner's code, name and sub-district within the grid table's limits (`gis.db.limits`)."""
    for value, limit, label in ((code, limits.GRID_CODE, "网格编号"), (name, limits.GRID_NAME, "网格名称"),
                                (subdistrict, limits.GRID_SUBDISTRICT, "所属街道")):
        message = limits.too_long(value, limit, label)
        if message:
            raise PlanningError(message)


def next_code(codes) -> str:
    """The next free grid code after the highest numbered one: DC-61 → DC-62, T-04 → T-05."""
    best = None
    for code in codes:
        m = re.match(r"^(.*?)(\d+)$", str(code))
        if m and (best is None or int(m.group(2)) > int(best.group(2))):
            best = m
    if best is None:
        return f"G-{len(list(codes)) + 1:02d}"
    prefix, digits = best.group(1), best.group(2)
    taken = set(map(str, codes))
    n = int(digits) + 1
    while f"{prefix}{n:0{len(digits)}d}" in taken:
        n += 1
    return f"{prefix}{n:0{len(digits)}d}"


def _with_geoms(layer: gpd.GeoDataFrame, geoms: np.ndarray) -> gpd.GeoDataFrame:
    out = layer.copy()
    out["geometry"] = gpd.GeoSeries(_multi(geoms), index=out.index, crs=WGS84)
    return out


def _fit_into(layer: gpd.GeoDataFrame, i: int | None, geom, tolerance_m: float, neighbours_yield: bool):
    """Geometries of `layer` with `geom` snapped and fitted in at row `i` (None: appended)."""
    geoms = layer.geometry.to_numpy().copy()
    others = np.ones(len(geoms), dtype=bool)
    if i is not None:
        others[i] = False
    new, fitted = snapping.fit(geom, geoms[others], tolerance_m, neighbours_yield)
    if new.is_empty:
        raise PlanningError("图形完全落在其他网格内，吸附和去除重叠后没有剩余面积。")
    swallowed = [str(c) for c, g in zip(layer["code"].to_numpy()[others], fitted) if g.is_empty]
    if swallowed:
        raise PlanningError(f"新图形完全覆盖了网格 {'、'.join(swallowed)}；如需合并网格，请使用“合并网格”。")
    geoms[others] = fitted
    return new, geoms


def replace_geometry(layer: gpd.GeoDataFrame, code: str, geom, tolerance_m: float = snapping.DEFAULT_TOLERANCE_M,
                     neighbours_yield: bool = True) -> gpd.GeoDataFrame:
    """`layer` with grid `code` redrawn as `geom` (snapped; neighbours give way unless told otherwise)."""
    require_wgs84(layer, "网格图层")
    i = _index(layer, code)
    new, geoms = _fit_into(layer, i, _polygon_of(geom), tolerance_m, neighbours_yield)
    geoms[i] = new
    return _with_geoms(layer, geoms)


SAME_OUTLINE_M = 0.5  # an edited outline whose vertices all stay this close is the grid as it was


def same_outline(layer: gpd.GeoDataFrame, code: str, geom) -> bool:
    """True when `geom` is grid `code`'s outline as it is (vertex handles saved without a move,
    or the coordinates' round trip through the browser): no vertex moved more than SAME_OUTLINE_M."""
    current = layer.geometry.iloc[_index(layer, code)]
    if geom is None or geom.is_empty:
        return False
    return float(shapely.hausdorff_distance(to_metric(current), to_metric(geom))) <= SAME_OUTLINE_M


def reshape_message(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, code: str) -> str:
    """What redrawing grid `code` did, for the planner: its area before and after, what the neighbours
    gave up, and the part of its old area no grid covers any more (a gap the check marks)."""
    i, j = _index(before, code), _index(after, code)
    old, new = before.geometry.iloc[i], after.geometry.iloc[j]
    text = f"已用新画的多边形作为网格 {code} 的新边界：面积 {_ha(old)} → {_ha(new)} 公顷"
    was = before.set_index("code").geometry
    others = after[(after["code"] != code) & after["code"].isin(was.index)]
    lost = areas_m2(shapely.difference(was.loc[others["code"]].to_numpy(), others.geometry.to_numpy()))
    given = [f"{c} {m2 / 1e4:,.2f} 公顷" for c, m2 in zip(others["code"], lost) if m2 > 1.0]
    if given:
        text += "；相邻网格让出 " + "、".join(given)
    left = shapely.difference(old, shapely.union_all(after.geometry.to_numpy()))
    left_m2 = float(areas_m2([left])[0]) if not left.is_empty else 0.0
    if left_m2 > 1.0:
        text += (f"；原边界内有 {left_m2 / 1e4:,.2f} 公顷不再属于任何网格，成为空隙（地图上标出），"
                 "发布前须把它划给相邻网格（选择相邻网格修改边界）或撤销本次修改")
    return text + "。"


def _ha(geom) -> str:
    return f"{float(areas_m2([geom])[0]) / 1e4:,.2f}"


def add_grid(layer: gpd.GeoDataFrame, geom, code: str | None = None, name: str | None = None,
             subdistrict: str | None = None, tolerance_m: float = snapping.DEFAULT_TOLERANCE_M,
             neighbours_yield: bool = True) -> gpd.GeoDataFrame:
    """`layer` with a new grid drawn as `geom`. Code defaults to the next free one; the sub-district
    to that of the grid it takes most area from."""
    require_wgs84(layer, "网格图层")
    code = (code or "").strip() or next_code(layer["code"])
    _check_names(code, name, subdistrict)
    if code in set(layer["code"]):
        raise PlanningError(f"编号 {code} 已被使用。")
    geom = _polygon_of(geom)
    if not subdistrict and len(layer):
        overlap = shapely.area(shapely.intersection(layer.geometry.to_numpy(), geom))
        subdistrict = str(layer["subdistrict"].iloc[int(np.argmax(overlap))]) if overlap.max() > 0 else ""
    new, geoms = _fit_into(layer, None, geom, tolerance_m, neighbours_yield)
    out = _with_geoms(layer, geoms)
    row = gpd.GeoDataFrame({"code": [code], "name": [name or f"{code}网格"], "subdistrict": [subdistrict or ""]},
                           geometry=gpd.GeoSeries(_multi([new]), crs=WGS84), crs=WGS84)
    return pd.concat([out, row], ignore_index=True)


def _extend(line: LineString, metres: float) -> LineString:
    """`line` (WGS84) lengthened by `metres` at both ends along its end segments."""
    m = shapely.get_coordinates(to_metric(line))
    for end, nxt in ((0, 1), (-1, -2)):
        d = m[end] - m[nxt]
        norm = np.hypot(*d)
        if norm > 0:
            m[end] = m[end] + d / norm * metres
    return from_metric(LineString(m))


def split_grid(layer: gpd.GeoDataFrame, code: str, line, new_code: str | None = None,
               new_name: str | None = None) -> gpd.GeoDataFrame:
    """`layer` with grid `code` cut along `line`: the largest piece keeps the code, the rest form
    new grid(s). The total area is unchanged."""
    require_wgs84(layer, "网格图层")
    if line is None or line.geom_type not in ("LineString", "MultiLineString"):
        raise PlanningError("请绘制一条分割线（折线）。")
    i = _index(layer, code)
    grid = layer.geometry.iloc[i]
    lines = [_extend(part, SPLIT_EXTEND_M) for part in shapely.get_parts(line)]
    edges = shapely.union_all([shapely.boundary(grid), *lines])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(edges)))
    inside = faces[shapely.within(shapely.point_on_surface(faces), grid)] if len(faces) else faces
    if len(inside) < 2:
        raise PlanningError(f"分割线没有完整穿过网格 {code}：请让线的两端都画到网格边界之外。")
    areas = shapely.area(to_metric(inside))
    order = np.argsort(-areas)
    keep = shapely.union_all(inside[order[:1]])
    rest = inside[order[1:]]
    # pieces that lie on the same side form one new grid (the usual case is exactly two pieces)
    new = shapely.union_all(rest)
    geoms = layer.geometry.to_numpy().copy()
    geoms[i] = keep
    out = _with_geoms(layer, geoms)
    new_code = (new_code or "").strip() or next_code(layer["code"])
    _check_names(new_code, new_name)
    if new_code in set(layer["code"]):
        raise PlanningError(f"编号 {new_code} 已被使用。")
    row = gpd.GeoDataFrame({"code": [new_code], "name": [new_name or f"{layer['name'].iloc[i]}（分）"],
                            "subdistrict": [layer["subdistrict"].iloc[i]]},
                           geometry=gpd.GeoSeries(_multi([new]), crs=WGS84), crs=WGS84)
    return pd.concat([out, row], ignore_index=True)


def merge_grids(layer: gpd.GeoDataFrame, code: str, other: str) -> gpd.GeoDataFrame:
    """`layer` with grid `other` merged into grid `code` (which keeps its code and name).

    The two must share an edge (touching at a point is not enough). The total area is unchanged.
    """
    require_wgs84(layer, "网格图层")
    if code == other:
        raise PlanningError("请选择两个不同的网格。")
    i, j = _index(layer, code), _index(layer, other)
    a, b = layer.geometry.iloc[i], layer.geometry.iloc[j]
    shared = shapely.length(to_metric(shapely.intersection(shapely.boundary(a), shapely.boundary(b))))
    if shared < 1.0 and not shapely.relate_pattern(a, b, "T********"):
        raise PlanningError(f"网格 {code} 与 {other} 不相邻（没有公共边），不能合并。")
    geoms = layer.geometry.to_numpy().copy()
    geoms[i] = polygonal([shapely.union(a, b)])[0]
    out = _with_geoms(layer, geoms)
    return out.drop(index=out.index[j]).reset_index(drop=True)


def read_boundary_file(path: str | Path, source: str = "wgs84", crs: str | None = None, layer: str | None = None,
                       encoding: str | None = None) -> gpd.GeoDataFrame:
    """Grids from any file `gis.io` reads (GeoPackage, Shapefile or its .zip, GeoJSON, CSV / Excel with
    a WKT column), as a candidate layer: the one reader, its limits, encodings, CRS detection and field
    names (`gis.io.boundaries`). `source` declares lon/lat as ``wgs84``, ``gcj02`` or ``bd09``; `crs`
    overrides the file's CRS (``EPSG:4548``)."""
    try:
        grids, _notes = boundaries.read_grids(path, crs=crs, coords=source, layer=layer, encoding=encoding)
    except InputError as exc:
        raise PlanningError(str(exc)) from None
    return candidate_from(grids)


def upload_limit_mb() -> int:
    """The largest boundary file accepted, in MB: the import limit (GRIDMAP_MAX_IMPORT_MB)."""
    return readers.max_bytes() // (1 << 20)


def read_upload(data: bytes, filename: str, source: str = "wgs84") -> gpd.GeoDataFrame:
    """`read_boundary_file` for an uploaded file's bytes (the import size limit, `gis.io.readers.max_bytes`)."""
    with tempfile.TemporaryDirectory(prefix="gridmap-boundary-") as tmp:
        try:
            path = readers.save_uploads([(filename, data)], Path(tmp))
        except InputError as exc:
            raise PlanningError(str(exc)) from None
        return read_boundary_file(path, source)


def yield_to(layer: gpd.GeoDataFrame, codes) -> gpd.GeoDataFrame:
    """`layer` with every other grid giving up the part it shares with the grids `codes` (相邻网格让出重叠部分).

    The grids `codes` keep their geometry exactly; a neighbour they cover entirely is refused
    (PlanningError: that is a merge). Grids that overlap nothing are returned unchanged.
    """
    require_wgs84(layer, "网格图层")
    codes = [str(c) for c in codes]
    mine = layer["code"].astype(str).isin(codes).to_numpy()
    geoms = layer.geometry.to_numpy().copy()
    rest = np.flatnonzero(~mine)
    for i in np.flatnonzero(mine):
        _, fitted = snapping.fit(geoms[i], geoms[rest], 0.0, True)
        swallowed = [str(c) for c, g in zip(layer["code"].to_numpy()[rest], fitted) if g.is_empty]
        if swallowed:
            raise PlanningError(f"网格 {layer['code'].iloc[i]} 完全覆盖了网格 {'、'.join(swallowed)}；"
                                "如需合并网格，请使用“合并网格”。")
        geoms[rest] = fitted
    return _with_geoms(layer, geoms)


def apply_file(layer: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, whole_layer: bool = False,
               neighbours_yield: bool = False) -> gpd.GeoDataFrame:
    """`layer` updated from a boundary file: grids with a known code get the file's geometry (and name
    / sub-district when given), new codes are added; with `whole_layer`, grids missing from the file go.
    With `neighbours_yield` (not for a whole layer) the grids not in the file give up what the file's
    grids now cover, so that a boundary moved in QGIS leaves no overlap."""
    grids = candidate_from(grids)
    if whole_layer:
        base = layer.set_index("code")
        for col in ("name", "subdistrict"):
            missing = grids[col].astype(str) == ""
            grids.loc[missing, col] = grids.loc[missing, "code"].map(base[col]).fillna("")
        return grids.reset_index(drop=True)
    out = layer.copy().set_index("code")
    for row in grids.itertuples(index=False):
        if row.code in out.index:
            out.loc[row.code, "geometry"] = row.geometry
            for col in ("name", "subdistrict"):
                if getattr(row, col):
                    out.loc[row.code, col] = getattr(row, col)
        else:
            out.loc[row.code, ["name", "subdistrict", "geometry"]] = [row.name or f"{row.code}网格", row.subdistrict,
                                                                       row.geometry]
    out = candidate_from(gpd.GeoDataFrame(out.reset_index(), geometry="geometry", crs=WGS84))
    return yield_to(out, grids["code"]) if neighbours_yield else out


def changed_codes(candidate: gpd.GeoDataFrame, base: gpd.GeoDataFrame) -> dict[str, list[str]]:
    """What differs from `base`: codes ``added``, ``removed`` and ``changed`` (geometry, name or sub-district)."""
    cand = candidate.set_index("code")
    old = base.set_index("code")
    added = [c for c in cand.index if c not in old.index]
    removed = [c for c in old.index if c not in cand.index]
    both = [c for c in cand.index if c in old.index]
    wkb_new = shapely.to_wkb(cand.loc[both].geometry.to_numpy()) if both else []
    wkb_old = shapely.to_wkb(old.loc[both].geometry.to_numpy()) if both else []
    attrs = [col for col in ("name", "subdistrict") if col in cand and col in old]
    same_attrs = np.ones(len(both), dtype=bool)
    for col in attrs:
        same_attrs &= cand.loc[both, col].astype(str).to_numpy() == old.loc[both, col].astype(str).to_numpy()
    changed = [c for c, a, b, same in zip(both, wkb_new, wkb_old, same_attrs) if a != b or not same]
    return {"added": added, "removed": removed, "changed": changed}
