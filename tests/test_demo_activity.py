"""Tests for the non-geometric demo data: standards, people (全覆盖) and activity.

Runs on a small synthetic stand-in of ``gis.demo.geometry.build_geometry`` (same schema,
a 0.05° box around 115.98E 36.45N) so it does not depend on that module; one test also
runs against the real layers when the module exists.
"""

from __future__ import annotations

import datetime as dt
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiPolygon, Point, box

from gis.demo.activity import build_activity, grid_badness
from gis.demo.people import build_people, coverage_gaps, current
from gis.demo.standards import applicability, categories, standards

UNTIL = dt.date(2025, 10, 31)
X0, Y0 = 115.955, 36.425  # south-west corner of the 0.05° box
OTHER_KINDS = ["商业大街", "农贸市场", "学校", "医院", "公共厕所", "广场公园", "车站", "九小门店",
               "机关单位", "建筑工地"]


def _gdf(rows, columns):
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=columns + ["geometry"]), geometry="geometry", crs=4326)


def synthetic_layers() -> dict[str, gpd.GeoDataFrame]:
    """6 grids, 11 streets, 12 compounds, 3 villages, ~60 points; same schema as build_geometry."""
    grids = []
    for i in range(6):
        cx, cy = i % 3, i // 3
        cell = box(X0 + cx * 0.05 / 3, Y0 + cy * 0.025, X0 + (cx + 1) * 0.05 / 3, Y0 + (cy + 1) * 0.025)
        grids.append((f"DC-{i + 1:02d}", f"第{i + 1}网格", "古楼街道" if cy == 0 else "柳园街道",
                      MultiPolygon([cell])))
    # lattice slots ~400 m apart; roads run along half-slot lines, ≥200 m from slots
    sx, sy = 0.0045, 0.0042
    slot = lambda i, j: (X0 + 0.003 + i * sx, Y0 + 0.003 + j * sy)  # noqa: E731
    streets = []
    for k, (name, j) in enumerate([("东昌路", 1.5), ("柳园路", 5.5), ("兴华路", 9.5)]):
        y = slot(0, j)[1]
        streets.append((f"JX-{k + 1:03d}", name, "主干道", LineString([(X0, y), (X0 + 0.05, y)])))
    for k, (name, i) in enumerate([("花园路", 3.5), ("光岳路", 7.5)]):
        x = slot(i, 0)[0]
        streets.append((f"JX-{k + 4:03d}", name, "次干道", LineString([(x, Y0), (x, Y0 + 0.05)])))
    lanes = ["米市街", "楼南巷", "东关小街", "西关后街", "卫育巷", "红星胡同"]
    lane_mid = []
    for k, name in enumerate(lanes):
        i, j = 1 + 2 * (k % 3), 3.5 + 4 * (k // 3)  # east-west lanes, 400 m long
        (x, y) = slot(i, j)
        streets.append((f"JX-{k + 6:03d}", name, "背街小巷", LineString([(x - sx / 2, y), (x + sx / 2, y)])))
        lane_mid.append((x, y))
    free = [slot(i, j) for j in range(0, 11, 2) for i in range(0, 10)]
    rng = np.random.default_rng(0)
    free = [free[k] for k in rng.permutation(len(free))]
    compounds = []
    for k in range(12):
        x, y = free.pop()
        compounds.append((f"XQ-{k + 1:04d}", f"水城花园{k + 1}期", int(200 + 40 * k),
                          None if k % 4 == 0 else ["阳光物业", "鲁西物业服务有限公司", "金柱物业"][k % 3],
                          box(x - 0.0006, y - 0.0006, x + 0.0006, y + 0.0006)))
    villages = []
    for k, name in enumerate(["后菜园村", "孟庄村", "铁塔村"]):
        x, y = free.pop()
        villages.append((f"CZC-{k + 1:02d}", name, 300 + 50 * k, box(x - 0.0012, y - 0.001, x + 0.0012, y + 0.001)))
    points = []

    def add(name, kind, ref, xy):
        points.append((f"DW-{len(points) + 1:04d}", name, kind, ref, Point(xy)))

    for c in compounds:
        add(c[1], "小区", c[0], c[4].centroid.coords[0])
    for v in villages:
        add(v[1], "城中村", v[0], v[3].centroid.coords[0])
    for k, (x, y) in enumerate(lane_mid):
        add(lanes[k], "背街小巷", f"JX-{k + 6:03d}", (x, y))
    for s in streets[:5]:
        add(s[1], "主次干道", s[0], s[3].interpolate(0.3, normalized=True).coords[0])
    for r in range(3):
        for kind in OTHER_KINDS:
            add(f"{kind}{r + 1}号", kind, None, free.pop())
    return {
        "grids": _gdf(grids, ["code", "name", "subdistrict"]),
        "streets": _gdf(streets, ["code", "name", "road_class"]),
        "compounds": _gdf(compounds, ["code", "name", "households", "property_company"]),
        "villages": _gdf(villages, ["code", "name", "households"]),
        "points": _gdf(points, ["code", "name", "kind", "ref_code"]),
    }


@pytest.fixture(scope="module")
def layers():
    return synthetic_layers()


@pytest.fixture(scope="module")
def people(layers):
    return build_people(layers, seed=5)


@pytest.fixture(scope="module")
def activity(layers, people):
    return build_activity(layers, standards(), categories(), people, n_problems=20_000, seed=11, until=UNTIL)


# ---------------------------------------------------------------- standards
def test_standards_table():
    s = standards()
    assert list(s.columns) == ["code", "item", "content", "text", "points", "negative", "category", "negative_effect"]
    assert s["item"].nunique() >= 12 and len(s) >= 60 and s["negative"].sum() >= 8
    # the 负面清单 is of the real kind: events with an effect, no street nuisance (issue 12 §5)
    neg = s[s["negative"]]
    assert (neg["item"] == "负面清单").all() and neg["category"].isna().all()
    assert set(neg["negative_effect"]) == {"否决", "扣分"} and s.loc[~s["negative"], "negative_effect"].isna().all()
    for kind in ("重大安全生产", "环境污染", "食品药品安全", "负面舆情", "严重违法违纪", "群体性事件", "电信网络诈骗"):
        assert neg["text"].str.contains(kind).any(), kind
    assert s["code"].is_unique and s["code"].str.fullmatch(r"3\.\d+\.\d+").all()
    assert (s["points"] > 0).all() and s["text"].str.len().min() >= 8
    cat_names = set(categories()["name"])
    assert set(s["category"].dropna()) <= cat_names
    # every category has at least one standard about it
    assert cat_names <= set(s["category"].dropna())


def test_categories_table():
    c = categories().set_index("name")
    assert 14 <= len(c) <= 20 and (c["deadline_hours"] > 0).all()
    assert c["deduction"].between(0.5, 3).all()
    assert c.loc["暴露垃圾", "deadline_hours"] == 4 and c.loc["乱停乱放", "deadline_hours"] == 2
    assert c.loc["违章建筑", "deadline_hours"] == 720 and c.loc["露天烧烤", "deadline_hours"] == 2
    s = standards().set_index("code")
    assert (s.loc[c["standard_code"], "category"].to_numpy() == c.index.to_numpy()).all()


def test_applicability_covers_every_point_kind():
    a = applicability()
    kinds = ["主次干道", "背街小巷", "商业大街", "小区", "城中村"] + OTHER_KINDS
    assert set(kinds) <= set(a["kind"]) and (a.groupby("kind").size() >= 3).all()


# ---------------------------------------------------------------- people
def test_people_tables(people):
    u, p, a = people["units"], people["persons"], people["assignments"]
    assert u["code"].str.fullmatch(r"U-\d{3}").all() and u["code"].is_unique
    assert set(u["kind"]) == {"市直部门", "区直部门", "街道办事处", "社区", "物业企业", "驻地单位"}
    assert u["phone"].str.fullmatch(r"0635-8\d{6}").all()
    assert p["code"].str.fullmatch(r"P-\d{3}").all() and p["code"].is_unique and p["name"].is_unique
    assert p["phone"].str.fullmatch(r"1[358]\d{9}").all() and p["phone"].is_unique
    assert set(p["level"]) == {"市级", "县级", "街道", "社区", "点位"}  # 点位: the 点长 of each inspection point
    assert set(p["unit_code"]) <= set(u["code"]) and set(a["unit_code"]) <= set(u["code"])
    assert set(a["person_code"].dropna()) <= set(p["code"])
    assert (a.loc[a["role"] == "责任单位", "person_code"].isna()).all()
    assert a.loc[a["role"] != "责任单位", "person_code"].notna().all()
    # the person's unit is the row's unit
    unit_of = p.set_index("code")["unit_code"]
    pr = a[a["person_code"].notna()]
    assert (pr["unit_code"].to_numpy() == unit_of.loc[pr["person_code"]].to_numpy()).all()
    lvl = p.set_index("code")["level"]
    assert (lvl.loc[a.loc[a["role"] == "帮包市级领导", "person_code"]] == "市级").all()
    assert (lvl.loc[a.loc[a["role"] == "帮包县级领导", "person_code"]] == "县级").all()


def test_full_coverage(layers, people):
    a = people["assignments"]
    cur = current(a)
    assert coverage_gaps(layers, people) == []
    n = cur.groupby(["target_kind", "target_code", "role"]).size()
    for code in layers["grids"]["code"]:
        for role in ("帮包市级领导", "帮包县级领导", "网格长"):
            assert n.get(("grid", code, role), 0) == 1, (code, role)
        assert n.get(("grid", code, "网格员"), 0) >= 1 and n.get(("grid", code, "责任单位"), 0) >= 1
    for kind, layer in [("street", "streets"), ("compound", "compounds"), ("village", "villages"),
                        ("point", "points")]:
        for code in layers[layer]["code"]:
            assert n.get((kind, code, "责任单位"), 0) >= 1, (kind, code)
            assert n.get((kind, code, "帮包县级领导"), 0) >= 1, (kind, code)
    units = people["units"].set_index("code")
    su = cur[(cur["target_kind"] == "street") & (cur["role"] == "责任单位")].merge(
        layers["streets"][["code", "road_class"]], left_on="target_code", right_on="code")
    main = su[su["road_class"] != "背街小巷"]
    assert (main.groupby("target_code")["unit_code"].apply(lambda s: "市城市管理局" in set(units.loc[s, "name"]))).all()
    cu = cur[(cur["target_kind"] == "compound") & (cur["role"] == "责任单位")].merge(
        layers["compounds"][["code", "property_company"]], left_on="target_code", right_on="code")
    kinds = units.loc[cu["unit_code"], "kind"].to_numpy()
    assert (kinds[cu["property_company"].notna().to_numpy()] == "物业企业").all()
    assert (kinds[cu["property_company"].isna().to_numpy()] == "社区").all()


def test_history_has_successors(people):
    a = people["assignments"]
    old = a[a["valid_to"].notna()]
    assert len(old) >= 2 and (old["valid_to"] < dt.date(2026, 6, 1)).all()
    for _, r in old.iterrows():
        nxt = a[(a["target_kind"] == r["target_kind"]) & (a["target_code"] == r["target_code"])
                & (a["role"] == r["role"]) & a["valid_to"].isna()]
        assert (nxt["valid_from"] == r["valid_to"] + dt.timedelta(days=1)).any()
        assert (nxt["person_code"] != r["person_code"]).all()
    # on a date before the change the predecessor is the one in charge
    r = old.iloc[0]
    on = current(a, r["valid_to"])
    hit = on[(on["target_code"] == r["target_code"]) & (on["role"] == r["role"])]
    assert list(hit["person_code"]) == [r["person_code"]]


# ---------------------------------------------------------------- problems
PROBLEM_COLUMNS = ["code", "category", "standard_code", "description", "lon", "lat", "reported_at", "source",
                   "deadline", "status", "unit_code", "acknowledged_at", "rectified_at", "verified_at",
                   "rework_count", "deduction", "reporter"]


def test_problem_basics(activity, layers, people):
    p = activity["problems"]
    assert list(p.columns) == PROBLEM_COLUMNS and len(p) == 20_000
    assert p["code"].is_unique and p["code"].str.fullmatch(r"WT20\d{4}\d{7}").all()
    assert (p["code"].str[2:8] == p["reported_at"].dt.strftime("%Y%m")).all()
    assert set(p["source"]) == {"暗访", "督查", "市民热线", "网格员巡查"}
    assert set(p["category"]) <= set(categories()["name"])
    assert set(p["standard_code"]) <= set(standards()["code"])
    start = pd.Timestamp(UNTIL) - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    assert p["reported_at"].min() >= start and p["reported_at"].max() <= pd.Timestamp(UNTIL) + pd.Timedelta("1D")
    assert p["reported_at"].is_monotonic_increasing
    b = layers["grids"].total_bounds
    assert p["lon"].between(b[0] - 0.01, b[2] + 0.01).all() and p["lat"].between(b[1] - 0.01, b[3] + 0.01).all()
    assert p["description"].str.len().min() >= 8 and p["description"].nunique() > 1000
    names = pd.concat([layers[k]["name"] for k in ("points", "streets", "villages")])
    assert p["description"].str.startswith(tuple(names)).all()
    hot = p["reporter"].where(p["source"] == "市民热线")
    assert (hot.dropna() == "12345热线").all()
    assert (p.loc[p["source"] == "暗访", "reporter"] == "暗访组").all()
    staff = people["persons"].loc[people["persons"]["level"] == "社区", "name"]
    assert set(p.loc[p["source"] == "网格员巡查", "reporter"]) <= set(staff)


def test_problem_deadlines_and_deduction(activity):
    p = activity["problems"]
    cats = categories().set_index("name")
    hours = (p["deadline"] - p["reported_at"]).dt.total_seconds() / 3600
    assert np.allclose(hours, cats.loc[p["category"], "deadline_hours"].to_numpy())
    # the 负面清单 holds events (gis.metrics.negative), never a problem's standard
    assert not p["standard_code"].isin(standards().query("negative")["code"]).any()
    assert np.allclose(p["deduction"], cats.loc[p["category"], "deduction"].to_numpy())


def test_status_consistency(activity):
    p = activity["problems"]
    end = pd.Timestamp(UNTIL) + pd.Timedelta("1D")
    assert set(p["status"]) == {"待派遣", "整改中", "待核查", "已结案"}
    s = p["status"]
    pending = s == "待派遣"
    assert p.loc[pending, ["unit_code", "acknowledged_at", "rectified_at", "verified_at"]].isna().all().all()
    assert p.loc[~pending, "unit_code"].notna().all()
    assert p.loc[s.isin(["待核查", "已结案"]), "rectified_at"].notna().all()
    assert p.loc[s == "已结案", "verified_at"].notna().all()
    assert p.loc[s != "已结案", "verified_at"].isna().all()
    assert p.loc[s.isin(["待派遣", "整改中"]), "rectified_at"].isna().all()
    # verified ⇒ rectified ⇒ acknowledged, in time order, none in the future
    v, r, a = p["verified_at"], p["rectified_at"], p["acknowledged_at"]
    assert r[v.notna()].notna().all() and a[r.notna()].notna().all()
    assert (v.dropna() >= r[v.notna()]).all() and (r.dropna() >= a[r.notna()]).all()
    assert (r.dropna() >= p.loc[r.notna(), "reported_at"]).all()
    assert (a.dropna() >= p.loc[a.notna(), "reported_at"]).all()
    for col in ("acknowledged_at", "rectified_at", "verified_at"):
        assert (p[col].dropna() < end).all()
    # some overdue: open past deadline; old problems mostly closed, recent ones open
    open_ = s.isin(["待派遣", "整改中"])
    assert (open_ & (p["deadline"] < pd.Timestamp(UNTIL))).sum() >= 20
    old = p["reported_at"] < pd.Timestamp(UNTIL) - pd.Timedelta("60D")
    assert (s[old] == "已结案").mean() > 0.95
    assert (s[p["reported_at"] >= pd.Timestamp(UNTIL)] != "已结案").mean() > 0.5
    # rework: ~5%, only on problems that went through verification
    rw = p["rework_count"]
    assert set(rw) <= {0, 1, 2} and 0.02 < (rw > 0).mean() < 0.08
    assert (rw[s.isin(["待派遣", "整改中"])] == 0).all()
    # 反馈不过夜: most acknowledged before midnight of the report day, some not
    same_day = (a.dt.normalize() == p["reported_at"].dt.normalize())[a.notna()]
    assert 0.8 < same_day.mean() < 0.99


def _per_point_share(p, points, radius_m=150.0):
    """Share of all problems within ``radius_m`` of each point."""
    lat0 = np.radians(36.45)
    px = points.geometry.x.to_numpy()[:, None]
    py = points.geometry.y.to_numpy()[:, None]
    d = np.hypot((p["lon"].to_numpy()[None] - px) * 111_320 * np.cos(lat0),
                 (p["lat"].to_numpy()[None] - py) * 110_574)
    return pd.Series((d <= radius_m).mean(1), index=points["kind"].to_numpy())


def test_clustering_by_kind(activity, layers):
    share = _per_point_share(activity["problems"], layers["points"])
    bad = share[share.index.isin(["农贸市场", "城中村", "背街小巷"])].groupby(level=0).mean()
    school = share[share.index == "学校"].mean()
    assert (bad > 2 * school).all(), (bad, school)
    # most problems lie near some anchor: jitter is tens of metres, not kilometres
    assert share.sum() > 0.4


def test_categories_follow_place_and_season(activity, layers):
    p = activity["problems"]
    pts = layers["points"]
    market = pts[pts["kind"] == "农贸市场"]
    vill = layers["villages"]
    lat0 = np.radians(36.45)

    def near(geoms, r):
        x, y = geoms.x.to_numpy()[:, None], geoms.y.to_numpy()[:, None]
        d = np.hypot((p["lon"].to_numpy()[None] - x) * 111_320 * np.cos(lat0), (p["lat"].to_numpy()[None] - y) * 110_574)
        return (d <= r).any(0)

    at_market = near(market.geometry, 100)
    assert (p.loc[at_market, "category"] == "占道经营").mean() > 2 * (p["category"] == "占道经营").mean()
    in_vill = near(vill.geometry.representative_point(), 100)
    assert (p.loc[in_vill, "category"] == "暴露垃圾").mean() > (p["category"] == "暴露垃圾").mean()
    month = p["reported_at"].dt.month
    bbq = p["category"] == "露天烧烤"
    assert bbq[month.isin([6, 7, 8])].mean() > 3 * bbq[month.isin([12, 1, 2])].mean()
    assert p.loc[bbq, "reported_at"].dt.hour.isin(range(17, 24)).mean() > 0.5
    hour = p["reported_at"].dt.hour
    assert hour.between(8, 18).mean() > 0.7 and (hour < 6).sum() > 0
    dow = p["reported_at"].dt.day_of_week
    assert (dow < 5).mean() > 5 / 7 + 0.05  # weekday heavy


def test_grid_badness_and_trend(activity, layers):
    p = activity["problems"]
    g = gpd.sjoin(gpd.GeoDataFrame(geometry=gpd.points_from_xy(p["lon"], p["lat"]), crs=4326),
                  layers["grids"][["code", "geometry"]], predicate="within")
    per_grid = g.groupby("code").size().reindex(layers["grids"]["code"]).to_numpy()
    bad = grid_badness(layers["grids"], 11)
    assert np.corrcoef(np.log(bad), np.log(per_grid))[0, 1] > 0.3
    q = p["reported_at"].dt.to_period("Q")
    first, last = p["reported_at"].min(), p["reported_at"].max()
    early = p["reported_at"] < first + pd.Timedelta("90D")
    late = (p["reported_at"] > last - pd.Timedelta("150D")) & (p["reported_at"] < last - pd.Timedelta("60D"))
    assert q.nunique() >= 4
    assert early.sum() > 1.1 * late.sum()  # fewer problems later in the year (both 90 days)
    on_time = p["rectified_at"] <= p["deadline"]
    assert on_time[late].mean() > on_time[early].mean() + 0.05


def test_dispatch_units_and_reporters_on_duty(layers, people):
    """Problems go to a current 责任单位; a 网格员 reports only while assigned to the grid
    (the window below spans the end-2025 网格员 replacement)."""
    act = build_activity(layers, standards(), categories(), people, n_problems=5_000, seed=2, until=dt.date(2026, 6, 30))
    p = act["problems"]
    a = people["assignments"]
    duty = current(a)
    assert set(p["unit_code"].dropna()) <= set(duty.loc[duty["role"] == "责任单位", "unit_code"])
    staff = a[a["role"] == "网格员"].merge(people["persons"][["code", "name"]], left_on="person_code", right_on="code")
    assert staff["name"].is_unique and staff["valid_to"].notna().any()
    rep = p[p["source"] == "网格员巡查"].merge(staff, left_on="reporter", right_on="name", how="left")
    assert rep["valid_from"].notna().all()
    day = rep["reported_at"].dt.date
    assert ((rep["valid_from"] <= day) & (rep["valid_to"].isna() | (day <= rep["valid_to"]))).all()
    replaced = staff.loc[staff["valid_to"].notna(), "name"]
    assert p["reporter"].isin(replaced).any()  # the predecessor did report before leaving


# ---------------------------------------------------------------- inspections
def test_inspections(activity, layers):
    i = activity["inspections"]
    assert list(i.columns) == ["point_code", "standard_code", "inspected_on", "passed", "score", "inspector"]
    pts = layers["points"].set_index("code")
    assert set(i["point_code"]) == set(pts.index)
    app = set(map(tuple, applicability()[["kind", "standard_code"]].to_numpy()))
    assert all((k, s) in app for k, s in zip(pts.loc[i["point_code"], "kind"], i["standard_code"]))
    assert isinstance(i["inspected_on"].iat[0], dt.date)
    on = pd.to_datetime(i["inspected_on"])
    assert on.min() > pd.Timestamp(UNTIL) - pd.DateOffset(years=1) and on.max() <= pd.Timestamp(UNTIL)
    visits = i.drop_duplicates(["point_code", "inspected_on", "inspector"])
    per_month = len(visits) / len(pts) / 12
    assert 2 <= per_month <= 4.2
    per_visit = i.groupby(["point_code", "inspected_on", "inspector"]).size()
    assert per_visit.max() <= 12 and per_visit.median() >= 3
    assert 0.7 <= i["passed"].mean() <= 0.95
    pts_w = standards().set_index("code").loc[i["standard_code"], "points"].to_numpy()
    assert np.allclose(i.loc[i["passed"], "score"], pts_w[i["passed"].to_numpy()])
    assert (i.loc[~i["passed"], "score"].to_numpy() < pts_w[~i["passed"].to_numpy()]).all()
    half = on < on.min() + (on.max() - on.min()) / 2
    assert i.loc[~half, "passed"].mean() > i.loc[half, "passed"].mean()
    # pass rate is lower in bad grids
    g = gpd.sjoin(layers["points"][["code", "geometry"]], layers["grids"][["code", "geometry"]].rename(
        columns={"code": "grid"}), predicate="within").set_index("code")["grid"]
    rate = i.groupby(i["point_code"].map(g))["passed"].mean().reindex(layers["grids"]["code"])
    bad = grid_badness(layers["grids"], 11)
    assert np.corrcoef(np.log(bad), rate.to_numpy())[0, 1] < -0.3


# ---------------------------------------------------------------- determinism & scale
def test_deterministic(layers):
    p1, p2 = build_people(layers, seed=5), build_people(layers, seed=5)
    for k in p1:
        pd.testing.assert_frame_equal(p1[k], p2[k])
    args = (layers, standards(), categories(), p1)
    a1 = build_activity(*args, n_problems=3_000, seed=3, until=UNTIL)
    a2 = build_activity(*args, n_problems=3_000, seed=3, until=UNTIL)
    for k in a1:
        pd.testing.assert_frame_equal(a1[k], a2[k])
    a3 = build_activity(*args, n_problems=3_000, seed=4, until=UNTIL)
    assert not a1["problems"]["description"].equals(a3["problems"]["description"])
    assert len(build_activity(*args, n_problems=7, seed=3, until=UNTIL)["problems"]) == 7


def test_real_geometry():
    from gis.demo.geometry import build_geometry

    real = build_geometry(1)
    ppl = build_people(real, seed=1)
    assert coverage_gaps(real, ppl) == []
    lv = ppl["persons"]["level"].value_counts()
    assert 50 <= lv["市级"] + lv["县级"] <= 75
    act = build_activity(real, standards(), categories(), ppl, n_problems=5_000, seed=1, until=UNTIL)
    assert len(act["problems"]) == 5_000 and len(act["inspections"]) > 20_000


@pytest.mark.slow
def test_million_problems(layers, people, request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("slow: run with -m slow")
    t = time.perf_counter()
    out = build_activity(layers, standards(), categories(), people, n_problems=1_000_000, seed=1, until=UNTIL)
    took = time.perf_counter() - t
    print(f"\n1,000,000 problems in {took:.1f} s")
    assert len(out["problems"]) == 1_000_000 and out["problems"]["code"].is_unique
    assert took < 45
