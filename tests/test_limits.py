"""One text limit per field (gis.db.limits), the same at every entry: import, the closed loop, planning."""

from __future__ import annotations

from datetime import datetime

import pytest
from shapely.geometry import box

from gis.cli.main import main
from gis.db import limits
from gis.io import importer
from gis.planning import edits
from gis.problems import workflow
from gis.people.permissions import Actor
from tests import hostile, io_files as f
from tests import smallcity as sc

NOW = datetime(2026, 11, 20, 12)
CHIEF = Actor("zhoujie", "网格长", "T-01")


def _import(url, capsys, path) -> tuple[int, str, str]:
    code = main(["--database", url, "import", "problems", str(path)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_refuses_a_long_description_by_row_and_field(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    df = f.problems_frame()
    df.loc[0, "问题描述"] = "长" * limits.PROBLEM_TEXT          # exactly the limit: fine
    df.loc[2, "问题描述"] = "长" * 250_000                       # was accepted before
    before = importer.counts(city_rw)
    code, _, err = _import(url, capsys, f.write_csv(df, tmp_path / "p.csv"))
    assert code == 1
    assert "第 4 行【问题描述】：过长（250,000 字），最多 2,000 字" in err
    assert "第 2 行" not in err and "未导入任何数据" in err
    assert importer.counts(city_rw) == before


def test_a_megabyte_cell_gets_the_row_message_not_a_parser_error(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    path = hostile.long_cell_csv(tmp_path / "long.csv", chars=2_000_000)  # 6 MB: "straddling object" before
    code, _, err = _import(url, capsys, path)
    assert code == 1 and "第 2 行【问题描述】：过长（2,000,000 字），最多 2,000 字" in err


def test_the_closed_loop_has_the_same_limit(city_rw):
    ok = workflow.create_problem(city_rw, CHIEF, "暴露垃圾", "长" * limits.PROBLEM_TEXT, 115.983, 36.447, now=NOW)
    assert ok["status"] == "待派遣"
    with pytest.raises(workflow.WorkflowError, match=f"问题描述过长（{limits.PROBLEM_TEXT + 1} 字），最多 2000 字"):
        workflow.create_problem(city_rw, CHIEF, "暴露垃圾", "长" * (limits.PROBLEM_TEXT + 1), 115.983, 36.447, now=NOW)


def test_planning_names_have_the_grid_table_limits(tmp_path):
    layer = edits.candidate_from(sc.grids())
    shape = box(sc.E, sc.S, sc.E + 0.002, sc.S + 0.002)
    with pytest.raises(edits.PlanningError, match="^网格名称过长（101 字），最多 100 字。$"):
        edits.add_grid(layer, shape, "T-09", "名" * 101)
    with pytest.raises(edits.PlanningError, match="^网格编号过长（33 字），最多 32 字。$"):
        edits.add_grid(layer, shape, "T" * 33, "新网格")
    assert "T-09" in set(edits.add_grid(layer, shape, "T-09", "名" * 100)["code"])
    long_name = sc.grids()
    long_name.loc[0, "name"] = "名" * 101
    path = tmp_path / "grids.geojson"
    long_name.to_file(path, engine="pyogrio")
    with pytest.raises(edits.PlanningError, match="第 1 行【网格名称】：过长（101 字），最多 100 字"):
        edits.read_upload(path.read_bytes(), "grids.geojson")
