"""`gis figures`, `gis export` and `gis import` take a district (区县, issue 17), through the command line
(gis.cli.main, and `python -m gis` for the exit codes), on both backends.

The city: the demo's 东昌府区 (61 grids) and 阳谷县 (12 grids), 600 problems (118 in 阳谷县). The figures
are October 2026 as of its end; the imports write November problems and touch no grid, so they change
nothing the figures read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import func, select

from gis.cli.main import main
from gis.db.engine import get_engine
from gis.db.models import Category, Compound, Problem
from gis.demo.districts import select_districts
from gis.geo.districts import district_units
from gis.io import importer
from gis.people.permissions import ADMIN, Actor, PermissionDenied
from pages.ui import md_escape
from tests import io_files as f
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)
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


# ---------------------------------------------------------------- gis export / gis import

def test_export_one_district(two, capsys, tmp_path):
    engine = get_engine(two)
    p, c = Problem.__table__, Compound.__table__
    csv = tmp_path / "yg.csv"
    code, out, _ = _run(two, capsys, "export", "problems", str(csv), "--district", "阳谷县")
    n = _count(engine, p, p.c.district_code == YG)
    assert code == 0 and out == f"已导出 {n} 条问题（区县 {YG}）到 {csv}\n"
    with engine.connect() as conn:
        mine = set(conn.execute(select(p.c.code).where(p.c.district_code == YG)).scalars())
    assert set(pd.read_csv(csv, dtype=str)["问题编号"]) == mine
    gpkg = tmp_path / "c.gpkg"
    code, out, _ = _run(two, capsys, "export", "compounds", str(gpkg), "--district", HOME)
    assert code == 0 and out.startswith(f"已导出 {_count(engine, c, c.c.district_code == HOME)} 条小区（区县 {HOME}）")
    code, _, err = _run(two, capsys, "export", "grids", str(tmp_path / "g.csv"), "--district", "莘县")
    assert code == 1 and "错误：区县“莘县”不存在" in err


def _places(engine, district: str, n: int) -> list[tuple[float, float]]:
    """Where `n` of the district's problems lie (inside its grids)."""
    p = Problem.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(p.c.lon, p.c.lat).where(p.c.district_code == district, p.c.grid_id.is_not(None))
                            .order_by(p.c.code).limit(n)).all()
    return [(float(x), float(y)) for x, y in rows]


def _new_problems(engine, places, prefix: str) -> pd.DataFrame:
    with engine.connect() as conn:
        category = conn.execute(select(Category.__table__.c.name).order_by(Category.__table__.c.name)).scalars().first()
    return pd.DataFrame({"问题编号": [f"{prefix}-{i + 1}" for i in range(len(places))], "问题类型": category,
                         "问题描述": "导入的问题", "上报时间": "2026-11-18 09:00",
                         "经度": [x for x, _ in places], "纬度": [y for _, y in places]})


def test_import_into_a_district_refuses_rows_elsewhere(two, capsys, tmp_path):
    engine = get_engine(two)
    p = Problem.__table__
    places = _places(engine, YG, 2) + _places(engine, HOME, 1)
    csv = f.write_csv(_new_problems(engine, places, "IMPYG"), tmp_path / "yg.csv")
    before = importer.counts(engine)
    code, _, err = _run(two, capsys, "import", "problems", str(csv), "--district", YG)
    assert code == 1
    assert "第 4 行【位置】：不在阳谷县（371521）内，不能导入到该区县（值：位于东昌府区）" in err
    assert "第 2 行" not in err and "第 3 行" not in err and "yg.csv：1 行有问题" in err
    assert importer.counts(engine) == before
    csv = f.write_csv(_new_problems(engine, places[:2], "IMPYG"), tmp_path / "yg2.csv")
    code, out, err = _run(two, capsys, "import", "problems", str(csv), "--district", "阳谷县")
    assert code == 0 and "yg2.csv：已导入 2 条问题（新增 2，更新 0）。" in out, err
    assert _count(engine, p, p.c.code.in_(["IMPYG-1", "IMPYG-2"]), p.c.district_code == YG) == 2
    # units and the like are the deployment's: --district is a usage error there
    code, _, err = _run(two, capsys, "import", "units", str(csv), "--district", YG)
    assert code == 2 and "--district 只用于带位置的数据" in err


def test_an_area_import_into_another_district_writes_nothing(two, capsys, tmp_path):
    engine = get_engine(two)
    c = Compound.__table__
    gpkg = tmp_path / "yg.gpkg"
    assert _run(two, capsys, "export", "compounds", str(gpkg), "--district", YG)[0] == 0
    n = _count(engine, c, c.c.district_code == YG)
    before = importer.counts(engine)
    code, _, err = _run(two, capsys, "import", "compounds", str(gpkg), "--district", HOME)
    assert code == 1 and f"yg.gpkg：{n} 行有问题" in err
    assert "第 1 行【位置】：不在东昌府区（371502）内，不能导入到该区县（值：位于阳谷县）" in err
    assert "第 1 行【编号】：编号已是阳谷县（371521）的小区，不能在东昌府区（371502）导入" in err
    assert importer.counts(engine) == before
    code, out, err = _run(two, capsys, "import", "compounds", str(gpkg), "--district", YG)
    assert code == 0 and f"yg.gpkg：已导入 {n} 条小区（新增 0，更新 {n}）。" in out, err
    assert _count(engine, c, c.c.district_code == YG) == n
    # without --district, a deployment of several districts takes rows of any of them
    code, out, err = _run(two, capsys, "import", "compounds", str(gpkg), "--dry-run")
    assert code == 0 and "试运行通过" in out, err


def test_a_district_administrator_imports_into_their_own_district_only(two, tmp_path):
    engine = get_engine(two)
    p = Problem.__table__
    yg_admin = Actor("yg_admin", ADMIN, district_code=YG)
    places = _places(engine, YG, 3)[2:] + _places(engine, HOME, 1)
    csv = f.write_csv(_new_problems(engine, places, "ADMYG"), tmp_path / "adm.csv")
    before = importer.counts(engine)
    with pytest.raises(PermissionDenied, match=f"该对象属于区县 {HOME}，您的账户只管理区县 {YG}"):
        importer.import_file(engine, yg_admin, "problems", csv, district=HOME)
    result = importer.import_file(engine, yg_admin, "problems", csv)  # their own district, by default
    assert not result.written and result.errors["row"].unique().tolist() == [3]
    assert "不在阳谷县（371521）内" in " ".join(result.errors["reason"])
    assert importer.counts(engine) == before
    csv = f.write_csv(_new_problems(engine, places[:1], "ADMYG"), tmp_path / "adm1.csv")
    result = importer.import_file(engine, yg_admin, "problems", csv)
    assert result.written and _count(engine, p, p.c.code == "ADMYG-1", p.c.district_code == YG) == 1


def test_a_district_administrator_on_the_data_page(two, monkeypatch, captured_maps, tmp_path):
    """数据管理 as 阳谷县's 管理员: a row in 东昌府区 is a bad row, a file of 阳谷县 imports, exports hold 阳谷县's rows."""
    engine = get_engine(two)
    p = Problem.__table__
    at = run_app(two, monkeypatch, page="pages/data.py", actor=Actor("yg_admin", ADMIN, district_code=YG))
    assert not at.exception
    places = _places(engine, YG, 4)[3:] + _places(engine, HOME, 1)
    both = _new_problems(engine, places, "PAGEYG").to_csv(index=False).encode()
    at.file_uploader(key="data_upload").set_value([("both.csv", both, "text/csv")]).run()
    assert not at.exception and at.error[0].value.startswith("有 1 行存在问题")
    assert at.dataframe[-1].value.iloc[0].tolist()[:2] == [3, "坐标"]
    assert not [b for b in at.button if b.key == "data_go"]
    mine = _new_problems(engine, places[:1], "PAGEYG").to_csv(index=False).encode()
    at.file_uploader(key="data_upload").set_value([("mine.csv", mine, "text/csv")]).run()
    at.button(key="data_go").click().run()
    assert not at.exception and at.success[-1].value == md_escape("mine.csv：已导入 1 条问题（新增 1，更新 0）。")
    assert _count(engine, p, p.c.code == "PAGEYG-1", p.c.district_code == YG) == 1
    at.selectbox(key="export_kind").set_value("grids")
    at.selectbox(key="export_format").set_value(".csv")
    at.button(key="export_go").click().run()
    assert not at.exception and at.success[-1].value == md_escape("已生成 grids.csv：12 条网格。")
