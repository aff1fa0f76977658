"""`python -m gis figures --month … --json` on tests/numbers_city.py, against the hand-computed
November 2026 (see tests/test_numbers.py for the problem figures).

综合得分 in November: deductions T-01 3 (N05, N06, N11), T-02 1.5 (N07 a 网格员巡查 find ×0.5, N10),
T-03 0, T-04 0 → mean 4.5/4 = 1.125. T-02 earned 3 of 10 inspection points (a partial credit).
    T-01: 100×9/12 − 10×3/1.125   − 20×0/1 = 75 − 26.667         = 48.333
    T-02: 100×3/10 − 10×1.5/1.125 − 20×1/3 = 30 − 13.333 − 6.667 = 10
    T-03, T-04: 75
"""

from __future__ import annotations

import json

import pytest

from gis.cli.main import main
from gis.db import migrate
from gis.db.engine import get_engine
from tests import numbers_city
from tests.conftest import new_database_url

KEYS = ["立案数", "应结案数", "结案数", "结案率", "按期结案数", "按期结案率", "返工数", "返工率", "延期数", "延期率",
        "缓办数", "超期数", "超期率", "处置率", "平均整改用时", "回访数", "满意率"]


@pytest.fixture(scope="module")
def numbers_url(backend_name, tmp_path_factory) -> str:
    url = new_database_url(backend_name, tmp_path_factory, "figcli")
    engine = get_engine(url)
    migrate.upgrade(engine)
    numbers_city.load(engine)
    return url


def _run(url, capsys, *args) -> tuple[int, str, str]:
    code = main(["--database", url, "figures", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_figures_of_a_month(numbers_url, capsys):
    code, out, _ = _run(numbers_url, capsys, "--month", "2026-11", "--as-of", "2026-11-30", "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == ["month", "as_of", "city", "grids", "units"]
    assert data["month"] == "2026-11" and data["as_of"] == "2026-12-01T00:00:00"
    assert list(data["city"]) == KEYS
    assert data["city"] == {"立案数": 5, "应结案数": 4, "结案数": 3, "结案率": 0.75, "按期结案数": 3, "按期结案率": 0.75,
                            "返工数": 1, "返工率": 0.25, "延期数": 1, "延期率": 0.25, "缓办数": 1, "超期数": 1,
                            "超期率": 0.25, "处置率": 0.75, "平均整改用时": 363.7,
                            "回访数": 0, "满意率": None}
    assert set(data["grids"]) == {"T-01", "T-02", "T-03", "T-04"}
    t02 = data["grids"]["T-02"]
    assert list(t02)[:len(KEYS)] == KEYS
    assert (t02["应结案数"], t02["按期结案数"], t02["按期结案率"], t02["超期数"]) == (3, 2, 0.6667, 1)
    assert t02["综合得分"] == pytest.approx(10.0) and data["grids"]["T-01"]["综合得分"] == pytest.approx(48.33)
    assert t02["排名"] is None and t02["样本不足"] is True  # 4 inspections < 30
    assert data["units"]["U-003"]["应结案数"] == 3 and data["units"]["U-002"]["按期结案率"] == 1.0
    assert data["units"]["U-001"]["应结案数"] == 0 and data["units"]["U-001"]["结案率"] is None


def test_one_grid_ranked_and_errors(numbers_url, capsys, monkeypatch):
    monkeypatch.setenv("GRIDMAP_MIN_INSPECTIONS", "4")
    code, out, _ = _run(numbers_url, capsys, "--month", "2026-11", "--as-of", "2026-11-30", "--grid", "T-01", "--json")
    assert code == 0
    grids = json.loads(out)["grids"]
    assert list(grids) == ["T-01"] and grids["T-01"]["排名"] == 3 and grids["T-01"]["样本不足"] is False
    code, out, _ = _run(numbers_url, capsys, "--month", "2026-10", "--as-of", "2026-12-01")
    assert code == 0 and "按期结案率：66.67%" in out  # October, plain text
    code, _, err = _run(numbers_url, capsys, "--month", "2026-11", "--grid", "T-09", "--json")
    assert code == 1 and "网格 T-09 不存在" in err
    code, _, err = _run(numbers_url, capsys, "--month", "11/2026")
    assert code == 1 and "月份“11/2026”格式不对" in err
