"""`gis figures` takes a district (区县, issue 17), through the command line (gis.cli.main, and
`python -m gis` for the exit codes), on both backends.

The city: the demo's 东昌府区 (61 grids) and 阳谷县 (12 grids), 600 problems (118 in 阳谷县). The figures
are October 2026 as of its end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from gis.cli.main import main
from gis.db.engine import get_engine
from gis.db.models import Problem
from gis.demo.districts import select_districts
from gis.geo.districts import district_units
from tests.conftest import new_database_url

UNTIL = date(2026, 11, 20)
HOME, YG = "371502", "371521"
MONTH, AS_OF = "2026-10", "2026-11-01"
OCT, NOV = datetime(2026, 10, 1), datetime(2026, 11, 1)
SUMMED = ("立案数", "应结案数", "结案数", "按期结案数", "超期数", "返工数", "延期数", "缓办数", "回访数")


@pytest.fixture(scope="module")
def two(backend_name, tmp_path_factory) -> str:
    from gis.demo.build import build_demo

    url = new_database_url(backend_name, tmp_path_factory, "districtio")
    build_demo(get_engine(url), n_problems=600, until=UNTIL, out_dir=None, districts=select_districts("阳谷县"))
    return url


def _run(url, capsys, *argv) -> tuple[int, str, str]:
    code = main(["--database", url, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _figures(url, capsys, *argv) -> dict:
    code, out, err = _run(url, capsys, "figures", "--month", MONTH, "--as-of", AS_OF, "--json", *argv)
    assert code == 0, err
    return json.loads(out)


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


# ---------------------------------------------------------------- gis figures

def test_figures_of_one_district_by_code_or_by_name(two, capsys):
    engine = get_engine(two)
    yg = _figures(two, capsys, "--district", YG)
    assert list(yg) == ["month", "as_of", "city", "grids", "units"]  # no 区县 section for one district
    assert yg == _figures(two, capsys, "--district", "阳谷县")
    assert set(yg["grids"]) == {f"YG-{i:02d}" for i in range(1, 13)}  # 东昌府区's grids absent
    with engine.connect() as conn:
        mine = district_units(conn, YG)
    assert mine and mine <= set(yg["units"])  # the units answering for 阳谷县's places (and any with figures there)
    assert all(code.startswith("YG-") for code in yg["units"])  # the demo's 阳谷县 units; 东昌府区's absent
    # by hand: 立案数 = problems 立案 in October (at their registration, else their report), not 待立案 / 不予立案
    p = Problem.__table__
    registered = func.coalesce(p.c.registered_at, p.c.reported_at)
    by_hand = _count(engine, p, p.c.district_code == YG, registered >= OCT, registered < NOV,
                     p.c.status.not_in(("待立案", "不予立案")))
    assert yg["city"]["立案数"] == by_hand > 0
    # the two districts add up to the whole deployment, grid by grid too
    home, whole = _figures(two, capsys, "--district", HOME), _figures(two, capsys)
    for key in SUMMED:
        assert home["city"][key] + yg["city"][key] == whole["city"][key], key
    assert set(home["grids"]) | set(yg["grids"]) == set(whole["grids"]) and len(whole["grids"]) == 73
    for code, block in yg["grids"].items():  # a grid scores the same on its district's figures and the city's
        assert block["综合得分"] == whole["grids"][code]["综合得分"] and block["排名"] == whole["grids"][code]["排名"]
    code, _, err = _run(two, capsys, "figures", "--month", MONTH, "--as-of", AS_OF, "--district", YG, "--grid", "DC-01")
    assert code == 1 and "网格 DC-01 不存在（或不在所选区县或街道）" in err


def test_the_whole_deployment_lists_each_district(two, capsys):
    engine = get_engine(two)
    data = _figures(two, capsys)
    assert list(data) == ["month", "as_of", "city", "grids", "units", "区县"]
    side = data["区县"]
    assert list(side) == [HOME, YG] and side[YG]["名称"] == "阳谷县" and side[YG]["网格数"] == 12
    p = Problem.__table__
    for code in (HOME, YG):  # 问题数 by hand: reported in October, 立案 (not 待立案 / 不予立案)
        by_hand = _count(engine, p, p.c.district_code == code, p.c.reported_at >= OCT, p.c.reported_at < NOV,
                         p.c.status.not_in(("待立案", "不予立案")))
        assert side[code]["问题数"] == by_hand > 0, code
    yg = _figures(two, capsys, "--district", YG)["city"]
    assert (side[YG]["应结案数"], side[YG]["按期结案数"], side[YG]["按期结案率"]) == (
        yg["应结案数"], yg["按期结案数"], yg["按期结案率"])
    assert sorted(b["排名"] for b in side.values()) == [1, 2]
    code, out, _ = _run(two, capsys, "figures", "--month", MONTH, "--as-of", AS_OF)
    assert code == 0 and f"{YG} 阳谷县：区县得分 {side[YG]['区县得分']:.2f}（第 {side[YG]['排名']} 名）" in out
    # a 街道 (sub-district) filter: that 街道's grids only, no 区县 section
    sub = _figures(two, capsys, "--subdistrict", "古楼街道")
    assert "区县" not in sub and sub["grids"]
    assert {data["grids"][c]["综合得分"] for c in sub["grids"]} == {b["综合得分"] for b in sub["grids"].values()}


def test_a_street_given_as_district_is_refused(two):
    def gis(*argv):
        return subprocess.run([sys.executable, "-m", "gis", "--database", two, "figures", "--month", MONTH, *argv],
                              capture_output=True, text=True, timeout=120)

    out = gis("--district", "古楼街道")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "“古楼街道”是街道，不是区县：只统计该街道请用 --subdistrict 古楼街道" in out.stderr
    out = gis("--district", "莘县")
    assert out.returncode == 1 and "区县“莘县”不存在：可选 371502 东昌府区、371521 阳谷县" in out.stderr
    assert "Traceback" not in out.stderr
