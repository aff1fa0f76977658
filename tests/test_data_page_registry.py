"""数据管理 for a city's own registries (issue 13): a 下载模板 button per import kind, and 问题类型对应 (the page's
`--map`) turning a ledger's own category names into the system's for one import."""

from __future__ import annotations

from gis.io import importer
from gis.io.fields import DATASET_LABELS, KINDS
from gis.people.permissions import Actor
from pages.ui import md_escape
from tests import io_files as f
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

PAGE = "pages/data.py"
ADMIN = Actor("admin", "管理员")


def test_template_button_for_every_kind(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE, actor=ADMIN)
    for kind in KINDS:
        at.selectbox(key=next(s.key for s in at.selectbox if s.label == "导入为")).set_value(kind).run()
        assert not at.exception
        buttons = [b for b in at.get("download_button") if b.proto.label == f"下载模板：{DATASET_LABELS[kind]}"]
        assert len(buttons) == 1, kind


def test_category_names_mapped_for_one_import(city_rw, monkeypatch, captured_maps):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page=PAGE, actor=ADMIN)
    df = f.problems_frame()
    df["问题类型"] = ["占道经营", "暴露垃圾", "烧烤摊"]
    at.file_uploader(key="data_upload").set_value([("台账.csv", df.to_csv(index=False).encode(), "text/csv")]).run()
    at.button(key="data_go").click().run()
    assert not at.exception
    assert at.error[0].value.startswith("有 1 行存在问题")
    table = at.dataframe[-1].value
    assert table.iloc[0]["问题"].startswith("问题类型“烧烤摊”不在问题类型表中；最接近的有：露天烧烤")
    assert importer.counts(city_rw)["problems"] == 10

    at.text_area(key="data_renames").input("烧烤摊=露天烧烤").run()
    at.button(key="data_go").click().run()
    assert not at.exception
    assert at.success[-1].value == md_escape("台账.csv：已导入 3 条问题（新增 3，更新 0）。")
    assert importer.counts(city_rw)["problems"] == 13

    at.text_area(key="data_renames").input("烧烤摊").run()
    assert at.error[0].value == md_escape("名称对应“烧烤摊”格式不对，应为 旧名=新名（如 违建=违法建设）。")
    assert not [b for b in at.button if b.key == "data_go"]
