"""Deterministic geometry of the demo city: the urban core (中心城区) of 东昌府区, Liaocheng.

Only the district boundary is real (a DataV export in GCJ-02, converted with ``gis.geo.china``). On
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


import geopandas as gpd
import numpy as np
import shapely
from shapely import ops
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from gis.geo.china import gcj02_to_wgs84
from gis.geo.crs import METRIC_CRS, WGS84, xy_to_metric as to_metric
from gis.geo.district import district_frame
from gis.demo import names as nm

N_GRIDS, N_STREETS, N_COMPOUNDS, N_VILLAGES = 61, 142, 662, 54
N_MAIN = sum(2 if row[1] else 1 for row in nm.MAIN_ROADS)  # 主干道 rows: 10 pairs (东/西, 南/北) + 10 singles
N_CUTS = 36  # 次干道 that cut road blocks; with the 4 old-town streets: 40 次干道
MIN_GRID = 0.9e6  # m², smaller road blocks are merged into a neighbour
SKELETON_SEED = 371502  # the skeleton (core, lake, main-road kinks) is the same for every seed
CORE_CENTRE = (116.000, 36.451)  # WGS84
CORE_AXES = (7000.0, 5400.0)  # m, east-west and north-south semi-axes before the wobble
OLD_TOWN_GCJ = (115.985, 36.450)  # centre of 古城 (光岳楼) as published, GCJ-02
OLD_TOWN_HALF = 480.0  # m, the walled old town is a square of about 1 km
LAKE_AXES = (1500.0, 1300.0)  # m
ROAD_SETBACK = {"主干道": 28.0, "次干道": 16.0}  # m from the centre line to the first compound


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
    for west, _east, axis, c, _start, _stop in nm.MAIN_ROADS:
        ends = [(115.85, c), (116.15, c)] if axis == "EW" else [(c, 36.35), (c, 36.55)]
        full[nm.base_road_name(west)] = _kinked_line(*to_metric(*np.array(ends).T), rng)
    meridian = LineString([(split_x, 0.0), (split_x, 1e7)])
    out = []
    for west, east, axis, _c, start, stop in nm.MAIN_ROADS:
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


def _lake_lines(faces: np.ndarray, old_town: Polygon) -> list[LineString]:
    """Grid-only boundaries in 东昌湖: the old town's wall and its cross axes out to the lake's roads.

    They make 古城 one grid and split the lake into four quarters; they are not streets.
    """
    block = faces[shapely.contains(faces, old_town.centroid)][0]
    (cx, cy), h = old_town.centroid.coords[0], OLD_TOWN_HALF
    axes = [LineString([(cx + dx * h, cy + dy * h), (cx + dx * 5e3, cy + dy * 5e3)])
            for dx, dy in ((0, 1), (0, -1), (1, 0), (-1, 0))]
    axes = [_longest(shapely.intersection(a, shapely.buffer(block, 3.0))) for a in axes]
    return [old_town.exterior] + axes


def _cut_line(face: Polygon, rng: np.random.Generator) -> LineString:
    """A 次干道 across ``face``, perpendicular to its long axis, splitting its area about in half.

    The line overshoots the face by 3 m so that it nodes with the roads it ends on.
    """
    corners = np.asarray(shapely.oriented_envelope(face).exterior.coords)[:3]
    edges = np.diff(corners, axis=0)
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    a = rng.normal(0.0, 0.04)
    u = edges[int(np.argmax(lengths))] / lengths.max()
    u = np.array([u[0] * np.cos(a) - u[1] * np.sin(a), u[0] * np.sin(a) + u[1] * np.cos(a)])
    v = np.array([-u[1], u[0]]) * 2e4
    centre = np.asarray(shapely.oriented_envelope(face).centroid.coords[0])
    at = centre + np.linspace(-0.45, 0.45, 37)[:, None] * lengths.max() * u
    halves = shapely.polygons(np.stack([at - v, at + v, at + v - 2e4 * u, at - v - 2e4 * u], axis=1))
    share = shapely.area(shapely.intersection(face, halves)) / face.area
    c = at[int(np.argmin(np.abs(share - rng.uniform(0.42, 0.58))))]
    return _longest(LineString([c - v, c + v]).intersection(shapely.buffer(face, 3.0)))


def _split(face: Polygon, rng: np.random.Generator) -> tuple[LineString, list[Polygon]]:
    """Split ``face`` with a new 次干道; return the road and the pieces."""
    line = _cut_line(face, rng)
    net = shapely.get_parts(shapely.union_all([face.boundary, line]))
    return line, list(shapely.get_parts(shapely.polygonize(net)))


def _best_neighbour(polys: list, usable: list[bool], par: list[int], i: int) -> int:
    """The neighbour to merge face i into: small, compact result, preferably in the same main-road block."""
    best, best_score = -1, np.inf
    for j in range(len(polys)):
        if j == i or not usable[j] or not polys[i].intersects(polys[j]):
            continue
        if shapely.length(shapely.intersection(polys[i].boundary, polys[j].boundary)) < min(50.0, polys[i].length / 5):
            continue
        union = shapely.union(polys[i], polys[j])
        score = union.length ** 2 / (4 * np.pi) * (1.0 if par[i] == par[j] else 1.5)
        if score < best_score:
            best, best_score = j, score
    if best < 0:
        raise RuntimeError(f"face {i} has no neighbour to merge into")
    return best


def _grid_polygons(faces: np.ndarray, locked: np.ndarray, dry: np.ndarray,
                   rng: np.random.Generator) -> tuple[list[Polygon], list[LineString]]:
    """Turn the main-road blocks into exactly ``N_GRIDS`` grids of similar size.

    Blocks under ``MIN_GRID`` are merged into a neighbour, the largest dry block is cut by a new
    次干道 while there are too few. ``locked`` blocks (the old town) stay as they are, wet ones
    (the lake) are never cut. Returns the grid polygons and the cut lines.
    """
    polys, par = list(faces), list(range(len(faces)))
    locked, dry, alive = list(locked), list(dry), [True] * len(faces)
    cuts = []
    for _ in range(10 * N_GRIDS):
        live = [k for k in range(len(polys)) if alive[k]]
        small = [k for k in live if not locked[k] and polys[k].area < MIN_GRID]
        if small or len(live) > N_GRIDS:
            i = min(small or [k for k in live if not locked[k]], key=lambda k: (polys[k].area, k))
            j = _best_neighbour(polys, [alive[k] and not locked[k] for k in range(len(polys))], par, i)
            polys[j], dry[j], alive[i] = shapely.union(polys[i], polys[j]), dry[i] and dry[j], False
        elif len(live) < N_GRIDS:
            i = max((k for k in live if dry[k]), key=lambda k: (polys[k].area, -k))
            line, pieces = _split(polys[i], rng)
            cuts.append(line)
            alive[i] = False
            polys += pieces
            par += [par[i]] * len(pieces)
            locked += [False] * len(pieces)
            dry += [True] * len(pieces)
            alive += [True] * len(pieces)
        else:
            return [polys[k] for k in live], cuts
    raise RuntimeError("grid construction did not converge")


def _inner_cuts(blocks: np.ndarray, dry: np.ndarray, n: int, rng: np.random.Generator) -> list[LineString]:
    """``n`` more 次干道, each cutting the largest dry block (inside one grid) in two."""
    blocks, dry, cuts = list(blocks), list(dry), []
    while len(cuts) < n:
        i = max((k for k in range(len(blocks)) if dry[k]), key=lambda k: (blocks[k].area, -k))
        line, pieces = _split(blocks[i], rng)
        cuts.append(line)
        blocks[i:i + 1], dry[i:i + 1] = pieces, [True] * len(pieces)
    return cuts


def _retile(faces: np.ndarray, grids: list[Polygon]) -> np.ndarray:
    """Rebuild each grid as the union of the faces of one global noding that lie in it.

    The merged/split polygons only approximately share the vertices where a cut met a road; faces
    from one noded network share them exactly, so neighbouring grids do too.
    """
    owner = np.full(len(faces), -1)
    inside, grid = shapely.STRtree(grids).query(shapely.point_on_surface(faces), predicate="within")
    owner[inside] = grid
    for f in np.flatnonzero(owner < 0):  # a face straddling two grids by a hair: the larger share wins
        owner[f] = int(np.argmax(shapely.area(shapely.intersection(grids, faces[f]))))
    return np.array([shapely.union_all(faces[owner == g]) for g in range(len(grids))], dtype=object)


def _subdistrict_centres(core: Polygon) -> np.ndarray:
    """Metric sub-district centres; those over 1.5 km outside the core move 1.5 km inside its edge."""
    pts = to_metric([s[1] for s in nm.SUBDISTRICTS], [s[2] for s in nm.SUBDISTRICTS])
    middle = np.asarray(core.centroid.coords[0])
    for k, p in enumerate(pts):
        if core.distance(Point(p)) > 1500.0:
            edge = np.asarray(ops.nearest_points(core.exterior, Point(p))[0].coords[0])
            pts[k] = edge + (middle - edge) / np.hypot(*(middle - edge)) * 1500.0
    return pts


def _assign_subdistricts(grids: np.ndarray, centres: np.ndarray, old_town: Polygon) -> np.ndarray:
    """Sub-district index per grid: nearest centre, with additive weights that balance the counts.

    The weights (a power diagram) grow for sub-districts with too few grids until every one has
    4–7 of the 61; the old town grid (古城) always belongs to 古楼街道.
    """
    xy = shapely.get_coordinates(shapely.point_on_surface(grids))
    dist = np.hypot(xy[:, None, 0] - centres[None, :, 0], xy[:, None, 1] - centres[None, :, 1])
    weight = np.zeros(len(centres))
    for _ in range(2000):
        sd = np.argmin(dist - weight, axis=1)
        counts = np.bincount(sd, minlength=len(centres))
        if counts.min() >= 4 and counts.max() <= 7:
            break
        weight += 25.0 * (len(grids) / len(centres) - counts)
    sd[shapely.contains(grids, old_town.centroid)] = 0
    return sd


def _grid_frame(grids: np.ndarray, sd: np.ndarray) -> gpd.GeoDataFrame:
    """Grids coded DC-01.. by sub-district (official order), numbered north-west to south-east."""
    xy = shapely.get_coordinates(shapely.point_on_surface(grids))
    order = np.lexsort((xy[:, 0], -np.round(xy[:, 1] / 1200.0), sd))
    rank = {k: 0 for k in range(len(nm.SUBDISTRICTS))}
    names = []
    for g in order:
        rank[sd[g]] += 1
        names.append(f"{nm.SUBDISTRICTS[sd[g]][0]}第{rank[sd[g]]}网格")
    return gpd.GeoDataFrame({
        "code": [f"DC-{k + 1:02d}" for k in range(len(grids))], "name": names,
        "subdistrict": [nm.SUBDISTRICTS[sd[g]][0] for g in order],
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
        t = (np.arange(11) + rng.uniform(-0.35, 0.35, 11)) * 2 * np.pi / 11  # increasing, gaps < pi: simple
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
    """Jittered cut positions in x and y covering ``block``: parcels 150–300 m wide, some up to 420 m."""
    xmin, ymin, xmax, ymax = block.bounds
    cuts = []
    for lo, hi in ((xmin, xmax), (ymin, ymax)):
        n = int((hi - lo) / 150.0) + 3
        steps = np.where(rng.random(n) < 0.15, rng.uniform(300.0, 420.0, n), rng.uniform(150.0, 300.0, n))
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
    grid[inp] = tree
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
    density = np.where(old, rng.lognormal(np.log(90.0), 0.35, N_COMPOUNDS),  # households per hectare:
                       rng.lognormal(np.log(150.0), 0.45, N_COMPOUNDS))  # 6-storey blocks vs. high-rises
    companies = np.array(nm.PROPERTY_COMPANIES, dtype=object)
    companies = companies[rng.integers(len(companies), size=N_COMPOUNDS)]
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
    district = district_frame().to_crs(METRIC_CRS).geometry.union_all()
    core, lake, old_town = _skeleton_shapes(district).values()
    main = _main_roads(core, old_town.centroid.x)
    main_lines = [g for _, g in main]
    lake_lines = _lake_lines(_faces(core, main_lines), old_town)
    blocks0 = _faces(core, main_lines + lake_lines)
    wet = shapely.area(shapely.intersection(blocks0, lake)) > 0.2 * shapely.area(blocks0)
    grids, cuts = _grid_polygons(blocks0, shapely.contains(old_town, shapely.point_on_surface(blocks0)), ~wet, rng)
    blocks = _faces(core, main_lines + lake_lines + cuts)
    grids = _retile(blocks, grids)
    wet = shapely.area(shapely.intersection(blocks, lake)) > 0.2 * shapely.area(blocks)
    cuts += _inner_cuts(blocks, ~wet, N_CUTS - len(cuts), rng)
    blocks = _faces(core, main_lines + lake_lines + cuts)
    sd = _assign_subdistricts(grids, _subdistrict_centres(core), old_town)
    grid_frame = _grid_frame(grids, sd)
    grid_geoms = grid_frame.geometry.values
    setback = shapely.union_all(np.concatenate([
        shapely.buffer(main_lines, ROAD_SETBACK["主干道"]), shapely.buffer(cuts + lake_lines[1:], ROAD_SETBACK["次干道"]),
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


POINT_QUOTA = {  # inspection points (实地考察点位) per kind, in code order
    "主次干道": 64, "背街小巷": 50, "商业大街": 20, "农贸市场": 24, "学校": 36, "医院": 16, "公共厕所": 46,
    "广场公园": 14, "车站": 14, "九小门店": 50, "小区": 60, "城中村": 30, "机关单位": 26, "建筑工地": 18,
}


class _Points:
    """Collects inspection points: a quota per kind, unique names, on dry land of the core."""

    def __init__(self, core: Polygon, lake: Polygon, old_town: Polygon):
        self.rows: list[tuple[str, str, str | None, Point]] = []
        self.names: set[str] = set()
        self.counts = dict.fromkeys(POINT_QUOTA, 0)
        self.dry = shapely.union(shapely.difference(core, lake), old_town)
        shapely.prepare(self.dry)

    def full(self, kind: str) -> bool:
        return self.counts[kind] >= POINT_QUOTA[kind]

    def add(self, kind: str, name: str, point: Point, ref: str | None = None, anywhere: bool = False) -> bool:
        """Add a point unless its kind is full, its name taken or it lies off dry land (unless ``anywhere``)."""
        if self.full(kind) or name in self.names or not (anywhere or self.dry.contains(point)):
            return False
        self.rows.append((kind, name, ref, point))
        self.names.add(name)
        self.counts[kind] += 1
        return True


def _stretches(name: str, line: LineString, others: np.ndarray, bases: list[str]) -> list[tuple]:
    """(start, end, label) of the stretches of a road between junctions (closer than 60 m: one)."""
    stops = [(0.0, None), (line.length, None)]
    for j in np.flatnonzero(shapely.intersects(others, line)):
        if bases[j] != nm.base_road_name(name):
            stops += [(line.project(p), bases[j]) for p in shapely.get_parts(line.intersection(others[j]))]
    stops.sort(key=lambda s: (s[0], s[1] is None))
    merged = [stops[0]]
    for d, b in stops[1:]:
        merged[-1:] = [(merged[-1][0], merged[-1][1] or b)] if d - merged[-1][0] < 60.0 else [merged[-1], (d, b)]
    east_west = np.ptp(np.asarray(line.coords)[:, 0]) > np.ptp(np.asarray(line.coords)[:, 1])
    out = []
    for a, b in zip(merged[:-1], merged[1:]):
        known, free = (line.interpolate(a[0]), line.interpolate(b[0]))[:: 1 if a[1] else -1]
        side = ("东" if free.x > known.x else "西") if east_west else ("北" if free.y > known.y else "南")
        if b[0] - a[0] > 150.0:
            out.append((a[0], b[0], nm.stretch_name(name, a[1], b[1], side)))
    return out


def _road_points(pts: _Points, roads: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """主次干道: one point per chosen stretch between junctions, on the road; every main road first."""
    geoms, codes, bases = roads.geometry.values, roads.code.to_numpy(), [nm.base_road_name(n) for n in roads.name]
    stretches = [(k, *seg) for k, (name, line) in enumerate(zip(roads.name, geoms))
                 for seg in _stretches(name, line, geoms, bases)]
    first = list({s[0]: i for i, s in reversed(list(enumerate(stretches)))}.values())[::-1]
    for i in first + list(rng.permutation(len(stretches))):
        k, a, b, label = stretches[i]
        pts.add("主次干道", label, geoms[k].interpolate(a + rng.uniform(0.3, 0.7) * (b - a)), codes[k], True)


def _member_points(pts: _Points, kind: str, frame: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """Points of 小区 / 城中村 (inside the polygon) and 背街小巷 (mid-lane), named after their feature."""
    pick = np.sort(rng.choice(len(frame), POINT_QUOTA[kind], replace=False))
    geoms = frame.geometry.values[pick]
    lane = kind == "背街小巷"
    at = shapely.line_interpolate_point(geoms, 0.5, normalized=True) if lane else shapely.point_on_surface(geoms)
    for name, p, code in zip(frame.name.to_numpy()[pick], at, frame.code.to_numpy()[pick]):
        pts.add(kind, name, p, code, True)


def _roadside(lines: np.ndarray, rng: np.random.Generator, n: int, offset) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random (line index, point) pairs ``offset`` m (scalar or per line) to either side of ``lines``."""
    k = rng.integers(len(lines), size=n)
    d = rng.uniform(0.1, 0.9, n) * shapely.length(lines[k])
    p = shapely.get_coordinates(shapely.line_interpolate_point(lines[k], d))
    t = shapely.get_coordinates(shapely.line_interpolate_point(lines[k], d + 1.0)) - p
    t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
    off = np.broadcast_to(np.asarray(offset, dtype=float), (len(lines),))[k] * rng.choice([-1.0, 1.0], n)
    return k, shapely.points(p + off[:, None] * np.column_stack([-t[:, 1], t[:, 0]]))


def _roadside_points(pts: _Points, streets: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """公共厕所 and 九小门店 beside streets, 商业大街 beside their road (or in 古城), 车站 and bus stops."""
    serial: dict[str, int] = {}
    offset = np.where(streets.road_class == "背街小巷", 4.0, 14.0)  # lanes run 9 m from compounds
    street_names = streets.name.to_numpy()
    for j, (k, p) in enumerate(zip(*_roadside(streets.geometry.values, rng, 800, offset))):
        if pts.full("公共厕所") and pts.full("九小门店"):
            break
        street = street_names[k]
        serial[street] = serial.get(street, 0) + 1
        pts.add(*(("公共厕所", f"{street}公厕{serial[street]}号") if j % 2 else ("九小门店", nm.shop_name(rng, street))), p)
    roads = streets[streets.road_class != "背街小巷"]
    names, lines = list(roads.name), roads.geometry.values
    for title in nm.OLD_TOWN_STREETS + nm.COMMERCIAL_STREETS:
        hits = [i for i, r in enumerate(names) if title == r or title.startswith(nm.base_road_name(r))]
        k = hits[0] if hits else names.index(nm.OLD_TOWN_STREETS[rng.integers(4)])
        for p in _roadside(lines[[k] * 20], rng, 20, 0.0 if names[k] in nm.OLD_TOWN_STREETS else 18.0)[1]:
            if pts.add("商业大街", title, p):
                break
    station = lines[names.index("站前街")]
    pts.add("车站", nm.STATIONS_FIXED[0], Point(station.coords[0][0], station.coords[0][1] + 60.0))
    for title, p in zip(nm.STATIONS_FIXED[1:] * 10, _roadside(lines[:N_MAIN], rng, 40, 25.0)[1]):
        pts.add("车站", title, p)
    for i, j in zip(*np.triu_indices(N_MAIN, 1)):
        cross, (a, b) = lines[i].intersection(lines[j]), (nm.base_road_name(names[x]) for x in (i, j))
        if a != b and cross.geom_type == "Point" and rng.random() < 0.3:
            pts.add("车站", f"{a}{b}口公交站", Point(cross.x + 20.0, cross.y + 20.0))


def _parcel_points(pts: _Points, spare: np.ndarray, grids: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                   rng: np.random.Generator) -> None:
    """Facilities on parcels that are not compounds: schools, hospitals, offices, markets, sites, parks.

    Fixed names first, then templates filled with the sub-district and the nearest road's name.
    """
    kinds = (("学校", nm.SCHOOLS_FIXED, nm.SCHOOL_TEMPLATES), ("医院", nm.HOSPITALS_FIXED, nm.HOSPITAL_TEMPLATES),
             ("机关单位", nm.OFFICES_FIXED, nm.OFFICE_TEMPLATES), ("农贸市场", (), nm.MARKET_TEMPLATES),
             ("建筑工地", (), nm.SITE_TEMPLATES), ("广场公园", nm.PARKS_FIXED[1:], ()))
    sites = iter(shapely.point_on_surface(spare[rng.permutation(len(spare))]))
    grid_tree, road_tree = shapely.STRtree(grids.geometry.values), shapely.STRtree(roads.geometry.values)
    subdistricts, road_names = grids.subdistrict.to_numpy(), roads.name.to_numpy()
    for kind, fixed, templates in kinds:
        todo = list(fixed)
        while not pts.full(kind):
            p = next(sites)
            sd = subdistricts[grid_tree.query(p, predicate="intersects")[0]]
            road = nm.base_road_name(road_names[road_tree.nearest(p)])
            pts.add(kind, todo.pop(0) if todo else nm.facility_name(rng, templates, sd, road), p)


def _points(layers: dict, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """All inspection points (实地考察点位), coded DW-0001.. in the order of ``POINT_QUOTA``."""
    lake, old_town = layers["_lake"], layers["_old_town"]
    pts = _Points(layers["core"].geometry.values[0], lake, old_town)
    streets = layers["streets"]
    roads = streets[(streets.road_class != "背街小巷") & ~streets.name.isin(nm.OLD_TOWN_STREETS)]
    _road_points(pts, roads, rng)
    for kind, layer in (("背街小巷", "streets"), ("小区", "compounds"), ("城中村", "villages")):
        frame = layers[layer]
        _member_points(pts, kind, frame[frame.road_class == kind] if layer == "streets" else frame, rng)
    _roadside_points(pts, streets, rng)
    pts.add("广场公园", "光岳楼广场", old_town.centroid)
    pts.add("广场公园", nm.PARKS_FIXED[0], shapely.difference(lake, old_town.buffer(150.0)).point_on_surface(), None, True)
    _parcel_points(pts, layers["_spare"], layers["grids"], roads, rng)
    rows = sorted(pts.rows, key=lambda r: list(POINT_QUOTA).index(r[0]))
    return gpd.GeoDataFrame({
        "code": [f"DW-{k + 1:04d}" for k in range(len(rows))], "name": [r[1] for r in rows],
        "kind": [r[0] for r in rows], "ref_code": [r[2] for r in rows], "geometry": [r[3] for r in rows],
    }, crs=METRIC_CRS)


def build_geometry(seed: int = 2024) -> dict[str, gpd.GeoDataFrame]:
    """Build the demo city: layers core, grids, streets, compounds, villages, points (EPSG:4326).

    The same seed gives identical output (rows, order, WKB); the skeleton (core outline, lake, old
    town, main roads) is the same for every seed. See the module docstring.
    """
    layers = _build_metric(seed)
    layers["points"] = _points(layers, layers["_rng"])
    return {k: v.to_crs(WGS84) for k, v in layers.items() if not k.startswith("_")}
