"""点长责任制 (issue 14 step 1): 点长 imported as an assignment role, shown on the point's card,
点位达标率 per point and month rolled up to 点长, units and grids, and the monthly ranking.

Small city, November 2026: every inspection weighs 2 points (standards 1.1.1 / 1.2.1), four per point:
DW-0001 3/4, DW-0002 2/4, DW-0003 4/4, DW-0004 1/4, DW-0005 3/4, DW-0006 3/4 passed.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from gis.accountability import points
from gis.io import importer
from gis.people.permissions import Actor
from gis.problems import ledger
from tests import io_files as f

ADMIN = Actor.system("测试管理员")
NOV = date(2026, 11, 1)


def _import_leaders(engine, tmp_path):
    links = pd.DataFrame({"对象类型": ["点位", "点位", "点位", "点位"],
                          "对象编号": ["DW-0001", "DW-0002", "DW-0003", "DW-0004"],
                          "帮包角色": ["点长", "点长", "点长", "点长"],
                          "责任人": ["周杰", "周杰", "吴芳", "郑磊"], "开始日期": ["2026-01-01"] * 4})
    return importer.import_file(engine, ADMIN, "assignments", f.write_csv(links, tmp_path / "leaders.csv"))


def test_point_leader_is_importable_and_on_the_point_card(city_rw, tmp_path):
    result = _import_leaders(city_rw, tmp_path)
    assert result.inserted == 4
    card = ledger.area_responsibles(city_rw, "point", "DW-0001")
    leader = card[card["role"] == "点长"]
    assert leader["name"].tolist() == ["周杰"] and leader["unit"].tolist() == ["古楼街道办事处"]
    bad = pd.DataFrame({"对象类型": ["点位"], "对象编号": ["DW-0005"], "帮包角色": ["站长"], "责任人": ["周杰"],
                        "开始日期": ["2026-01-01"]})
    refused = importer.import_file(city_rw, ADMIN, "assignments", f.write_csv(bad, tmp_path / "bad.csv"))
    assert any("帮包角色" in line and "站长" in line for line in refused.prepared.error_lines())


def test_point_rates_and_rollups(city_rw, tmp_path):
    _import_leaders(city_rw, tmp_path)
    pts = points.point_rates(city_rw, NOV).set_index("code")
    assert pts["rate"].to_dict() == pytest.approx({"DW-0001": 0.75, "DW-0002": 0.5, "DW-0003": 1.0,
                                                   "DW-0004": 0.25, "DW-0005": 0.75, "DW-0006": 0.75})
    assert pts.loc["DW-0003", "inspections"] == 4 and pts.loc["DW-0003", "all_points"] == 8.0
    assert pts.loc["DW-0004", ["leader", "leader_unit", "grid"]].tolist() == ["郑磊", "柳园街道办事处", "T-02"]
    assert pts.loc["DW-0006", "units"] == "古楼街道办事处" and pd.isna(pts.loc["DW-0006", "leader"])

    leaders = points.rollup(points.point_rates(city_rw, NOV), "leader").set_index("name")
    assert leaders["rate"].to_dict() == pytest.approx({"吴芳（古楼街道办事处）": 1.0, "周杰（古楼街道办事处）": 10 / 16,
                                                       "郑磊（柳园街道办事处）": 0.25})
    assert list(leaders.index) == ["吴芳（古楼街道办事处）", "周杰（古楼街道办事处）", "郑磊（柳园街道办事处）"]
    units = points.rollup(points.point_rates(city_rw, NOV), "unit")
    assert units[["name", "points"]].values.tolist() == [["古楼街道办事处", 6]]
    assert units["rate"].iloc[0] == pytest.approx(32 / 48)
    grids = points.rollup(points.point_rates(city_rw, NOV), "grid").set_index("name")
    assert grids.loc["T-02", "rate"] == pytest.approx(0.25) and grids.loc["T-04", "rate"] == pytest.approx(0.75)
    with pytest.raises(ValueError, match="未知的汇总口径"):
        points.rollup(pts.reset_index(), "street")


def test_monthly_ranking_best_and_worst(city_engine):
    rank = points.monthly_ranking(city_engine, NOV, n=2)
    assert rank["best"]["code"].tolist() == ["DW-0003", "DW-0001"]
    assert rank["worst"]["code"].tolist() == ["DW-0004", "DW-0002"]
    # as of 2026-11-08 only the inspections of 11-03 and 11-07 count
    early = points.point_rates(city_engine, NOV, as_of=datetime(2026, 11, 8)).set_index("code")
    assert early.loc["DW-0002", "rate"] == 0.0 and early.loc["DW-0003", "inspections"] == 2
    assert points.point_rates(city_engine, date(2026, 9, 1)).empty
