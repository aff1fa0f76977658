"""Tests for gis.demo.districts: the extra demo districts (issue 17), without a database.

Three of the seven: 阳谷县, 临清市 (its seat 1.8 km from the border with Hebei) and 东阿县 (two 街道).
Each must look to the writer exactly like the home demo (same keys, columns, dtypes, CRS), lie
inside its county's real boundary, tile its core with valid grids and never reuse a code.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis.demo.districts import (
    DEMO_DISTRICTS, HOME, POINT_QUOTA, build_district, county_boundary, county_seat, district, select_districts,
)
from gis.demo.geometry import build_geometry
from gis.demo.people import build_people, coverage_gaps
from gis.geo.china import to_wgs84
from gis.geo.crs import areas_m2
from gis.geo.district import BOUNDARY_FILE
from gis.planning.topology import CheckContext, check_grids

CODES = ("371521", "371581", "371524")
KEYS = ("grids", "streets", "compounds", "villages", "points", "core", "units", "persons", "assignments")
SPATIAL = ("grids", "streets", "compounds", "villages", "points", "core")
CODE_FORMATS = {"grids": r"{p}-\d{{2}}", "streets": r"{p}-JX-\d{{3}}", "compounds": r"{p}-XQ-\d{{4}}",
                "villages": r"{p}-CZC-\d{{2}}", "points": r"{p}-DW-\d{{4}}", "units": r"{p}-U-\d{{3}}",
                "persons": r"{p}-P-\d{{3}}"}


@pytest.fixture(scope="module")
def home() -> dict[str, pd.DataFrame]:
    """The home demo's layers and people tables, as `gis.demo.build.generate` returns them."""
    layers = build_geometry()
    return layers | build_people(layers, 2024)


@pytest.fixture(scope="module")
def built() -> dict[str, dict[str, pd.DataFrame]]:
    return {code: build_district(code) for code in CODES}


def test_catalogue():
    assert len(DEMO_DISTRICTS) == 7
    assert len({d.code for d in DEMO_DISTRICTS} | {HOME.code}) == 8
    assert len({d.prefix for d in DEMO_DISTRICTS} | {HOME.prefix}) == 8
    assert all(re.fullmatch(r"[A-Z]{2}", d.prefix) for d in DEMO_DISTRICTS)
    assert district("371521") == ("371521", "阳谷县", "YG") and HOME == ("371502", "东昌府区", "DC")
    assert select_districts(2) == list(DEMO_DISTRICTS[:2])
    named = select_districts(["阳谷", "LQ", "371524", "阳谷县"])  # short name, prefix, adcode; once each
    assert named == [district("371521"), district("371581"), district("371524")]
    assert select_districts("阳谷, 临清，DE") == named and select_districts("3") == list(DEMO_DISTRICTS[:3])
    assert select_districts("371581") == [district("371581")]
    with pytest.raises(ValueError):
        select_districts(["东昌府区"])
    with pytest.raises(ValueError):
        select_districts(8)
    with pytest.raises(ValueError):
        build_district(HOME.code)


def test_boundaries_are_real_and_valid():
    for d in DEMO_DISTRICTS + (HOME,):
        geom = county_boundary(d.code)
        assert shapely.is_valid(geom) and geom.geom_type in ("Polygon", "MultiPolygon"), d.name
        assert geom.contains(county_seat(d.code)), d.name
        assert 0.6e9 < areas_m2([geom])[0] < 1.6e9, d.name  # 735 (东阿县) to 1,441 km² (东昌府区)
    shipped = to_wgs84(gpd.read_file(BOUNDARY_FILE), "gcj02").geometry.union_all()  # the home demo's district
    assert areas_m2([shapely.symmetric_difference(county_boundary(HOME.code), shipped)])[0] < 1.0


def test_same_keys_columns_dtypes_and_crs_as_the_home_demo(built, home):
    for code, city in built.items():
        assert tuple(city) == KEYS, code
        for key in KEYS:
            assert list(city[key].columns) == list(home[key].columns), (code, key)
            assert city[key].dtypes.astype(str).to_dict() == home[key].dtypes.astype(str).to_dict(), (code, key)
        for key in SPATIAL:
            assert city[key].crs.to_epsg() == 4326, (code, key)
            assert shapely.is_valid(city[key].geometry.values).all(), (code, key)
            assert not city[key].geometry.is_empty.any(), (code, key)
        assert all(isinstance(v, type(home["assignments"]["valid_from"].iat[0]))
                   for v in city["assignments"]["valid_from"]), code


def test_counts(built):
    for code, city in built.items():
        assert {k: len(city[k]) for k in ("grids", "streets", "compounds", "villages", "core")} == \
            {"grids": 12, "streets": 20, "compounds": 60, "villages": 6, "core": 1}, code
        assert city["points"]["kind"].value_counts().to_dict() == POINT_QUOTA, code
        assert city["streets"]["road_class"].value_counts()["主干道"] >= 4, code


def test_everything_inside_the_county(built):
    for code, city in built.items():
        boundary = county_boundary(code)
        for key in SPATIAL:
            assert shapely.within(city[key].geometry.values, boundary).all(), (code, key)


def test_town_is_compact_around_the_seat(built):
    for code, city in built.items():
        core = city["core"].to_crs("EPSG:4548").geometry.iat[0]
        width, height = np.ptp(np.asarray(core.exterior.coords), axis=0)
        assert 3500 < width < 6500 and 3000 < height < 6500, code
        seat = shapely.points(np.asarray(city["core"].geometry.iat[0].centroid.coords))
        assert shapely.distance(county_seat(code), seat) < 0.03, code  # within ~3 km


def test_grids_tile_the_core_without_topology_issues(built):
    for code, city in built.items():
        grids = city["grids"]
        context = CheckContext.from_frames(compounds=city["compounds"], villages=city["villages"],
                                           district=county_boundary(code))
        report = check_grids(grids, context)
        assert report.issues.empty, (code, report.issues[["kind", "message"]].to_dict("records"))
        core = city["core"].geometry.iat[0]
        union = shapely.union_all(grids.geometry.values)
        assert areas_m2([shapely.symmetric_difference(core, union)])[0] < 1.0, code
        assert set(grids["subdistrict"]) and all(s.endswith("街道") for s in grids["subdistrict"]), code
        assert grids["subdistrict"].value_counts().min() >= 4, code


def test_codes_unique_prefixed_and_apart_from_the_home_demo(built, home):
    seen: dict[str, set] = {key: set(home[key]["code"]) for key in CODE_FORMATS}
    for code, city in built.items():
        prefix = district(code).prefix
        for key, fmt in CODE_FORMATS.items():
            codes = city[key]["code"]
            assert codes.is_unique, (code, key)
            assert codes.str.fullmatch(fmt.format(p=prefix)).all(), (code, key)
            assert not seen[key] & set(codes), (code, key)
            seen[key] |= set(codes)
    all_codes = [c for key in CODE_FORMATS for c in seen[key]]
    assert len(all_codes) == len(set(all_codes))  # no code of one kind reused by another kind either


def test_references_resolve_and_everything_is_covered(built):
    for code, city in built.items():
        units, persons, a = set(city["units"]["code"]), set(city["persons"]["code"]), city["assignments"]
        assert set(city["persons"]["unit_code"]) <= units, code
        assert set(a["unit_code"]) <= units, code
        assert set(a["person_code"].dropna()) <= persons, code
        refs = city["points"]["ref_code"].dropna()
        targets = set(city["streets"]["code"]) | set(city["compounds"]["code"]) | set(city["villages"]["code"])
        assert set(refs) <= targets, code
        assert set(a["target_code"]) <= targets | set(city["grids"]["code"]) | set(city["points"]["code"]), code
        assert coverage_gaps(city, city) == [], code
        assert city["persons"]["name"].is_unique, code
        assert set(city["persons"]["level"]) == {"市级", "县级", "街道", "社区", "点位"}, code


def test_names_are_the_countys(built):
    for code, city in built.items():
        name = district(code).name
        assert city["core"]["name"].iat[0] == f"{name}城区"
        assert not city["units"]["name"].str.contains("东昌府").any(), code
        assert not city["compounds"]["name"].str.startswith(("东昌", "光岳", "古楼")).any(), code
        assert city["streets"]["name"].is_unique and city["points"]["name"].is_unique, code
        assert f"{name}人民政府" in set(city["units"]["name"]), code


def test_deterministic(built):
    code = CODES[0]
    again = build_district(code)
    for key, frame in built[code].items():
        pd.testing.assert_frame_equal(frame.drop(columns="geometry", errors="ignore"),
                                      again[key].drop(columns="geometry", errors="ignore"), obj=key)
        if key in SPATIAL:
            assert (shapely.to_wkb(frame.geometry.values) == shapely.to_wkb(again[key].geometry.values)).all(), key
    other = build_district(code, seed=7)
    assert not shapely.equals(shapely.union_all(other["compounds"].geometry.values),
                              shapely.union_all(built[code]["compounds"].geometry.values))
