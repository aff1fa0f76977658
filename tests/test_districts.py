"""Several districts (区县) in one deployment (issue 17): the registry, the stamp on every row, the scope
of a district's users (writes and reads, enforced in gis/), the figures side by side and the city wall.

The city: the demo's 东昌府区 (61 grids) and 阳谷县 (12 grids, inside its real boundary), 3,000 problems
in 东昌府区 and 590 in 阳谷县, on both backends.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import inspect, text

from gis.db import migrate
from gis.db.engine import get_engine
from gis.demo.districts import county_boundary, select_districts
from gis.geo import districts
from gis.metrics import districts as by_district
from gis.metrics import figures, kpis, scores
from gis.metrics.periods import month_rows
from gis.people import auth
from gis.people.permissions import ADMIN, COMMAND, LEADER, VERIFIER, Actor, PermissionDenied
from gis.problems import workflow
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)
from tests.conftest import new_database_url

UNTIL = date(2026, 11, 20)
AS_OF = datetime(2026, 11, 21)
HOME, YG = "371502", "371521"
STAMPED = ("grids", "streets", "compounds", "villages", "points", "problems", "inspections", "negative_events")


@pytest.fixture(scope="module")
def two(backend_name, tmp_path_factory) -> str:
    from gis.demo.build import build_demo

    url = new_database_url(backend_name, tmp_path_factory, "twodistricts")
    build_demo(get_engine(url), n_problems=3000, until=UNTIL, out_dir=None, districts=select_districts("阳谷县"))
    return url


def _codes(engine, district: str) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT code FROM grids WHERE district_code = :d ORDER BY code"),
                                           {"d": district}).all()]


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar())


def test_each_row_is_in_the_district_its_place_lies_in(two):
    engine = get_engine(two)
    table = districts.district_table(engine)
    assert table[["code", "name", "grid_prefix"]].values.tolist() == [[HOME, "东昌府区", "DC"], [YG, "阳谷县", "YG"]]
    for name in STAMPED:
        assert _count(engine, f"SELECT COUNT(*) FROM {name} WHERE district_code IS NULL") == 0, name
    assert _count(engine, "SELECT COUNT(*) FROM grids WHERE district_code = :d", d=YG) == 12
    assert _count(engine, "SELECT COUNT(*) FROM grids WHERE district_code = :d", d=HOME) == 61
    assert _count(engine, "SELECT COUNT(*) FROM grids WHERE district_code = :d AND code NOT LIKE 'YG-%'", d=YG) == 0
    assert _count(engine, "SELECT COUNT(*) FROM problems WHERE district_code = :d", d=YG) == round(3000 * 12 / 61)
    # a problem's district is its grid's; an inspection's is its point's
    assert _count(engine, "SELECT COUNT(*) FROM problems p JOIN grids g ON g.id = p.grid_id "
                          "WHERE p.district_code <> g.district_code") == 0
    assert _count(engine, "SELECT COUNT(*) FROM inspections i JOIN points pt ON pt.id = i.point_id "
                          "WHERE i.district_code <> pt.district_code") == 0
    # and it lies inside that district's real boundary
    lon, lat = zip(*[tuple(r) for r in get_engine(two).connect().execute(
        text("SELECT lon, lat FROM problems WHERE district_code = :d"), {"d": YG}).all()])
    assert shapely.contains_xy(county_boundary(YG), np.array(lon), np.array(lat)).all()


def test_codes_at_puts_a_point_in_the_district_around_it(two):
    engine = get_engine(two)
    seat = shapely.point_on_surface(county_boundary(YG))
    with engine.connect() as conn:
        got = districts.codes_at(conn, [seat.x, 115.98, 100.0], [seat.y, 36.45, 10.0])
    assert got.tolist() == [YG, HOME, HOME]  # 阳谷县; 东昌府区's old town; nowhere → the first district


def test_a_district_is_checked_before_it_is_written(two):
    engine = get_engine(two)
    box = shapely.box(116.0, 36.0, 116.1, 36.1)
    bad = [(districts.DistrictSpec("37152", "x", "XX", box), "6 位国家行政区划代码"),
           (districts.DistrictSpec("371522", "莘县", "YG", box), "重复"),
           (districts.DistrictSpec("371522", "莘县", "S-X", box), "网格编码前缀"),
           (districts.DistrictSpec("371522", "莘县", "SX", shapely.Point(116, 36)), "边界无效"),
           (districts.DistrictSpec("371522", "莘县", "SX", box, {"GRIDMAP_BASEMAP": "xyz"}), "不能按区县设置")]
    for spec, words in bad:
        with engine.connect() as conn, pytest.raises(districts.DistrictError, match=words):
            districts.insert_district(conn, spec)
    assert len(districts.district_table(engine)) == 2


def test_a_district_user_acts_in_their_district_only(two, tmp_path):
    engine = get_engine(two)
    yg_verifier = Actor("yg_check", VERIFIER, district_code=YG)
    with engine.connect() as conn:
        home_case = conn.execute(text("SELECT code FROM problems WHERE status = '待核查' AND district_code = :d "
                                      "ORDER BY code LIMIT 1"), {"d": HOME}).scalar()
        yg_case = conn.execute(text("SELECT p.code, g.code AS grid FROM problems p JOIN grids g ON g.id = p.grid_id "
                                    "WHERE p.status = '整改中' AND p.district_code = :d ORDER BY p.code LIMIT 1"),
                               {"d": YG}).first()
    with pytest.raises(PermissionDenied, match=f"该对象属于区县 {HOME}，您的账户只管理区县 {YG}"):
        workflow.apply(engine, yg_verifier, home_case, workflow.VERIFY)
    assert _count(engine, "SELECT COUNT(*) FROM problems WHERE code = :c AND status = '待核查'", c=home_case) == 1
    chief = Actor("yg_chief", "网格长", yg_case.grid, district_code=YG)
    workflow.apply(engine, chief, yg_case.code, workflow.SUBMIT, note="已清理", photo_dir=tmp_path)
    assert workflow.apply(engine, yg_verifier, yg_case.code, workflow.VERIFY)["status"] == "已结案"
    # a city-level 核查员 (none of their own) may act anywhere, as before districts
    assert workflow.apply(engine, Actor("city_check", VERIFIER), home_case, workflow.VERIFY)["status"] == "已结案"


def test_users_belong_to_a_district_unless_city_level(two):
    engine = get_engine(two)
    city_admin, yg_admin = Actor.system(), Actor("yg_admin", ADMIN, district_code=YG)
    with pytest.raises(auth.AuthError, match="必须指定所属区县"):
        auth.add_user(engine, city_admin, "nowhere", COMMAND, "Pass-word-1234")
    auth.add_user(engine, city_admin, "yg_cmd", COMMAND, "Pass-word-1234", district_code=YG)
    auth.add_user(engine, yg_admin, "yg_lead", LEADER, "Pass-word-1234")  # the administrator's own district
    auth.add_user(engine, city_admin, "yg_chief", "网格长", "Pass-word-1234", grid_code="YG-03")  # the grid's
    with pytest.raises(auth.AuthError, match=f"只管理区县 {YG}"):
        auth.add_user(engine, yg_admin, "dc_cmd", COMMAND, "Pass-word-1234", district_code=HOME)
    with pytest.raises(auth.AuthError, match=f"网格 DC-01 属于区县 {HOME}，不是 {YG}"):
        auth.add_user(engine, city_admin, "mixed", "网格长", "Pass-word-1234", grid_code="DC-01", district_code=YG)
    users = auth.list_users(engine).set_index("username")["district_code"]
    assert users[["yg_cmd", "yg_lead", "yg_chief"]].tolist() == [YG, YG, YG]
    assert "nowhere" not in users and "mixed" not in users
    assert auth.active_actor(engine, "yg_lead").district_code == YG


def test_district_score_is_the_mean_of_its_ranked_grids():
    grid_scores = pd.DataFrame({
        "code": ["A-1", "A-2", "A-3", "B-1", "B-2", "C-1"],
        "score": [90.0, 70.0, 40.0, 80.0, 0.0, 55.0],
        "ranked": [True, True, False, True, True, False],  # 样本不足; C-1 too
        "vetoed": [False, False, False, False, True, False],  # B-2: 一票否决, counts 0
        "district_code": ["A", "A", "A", "B", "B", "C"]})
    got = by_district.district_score(grid_scores).set_index("code")
    assert got.loc["A", "score"] == pytest.approx(80.0)  # (90 + 70) / 2
    assert got.loc["B", "score"] == pytest.approx(40.0)  # (80 + 0) / 2
    assert np.isnan(got.loc["C", "score"])
    assert got["grids"].tolist() == [3, 2, 1] and got["ranked"].tolist() == [2, 2, 0]


def test_districts_side_by_side_add_up_to_the_city(two):
    engine = get_engine(two)
    month = date(2026, 10, 1)
    table = by_district.district_figures(engine, month, AS_OF).set_index("code")
    city = figures.counts(engine, month_rows(month, month, AS_OF), "city").iloc[0]
    for col in ("problems", "due", "closed", "on_time"):
        src = "reported" if col == "problems" else col
        assert table[col].sum() == city[src], col
    for code in (HOME, YG):
        own = kpis.monthly_stats(engine, month, month, AS_OF, district=code).iloc[0]
        assert table.loc[code, "problems"] == own["problems"]
        assert table.loc[code, "on_time_rate"] == pytest.approx(own["on_time_rate"])
        grid_scores = scores.monthly_scores(engine, month, AS_OF, district=code)
        assert set(grid_scores["district_code"]) == {code}
        counted = grid_scores[grid_scores["ranked"] | grid_scores["vetoed"]]
        assert table.loc[code, "score"] == pytest.approx(counted["score"].where(~counted["vetoed"], 0.0).mean())
    assert sorted(table["rank"].tolist()) == [1, 2]
    # a grid's score is the same on its district's wall and the city's
    everywhere = scores.monthly_scores(engine, month, AS_OF).set_index("code")
    yg = scores.monthly_scores(engine, month, AS_OF, district=YG).set_index("code")
    assert everywhere.loc[yg.index, "score"].tolist() == pytest.approx(yg["score"].tolist())
    trend = by_district.district_trend(engine, 3, AS_OF)
    assert len(trend) == 6 and set(trend["code"]) == {HOME, YG}


def test_city_leader_sees_the_city_wall_and_opens_a_district(two, monkeypatch, captured_maps):
    at = run_app(two, monkeypatch, page="pages/wall.py", query={"as_of": UNTIL.isoformat()},
                 actor=Actor("city_leader", LEADER))
    assert not at.exception
    body = "\n".join(m.value for m in at.markdown)
    assert "聊城市创城网格化管理 · 市级大屏" in body and "区县对比" in body
    assert "东昌府区" in body and "阳谷县" in body and "district=371521" in body
    key, html = captured_maps[-1]
    assert key == "city_map" and html.count('"type": "Feature"') + html.count('"type":"Feature"') == 2
    # a click on 阳谷县 on the map: its own wall, its 12 grids
    captured_maps.returns["city_map"] = {"last_active_drawing": {"properties": {"code": YG}}}
    at.query_params["district"] = YG
    at.run()
    body = "\n".join(m.value for m in at.markdown)
    assert "阳谷县创城网格化管理 · 领导大屏" in body and "返回全市" in body
    key, html = captured_maps[-1]
    assert key == "wall_map" and html.count('"type": "Feature"') + html.count('"type":"Feature"') == 12


def test_a_district_leader_sees_only_their_district(two, monkeypatch, captured_maps):
    leader = Actor("yg_leader", LEADER, district_code=YG)
    at = run_app(two, monkeypatch, page="pages/wall.py", query={"as_of": UNTIL.isoformat(), "district": HOME},
                 actor=leader)
    assert not at.exception
    body = "\n".join(m.value for m in at.markdown)
    assert "阳谷县创城网格化管理 · 领导大屏" in body and "东昌府区" not in body and "返回全市" not in body
    key, html = captured_maps[-1]
    assert html.count('"type": "Feature"') + html.count('"type":"Feature"') == 12 and "DC-01" not in html
    at = run_app(two, monkeypatch, page="pages/grid.py", query={"grid": "DC-01"}, actor=leader)
    assert not at.exception
    assert "没有编号为 DC-01 的网格" in at.warning[0].value
    assert {o.split(" ·")[0] for o in at.selectbox(key="grid_select").options} == {f"YG-{i:02d}" for i in range(1, 13)}


def test_migration_puts_an_existing_city_in_its_own_district(backend_name, tmp_path_factory):
    from tests.conftest import load_small_city

    engine = get_engine(new_database_url(backend_name, tmp_path_factory, "mig17"))
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "chief17", "网格长", "Pass-word-1234", grid_code="T-01")
    auth.add_user(engine, Actor.system(), "lead17", LEADER, "Pass-word-1234")
    migrate.downgrade(engine, "0016")
    assert "district_code" not in {c["name"] for c in inspect(engine).get_columns("problems")}
    migrate.upgrade(engine)
    assert districts.district_table(engine)["code"].tolist() == [HOME]
    for name in STAMPED:
        assert _count(engine, f"SELECT COUNT(*) FROM {name} WHERE district_code IS NULL") == 0, name
    assert _count(engine, "SELECT COUNT(*) FROM problems") > 0
    users = auth.list_users(engine).set_index("username")["district_code"]
    assert users["chief17"] == HOME and pd.isna(users["lead17"])  # a 领导 stays city-level


def test_demo_districts_option_is_checked_in_chinese(tmp_path):
    out = subprocess.run([sys.executable, "-m", "gis", "--database", f"sqlite:///{tmp_path / 'x.sqlite'}", "demo",
                          "--districts", "12"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "“12”无效：应为区县总数 1–8" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "x.sqlite").exists() or (tmp_path / "x.sqlite").stat().st_size == 0


def _boundary_file(tmp_path, code: str) -> str:
    import geopandas as gpd

    path = tmp_path / f"{code}.geojson"
    gpd.GeoDataFrame({"name": [code]}, geometry=[county_boundary(code)], crs="EPSG:4326").to_file(path)
    return str(path)


def test_the_office_adds_a_district_and_sets_its_own_thresholds(backend_name, tmp_path_factory, tmp_path, capsys):
    from gis.cli.main import main
    from tests.conftest import load_small_city

    url = new_database_url(backend_name, tmp_path_factory, "districtcli")
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    cli = lambda *args: main(["--database", url, "district", *args])  # noqa: E731
    assert cli("add", "--code", YG, "--name", "阳谷县", "--prefix", "YG", "--boundary", _boundary_file(tmp_path, YG),
               "--set", "GRIDMAP_SCORE_GREEN=85") == 0
    assert "已新增区县 371521 阳谷县" in capsys.readouterr().out
    # refused, nothing written: a used prefix, a setting no district may set, a bad value, yellow above green
    before = districts.district_table(engine)
    for args, words in ((("add", "--code", "371522", "--name", "莘县", "--prefix", "YG", "--boundary",
                          _boundary_file(tmp_path, "371522")), "重复"),
                        (("set", "--code", YG, "--set", "GRIDMAP_BASEMAP=xyz"), "不能按区县设置"),
                        (("set", "--code", YG, "--set", "GRIDMAP_MIN_INSPECTIONS=很多"), "GRIDMAP_MIN_INSPECTIONS=“很多”无效"),
                        (("set", "--code", YG, "--set", "GRIDMAP_SCORE_YELLOW=90"), "不能大于 GRIDMAP_SCORE_GREEN"),
                        (("set", "--code", "999999", "--set", "GRIDMAP_SCORE_GREEN=70"), "区县“999999”不存在")):
        assert cli(*args) == 1
        assert words in capsys.readouterr().err, args
    pd.testing.assert_frame_equal(districts.district_table(engine), before)
    assert cli("set", "--code", YG, "--set", "GRIDMAP_MIN_INSPECTIONS=2", "--set", "GRIDMAP_SCORE_GREEN=") == 0
    assert districts.district_table(engine).set_index("code").at[YG, "settings"] == {"GRIDMAP_MIN_INSPECTIONS": "2"}
    assert cli("list") == 0
    out = capsys.readouterr().out
    assert f"{HOME}  东昌府区  前缀 DC" in out and f"{YG}  阳谷县  前缀 YG  网格 0" in out
    # a district's administrator may not change the city's map of districts
    from gis.registry import districts as registry
    with pytest.raises(PermissionDenied, match="只能由市级管理员修改"):
        registry.set_settings(engine, Actor("yg_admin", ADMIN, district_code=YG), YG, {"GRIDMAP_SCORE_GREEN": "70"})


def test_a_grids_score_trend_is_its_districts_ranking(two):
    """One grid's 12-month trend is read from its own district's score tables: the score and rank of each month
    are those of the city-wide `monthly_scores` for that grid (ranked within its district), in either district."""
    engine = get_engine(two)
    for district in (HOME, YG):
        code = _codes(engine, district)[0]
        trend = scores.score_trend(engine, code, months=3, as_of=AS_OF).set_index("month")
        assert list(trend.index) == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
        for month, row in trend.iterrows():
            city = scores.monthly_scores(engine, month, AS_OF).set_index("code").loc[code]
            assert city["district_code"] == district
            assert row["score"] == pytest.approx(city["score"]) and str(row["rank"]) == str(city["rank"]), (code, month)


def test_a_district_scores_by_its_own_thresholds(two):
    engine = get_engine(two)
    month = date(2026, 10, 1)
    before = scores.monthly_scores(engine, month, AS_OF)
    from gis.db.models import District

    with engine.begin() as conn:  # 阳谷县 sets its own: green from 95, a sample of 1 visit
        conn.execute(District.__table__.update().where(District.__table__.c.code == YG)
                     .values(settings='{"GRIDMAP_SCORE_GREEN": "95", "GRIDMAP_MIN_INSPECTIONS": "1"}'))
    try:
        after = scores.monthly_scores(engine, month, AS_OF).set_index("code")
    finally:
        with engine.begin() as conn:
            conn.execute(District.__table__.update().where(District.__table__.c.code == YG).values(settings=None))
    before = before.set_index("code")
    yg = after[after["district_code"] == YG]
    assert (yg["score"] == before.loc[yg.index, "score"]).all()  # the scores are the same…
    assert yg["ranked"].all() and not before.loc[yg.index, "ranked"].all()  # …ranked on one visit…
    assert set(yg.loc[yg["score"] < 95, "color"]) <= {"黄", "红"}  # …and coloured by its own green
    home = after[after["district_code"] == HOME]
    pd.testing.assert_series_equal(home["color"], before.loc[home.index, "color"])  # 东昌府区 unchanged


def test_lists_show_a_district_user_their_district(two, monkeypatch, captured_maps):
    from gis.accountability import exposure
    from gis.metrics import negative

    engine = get_engine(two)
    events = negative.events(engine, district=YG)
    assert len(events) == _count(engine, "SELECT COUNT(*) FROM negative_events WHERE district_code = :d", d=YG) > 0
    assert set(events["grid_code"].str[:3]) == {"YG-"}
    assert exposure.exposed(engine, district=YG).empty  # the demo exposes nothing: the filter runs
    auth.add_user(engine, Actor.system(), "yg_viewer", COMMAND, "Pass-word-1234", district_code=YG)
    at = run_app(two, monkeypatch, page="pages/admin.py", actor=Actor("yg_admin2", ADMIN, district_code=YG))
    assert not at.exception
    shown = at.dataframe[0].value
    assert "yg_viewer" in set(shown["用户名"]) and set(shown["区县"]) == {YG}
    assert "admin" not in set(shown["用户名"]) and "gridchief" not in set(shown["用户名"])


def test_the_city_bulletin_compares_the_districts_and_a_district_gets_its_own(two, tmp_path):
    from gis.accountability import bulletin

    engine = get_engine(two)
    city = bulletin.collect(engine, date(2026, 10, 1), as_of=AS_OF, work_dir=tmp_path)
    assert city.title == "关于2026年10月聊城市各区县创城网格化管理工作情况的督查通报"
    titles = [t for t, _ in city.sections]
    assert titles[:2] == ["一、主要指标", "区县对比"]
    table = dict(city.sections)["区县对比"][1][2]
    expected = by_district.district_figures(engine, date(2026, 10, 1), AS_OF).set_index("name")
    assert {row[1] for row in table} == {"东昌府区", "阳谷县"}
    for row in table:
        assert row[2] == f"{expected.loc[row[1], 'score']:.2f}" and row[3] == str(expected.loc[row[1], "problems"])
    own = bulletin.collect(engine, date(2026, 10, 1), as_of=AS_OF, work_dir=tmp_path, district=YG)
    assert own.title == "关于2026年10月阳谷县创城网格化管理工作情况的督查通报"
    assert "区县对比" not in [t for t, _ in own.sections]
    grids = [row[1] for block in dict(own.sections)["三、红黑榜与十差单位"] if block[0] == "table" for row in block[2]
             if str(row[1]).count("-") == 1]
    assert grids and all(code.startswith("YG-") for code in grids)
    # a district's leader exports their own district's bulletin, not another's
    with pytest.raises(PermissionDenied, match=f"该对象属于区县 {HOME}"):
        bulletin.build(engine, Actor("yg_lead", LEADER, district_code=YG), date(2026, 10, 1), tmp_path,
                       formats=("docx",), district=HOME)
