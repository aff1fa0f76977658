"""Build the demo city of Dongchangfu end to end: generate, write files, load the database.

Deterministic: the same seed and end give the same files and the same database. The twelve
months of activity end at the moment of the build (`gis.clock.now()`), or at the end of the day
`until` if that is earlier — never in the future — so the dashboard looks current.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from gis import clock
from gis.db import migrate
from gis.config import SHAPEFILE_DIR
from gis.demo.activity import build_activity, month_counts, problems_part
from gis.demo.geometry import build_geometry
from gis.demo.people import build_people
from gis.demo.standards import categories, standards
from gis.io.files import append_layer, write_geopackage, write_shapefile
from gis.demo.districts import DemoDistrict, build_district, county_boundary
from gis.geo.areas import current_layer_id
from gis.geo.districts import DistrictSpec, insert_district
from gis.io.city import clear_data, write_city, write_district
from gis.problems.writes import insert_problems

DEMO_DIR = SHAPEFILE_DIR / "demo"
SPATIAL_LAYERS = ("grids", "streets", "compounds", "villages", "points")
# A shapefile's .dbf tops out at 2 GB: past this many problems they go to the GeoPackage only.
PROBLEM_SHAPEFILE_LIMIT = 200_000
# Problems are generated and loaded at most this many at a time (issue 17): a bigger demo is built
# part by part (`gis.demo.activity.problems_part`), so memory stays near 1 GB at any size. Demos
# up to this size are drawn in one part, exactly as before.
PROBLEM_CHUNK = 1_000_000


@dataclass
class BuildReport:
    counts: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)


def end_moment(until: date | datetime | None = None) -> datetime:
    """When the demo's activity ends: now, or the end of day `until` (a datetime: that moment) if earlier."""
    now = clock.now().replace(microsecond=0)
    if until is None:
        return now
    end = until if isinstance(until, datetime) else datetime.combine(until, datetime.max.time()).replace(microsecond=0)
    return min(end, now)


def generate(n_problems: int = 50_000, seed: int = 2024, until: date | datetime | None = None) -> dict[str, pd.DataFrame]:
    """Every layer and table of the demo city, in memory (EPSG:4326), its activity up to `end_moment(until)`."""
    until = end_moment(until)
    layers = build_geometry(seed)
    std, cats = standards(), categories()
    people = build_people(layers, seed)
    activity = build_activity(layers, std, cats, people, n_problems=n_problems, seed=seed, until=until)
    return {**{k: layers[k] for k in SPATIAL_LAYERS}, "core": layers["core"], **people,
            "standards": std, "categories": cats, **activity}


def layer_start(until: date) -> datetime:
    """When the demo's grid layer came into force: one year before the activity ends."""
    return datetime(until.year - 1, until.month, 1)


def write_files(city: dict[str, pd.DataFrame], out_dir: Path = DEMO_DIR) -> list[Path]:
    """Spatial layers as Shapefiles, and every layer in one GeoPackage, under `out_dir`."""
    spatial = {k: city[k] for k in ("core",) + SPATIAL_LAYERS} | {"problems": _points(city["problems"])}
    files = []
    for name, gdf in spatial.items():
        if name == "problems" and len(gdf) > PROBLEM_SHAPEFILE_LIMIT:
            continue
        files.append(write_shapefile(gdf, out_dir / f"{name}.shp"))
    files.append(write_geopackage(spatial, out_dir / "dongchangfu_demo.gpkg"))
    return files


def _points(problems: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(problems, geometry=gpd.points_from_xy(problems["lon"], problems["lat"]), crs="EPSG:4326")


def build_demo(engine: Engine, n_problems: int = 50_000, seed: int = 2024, until: date | None = None,
               out_dir: Path | None = DEMO_DIR, districts: Sequence[DemoDistrict] = ()) -> BuildReport:
    """Generate the demo city, write its files (unless `out_dir` is None) and load it, replacing
    whatever data the database held, in one transaction.

    `districts` (issue 17) adds more demo districts of Liaocheng (`gis.demo.districts`) beside 东昌府区,
    each a county-seat town inside its real boundary with problems in proportion to its grids; the
    files hold 东昌府区 only."""
    until = end_moment(until)
    t0 = time.perf_counter()
    city = generate(min(n_problems, PROBLEM_CHUNK), seed, until)
    report = BuildReport(counts={k: len(v) for k, v in city.items()} | {"problems": n_problems})
    report.seconds["generate"] = time.perf_counter() - t0
    if out_dir is not None:
        t1 = time.perf_counter()
        report.files = write_files(city, out_dir)
        report.seconds["files"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    migrate.upgrade(engine)
    with engine.begin() as conn:
        clear_data(conn)
        write_city(conn, {k: v for k, v in city.items() if k != "core"}, layer_start(until.date()))
        gpkg = None if out_dir is None else out_dir / "dongchangfu_demo.gpkg"
        _more_parts(conn, city, n_problems, seed, until, month_counts(city.pop("problems")), gpkg)
        for k, d in enumerate(districts, start=1):
            report.counts.update(_add_district(conn, city, d, n_problems, seed + k, until))
    report.seconds["load"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    tidy_after_bulk_load(engine)
    report.seconds["analyze"] = time.perf_counter() - t3
    return report


def _more_parts(conn, city: dict, n_problems: int, seed: int, until: datetime, seen: pd.Series,
                gpkg: Path | None, code_prefix: str = "") -> None:
    """The problems of a demo bigger than one chunk past the first, one part at a time."""
    done, part = min(n_problems, PROBLEM_CHUNK), 0
    while done < n_problems:
        part += 1
        problems, seen = problems_part(city, min(PROBLEM_CHUNK, n_problems - done), seed, part, until=until, seen=seen)
        problems["code"] = code_prefix + problems["code"]
        if gpkg is not None:
            append_layer(_points(problems), gpkg, "problems")
        done += insert_problems(conn, problems)
        del problems


def _add_district(conn, home: dict, d: DemoDistrict, home_problems: int, seed: int, until: datetime) -> dict[str, int]:
    """Write one more demo district (its row, areas, people, activity) into the demo's grid layer;
    its problem and 负面清单 codes carry its prefix (YG-WT…). Returns its row counts, keyed by district."""
    part = build_district(d.code, seed)
    n = round(home_problems * len(part["grids"]) / len(home["grids"]))
    activity = build_activity(part, home["standards"], home["categories"], part, n_problems=min(n, PROBLEM_CHUNK),
                              seed=seed, until=until)
    seen = month_counts(activity["problems"])
    prefix = f"{d.prefix}-"
    for key in ("problems", "negative_events"):
        activity[key] = activity[key].assign(code=prefix + activity[key]["code"])
    insert_district(conn, DistrictSpec(d.code, d.name, d.prefix, county_boundary(d.code)))
    write_district(conn, {**part, **activity}, current_layer_id(conn))
    _more_parts(conn, {**part, "standards": home["standards"], "categories": home["categories"]}, n, seed, until,
                seen, None, prefix)
    return {f"{d.name}.{k}": len(v) for k, v in {**part, **activity}.items() if k != "core"} | {f"{d.name}.problems": n}


def tidy_after_bulk_load(engine: Engine) -> None:
    """Refresh planner statistics (and PostgreSQL's visibility map, for index-only scans), and fold
    SQLite's write-ahead log back into the database file."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
