"""Batch spatial assignment: which grid, compound, village and street each point falls in.

Called whenever problems, inspection points or inspections are written, for the whole batch
at once. Vectorised: points are sorted by longitude once, each polygon takes the slice of
points inside its bounding box by binary search, and only those are tested exactly with
shapely's ``intersects_xy`` on the prepared polygon.

Boundary rule (documented in the README): a point on the shared edge of two or more
polygons belongs to the one with the lowest id. Polygons are visited in increasing id and
a point once assigned is never reassigned, so the rule holds whatever the input order.

Streets are lines: a point gets the nearest street within ``STREET_RADIUS_M`` (30 m),
measured in a local equirectangular metric frame (error < 0.1 % across a city).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

NONE = -1
STREET_RADIUS_M = 30.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass(frozen=True)
class Layer:
    """Ids and shapely geometries of one layer (grids, compounds …), in EPSG:4326."""

    ids: np.ndarray
    geoms: np.ndarray

    @classmethod
    def of(cls, ids, geoms) -> "Layer":
        ids = np.asarray(ids, dtype=np.int64)
        geoms = np.asarray(geoms, dtype=object)
        order = np.argsort(ids, kind="stable")
        return cls(ids[order], geoms[order])

    def __len__(self) -> int:
        return len(self.ids)


class _SortedPoints:
    """Points sorted by x, so that a bounding box's x-range is one binary search away."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.order = np.argsort(x, kind="stable")
        self.xs = x[self.order]
        self.ys = y[self.order]

    def in_bbox(self, minx, miny, maxx, maxy) -> np.ndarray:
        """Positions (into the sorted arrays) of the points inside a bounding box."""
        lo = int(np.searchsorted(self.xs, minx, side="left"))
        hi = int(np.searchsorted(self.xs, maxx, side="right"))
        ys = self.ys[lo:hi]
        return lo + np.flatnonzero((ys >= miny) & (ys <= maxy))


_RASTER_MIN_POINTS = 20_000
_RASTER_CELLS = 256


def points_in_polygons(x, y, layer: Layer) -> np.ndarray:
    """For each point, the id of the polygon containing it (boundary included), else -1.

    Large batches first go through a raster of cells that lie properly inside one polygon
    (no boundary can touch them, so the answer is exact); the rest are tested exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    result = np.full(len(x), NONE, dtype=np.int64)
    if len(x) == 0 or len(layer) == 0:
        return result
    todo = np.arange(len(x))
    if len(x) >= _RASTER_MIN_POINTS:
        result, todo = _raster_pass(x, y, layer)
    if len(todo):
        result[todo] = _exact_pass(x[todo], y[todo], layer)
    return result


def _raster_pass(x, y, layer: Layer):
    minx, miny, maxx, maxy = shapely.total_bounds(layer.geoms)
    n = _RASTER_CELLS
    dx, dy = (maxx - minx) / n, (maxy - miny) / n
    gx, gy = np.meshgrid(np.arange(n), np.arange(n))
    cells = shapely.box(minx + gx.ravel() * dx, miny + gy.ravel() * dy,
                        minx + (gx.ravel() + 1) * dx, miny + (gy.ravel() + 1) * dy)
    poly_idx, cell_idx = shapely.STRtree(cells).query(layer.geoms, predicate="contains_properly")
    lut = np.full(n * n, NONE, dtype=np.int64)
    lut[cell_idx] = layer.ids[poly_idx]
    ix = np.floor((x - minx) / dx).astype(np.int64)
    iy = np.floor((y - miny) / dy).astype(np.int64)
    inside = (ix >= 0) & (ix < n) & (iy >= 0) & (iy < n)
    result = np.full(len(x), NONE, dtype=np.int64)
    result[inside] = lut[iy[inside] * n + ix[inside]]
    todo = np.flatnonzero(inside & (result == NONE))
    return result, todo


#: Batches up to this size skip, in one vectorised test, the shapes whose box holds none of the points
#: (street work, issue 15: one report paid for ~3,000 per-shape searches, 0.3 s).
SMALL_BATCH = 64


def _boxes_holding(boxes: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mask of the boxes (minx, miny, maxx, maxy rows) that contain at least one of the points."""
    bx = boxes[:, :, None]
    return ((x >= bx[:, 0]) & (x <= bx[:, 2]) & (y >= bx[:, 1]) & (y <= bx[:, 3])).any(axis=1)


def _exact_pass(x, y, layer: Layer) -> np.ndarray:
    result_sorted = np.full(len(x), NONE, dtype=np.int64)
    pts = _SortedPoints(x, y)
    bounds = shapely.bounds(layer.geoms)
    ids, geoms = layer.ids, layer.geoms
    if len(x) <= SMALL_BATCH:  # one report (phone, API): only the polygons whose box holds a point
        near = _boxes_holding(bounds, x, y)
        ids, geoms, bounds = ids[near], geoms[near], bounds[near]
    shapely.prepare(geoms)
    for pid, geom, (minx, miny, maxx, maxy) in zip(ids, geoms, bounds):
        cand = pts.in_bbox(minx, miny, maxx, maxy)
        cand = cand[result_sorted[cand] == NONE]
        if len(cand) == 0:
            continue
        hit = shapely.intersects_xy(geom, pts.xs[cand], pts.ys[cand])
        result_sorted[cand[hit]] = pid
    result = np.empty_like(result_sorted)
    result[pts.order] = result_sorted
    return result


def _local_metric(lat0: float):
    kx = _M_PER_DEG_LON_EQ * np.cos(np.radians(lat0))

    def to_m(coords: np.ndarray) -> np.ndarray:
        return np.column_stack((coords[:, 0] * kx, coords[:, 1] * _M_PER_DEG_LAT))

    return to_m


def _segments(lines_m: np.ndarray, ids: np.ndarray, max_len_m: float):
    """Every segment (x0, y0, x1, y1) of the lines, at most `max_len_m` long, with its line id."""
    lines_m = shapely.segmentize(lines_m, max_len_m)
    coords, which = shapely.get_coordinates(lines_m, return_index=True)
    same_line = which[1:] == which[:-1]
    seg = np.column_stack((coords[:-1], coords[1:]))[same_line]
    return seg, ids[which[:-1][same_line]]


def nearest_line(x, y, layer: Layer, radius_m: float = STREET_RADIUS_M) -> np.ndarray:
    """For each point, the id of the nearest line within `radius_m` metres, else -1.

    Lines are cut into short segments; each segment measures the exact distance to the
    points in its bounding box grown by the radius. Ties go to the lowest id.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    result = np.full(len(x), NONE, dtype=np.int64)
    if len(x) == 0 or len(layer) == 0:
        return result
    to_m = _local_metric(float(np.mean(shapely.bounds(layer.geoms)[:, [1, 3]])))
    seg, seg_ids = _segments(shapely.transform(layer.geoms, to_m), layer.ids, 4 * radius_m)
    pm = to_m(np.column_stack((x, y)))
    if len(x) <= SMALL_BATCH:  # one report (phone, API): only the segments near a point
        boxes = np.column_stack((np.minimum(seg[:, 0], seg[:, 2]) - radius_m, np.minimum(seg[:, 1], seg[:, 3]) - radius_m,
                                 np.maximum(seg[:, 0], seg[:, 2]) + radius_m, np.maximum(seg[:, 1], seg[:, 3]) + radius_m))
        near = _boxes_holding(boxes, pm[:, 0], pm[:, 1])
        seg, seg_ids = seg[near], seg_ids[near]
    pts = _SortedPoints(pm[:, 0], pm[:, 1])
    best = np.full(len(x), np.inf)
    best_id = np.full(len(x), NONE, dtype=np.int64)
    for (x0, y0, x1, y1), sid in zip(seg, seg_ids):
        cand = pts.in_bbox(min(x0, x1) - radius_m, min(y0, y1) - radius_m,
                           max(x0, x1) + radius_m, max(y0, y1) + radius_m)
        if len(cand) == 0:
            continue
        d = _point_segment_distance(pts.xs[cand], pts.ys[cand], x0, y0, x1, y1)
        better = (d <= radius_m) & ((d < best[cand]) | ((d == best[cand]) & (sid < best_id[cand])))
        best[cand[better]] = d[better]
        best_id[cand[better]] = sid
    result[pts.order] = best_id
    return result


def _point_segment_distance(px, py, x0, y0, x1, y1) -> np.ndarray:
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.zeros_like(px) if length2 == 0 else np.clip(((px - x0) * dx + (py - y0) * dy) / length2, 0.0, 1.0)
    return np.hypot(px - (x0 + t * dx), py - (y0 + t * dy))


@dataclass(frozen=True)
class Areas:
    """The layers a point is assigned against. Any layer may be empty."""

    grids: Layer
    compounds: Layer
    villages: Layer
    streets: Layer


def assign_areas(x, y, areas: Areas) -> dict[str, np.ndarray]:
    """Grid, compound, village and street ids (-1 = none) for each point (lon `x`, lat `y`)."""
    return {
        "grid_id": points_in_polygons(x, y, areas.grids),
        "compound_id": points_in_polygons(x, y, areas.compounds),
        "village_id": points_in_polygons(x, y, areas.villages),
        "street_id": nearest_line(x, y, areas.streets),
    }
