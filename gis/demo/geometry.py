"""Deterministic geometry of the demo city: the urban core (中心城区) of 东昌府区, Liaocheng.

Only the district boundary is real (a DataV export in GCJ-02, converted with ``gis.coords``). On
it sits a fixed, plausible skeleton: the core outline, 东昌湖 (Dongchang Lake) with the old town
(古城) on its island, and the real main roads (主干道) in their real orientation. The seed then
draws everything else: secondary roads (次干道) cutting the road blocks, the 61 management grids
(网格) merged from those blocks, urban villages (城中村), residential compounds (小区) carved out of
the blocks, back lanes (背街小巷) between them, and the inspection points (实地考察点位).

All metric work happens in EPSG:4548 (CGCS2000 / 3-degree Gauss-Kruger CM 117E, the survey CRS of
Liaocheng); ``build_geometry`` returns EPSG:4326 GeoDataFrames. Grids are faces of one planar
graph, so neighbours share identical vertices and tile the core exactly.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely import ops
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from gis.coords import gcj02_to_wgs84, to_wgs84
from gis.demo import names as nm

METRIC_CRS = "EPSG:4548"
WGS84 = "EPSG:4326"
BOUNDARY_FILE = Path(__file__).resolve().parents[2] / "data/shapefiles/source/dongchangfu_boundary_gcj02.geojson"
N_GRIDS, N_STREETS, N_COMPOUNDS, N_VILLAGES = 61, 142, 662, 54
N_CUTS = 36  # 次干道 that cut road blocks; with the 4 old-town streets: 40 次干道
SKELETON_SEED = 371502  # the skeleton (core, lake, main-road kinks) is the same for every seed
CORE_CENTRE = (116.000, 36.451)  # WGS84
CORE_AXES = (7000.0, 5400.0)  # m, east-west and north-south semi-axes before the wobble
OLD_TOWN_GCJ = (115.985, 36.450)  # centre of 古城 (光岳楼) as published, GCJ-02
OLD_TOWN_HALF = 480.0  # m, the walled old town is a square of about 1 km
LAKE_AXES = (1500.0, 1300.0)  # m
ROAD_SETBACK = {"主干道": 28.0, "次干道": 16.0}  # m from the centre line to the first compound
# Main roads: (west/south half, east/north half or None, "EW"/"NS", lat or lon, from road, to road).
# Paired roads are split into 西/东 at the old town's meridian and into 南/北 at 东昌路.
MAIN_ROADS = (
    ("东昌西路", "东昌东路", "EW", 36.4570, None, None),
    ("柳园南路", "柳园北路", "NS", 116.0030, None, None),
    ("兴华西路", "兴华东路", "EW", 36.4670, None, None),
    ("建设西路", "建设东路", "EW", 36.4785, None, None),
    ("振兴西路", "振兴东路", "EW", 36.4900, None, None),
    ("湖南西路", "湖南东路", "EW", 36.4365, None, None),
    ("光岳南路", "光岳北路", "NS", 115.9620, None, None),
    ("花园南路", "花园北路", "NS", 116.0215, None, None),
    ("昌润南路", "昌润北路", "NS", 116.0400, None, None),
    ("卫育路", None, "NS", 115.9460, "利民路", None),
    ("站前街", None, "EW", 36.4470, "京济路", "光岳路"),
    ("中华路", None, "NS", 116.0570, None, None),
    ("长江路", None, "EW", 36.4265, "柳园路", None),
    ("嘉园路", None, "EW", 36.4460, "柳园路", None),
    ("京济路", None, "NS", 115.9300, None, None),
    ("利民西路", "利民东路", "EW", 36.4165, None, None),
    ("华山路", None, "NS", 116.0730, None, "东昌路"),
    ("黄河路", None, "EW", 36.4060, "花园路", None),
    ("文化路", None, "NS", 115.9830, "兴华路", None),
    ("育新街", None, "NS", 115.9830, None, "湖南路"),
)
# Approximate centres of the sub-districts (街道) of the core, WGS84 (an air-quality station list,
# /work/shared/data/dongchangfu_subdistrict_points.csv); official code order. Centres far outside
# the core are pulled to its edge (``_subdistrict_centres``): only their urban side is in the core.
SUBDISTRICTS = (
    ("古楼街道", 115.956142, 36.469224), ("柳园街道", 115.987321, 36.436024),
    ("新区街道", 115.979706, 36.467200), ("湖西街道", 115.966267, 36.396028),
    ("道口铺街道", 115.855610, 36.442835), ("闫寺街道", 115.880180, 36.514232),
    ("北城街道", 116.072045, 36.517581), ("东城街道", 116.034620, 36.455019),
    ("蒋官屯街道", 116.065723, 36.466849), ("李海务街道", 115.971687, 36.317226),
    ("九州街道", 116.033696, 36.442518),
)
_TO_METRIC = Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)


def to_metric(lon, lat) -> np.ndarray:
    """WGS84 lon/lat (scalars or arrays) -> EPSG:4548 easting/northing as an (n, 2) array."""
    x, y = _TO_METRIC.transform(np.atleast_1d(lon), np.atleast_1d(lat))
    return np.column_stack([x, y])


def district_wgs84() -> gpd.GeoDataFrame:
    """The real district boundary of 东昌府区, converted from GCJ-02 as published to WGS84."""
    return to_wgs84(gpd.read_file(BOUNDARY_FILE), "gcj02")[["name", "geometry"]]


def _blob(centre: np.ndarray, axes: tuple[float, float], wobble: np.ndarray, n: int = 240) -> Polygon:
    """An irregular rounded polygon: an ellipse whose radius is modulated by a few harmonics.

    ``wobble`` rows are (harmonic, relative amplitude, phase).
    """
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    r = 1.0 + sum(a * np.sin(k * t + p) for k, a, p in wobble)
    return Polygon(np.column_stack([centre[0] + axes[0] * r * np.cos(t), centre[1] + axes[1] * r * np.sin(t)]))


def _wobble(rng: np.random.Generator, harmonics: tuple[int, ...], amplitude: float) -> np.ndarray:
    """Random (harmonic, amplitude, phase) rows with amplitudes decaying as 1/harmonic."""
    k = np.asarray(harmonics, dtype=float)
    return np.column_stack([k, amplitude * 2.0 / k * rng.uniform(0.5, 1.0, k.size), rng.uniform(0, 2 * np.pi, k.size)])


def _skeleton_shapes(district: Polygon) -> dict[str, Polygon]:
    """The fixed shapes: core (clipped 100 m inside the district), lake (东昌湖) and old town (古城)."""
    rng = np.random.default_rng(SKELETON_SEED)
    core = _blob(to_metric(*CORE_CENTRE)[0], CORE_AXES, _wobble(rng, (2, 3, 4, 5, 7), 0.05))
    core = shapely.intersection(core, shapely.buffer(district, -100.0))
    centre = to_metric(*gcj02_to_wgs84(*OLD_TOWN_GCJ))[0]
    lake = _blob(centre, LAKE_AXES, _wobble(rng, (2, 3, 5), 0.07))
    old_town = shapely.box(*(centre - OLD_TOWN_HALF), *(centre + OLD_TOWN_HALF))
    return {"core": core, "lake": lake, "old_town": old_town}


def _kinked_line(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, step: float = 1600.0) -> LineString:
    """A straight road from a to b with gentle kinks (vertices every ``step`` m, ~15 m off-line)."""
    n = max(2, int(np.hypot(*(b - a)) // step) + 1)
    f = np.linspace(0.0, 1.0, n)[:, None]
    pts = a + f * (b - a)
    normal = np.array([-(b - a)[1], (b - a)[0]]) / np.hypot(*(b - a))
    pts[1:-1] += normal * rng.normal(0.0, 15.0, (n - 2, 1))
    return LineString(pts)


def _main_roads(core: Polygon, split_x: float) -> list[tuple[str, LineString]]:
    """The main roads (主干道) as (name, line) clipped to the core, pairs split at the centre."""
    rng = np.random.default_rng(SKELETON_SEED + 1)
    full: dict[str, LineString] = {}
    for west, _east, axis, c, _start, _stop in MAIN_ROADS:
        ends = [(115.85, c), (116.15, c)] if axis == "EW" else [(c, 36.35), (c, 36.55)]
        full[nm.base_road_name(west)] = _kinked_line(*to_metric(*np.array(ends).T), rng)
    meridian = LineString([(split_x, 0.0), (split_x, 1e7)])
    out = []
    for west, east, axis, _c, start, stop in MAIN_ROADS:
        line = full[nm.base_road_name(west)]
        lo = line.project(line.intersection(full[start])) - 3.0 if start else 0.0
        hi = line.project(line.intersection(full[stop])) + 3.0 if stop else line.length
        line = _longest(shapely.intersection(ops.substring(line, lo, hi), core))
        if east is None:
            out.append((west, line))
            continue
        d = line.project(line.intersection(meridian if axis == "EW" else full["东昌路"]))
        out += [(west, ops.substring(line, 0.0, d)), (east, ops.substring(line, d, line.length))]
    return out


def _longest(geom) -> LineString:
    """The longest LineString part of a (multi)line geometry."""
    parts = shapely.get_parts(geom)
    return parts[int(np.argmax(shapely.length(parts)))]


def _faces(core: Polygon, lines) -> np.ndarray:
    """Faces of the planar graph of the core outline and ``lines`` (clipped with 1 m overshoot)."""
    clipped = shapely.intersection(np.asarray(lines, dtype=object), shapely.buffer(core, 1.0))
    net = shapely.union_all(np.concatenate([[core.exterior], clipped]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(net)))
    return faces[shapely.contains(core, shapely.point_on_surface(faces))]


def _cut_line(face: Polygon, rng: np.random.Generator) -> LineString:
    """A 次干道 across ``face``: perpendicular to its long axis near the middle, 3 m overshoot."""
    corners = np.asarray(shapely.oriented_envelope(face).exterior.coords)[:3]
    edges = np.diff(corners, axis=0)
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    u = edges[int(np.argmax(lengths))] / lengths.max()
    a = rng.normal(0.0, 0.04)
    u = np.array([u[0] * np.cos(a) - u[1] * np.sin(a), u[0] * np.sin(a) + u[1] * np.cos(a)])
    centre = Point(np.asarray(face.centroid.coords[0]) + u * lengths.max() * rng.uniform(-0.12, 0.12))
    if not face.contains(centre):
        centre = face.point_on_surface()
    v = np.array([-u[1], u[0]]) * 2e4
    c = np.asarray(centre.coords[0])
    parts = shapely.get_parts(LineString([c - v, c + v]).intersection(shapely.buffer(face, 3.0)))
    return parts[int(np.argmin(shapely.distance(parts, centre)))]


def _secondary_cuts(faces: np.ndarray, lake: Polygon, rng: np.random.Generator) -> list[LineString]:
    """Cut the largest dry road block in two, ``N_CUTS`` times; return the cut lines (次干道)."""
    blocks = list(faces)
    dry = [shapely.area(shapely.intersection(b, lake)) < 0.2 * b.area for b in blocks]
    cuts = []
    while len(cuts) < N_CUTS:
        i = int(np.argmax([b.area if d else 0.0 for b, d in zip(blocks, dry)]))
        cuts.append(_cut_line(blocks[i], rng))
        pieces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(
            shapely.union_all([blocks[i].boundary, cuts[-1]])))))
        blocks[i:i + 1], dry[i:i + 1] = pieces, [True] * len(pieces)
    return cuts


def _merge_faces(faces: np.ndarray, parents: np.ndarray, n: int) -> list[Polygon]:
    """Merge the smallest face into its best neighbour until ``n`` remain (the grids).

    The best neighbour keeps the result small and compact and preferably lies in the same
    main-road block, i.e. the merge removes a 次干道 rather than a 主干道 from the grid outlines.
    """
    polys, par, alive = list(faces), list(parents), [True] * len(faces)
    while sum(alive) > n:
        i = min((k for k in range(len(polys)) if alive[k]), key=lambda k: (polys[k].area, k))
        best, best_score = -1, np.inf
        for j in range(len(polys)):
            if j == i or not alive[j] or not polys[i].intersects(polys[j]):
                continue
            if shapely.length(shapely.intersection(polys[i].boundary, polys[j].boundary)) < 50.0:
                continue
            union = shapely.union(polys[i], polys[j])
            score = union.area * union.length ** 2 / (4 * np.pi * union.area) * (1.0 if par[i] == par[j] else 1.5)
            if score < best_score:
                best, best_score = j, score
        polys[best] = shapely.union(polys[i], polys[best])
        alive[i] = False
    return [p for p, a in zip(polys, alive) if a]


def _retile(grids: list[Polygon]) -> np.ndarray:
    """Re-polygonize the grid outlines so neighbours share identical vertices (same order)."""
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(shapely.boundary(grids)))))
    face_idx, grid_idx = shapely.STRtree(grids).query(shapely.point_on_surface(faces), predicate="within")
    out = np.empty(len(grids), dtype=object)
    for f, g in zip(face_idx, grid_idx):
        out[g] = faces[f] if out[g] is None else shapely.union(out[g], faces[f])
    return out


def _subdistrict_centres(core: Polygon) -> np.ndarray:
    """Metric sub-district centres; those over 1.5 km outside the core move 2.5 km inside its edge."""
    pts = to_metric([s[1] for s in SUBDISTRICTS], [s[2] for s in SUBDISTRICTS])
    middle = np.asarray(core.centroid.coords[0])
    for k, p in enumerate(pts):
        if core.distance(Point(p)) > 1500.0:
            edge = np.asarray(ops.nearest_points(core.exterior, Point(p))[0].coords[0])
            pts[k] = edge + (middle - edge) / np.hypot(*(middle - edge)) * 2500.0
    return pts


def _assign_subdistricts(grids: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest sub-district centre per grid; then every sub-district gets at least two."""
    xy = shapely.get_coordinates(shapely.point_on_surface(grids))
    dist = np.hypot(xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1])
    sd = np.argmin(dist, axis=1)
    for k in range(len(centres)):
        while (sd == k).sum() < 2:
            donors = np.bincount(sd, minlength=len(centres))[sd] > 2
            donors &= sd != k
            sd[np.flatnonzero(donors)[np.argmin(dist[donors, k])]] = k
    return sd


def _grid_frame(grids: np.ndarray, sd: np.ndarray) -> gpd.GeoDataFrame:
    """Grids coded DC-01.. by sub-district (official order), numbered north-west to south-east."""
    xy = shapely.get_coordinates(shapely.point_on_surface(grids))
    order = np.lexsort((xy[:, 0], -np.round(xy[:, 1] / 1200.0), sd))
    rank = {k: 0 for k in range(len(SUBDISTRICTS))}
    names = []
    for g in order:
        rank[sd[g]] += 1
        names.append(f"{SUBDISTRICTS[sd[g]][0]}第{rank[sd[g]]}网格")
    return gpd.GeoDataFrame({
        "code": [f"DC-{k + 1:02d}" for k in range(len(grids))], "name": names,
        "subdistrict": [SUBDISTRICTS[sd[g]][0] for g in order],
        "geometry": [MultiPolygon(list(shapely.get_parts(grids[g]))) for g in order],
    }, crs=METRIC_CRS)


def _villages(insets: np.ndarray, core: Polygon, rng: np.random.Generator) -> np.ndarray:
    """Irregular 城中村 (5–40 ha), each inside one road block, more often toward the core's edge."""
    centre = np.asarray(core.centroid.coords[0])
    xmin, ymin, xmax, ymax = core.bounds
    cand = np.column_stack([rng.uniform(xmin, xmax, 8000), rng.uniform(ymin, ymax, 8000)])
    edge = np.hypot(*(cand - centre).T) / max(CORE_AXES)
    cand = cand[rng.random(len(cand)) < np.clip(edge, 0.0, 1.0) ** 2]
    hits = shapely.STRtree(insets).query(shapely.points(cand), predicate="within")
    villages: list[Polygon] = []
    for p, b in zip(*hits):
        t = np.sort(rng.uniform(0.0, 2 * np.pi, 11))
        r = np.sqrt(rng.uniform(9e4, 3.2e5) / np.pi) * rng.uniform(0.7, 1.25, t.size)
        blob = Polygon(np.column_stack([cand[p, 0] + r * np.cos(t), cand[p, 1] + r * np.sin(t)]))
        parts = shapely.get_parts(shapely.intersection(blob, insets[b]))
        v = parts[int(np.argmax(shapely.area(parts)))] if parts.size else Polygon()
        if 5.5e4 <= v.area <= 3.9e5 and not (villages and shapely.intersects(villages, v.buffer(80.0)).any()):
            villages.append(v)
        if len(villages) == N_VILLAGES:
            return np.array(villages, dtype=object)
    raise RuntimeError("could not place all urban villages")


def _lattice(block: Polygon, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Jittered cut positions in x and y covering ``block``: parcels of roughly 150–330 m."""
    xmin, ymin, xmax, ymax = block.bounds
    cuts = []
    for lo, hi in ((xmin, xmax), (ymin, ymax)):
        steps = rng.uniform(150.0, 330.0, int((hi - lo) / 150.0) + 3)
        cuts.append(lo - rng.uniform(0.0, 300.0) + np.concatenate([[0.0], np.cumsum(steps)]))
    return cuts[0], cuts[1]


def _parcels(insets: np.ndarray, avail: np.ndarray, rng: np.random.Generator):
    """Cut the blocks into lattice parcels (1–15 ha, 18 m apart) and collect the lattice lines.

    Returns (parcels, lane candidates): the lattice lines clipped to the blocks run in the gaps
    between parcels, so a lane drawn on them never crosses a compound.
    """
    boxes, owner, lines, line_owner = [], [], [], []
    for b, block in enumerate(insets):
        if block.is_empty:
            continue
        xs, ys = _lattice(block, rng)
        gx, gy = (g.ravel() for g in np.meshgrid(np.arange(xs.size - 1), np.arange(ys.size - 1)))
        boxes.append(shapely.box(xs[gx], ys[gy], xs[gx + 1], ys[gy + 1]))
        owner.append(np.full(gx.size, b))
        lines += [LineString([(x, ys[0]), (x, ys[-1])]) for x in xs[1:-1]]
        lines += [LineString([(xs[0], y), (xs[-1], y)]) for y in ys[1:-1]]
        line_owner.append(np.full(xs.size + ys.size - 4, b))
    boxes, owner, line_owner = np.concatenate(boxes), np.concatenate(owner), np.concatenate(line_owner)
    parts = shapely.get_parts(shapely.intersection(boxes, avail[owner]))
    parts = shapely.get_parts(shapely.buffer(parts, -9.0, join_style="mitre"))
    area = shapely.area(parts)
    fill = area / np.maximum(shapely.area(shapely.oriented_envelope(parts)), 1.0)
    parcels = parts[(area >= 1.05e4) & (area <= 1.48e5) & (fill > 0.6)]
    lanes = shapely.get_parts(shapely.intersection(np.array(lines, dtype=object), insets[line_owner]))
    return parcels, lanes[shapely.get_type_id(lanes) == 1]


def _old_town_streets(old_town: Polygon) -> tuple[list[LineString], list[LineString]]:
    """The cross of 楼北/楼南/楼东/楼西大街 from 光岳楼, and eight old-town lanes 240 m off it."""
    (cx, cy), h = old_town.centroid.coords[0], OLD_TOWN_HALF
    streets = [LineString([(cx, cy), (cx + dx * h, cy + dy * h)]) for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0))]
    lanes = []
    for off in (-h / 2, h / 2):
        lanes += [LineString([(cx + s * h, cy + off), (cx, cy + off)]) for s in (-1, 1)]
        lanes += [LineString([(cx + off, cy + s * h), (cx + off, cy)]) for s in (-1, 1)]
    return streets, lanes


def _pick_lanes(cands: np.ndarray, compounds: np.ndarray, villages: np.ndarray, n: int,
                rng: np.random.Generator) -> list[LineString]:
    """``n`` back lanes (背街小巷, 200–600 m) on lattice lines, next to compounds or through villages."""
    cands = cands[shapely.length(cands) >= 220.0]
    near = np.bincount(shapely.STRtree(compounds).query(cands, predicate="dwithin", distance=30.0)[0],
                       minlength=len(cands))
    near = near + 4 * np.bincount(shapely.STRtree(villages).query(cands, predicate="intersects")[0],
                                  minlength=len(cands))
    lanes = []
    for i in rng.choice(len(cands), n, replace=False, p=near / near.sum()):
        length = rng.uniform(200.0, min(600.0, cands[i].length))
        start = rng.uniform(0.0, cands[i].length - length)
        lanes.append(ops.substring(cands[i], start, start + length))
    return lanes


def _order(geoms: np.ndarray, grids: np.ndarray) -> np.ndarray:
    """Feature order: by grid (in grid code order), then rows of 250 m north to south, west to east."""
    pts = shapely.point_on_surface(geoms)
    grid = np.zeros(len(geoms), dtype=int)
    inp, tree = shapely.STRtree(grids).query(pts, predicate="intersects")
    grid[inp[::-1]] = tree[::-1]  # the first grid wins for a point on a boundary
    xy = shapely.get_coordinates(pts)
    return np.lexsort((xy[:, 0], -np.round(xy[:, 1] / 250.0), grid))


def _centrality(geoms: np.ndarray, core: Polygon) -> np.ndarray:
    """Distance of each feature from the core's centroid, in units of the core's long semi-axis."""
    xy = shapely.get_coordinates(shapely.centroid(geoms)) - np.asarray(core.centroid.coords[0])
    return np.hypot(xy[:, 0], xy[:, 1]) / max(CORE_AXES)


def _compound_frame(parcels: np.ndarray, core: Polygon, grids: np.ndarray, rng: np.random.Generator):
    """Pick the 小区 among the parcels (denser toward the centre); return (frame, spare parcels).

    About 15 % are old compounds without property management (无物业), mostly near the centre,
    named after the work unit that built them; households ~ area x a log-normal density.
    """
    d = _centrality(parcels, core)
    w = 0.3 + np.exp(-(d / 0.6) ** 2)
    chosen = rng.choice(len(parcels), N_COMPOUNDS, replace=False, p=w / w.sum())
    spare = parcels[np.setdiff1d(np.arange(len(parcels)), chosen)]
    geoms = parcels[chosen][_order(parcels[chosen], grids)]
    w_old = np.exp(-_centrality(geoms, core) / 0.35)
    old = np.zeros(N_COMPOUNDS, dtype=bool)
    old[rng.choice(N_COMPOUNDS, round(0.15 * N_COMPOUNDS), replace=False, p=w_old / w_old.sum())] = True
    names = np.empty(N_COMPOUNDS, dtype=object)
    names[old] = nm.unique_names(rng, nm.old_compound_pool(), int(old.sum()))
    names[~old] = nm.unique_names(rng, nm.compound_pool(), int((~old).sum()))
    density = rng.lognormal(np.log(80.0), 0.4, N_COMPOUNDS)  # households per hectare
    companies = np.array(nm.PROPERTY_COMPANIES, dtype=object)[rng.integers(len(nm.PROPERTY_COMPANIES), size=N_COMPOUNDS)]
    frame = gpd.GeoDataFrame({
        "code": [f"XQ-{k + 1:04d}" for k in range(N_COMPOUNDS)], "name": names,
        "households": np.clip(np.round(shapely.area(geoms) / 1e4 * density), 80, 3000).astype(int),
        "property_company": np.where(old, None, companies), "geometry": geoms,
    }, crs=METRIC_CRS)
    return frame, spare


def _village_frame(villages: np.ndarray, grids: np.ndarray, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """城中村 coded CZC-01.. in grid order; households ~ area x 20–45 per hectare."""
    geoms = villages[_order(villages, grids)]
    return gpd.GeoDataFrame({
        "code": [f"CZC-{k + 1:02d}" for k in range(len(geoms))], "name": nm.village_names(rng, len(geoms)),
        "households": np.round(shapely.area(geoms) / 1e4 * rng.uniform(20.0, 45.0, len(geoms))).astype(int),
        "geometry": geoms,
    }, crs=METRIC_CRS)


def _street_frame(main, cuts, old_streets, lanes, old_lanes, core, rng) -> gpd.GeoDataFrame:
    """All 142 街巷: main roads first, then 次干道 (cuts, old-town cross), then 背街小巷."""
    cut_names = nm.unique_names(rng, nm.SECONDARY_ROADS, len(cuts))
    lane_names = nm.unique_names(rng, nm.lane_pool(), len(lanes))
    rows = [(n, "主干道", g) for n, g in main]
    rows += [(n, "次干道", _longest(shapely.intersection(g, core))) for n, g in zip(cut_names, cuts)]
    rows += [(n, "次干道", g) for n, g in zip(nm.OLD_TOWN_STREETS, old_streets)]
    rows += [(n, "背街小巷", g) for n, g in zip(nm.OLD_TOWN_LANES, old_lanes)]
    rows += [(n, "背街小巷", g) for n, g in zip(lane_names, lanes)]
    return gpd.GeoDataFrame({
        "code": [f"JX-{k + 1:03d}" for k in range(len(rows))], "name": [r[0] for r in rows],
        "road_class": [r[1] for r in rows], "geometry": [r[2] for r in rows],
    }, crs=METRIC_CRS)


def _build_metric(seed: int) -> dict:
    """All layers but the points, in EPSG:4548, plus the helpers the points need."""
    rng = np.random.default_rng(seed)
    district = district_wgs84().to_crs(METRIC_CRS).geometry.union_all()
    core, lake, old_town = _skeleton_shapes(district).values()
    main = _main_roads(core, old_town.centroid.x)
    main_lines = [g for _, g in main]
    blocks0 = _faces(core, main_lines)
    cuts = _secondary_cuts(blocks0, lake, rng)
    blocks = _faces(core, main_lines + cuts)
    parents = np.zeros(len(blocks), dtype=int)
    inp, tree = shapely.STRtree(blocks0).query(shapely.point_on_surface(blocks), predicate="within")
    parents[inp] = tree
    grids = _retile(_merge_faces(blocks, parents, N_GRIDS))
    grid_frame = _grid_frame(grids, _assign_subdistricts(grids, _subdistrict_centres(core)))
    grid_geoms = grid_frame.geometry.values
    setback = shapely.union_all(np.concatenate([
        shapely.buffer(main_lines, ROAD_SETBACK["主干道"]), shapely.buffer(cuts, ROAD_SETBACK["次干道"]),
        [shapely.buffer(lake, 40.0)]]))
    insets = shapely.difference(blocks, setback)
    villages = _villages(insets, core, rng)
    avail = shapely.difference(insets, shapely.buffer(shapely.union_all(villages), 25.0))
    parcels, lane_cands = _parcels(insets, avail, rng)
    compounds, spare = _compound_frame(parcels, core, grid_geoms, rng)
    old_streets, old_lanes = _old_town_streets(old_town)
    n_lanes = N_STREETS - len(main) - len(cuts) - len(old_streets) - len(old_lanes)
    lanes = _pick_lanes(lane_cands, compounds.geometry.values, villages, n_lanes, rng)
    streets = _street_frame(main, cuts, old_streets, lanes, old_lanes, core, rng)
    return {
        "core": gpd.GeoDataFrame({"name": ["东昌府区中心城区"], "geometry": [core]}, crs=METRIC_CRS),
        "grids": grid_frame, "streets": streets, "compounds": compounds,
        "villages": _village_frame(villages, grid_geoms, rng),
        "_lake": lake, "_old_town": old_town, "_spare": spare, "_rng": rng,
    }
