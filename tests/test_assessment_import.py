"""The 测评体系 import (issue 13): `gis import assessment FILE.xlsx`, a system of the seeds' size in one go, codes
generated and kept across re-imports, point kinds honoured, bad rows refused by row and column with nothing
written, and a re-import as a new version from its 生效日期."""

from __future__ import annotations

import time
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from gis.cli.main import main
from gis.db import rule_versions
from gis.db.models import InspectionPoint, Standard, StandardVersion
from gis.io import importer
from gis.people.permissions import Actor
from gis.problems import field
from pages.ui import md_escape
from tests import assessment_files as af
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ADMIN = Actor.system("测试管理员")


def _run(url, capsys, *argv):
    code = main(["--database", url, *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _standards(engine) -> pd.DataFrame:
    s = Standard.__table__
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(s.c.code, s.c.item, s.c.content, s.c.text, s.c.points, s.c.negative,
                                                s.c.negative_effect, s.c.method, s.c.point_kinds)).all(),
                            columns=["code", "item", "content", "text", "points", "negative", "negative_effect",
                                     "method", "point_kinds"]).set_index("code")


def test_a_seed_sized_system_loads_in_one_go_from_the_cli(city_rw, capsys, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    book = af.write_workbook(tmp_path / "测评体系.xlsx", af.system_frame(), af.negative_frame())
    t0 = time.perf_counter()
    code, out, err = _run(url, capsys, "import", "assessment", str(book))
    took = time.perf_counter() - t0
    assert code == 0, err
    assert "测评体系.xlsx：已导入 216 条测评体系标准（新增 216，更新 0）。" in out
    assert "· 已一并读取工作表“负面清单”：30 条负面清单。" in out
    print(f"216 standards imported in {took:.2f} s")
    df = _standards(city_rw)
    new = df.drop(index=["1.1.1", "1.2.1", "9.1.1"])
    assert len(new) == 216 and new["item"].nunique() == 13  # 12 items + 负面清单
    assert new.loc[~new["negative"], "content"].nunique() == 90
    # generated codes: item.content.standard in the file's order; the small city's 1.1.1 and 1.2.1 are taken
    first = new.loc[new["text"] == "市容环境内容01的第1条标准"].index[0]
    assert first == "1.1.2"  # 1.1.1 is the small city's
    assert new.at["1.1.3", "text"] == "市容环境内容01的第2条标准"
    assert new.loc[new["text"] == "市容环境内容02的第1条标准"].index[0] == "1.2.2"
    neg = new[new["negative"]]
    assert len(neg) == 30 and (neg["item"] == "负面清单").all()
    assert neg["negative_effect"].value_counts().to_dict() == {"扣分": 20, "否决": 10}
    assert neg.loc[neg["text"] == "重大负面舆情第14项", "points"].iloc[0] == 5.0  # 2 + 13 % 5
    row = new.loc[new["text"] == "市容环境内容01的第2条标准"].iloc[0]
    assert (row["method"], row["point_kinds"], row["points"]) == ("问卷调查", "主次干道,背街小巷", 1.5)
    # the small city's standards are not in the file: retired from today, kept for the history
    with city_rw.connect() as conn:
        live = rule_versions.active_standard_codes(conn, date(2026, 11, 21))
        before = rule_versions.active_standard_codes(conn, date(2026, 11, 20))
    assert "1.1.1" not in live and "1.1.3" in live and "1.1.1" in before


def test_reimport_keeps_codes_and_starts_a_new_version_from_its_date(city_rw, tmp_path):
    system = af.system_frame()
    system["生效日期"] = "2026年11月1日"
    importer.import_file(city_rw, ADMIN, "assessment", af.write_workbook(tmp_path / "a.xlsx", system, af.negative_frame()))
    codes = _standards(city_rw).reset_index().set_index("text")["code"]
    changed = system.copy()
    changed.loc[0, "分值"] = 4.0  # 市容环境内容01的第1条标准: 1.0 → 4.0 from 15 November
    changed["生效日期"] = "2026-11-15"
    changed = pd.concat([changed.iloc[:1], pd.DataFrame([{"测评项目": "市容环境", "测评内容": "市容环境内容01",
                                                           "测评标准": "新增的一条标准", "分值": 2.0}]), changed.iloc[1:]])
    result = importer.import_file(city_rw, ADMIN, "assessment", af.write_workbook(tmp_path / "b.xlsx", changed, af.negative_frame()))
    assert result.written and (result.inserted, result.updated) == (1, 216)
    again = _standards(city_rw).reset_index().set_index("text")["code"]
    assert again.loc[codes.index].equals(codes)  # every standard keeps its code
    assert again.at["新增的一条标准"] == "1.1.5"  # the next free number of its content
    with city_rw.connect() as conn:
        key = codes.at["市容环境内容01的第1条标准"]
        assert rule_versions.in_force(conn, rule_versions.STANDARD, key, date(2026, 11, 14))["points"] == 1.0
        assert rule_versions.in_force(conn, rule_versions.STANDARD, key, date(2026, 11, 15))["points"] == 4.0
        new_one = rule_versions.in_force(conn, rule_versions.STANDARD, "1.1.5", date(2026, 11, 15))
        assert new_one["active"] and new_one["points"] == 2.0
        # the small city's standards were retired by the first file (1 November), not before
        assert rule_versions.in_force(conn, rule_versions.STANDARD, "1.2.1", date(2026, 10, 31))["active"]
        assert not rule_versions.in_force(conn, rule_versions.STANDARD, "1.2.1", date(2026, 11, 1))["active"]


def test_point_kinds_decide_which_standards_a_point_is_checked_against(city_rw, tmp_path):
    book = af.write_workbook(tmp_path / "k.xlsx", pd.DataFrame([
        {"测评项目": "市容环境", "测评内容": "店外经营", "测评标准": "只在商业大街", "分值": 2, "适用点位类型": "商业大街"},
        {"测评项目": "市容环境", "测评内容": "乱堆乱放", "测评标准": "按项目适用", "分值": 2},
        {"测评项目": "农贸市场", "测评内容": "市场秩序", "测评标准": "也在主次干道", "分值": 2, "适用点位类型": "农贸市场，主次干道"},
    ]), af.negative_frame(2))
    assert importer.import_file(city_rw, ADMIN, "assessment", book).written
    pt = InspectionPoint.__table__
    with city_rw.connect() as conn:
        points = dict(conn.execute(select(pt.c.kind, pt.c.code)).all())
    road = field.point_standards(city_rw, points["主次干道"])["text"].tolist()
    assert "按项目适用" in road and "也在主次干道" in road and "只在商业大街" not in road
    # 负面清单 items with an effect (否决 / 扣分) are events the command centre records (gis.metrics.negative),
    # not checks at a point
    assert not any(t.startswith(("重大安全生产事故", "重大环境污染事件")) for t in road)
    assert "城区无露天烧烤" not in road  # the small city's old standards are retired by the new system


@pytest.mark.parametrize("edit, lines", [
    (lambda s, n: s.__setitem__("分值", s["分值"].where(s.index != 3, "三分")),
     ["第 5 行【分值】：不是数字（值：三分）"]),
    (lambda s, n: s.__setitem__("测评方式", s["测评方式"].where(s.index != 0, "电话抽查")),
     ["第 2 行【测评方式】：取值不在允许范围（实地考察、问卷调查、材料审核）（值：电话抽查）"]),
    (lambda s, n: s.__setitem__("适用点位类型", s["适用点位类型"].where(s.index != 1, "主次干道、菜市场")),
     ["第 3 行【适用点位类型】：不是点位类型：菜市场（可用：主次干道、背街小巷、商业大街、农贸市场、学校、医院、公共厕所、广场公园、车站、九小门店、小区、城中村、机关单位、建筑工地）（值：主次干道、菜市场）"]),
    (lambda s, n: n.__setitem__("处理方式", n["处理方式"].where(n.index != 4, "通报批评")),
     ["第 6 行【负面清单表·处理方式】：取值不在允许范围（一票否决、扣分）（值：通报批评）"]),
    (lambda s, n: n.__setitem__("扣分", n["扣分"].where(n.index != 12, None)),
     ["第 14 行【负面清单表·扣分】：处理方式为扣分的负面清单须填扣分"]),
])
def test_bad_rows_are_refused_by_row_and_column_with_nothing_written(city_rw, tmp_path, edit, lines):
    system, negative = af.system_frame(), af.negative_frame()
    system = system.astype(object)
    negative = negative.astype(object)
    edit(system, negative)
    book = af.write_workbook(tmp_path / "bad.xlsx", system, negative)
    before = importer.counts(city_rw)
    with city_rw.connect() as conn:
        versions_before = conn.execute(select(StandardVersion.__table__)).all()
    result = importer.import_file(city_rw, ADMIN, "assessment", book)
    assert not result.written
    assert result.prepared.error_lines() == lines
    assert result.summary() == "bad.xlsx：1 行有问题（共 1 处），未导入任何数据。"
    assert importer.counts(city_rw) == before
    with city_rw.connect() as conn:
        assert conn.execute(select(StandardVersion.__table__)).all() == versions_before


def test_unknown_category_and_a_code_on_both_sheets_are_refused(city_rw, tmp_path):
    system = af.system_frame().head(4)
    system["问题类型"] = ["占道经营", "乱扔垃圾", None, None]
    system["标准编号"] = ["A.1", "A.2", "A.3", "A.4"]
    negative = af.negative_frame(2)
    negative["编号"] = ["F.1", "A.3"]
    result = importer.import_file(city_rw, ADMIN, "assessment", af.write_workbook(tmp_path / "c.xlsx", system, negative))
    assert not result.written
    assert result.prepared.error_lines() == [
        "第 3 行【问题类型】：问题类型不在问题类型表中（请先配置该类型）（值：乱扔垃圾）",
        "第 3 行【负面清单表·标准编号】：编号与第一张工作表的测评标准重复（值：A.3）"]


def test_the_data_page_imports_a_system_with_its_negative_sheet(city_rw, monkeypatch, captured_maps, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/data.py", actor=Actor("admin", "管理员"))
    [kind] = [s for s in at.selectbox if s.label == "导入为"]
    kind.select("assessment").run()
    book = af.write_workbook(tmp_path / "体系.xlsx", af.system_frame(), af.negative_frame()).read_bytes()
    at.file_uploader(key="data_upload").set_value([("体系.xlsx", book, XLSX)]).run()
    assert not at.exception, at.exception
    go = at.button(key="data_go")
    assert go.label == "导入 216 条测评体系标准"
    go.click().run()
    assert not at.exception
    assert at.success[-1].value == md_escape("体系.xlsx：已导入 216 条测评体系标准（新增 216，更新 0）。")
    assert importer.counts(city_rw)["assessment"] == 219
