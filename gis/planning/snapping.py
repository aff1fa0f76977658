"""Snapping drawn grid boundaries to their neighbours (吸附), so that neighbours share edges exactly.

A vertex drawn within `tolerance_m` (default 5 m) of a neighbouring grid's boundary moves onto
it: onto the neighbour's nearest vertex when one is that close, else onto the nearest point of
its edge. Neighbour vertices lying within the tolerance of a drawn edge are then inserted into
it (``shapely.snap``), so both sides have the same vertices.

The snapping runs in metres, in a local equirectangular frame (lon·kx, lat·ky around the shape;
scale error < 0.1 % across the city). Not in EPSG:4548: the frame must be an *affine* image of
WGS84, because grids are stored in WGS84 with straight edges there, and a straight WGS84 edge is
a curve in Gauss-Krüger (1 cm off the chord in the middle of a 1 km east-west edge) — a vertex
put on the chord in EPSG:4548 would land 1 cm beside the neighbour's stored edge. The result is
brought back to WGS84 and snapped once more, with a 1 mm tolerance, onto the neighbours' exact
vertices, so that shared vertices are bit-identical.

What still overlaps after snapping is settled by differencing (`fit`): by default the
neighbours give way (the drawn shape is what the planner wants), or the drawn shape does.
"""

from __future__ import annotations

import numpy as np
import shapely

from gis.geo.crs import areas_m2, polygonal

DEFAULT_TOLERANCE_M = 5.0
_EXACT_DEG = 1e-8  # about 1 mm: the final snap onto the neighbours' WGS84 vertices
_DEG_PER_M = 1 / 80_000  # generous degrees per metre at Liaocheng's latitude (for bounding boxes)
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0
_MIN_PIECE_M2 = 0.5  # pieces left smaller than this by differencing are dropped


def _near(geom, neighbours: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Indices of the neighbours within reach of `geom` (bounding box grown by the tolerance)."""
    if len(neighbours) == 0:
        return np.array([], dtype=np.int64)
    pad = tolerance_m * _DEG_PER_M * 2
    minx, miny, maxx, maxy = shapely.bounds(geom)
    return shapely.STRtree(neighbours).query(shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad))


def snap_to_neighbours(geom, neighbours, tolerance_m: float = DEFAULT_TOLERANCE_M):
    """`geom` (WGS84 polygon) with its vertices within `tolerance_m` of the neighbours' boundaries moved onto them.

    `neighbours` is an array of WGS84 polygons (the other grids). Returns a valid WGS84 MultiPolygon.
    """
    neighbours = np.asarray(neighbours, dtype=object)
    near = neighbours[_near(geom, neighbours, tolerance_m)]
    if len(near) == 0 or tolerance_m <= 0:
        return polygonal([geom])[0]
    lat0 = float(np.mean(shapely.bounds(geom)[[1, 3]]))
    scale = np.array([_M_PER_DEG_LON_EQ * np.cos(np.radians(lat0)), _M_PER_DEG_LAT])
    g_m = shapely.transform(geom, lambda c: c * scale)
    n_m = shapely.transform(near, lambda c: c * scale)
    boundary_m = shapely.union_all(shapely.boundary(n_m))
    vertices_m = shapely.get_coordinates(n_m)
    vertex_tree = shapely.STRtree(shapely.points(vertices_m))

    def move(coords: np.ndarray) -> np.ndarray:
        pts = shapely.points(coords)
        out = coords.copy()
        # onto a neighbour vertex first …
        idx, dist = vertex_tree.query_nearest(pts, max_distance=tolerance_m, return_distance=True, all_matches=False)
        src, dst = idx
        out[src] = vertices_m[dst]
        # … else onto the nearest point of a neighbour edge
        rest = np.setdiff1d(np.arange(len(coords)), src)
        if len(rest):
            d = shapely.distance(pts[rest], boundary_m)
            close = rest[d <= tolerance_m]
            if len(close):
                ends = shapely.get_coordinates(shapely.shortest_line(pts[close], boundary_m))
                out[close] = ends[1::2]
        return out

    moved = shapely.transform(g_m, move)
    moved = shapely.snap(moved, boundary_m, tolerance_m)
    back = shapely.transform(moved, lambda c: c / scale)
    back = shapely.snap(back, shapely.union_all(shapely.boundary(near)), _EXACT_DEG)  # bit-identical shared vertices
    return polygonal([back])[0]


def _drop_crumbs(geom):
    """`geom` without polygon pieces smaller than half a square metre (left by differencing)."""
    parts = shapely.get_parts(geom)
    if len(parts) == 0:
        return shapely.MultiPolygon()
    keep = parts[areas_m2(parts) >= _MIN_PIECE_M2]
    return shapely.MultiPolygon(list(keep)) if len(keep) else shapely.MultiPolygon()


def fit(geom, neighbours, tolerance_m: float = DEFAULT_TOLERANCE_M, neighbours_yield: bool = True):
    """Snap `geom` to `neighbours`, then remove the overlap between them.

    Returns ``(geom, neighbours)``: WGS84 MultiPolygons. With `neighbours_yield` (default) the
    neighbours lose the part the new shape covers; otherwise the new shape loses the part the
    neighbours cover. Neighbours that do not touch the shape are returned unchanged (same objects).
    """
    neighbours = np.asarray(neighbours, dtype=object)
    snapped = snap_to_neighbours(geom, neighbours, tolerance_m)
    out = neighbours.copy()
    if len(neighbours) == 0:
        return snapped, out
    touching = shapely.STRtree(neighbours).query(snapped, predicate="intersects")
    touching = touching[shapely.relate_pattern(neighbours[touching], snapped, "T********")]
    if len(touching) == 0:
        return snapped, out
    if neighbours_yield:
        for i in touching:
            out[i] = _drop_crumbs(polygonal([shapely.difference(neighbours[i], snapped)])[0])
        return snapped, out
    rest = shapely.union_all(neighbours[touching])
    return _drop_crumbs(polygonal([shapely.difference(snapped, rest)])[0]), out
