"""Extra demo districts (issue 17): a small county-seat town in each other county of Liaocheng.

`gis demo` builds 东昌府区 (`gis.demo.geometry`, `gis.demo.people`) exactly as before; ``--districts``
adds some of the seven other county-level units of Liaocheng, for tests and benchmarks of a
multi-district deployment. Each is a compact town of about 5 km across around the county's seat
of government (DataV's ``center``), inside the county's real boundary
(``data/shapefiles/source/liaocheng_counties_gcj02.geojson``, GCJ-02 as published, converted by
``gis.geo.china``): 12 grids, 20 streets, 60 compounds, 6 urban villages, inspection points
in the home demo's kind mix (89), the county's units and people, and 帮包 assignments covering every
grid, street, compound, village and point (the 全覆盖 rule of ``gis.demo.people.coverage_gaps``).

``build_district`` returns the same layers and tables, with the same columns, dtypes and CRS
(EPSG:4326), as ``gis.demo.build.generate`` does for grids, streets, compounds, villages, points,
core, units, persons and assignments. Every code carries the district's two-letter prefix (grids
``YG-01``, streets ``YG-JX-001``, compounds ``YG-XQ-0001``, villages ``YG-CZC-01``, points
``YG-DW-0001``, units ``YG-U-001``, persons ``YG-P-001``), so no code collides with the home demo
(``DC-01``, ``JX-001`` …) or with another district.

The geometry reuses the home generator's building blocks (faces of a planar road graph, cuts,
lattice parcels, lanes, road stretches: ``gis.demo.geometry``) on a simpler skeleton: a wobbly
ellipse of a core crossed by a 3 x 3 lattice of kinked main roads. All metric work happens in
EPSG:4548. Deterministic for a given seed and district; the home demo's output is untouched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import ops
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from gis.config import SHAPEFILE_DIR
from gis.demo import geometry as geo
from gis.demo import names as nm
from gis.demo.people import START, _phones, chinese_names, locate_in_grids
from gis.geo import china
from gis.geo.crs import METRIC_CRS, WGS84, xy_to_metric

COUNTIES_FILE = SHAPEFILE_DIR / "source" / "liaocheng_counties_gcj02.geojson"


class DemoDistrict(NamedTuple):
    """A county-level unit of the demo: adcode, name and the two-letter prefix of its codes."""

    code: str
    name: str
    prefix: str


HOME = DemoDistrict("371502", "东昌府区", "DC")  # the home demo (gis.demo.geometry): grids DC-01 … DC-61
DEMO_DISTRICTS = (  # the extra districts, in the order `--districts N` takes them
    DemoDistrict("371503", "茌平区", "CP"), DemoDistrict("371521", "阳谷县", "YG"),
    DemoDistrict("371522", "莘县", "SX"), DemoDistrict("371524", "东阿县", "DE"),
    DemoDistrict("371525", "冠县", "GX"), DemoDistrict("371526", "高唐县", "GT"),
    DemoDistrict("371581", "临清市", "LQ"),
)


class _Town(NamedTuple):
    short: str  # the name used in place names (阳谷第一中学, 阳谷汽车站)
    subdistricts: tuple[str, ...]  # 街道 of the county seat
    roads: tuple[str, ...]  # local road names, main roads first


_TOWNS = {  # real 街道 of each county seat; road names plausible, partly real, positions invented
    "371503": _Town("茌平", ("振兴街道", "信发街道", "温陈街道"),
                      ("振兴路", "新政路", "信发路", "文化路", "茌山路", "中心街")),
    "371521": _Town("阳谷", ("狮子楼街道", "博济桥街道", "侨润街道"),
                      ("谷山路", "狮子楼路", "金水路", "博济路", "景阳冈路", "侨润路")),
    "371522": _Town("莘县", ("燕塔街道", "莘州街道", "莘亭街道"),
                      ("莘州路", "燕塔路", "莘亭路", "东顺路", "马桥路", "振兴街")),
    "371524": _Town("东阿", ("铜城街道", "新城街道"),
                      ("阿胶街", "铜城路", "曙光路", "新城路", "洛神路", "艾山路")),
    "371525": _Town("冠县", ("清泉街道", "崇文街道", "烟庄街道"),
                      ("冠州路", "清泉路", "崇文路", "红旗路", "烟庄路", "武训路")),
    "371526": _Town("高唐", ("鱼邱湖街道", "汇鑫街道", "人和街道"),
                      ("鱼邱湖路", "人和路", "汇鑫路", "金城路", "官道街", "时风路")),
    "371581": _Town("临清", ("青年路街道", "新华路街道", "先锋路街道"),
                      ("青年路", "新华路", "先锋路", "温泉路", "大众路", "永青路")),
}
GENERIC_ROADS = (  # 次干道 after a town's own names run out
    "人民路", "建设路", "解放路", "胜利路", "光明路", "团结路", "和平路", "民主路", "育才路", "幸福路",
    "工业路", "府前街", "银河路", "长江路", "黄河路", "泰山路", "滨河路", "花园路", "体育路", "迎宾路",
    "富民路", "向阳路", "丰收路", "健康路", "开发路", "政通路", "商业街", "学府路", "兴业路", "康宁路",
)
_COMMUNITY_STEMS = ("东关", "西关", "南关", "北关", "新华", "建设", "文化", "向阳", "育才", "幸福", "和平", "光明",
                    "人民", "府前", "胜利", "兴隆", "富民", "康宁", "花园", "滨河")
_HOME_STEMS = ("东昌", "柳园", "光岳", "古楼", "水城", "昌润", "东方")  # place words of 东昌府区, left out of names

N_GRIDS, N_STREETS, N_COMPOUNDS, N_VILLAGES = 12, 20, 60, 6
N_MAIN_EACH = 3  # main roads (主干道) each way, east-west and north-south
N_SECONDARY = 6  # 次干道; the rest of the streets are 背街小巷
CORE_AXES = ((2300.0, 2800.0), (1900.0, 2400.0))  # m, ranges of the core's semi-axes (about 5 x 4.3 km)
MAIN_SPACING = 1500.0  # m between parallel main roads
MIN_GRID = 0.7e6  # m², smaller road blocks are merged into a neighbour
SETBACK = {"主干道": 24.0, "次干道": 14.0}  # m from a road's centre line to the first compound
POINT_QUOTA = {  # inspection points per kind (89), in code order: about a fifth of the home demo's
    "主次干道": 14, "背街小巷": 6, "商业大街": 4, "农贸市场": 5, "学校": 7, "医院": 3, "公共厕所": 9,
    "广场公园": 3, "车站": 3, "九小门店": 10, "小区": 12, "城中村": 4, "机关单位": 5, "建筑工地": 4,
}


# --- which districts, where -------------------------------------------------------------------------

def select_districts(spec: int | str | Sequence[str]) -> list[DemoDistrict]:
    """The extra districts of ``--districts``: the first N of `DEMO_DISTRICTS`, or the ones named.

    A name may be the adcode (371521), the full name (阳谷县), the name without its 县/区/市 (阳谷)
    or the prefix (YG); a string is split at commas and spaces ("3" is N). Unknown names raise
    ValueError; the home district is never among them.
    """
    if isinstance(spec, str):
        spec = [s for s in re.split(r"[,，、\s]+", spec) if s]
        spec = int(spec[0]) if len(spec) == 1 and spec[0].isdigit() and len(spec[0]) < 6 else spec
    if isinstance(spec, int):
        if not 0 <= spec <= len(DEMO_DISTRICTS):
            raise ValueError(f"--districts takes 0 to {len(DEMO_DISTRICTS)}, not {spec}")
        return list(DEMO_DISTRICTS[:spec])
    out = []
    for key in spec:
        hits = [d for d in DEMO_DISTRICTS if key.strip() in (d.code, d.name, d.name[:-1], d.prefix, d.prefix.lower())]
        if not hits:
            raise ValueError(f"no demo district {key!r}: one of " + ", ".join(d.name for d in DEMO_DISTRICTS))
        out += [h for h in hits if h not in out]
    return out


def district(code: str) -> DemoDistrict:
    """The demo district (home or extra) with adcode ``code``."""
    for d in (HOME,) + DEMO_DISTRICTS:
        if d.code == str(code):
            return d
    raise KeyError(f"no demo district with adcode {code}")


@lru_cache(maxsize=1)
def _counties() -> gpd.GeoDataFrame:
    """The 8 county boundaries in WGS84 (adcode as str, name, seat point, valid geometry)."""
    gdf = gpd.read_file(COUNTIES_FILE, engine="pyogrio")
    seats = np.array([china.gcj02_to_wgs84(*c) for c in gdf["center"]])
    gdf = china.to_wgs84(gdf, "gcj02")
    geoms = np.array([_valid(g) for g in gdf.geometry.values], dtype=object)
    return gpd.GeoDataFrame({"code": gdf["adcode"].astype(str), "name": gdf["name"],
                             "seat": shapely.points(seats)}, geometry=geoms, crs=WGS84).set_index("code")


def _valid(geom) -> shapely.Geometry:
    """A polygonal geometry made valid: 莘县's two parts touch along a line as published."""
    if shapely.is_valid(geom):
        return geom
    parts = shapely.get_parts(shapely.make_valid(shapely.union_all(shapely.get_parts(geom))))
    return shapely.union_all(parts[shapely.get_type_id(parts) == 3])


def county_boundary(code: str) -> shapely.Geometry:
    """The real boundary of county-level unit ``code`` (adcode, e.g. "371521") in WGS84, valid and prepared.

    Read from the GCJ-02 export that ships in ``data/shapefiles/source/`` and converted with
    ``gis.geo.china``, as ``gis.geo.district`` does for 东昌府区; KeyError for a code not in Liaocheng.
    """
    geom = _counties().loc[str(code), "geometry"]
    shapely.prepare(geom)
    return geom


def county_seat(code: str) -> Point:
    """Where the county's seat of government is (DataV's ``center``), WGS84: the demo town's centre."""
    return _counties().loc[str(code), "seat"]


# --- geometry --------------------------------------------------------------------------------------

def _inland(boundary: Polygon, centre: np.ndarray, reach: float) -> np.ndarray:
    """``centre`` moved away from the nearest border until the border is ``reach`` m away (if it can be)."""
    p = Point(centre)
    gap = boundary.boundary.distance(p)
    if gap >= reach:
        return centre
    edge = np.asarray(ops.nearest_points(boundary.boundary, p)[0].coords[0])
    away = (centre - edge) / max(np.hypot(*(centre - edge)), 1e-9)
    moved = centre + away * (reach - gap)
    return moved if boundary.contains(Point(moved)) else centre


def _core(boundary: Polygon, seat: np.ndarray, rng: np.random.Generator) -> Polygon:
    """The town's urban core: a wobbly ellipse around the seat, kept 100 m inside the county."""
    axes = (rng.uniform(*CORE_AXES[0]), rng.uniform(*CORE_AXES[1]))
    centre = _inland(boundary, seat, max(axes) + 400.0)
    blob = geo._blob(centre, axes, geo._wobble(rng, (2, 3, 4, 5), 0.05))
    parts = shapely.get_parts(shapely.intersection(blob, shapely.buffer(boundary, -100.0)))
    return parts[int(np.argmax(shapely.area(parts)))]


def _main_roads(core: Polygon, names: list[str], rng: np.random.Generator) -> list[tuple[str, LineString]]:
    """The main roads (主干道): three each way across the core, gently kinked, the lattice turned a little."""
    (cx, cy), turn = core.centroid.coords[0], rng.normal(0.0, 0.08)
    u = np.array([np.cos(turn), np.sin(turn)])
    v = np.array([-u[1], u[0]])
    rows = []
    for along, across in ((u, v), (v, u)):
        for off in (np.arange(N_MAIN_EACH) - (N_MAIN_EACH - 1) / 2) * MAIN_SPACING + rng.normal(0, 120, N_MAIN_EACH):
            mid = np.array([cx, cy]) + across * off
            line = geo._kinked_line(mid - along * 6e3, mid + along * 6e3, rng, step=900.0)
            clipped = shapely.intersection(line, core)
            if not clipped.is_empty and clipped.length > 600.0:
                rows.append(geo._longest(clipped))
    return list(zip(names, rows))


def _grid_polygons(faces: np.ndarray, rng: np.random.Generator) -> tuple[list[Polygon], list[LineString]]:
    """Merge small road blocks and cut big ones with new 次干道 until there are exactly ``N_GRIDS``."""
    polys, alive, cuts = list(faces), [True] * len(faces), []
    for _ in range(20 * N_GRIDS):
        live = [k for k in range(len(polys)) if alive[k]]
        small = [k for k in live if polys[k].area < MIN_GRID]
        if small or len(live) > N_GRIDS:
            i = min(small or live, key=lambda k: (polys[k].area, k))
            j = geo._best_neighbour(polys, alive, list(range(len(polys))), i)
            polys[j], alive[i] = shapely.union(polys[i], polys[j]), False
        elif len(live) < N_GRIDS:
            i = max(live, key=lambda k: (polys[k].area, -k))
            line, pieces = geo._split(polys[i], rng)
            cuts.append(line)
            alive[i] = False
            polys += pieces
            alive += [True] * len(pieces)
        else:
            return [polys[k] for k in live], cuts
    raise RuntimeError("grid construction did not converge")


def _subdistricts(grids: np.ndarray, core: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """街道 index per grid: the core cut into ``n`` sectors around its centre, with equal grid counts."""
    xy = shapely.get_coordinates(shapely.point_on_surface(grids)) - np.asarray(core.centroid.coords[0])
    angle = (np.arctan2(xy[:, 1], xy[:, 0]) - rng.uniform(0, 2 * np.pi)) % (2 * np.pi)
    sd = np.empty(len(grids), dtype=int)
    for k, chunk in enumerate(np.array_split(np.argsort(angle, kind="stable"), n)):
        sd[chunk] = k
    return sd


def _grid_frame(grids: np.ndarray, sd: np.ndarray, d: DemoDistrict, town: _Town) -> gpd.GeoDataFrame:
    """Grids coded YG-01.. by 街道, numbered north-west to south-east within each (as the home demo's)."""
    xy = shapely.get_coordinates(shapely.point_on_surface(grids))
    order = np.lexsort((xy[:, 0], -np.round(xy[:, 1] / 1200.0), sd))
    rank: dict[int, int] = {}
    names = []
    for g in order:
        rank[sd[g]] = rank.get(sd[g], 0) + 1
        names.append(f"{town.subdistricts[sd[g]]}第{rank[sd[g]]}网格")
    return gpd.GeoDataFrame({
        "code": [f"{d.prefix}-{k + 1:02d}" for k in range(len(grids))], "name": names,
        "subdistrict": [town.subdistricts[sd[g]] for g in order],
        "geometry": [MultiPolygon(list(shapely.get_parts(grids[g]))) for g in order],
    }, crs=METRIC_CRS)


def _villages(insets: np.ndarray, core: Polygon, rng: np.random.Generator) -> np.ndarray:
    """``N_VILLAGES`` irregular 城中村 (4–25 ha), each inside one road block, more often toward the edge."""
    centre, radius = np.asarray(core.centroid.coords[0]), np.sqrt(core.area / np.pi)
    xmin, ymin, xmax, ymax = core.bounds
    cand = np.column_stack([rng.uniform(xmin, xmax, 4000), rng.uniform(ymin, ymax, 4000)])
    edge = np.hypot(*(cand - centre).T) / radius
    cand = cand[rng.random(len(cand)) < np.clip(edge, 0.0, 1.0) ** 2]
    villages: list[Polygon] = []
    for p, b in zip(*shapely.STRtree(insets).query(shapely.points(cand), predicate="within")):
        t = (np.arange(11) + rng.uniform(-0.35, 0.35, 11)) * 2 * np.pi / 11
        r = np.sqrt(rng.uniform(6e4, 2.2e5) / np.pi) * rng.uniform(0.7, 1.25, t.size)
        blob = Polygon(np.column_stack([cand[p, 0] + r * np.cos(t), cand[p, 1] + r * np.sin(t)]))
        parts = shapely.get_parts(shapely.intersection(blob, insets[b]))
        v = parts[int(np.argmax(shapely.area(parts)))] if parts.size else Polygon()
        if 4e4 <= v.area <= 2.5e5 and not (villages and shapely.intersects(villages, v.buffer(80.0)).any()):
            villages.append(v)
        if len(villages) == N_VILLAGES:
            return np.array(villages, dtype=object)
    raise RuntimeError("could not place all urban villages")


def _centrality(geoms: np.ndarray, core: Polygon) -> np.ndarray:
    """Distance of each feature from the core's centroid, in units of the core's mean radius."""
    xy = shapely.get_coordinates(shapely.centroid(geoms)) - np.asarray(core.centroid.coords[0])
    return np.hypot(xy[:, 0], xy[:, 1]) / np.sqrt(core.area / np.pi)


def _compound_names(town: _Town, rng: np.random.Generator, old: np.ndarray) -> np.ndarray:
    """小区 names: the town's own (阳谷花园) and the home pool without 东昌府区's place words; old ones
    after the work unit that built them (阳谷棉纺厂宿舍)."""
    pool = [town.short + s for s in nm.COMPOUND_SUFFIXES]
    pool += [n for n in nm.compound_pool() if not n.startswith(_HOME_STEMS)]
    names = np.empty(len(old), dtype=object)
    names[old] = nm.unique_names(rng, nm.combine([town.short], nm.WORK_UNITS, nm.WORK_UNIT_SUFFIXES), int(old.sum()))
    names[~old] = nm.unique_names(rng, pool, int((~old).sum()))
    return names


def _compound_frame(parcels: np.ndarray, core: Polygon, grids: np.ndarray, d: DemoDistrict, town: _Town,
                    rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Pick the 小区 among the parcels (denser toward the centre); return (frame, spare parcels).

    As in the home demo: about 15 % old compounds without property management, mostly central;
    households ~ area x a log-normal density (a little lower than in the prefecture city).
    """
    w = 0.3 + np.exp(-(_centrality(parcels, core) / 0.6) ** 2)
    chosen = rng.choice(len(parcels), N_COMPOUNDS, replace=False, p=w / w.sum())
    spare = parcels[np.setdiff1d(np.arange(len(parcels)), chosen)]
    geoms = parcels[chosen][geo._order(parcels[chosen], grids)]
    w_old = np.exp(-_centrality(geoms, core) / 0.35)
    old = np.zeros(N_COMPOUNDS, dtype=bool)
    old[rng.choice(N_COMPOUNDS, round(0.15 * N_COMPOUNDS), replace=False, p=w_old / w_old.sum())] = True
    names = _compound_names(town, rng, old)
    density = np.where(old, rng.lognormal(np.log(80.0), 0.35, N_COMPOUNDS),  # households per hectare
                       rng.lognormal(np.log(120.0), 0.45, N_COMPOUNDS))
    companies = np.array(_property_companies(d, town), dtype=object)
    companies = companies[rng.integers(len(companies), size=N_COMPOUNDS)]
    frame = gpd.GeoDataFrame({
        "code": [f"{d.prefix}-XQ-{k + 1:04d}" for k in range(N_COMPOUNDS)], "name": names,
        "households": np.clip(np.round(shapely.area(geoms) / 1e4 * density), 60, 2500).astype(int),
        "property_company": np.where(old, None, companies), "geometry": geoms,
    }, crs=METRIC_CRS)
    return frame, spare


def _property_companies(d: DemoDistrict, town: _Town) -> list[str]:
    """Six property companies of the town: four local, two of the prefecture city."""
    local = [f"{d.name}{w}物业管理有限公司" for w in ("安居", "恒泰", "鑫源")] + [f"{town.short}城建物业服务有限公司"]
    return local + ["聊城市安居物业管理有限公司", "山东鑫源物业服务有限公司"]


def _village_frame(villages: np.ndarray, grids: np.ndarray, d: DemoDistrict,
                   rng: np.random.Generator) -> gpd.GeoDataFrame:
    """城中村 coded YG-CZC-01.. in grid order; households ~ area x 20–45 per hectare."""
    geoms = villages[geo._order(villages, grids)]
    pool = [v for v in nm.combine(nm.VILLAGE_STEMS, nm.VILLAGE_SUFFIXES) if v not in nm.VILLAGE_FIXED]
    return gpd.GeoDataFrame({
        "code": [f"{d.prefix}-CZC-{k + 1:02d}" for k in range(len(geoms))],
        "name": nm.unique_names(rng, pool, len(geoms)),
        "households": np.round(shapely.area(geoms) / 1e4 * rng.uniform(20.0, 45.0, len(geoms))).astype(int),
        "geometry": geoms,
    }, crs=METRIC_CRS)


def _street_frame(main, cuts, lanes, core, d: DemoDistrict, town: _Town, rng) -> gpd.GeoDataFrame:
    """The 街巷: main roads, then 次干道 (the town's spare names, then generic ones), then 背街小巷."""
    taken = {n for n, _ in main}
    spare = list(town.roads) + nm.unique_names(rng, GENERIC_ROADS, len(GENERIC_ROADS))
    cut_names = [n for n in dict.fromkeys(spare) if n not in taken][:len(cuts)]
    rows = [(n, "主干道", g) for n, g in main]
    rows += [(n, "次干道", geo._longest(shapely.intersection(g, core))) for n, g in zip(cut_names, cuts)]
    rows += [(n, "背街小巷", g) for n, g in zip(nm.unique_names(rng, nm.lane_pool(), len(lanes)), lanes)]
    return gpd.GeoDataFrame({
        "code": [f"{d.prefix}-JX-{k + 1:03d}" for k in range(len(rows))], "name": [r[0] for r in rows],
        "road_class": [r[1] for r in rows], "geometry": [r[2] for r in rows],
    }, crs=METRIC_CRS)


def _main_names(town: _Town, rng: np.random.Generator) -> list[str]:
    """Names for the six main roads: the town's own, the first (its main street) always first."""
    rest = list(town.roads[1:2 * N_MAIN_EACH])
    return [town.roads[0]] + [rest[i] for i in rng.permutation(len(rest))]


def _build_metric(d: DemoDistrict, seed: int) -> dict:
    """All layers but the points, in EPSG:4548, plus what the points need (spare parcels, rng)."""
    rng = np.random.default_rng([seed, int(d.code)])
    town = _TOWNS[d.code]
    boundary = gpd.GeoSeries([county_boundary(d.code)], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    seat = county_seat(d.code)
    core = _core(boundary, xy_to_metric(seat.x, seat.y)[0], rng)
    main = _main_roads(core, _main_names(town, rng), rng)
    main_lines = [g for _, g in main]
    grids, cuts = _grid_polygons(geo._faces(core, main_lines), rng)
    blocks = geo._faces(core, main_lines + cuts)
    grids = geo._retile(blocks, grids)
    cuts += geo._inner_cuts(blocks, np.ones(len(blocks), dtype=bool), max(0, N_SECONDARY - len(cuts)), rng)
    blocks = geo._faces(core, main_lines + cuts)
    grid_frame = _grid_frame(grids, _subdistricts(grids, core, len(town.subdistricts), rng), d, town)
    grid_geoms = grid_frame.geometry.values
    setback = shapely.union_all(np.concatenate([shapely.buffer(main_lines, SETBACK["主干道"]),
                                                shapely.buffer(cuts, SETBACK["次干道"])]))
    insets = shapely.difference(blocks, setback)
    villages = _villages(insets, core, rng)
    avail = shapely.difference(insets, shapely.buffer(shapely.union_all(villages), 25.0))
    parcels, lane_cands = geo._parcels(insets, avail, rng)
    compounds, spare = _compound_frame(parcels, core, grid_geoms, d, town, rng)
    lanes = geo._pick_lanes(lane_cands, compounds.geometry.values, villages, N_STREETS - len(main) - len(cuts), rng)
    return {
        "core": gpd.GeoDataFrame({"name": [f"{d.name}城区"], "geometry": [core]}, crs=METRIC_CRS),
        "grids": grid_frame, "streets": _street_frame(main, cuts, lanes, core, d, town, rng), "compounds": compounds,
        "villages": _village_frame(villages, grid_geoms, d, rng), "_spare": spare, "_rng": rng,
    }


# --- inspection points -----------------------------------------------------------------------------

class _Points:
    """Collects inspection points: ``POINT_QUOTA`` per kind, unique names, inside the core.

    The same interface as ``gis.demo.geometry._Points`` (``add``, ``full``), so the home demo's
    road-stretch and roadside helpers fill it too.
    """

    def __init__(self, core: Polygon):
        self.rows: list[tuple[str, str, str | None, Point]] = []
        self.names: set[str] = set()
        self.counts = dict.fromkeys(POINT_QUOTA, 0)
        self.core = core
        shapely.prepare(core)

    def full(self, kind: str) -> bool:
        return self.counts[kind] >= POINT_QUOTA[kind]

    def add(self, kind: str, name: str, point: Point, ref: str | None = None, anywhere: bool = False) -> bool:
        """Add a point unless its kind is full, its name taken or it lies outside the core (unless ``anywhere``)."""
        if self.full(kind) or name in self.names or not (anywhere or self.core.contains(point)):
            return False
        self.rows.append((kind, name, ref, point))
        self.names.add(name)
        self.counts[kind] += 1
        return True


def _member_points(pts: _Points, kind: str, frame: gpd.GeoDataFrame, rng: np.random.Generator) -> None:
    """Points of 小区 / 城中村 (inside the polygon) and 背街小巷 (mid-lane), named after their feature."""
    pick = np.sort(rng.choice(len(frame), min(POINT_QUOTA[kind], len(frame)), replace=False))
    geoms = frame.geometry.values[pick]
    lane = kind == "背街小巷"
    at = shapely.line_interpolate_point(geoms, 0.5, normalized=True) if lane else shapely.point_on_surface(geoms)
    for name, p, code in zip(frame.name.to_numpy()[pick], at, frame.code.to_numpy()[pick]):
        pts.add(kind, name, p, code, True)


def _roadside_points(pts: _Points, streets: gpd.GeoDataFrame, town: _Town, rng: np.random.Generator) -> None:
    """公共厕所 and 九小门店 beside streets, 商业大街 beside main roads, the bus station and bus stops."""
    serial: dict[str, int] = {}
    offset = np.where(streets.road_class == "背街小巷", 4.0, 14.0)
    street_names = streets.name.to_numpy()
    for j, (k, p) in enumerate(zip(*geo._roadside(streets.geometry.values, rng, 300, offset))):
        if pts.full("公共厕所") and pts.full("九小门店"):
            break
        street = street_names[k]
        serial[street] = serial.get(street, 0) + 1
        pts.add(*(("公共厕所", f"{street}公厕{serial[street]}号") if j % 2 else ("九小门店", nm.shop_name(rng, street))), p)
    main = streets[streets.road_class == "主干道"]
    names, lines = main.name.to_list(), main.geometry.values
    for k, title in enumerate(("商业街", "步行街", "美食街", "夜市街", "商业街")):
        for p in geo._roadside(lines[[k % len(lines)] * 20], rng, 20, 18.0)[1]:
            if pts.add("商业大街", names[k % len(lines)] + title, p):
                break
    for title, p in zip((f"{town.short}汽车站", f"{town.short}公交总站"), geo._roadside(lines, rng, 2, 30.0)[1]):
        pts.add("车站", title, p)
    for i, j in zip(*np.triu_indices(len(lines), 1)):
        cross = lines[i].intersection(lines[j])
        if cross.geom_type == "Point":
            pts.add("车站", f"{names[i]}{names[j]}口公交站", Point(cross.x + 20.0, cross.y + 20.0))


def _fixed_facilities(d: DemoDistrict, town: _Town) -> dict[str, list[str]]:
    """The town's named facilities by point kind; templates fill the rest."""
    s = town.short
    return {
        "学校": [f"{s}第一中学", f"{s}第二中学", f"{d.name}实验小学", f"{d.name}实验中学"],
        "医院": [f"{d.name}人民医院", f"{d.name}中医医院", f"{d.name}妇幼保健院"],
        "机关单位": [f"{d.name}人民政府", f"{d.name}人民法院", f"{d.name}综合行政执法局"],
        "广场公园": [f"{s}人民广场", f"{s}文化广场", f"{s}体育公园"],
    }


def _parcel_points(pts: _Points, spare: np.ndarray, grids: gpd.GeoDataFrame, roads: gpd.GeoDataFrame,
                   d: DemoDistrict, town: _Town, rng: np.random.Generator) -> None:
    """Schools, hospitals, offices, markets, building sites and parks on parcels that are not compounds."""
    templates = {"学校": nm.SCHOOL_TEMPLATES, "医院": nm.HOSPITAL_TEMPLATES, "机关单位": nm.OFFICE_TEMPLATES,
                 "农贸市场": nm.MARKET_TEMPLATES, "建筑工地": nm.SITE_TEMPLATES, "广场公园": ()}
    fixed = _fixed_facilities(d, town)
    sites = iter(shapely.point_on_surface(spare[rng.permutation(len(spare))]))
    grid_tree, road_tree = shapely.STRtree(grids.geometry.values), shapely.STRtree(roads.geometry.values)
    subdistricts, road_names = grids.subdistrict.to_numpy(), roads.name.to_numpy()
    for kind, tmpl in templates.items():
        todo = list(fixed.get(kind, ()))
        while not pts.full(kind):
            p = next(sites)
            sd = subdistricts[grid_tree.query(p, predicate="intersects")[0]]
            road = nm.base_road_name(road_names[road_tree.nearest(p)])
            pts.add(kind, todo.pop(0) if todo else nm.facility_name(rng, tmpl, sd, road), p)


def _points(layers: dict, d: DemoDistrict, town: _Town) -> gpd.GeoDataFrame:
    """All inspection points, coded YG-DW-0001.. in the order of ``POINT_QUOTA``."""
    rng = layers["_rng"]
    pts = _Points(layers["core"].geometry.values[0])
    streets = layers["streets"]
    roads = streets[streets.road_class != "背街小巷"]
    geo._road_points(pts, roads, rng)
    for kind, layer in (("背街小巷", "streets"), ("小区", "compounds"), ("城中村", "villages")):
        frame = layers[layer]
        _member_points(pts, kind, frame[frame.road_class == kind] if layer == "streets" else frame, rng)
    _roadside_points(pts, streets, town, rng)
    _parcel_points(pts, layers["_spare"], layers["grids"], roads, d, town, rng)
    rows = sorted(pts.rows, key=lambda r: list(POINT_QUOTA).index(r[0]))
    return gpd.GeoDataFrame({
        "code": [f"{d.prefix}-DW-{k + 1:04d}" for k in range(len(rows))], "name": [r[1] for r in rows],
        "kind": [r[0] for r in rows], "ref_code": [r[2] for r in rows], "geometry": [r[3] for r in rows],
    }, crs=METRIC_CRS)


# --- units, persons, assignments -------------------------------------------------------------------

def _catalogue(d: DemoDistrict) -> list[tuple[str, str, str]]:
    """(key, name, kind) of the county's own units, and the city's 督导组 that its 市级 leaders lead."""
    n, t = d.name, d.name[-1]
    dept = f"{t}直部门"
    police = f"聊城市公安局{n[:-1]}分局" if t == "区" else f"{n}公安局"
    return [("city", f"聊城市创城督导组（{n}）", "市直部门"),
            ("party", f"中共{n}委", dept), ("gov", f"{n}人民政府", dept), ("npc", f"{n}人大常委会", dept),
            ("cppcc", f"政协{n}委员会", dept), ("wmb", f"{n}委宣传部（{n}文明办）", dept),
            ("zfj", f"{n}综合行政执法局", dept), ("zjj", f"{n}住房和城乡建设局", dept),
            ("scjg", f"{n}市场监督管理局", dept), ("wjj", f"{n}卫生健康局", dept), ("jtj", f"{n}教育和体育局", dept),
            ("jtysj", f"{n}交通运输局", dept), ("jgsw", f"{n}机关事务服务中心", dept), ("ga", police, dept)]


_CITY_TITLES = ("聊城市人大常委会副主任", "聊城市政协副主席")
_COUNTY_TITLES = (("{t}委副书记", "party"), ("{t}委常委、常务副{t}长", "gov"), ("{t}委常委、宣传部部长", "party"),
                  ("副{t}长", "gov"), ("{t}人大常委会副主任", "npc"), ("{t}政协副主席", "cppcc"))
_GRID_HEAD_TITLES = ("党工委副书记", "办事处副主任", "人大工委主任", "党工委委员")
_POINT_UNIT = {"主次干道": "zfj", "商业大街": "zfj", "农贸市场": "scjg", "学校": "jtj", "医院": "wjj",
               "公共厕所": "zfj", "广场公园": "zfj", "车站": "jtysj", "九小门店": "scjg", "机关单位": "jgsw",
               "建筑工地": "zjj"}
_GRID_DEPTS = ("zfj", "zjj", "scjg", "wjj", "jtj", "wmb", "jtysj")


def _units(d: DemoDistrict, grids: pd.DataFrame, compounds: pd.DataFrame, rng: np.random.Generator):
    """Units table (YG-U-001..) and lookups: catalogue key, 街道 and 社区 per grid row, 物业 by company."""
    code = lambda i: f"{d.prefix}-U-{i + 1:03d}"  # noqa: E731
    rows = [(name, kind) for _, name, kind in _catalogue(d)]
    key = {k: code(i) for i, (k, _, _) in enumerate(_catalogue(d))}
    subd_of, comm_of = {}, {}
    for sub in dict.fromkeys(grids["subdistrict"]):
        subd_of[sub] = code(len(rows))
        rows.append((sub + "办事处", "街道办事处"))
    stems = iter(nm.unique_names(rng, _COMMUNITY_STEMS, len(_COMMUNITY_STEMS)))
    for sub in subd_of:  # one 社区 per two grids of the same 街道
        members = np.flatnonzero(grids["subdistrict"].to_numpy() == sub)
        for pair in range(0, len(members), 2):
            comm_of |= dict.fromkeys(members[pair:pair + 2].tolist(), code(len(rows)))
            rows.append((f"{next(stems)}社区居委会", "社区"))
    prop_of = {}
    for c in sorted({c for c in compounds["property_company"] if isinstance(c, str) and c}):
        prop_of[c] = code(len(rows))
        rows.append((c, "物业企业"))
    units = pd.DataFrame(rows, columns=["name", "kind"])
    units.insert(0, "code", [code(i) for i in range(len(units))])
    units["phone"] = _phones(rng, len(units), mobile=False)
    units["contact"] = chinese_names(rng, len(units))
    grid_subd = {g: subd_of[s] for g, s in enumerate(grids["subdistrict"])}
    return units, key, grid_subd, comm_of, prop_of


def _leader_rows(d: DemoDistrict, key: dict, n_grid: int) -> list[tuple[str, str, str]]:
    """(title, level, unit) of the 帮包 leaders: two of the city, one of the county per two grids."""
    t = d.name[-1]
    city = [(title, "市级", key["city"]) for title in _CITY_TITLES]
    county = [(title.format(t=t), "县级", key[k]) for title, k in _COUNTY_TITLES]
    return city + (county * n_grid)[: (n_grid + 1) // 2]


def _build_people(d: DemoDistrict, layers: dict, seed: int) -> dict[str, pd.DataFrame]:
    """Units, persons and assignments of the district, covering everything as the home demo does.

    Every grid: one 帮包市级领导, one 帮包县级领导, one 网格长, 1–2 网格员, a 社区 and a department
    as 责任单位; every street, compound, village and point: its 责任单位 and its grid's 帮包县级领导;
    every point a 点长. No history (all rows start on ``START`` and are open-ended).
    """
    rng = np.random.default_rng([seed, int(d.code), 7])
    grids = layers["grids"].reset_index(drop=True)
    units, key, grid_subd, comm_of, prop_of = _units(d, grids, layers["compounds"], rng)
    uname = dict(zip(units["code"], units["name"]))
    persons = _leader_rows(d, key, len(grids))
    asg: list[tuple] = []  # target_kind, target_code, role, person index | None, unit code
    for role, level in (("帮包市级领导", "市级"), ("帮包县级领导", "县级")):
        ids = [i for i, p in enumerate(persons) if p[1] == level]
        for pid, chunk in zip(ids, np.array_split(np.arange(len(grids)), len(ids))):
            asg += [("grid", grids["code"].iat[g], role, pid, persons[pid][2]) for g in chunk]
    members = rng.integers(1, 3, size=len(grids))
    for g, (code, sub) in enumerate(zip(grids["code"], grids["subdistrict"])):
        persons.append((sub + _GRID_HEAD_TITLES[g % len(_GRID_HEAD_TITLES)], "街道", grid_subd[g]))
        asg.append(("grid", code, "网格长", len(persons) - 1, grid_subd[g]))
        comm = uname[comm_of[g]].removesuffix("居委会")
        for m in range(int(members[g])):
            persons.append((comm + "专职网格员", "社区", comm_of[g]))
            asg.append(("grid", code, "网格员", len(persons) - 1, comm_of[g]))
        asg += [("grid", code, "责任单位", None, comm_of[g]),
                ("grid", code, "责任单位", None, key[_GRID_DEPTS[g % len(_GRID_DEPTS)]])]
    county_of = {r[1]: r for r in asg if r[2] == "帮包县级领导"}

    def children(kind: str, frame: gpd.GeoDataFrame, rule) -> dict[str, list[str]]:
        gpos = locate_in_grids(frame.geometry.values, grids)
        out = {}
        for row, g in zip(frame.itertuples(index=False), gpos):
            us = list(dict.fromkeys(rule(row, int(g))))
            out[row.code] = us
            asg.extend((kind, row.code, "责任单位", None, u) for u in us)
            asg.append((kind, row.code) + county_of[grids["code"].iat[g]][2:])
        return out

    refs = children("street", layers["streets"], lambda r, g: [key["zfj"], grid_subd[g]]
                    if r.road_class != "背街小巷" else [grid_subd[g], comm_of[g]])
    refs |= children("compound", layers["compounds"], lambda r, g: [prop_of.get(r.property_company) or comm_of[g]])
    refs |= children("village", layers["villages"], lambda r, g: [grid_subd[g], comm_of[g]])

    def point_rule(r, g):
        ref = refs.get(r.ref_code, []) if isinstance(r.ref_code, str) else []
        own = [key[_POINT_UNIT[r.kind]]] if r.kind in _POINT_UNIT else []
        return own + ref + [grid_subd[g]]

    p_units = children("point", layers["points"], point_rule)
    for c, us in p_units.items():
        persons.append((uname[us[0]] + "点长", "点位", us[0]))
        asg.append(("point", c, "点长", len(persons) - 1, us[0]))
    return _people_frames(d, units, persons, asg, rng)


def _people_frames(d: DemoDistrict, units: pd.DataFrame, persons: list[tuple], asg: list[tuple],
                   rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The persons and assignments tables, with the home demo's columns and dtypes."""
    pcode = lambda i: f"{d.prefix}-P-{i + 1:03d}"  # noqa: E731
    people = pd.DataFrame(persons, columns=["title", "level", "unit_code"])
    people.insert(0, "name", chinese_names(rng, len(people), exclude=set(units["contact"])))
    people.insert(0, "code", [pcode(i) for i in range(len(people))])
    people["phone"] = _phones(rng, len(people), mobile=True)
    a = pd.DataFrame(asg, columns=["target_kind", "target_code", "role", "person_code", "unit_code"])
    a["person_code"] = [None if p is None or p != p else pcode(int(p)) for p in a["person_code"]]
    a["valid_from"] = pd.Series([START] * len(a), dtype=object)
    a["valid_to"] = pd.Series([None] * len(a), dtype=object)
    return {"units": units, "persons": people[["code", "name", "title", "level", "unit_code", "phone"]],
            "assignments": a}


# --- the whole district ----------------------------------------------------------------------------

def build_district(code: str, seed: int = 2024) -> dict[str, pd.DataFrame]:
    """Every layer and people table of the extra demo district ``code`` (an adcode of `DEMO_DISTRICTS`).

    Returns grids, streets, compounds, villages, points, core (EPSG:4326 GeoDataFrames) and units,
    persons, assignments: the keys, columns and dtypes that ``gis.demo.build.generate`` gives for
    the home demo, so the same writer loads both. Everything lies inside the county's real boundary;
    every code carries the district's prefix. The same seed and code give identical output.
    """
    d = district(code)
    if d == HOME:
        raise ValueError("东昌府区 is the home demo: gis.demo.build.generate builds it")
    layers = _build_metric(d, seed)
    layers["points"] = _points(layers, d, _TOWNS[d.code])
    out = {k: layers[k].to_crs(WGS84) for k in ("grids", "streets", "compounds", "villages", "points", "core")}
    return out | _build_people(d, out, seed)
