"""数据管理 through AppTest: upload → detected encoding/CRS, field mapping, preview map, bad rows, import, export."""

from __future__ import annotations


from gis.io import importer
from gis.people.permissions import Actor
from pages.ui import md_escape
from tests import io_files as f
from tests.apptools import captured_maps, html_has, run_app  # noqa: F401  (fixture)

PAGE = "pages/data.py"
ADMIN = Actor("admin", "管理员")


def _upload(at, files):
    at.file_uploader(key="data_upload").set_value(files)
    at.run()
    assert not at.exception, at.exception
    return at


def test_upload_shows_detection_mapping_preview_and_imports(city_rw, monkeypatch, captured_maps, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page=PAGE, actor=ADMIN)
    assert not at.exception and at.title[0].value == "数据管理"
    csv = f.write_csv(f.problems_frame(), tmp_path / "热线.csv", encoding="gbk").read_bytes()
    _upload(at, [("热线.csv", csv, "text/csv")])
    text = "\n".join(m.value for m in at.markdown)
    assert "检测到 CSV 字符编码为 GB18030（GBK 的超集）。" in text and "坐标取自列“经度”“纬度”。" in text
    assert at.selectbox(key=next(k for k in _keys(at) if k.endswith("_description"))).value == "问题描述"
    key, html = captured_maps[-1]
    assert key == "data_preview" and html_has(html, "东昌路早市占道") and html_has(html, "IM-001")
    go = at.button(key="data_go")
    assert go.label == "导入 3 条问题"
    go.click().run()
    assert not at.exception
    assert at.success[-1].value == md_escape("热线.csv：已导入 3 条问题（新增 3，更新 0）。")
    assert importer.counts(city_rw)["problems"] == 13


def _keys(at):
    return [w.key for w in at.selectbox if w.key]


def test_bad_rows_are_listed_and_nothing_can_be_imported(city_rw, monkeypatch, captured_maps, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page=PAGE, actor=ADMIN)
    df = f.problems_frame()
    df.loc[1, "上报时间"] = "<script>alert(1)</script>"
    _upload(at, [("bad.csv", df.to_csv(index=False).encode(), "text/csv")])
    assert at.error[0].value.startswith("有 1 行存在问题（共 1 处）")
    table = at.dataframe[-1].value
    assert table.iloc[0].tolist() == [3, "上报时间", "<script>alert(1)</script>",
                                      "无法识别的日期时间（可用 2025-03-05 08:30、2025/3/5、2025年3月5日 08:30）"]
    assert not [b for b in at.button if b.key == "data_go"]
    assert importer.counts(city_rw)["problems"] == 10


def test_mapping_can_be_changed_and_files_refused(city_rw, monkeypatch, captured_maps, tmp_path):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page=PAGE, actor=ADMIN)
    df = f.problems_frame().rename(columns={"问题描述": "情况说明"})
    _upload(at, [("p.csv", df.to_csv(index=False).encode(), "text/csv")])
    assert at.error[0].value.startswith("缺少必填字段：问题描述")
    assert at.expander[0].proto.expanded  # the mapping opens when a required field is missing
    desc = at.selectbox(key=next(k for k in _keys(at) if k.endswith("_description")))
    desc.set_value("情况说明").run()
    assert not at.error and at.button(key="data_go").label == "导入 3 条问题"
    slip = f.zip_of({"../x.csv": b"a"}, tmp_path / "s.zip").read_bytes()
    _upload(at, [("s.zip", slip, "application/zip")])
    assert at.error[0].value == md_escape("压缩包中的路径“../x.csv”指向压缩包之外，已拒绝整个压缩包。")


def test_non_admins_see_the_check_but_cannot_import(city_url, monkeypatch, captured_maps, tmp_path):
    at = run_app(city_url, monkeypatch, page=PAGE, actor=Actor("wang", "网格员", "T-01"))
    _upload(at, [("p.csv", f.problems_frame().to_csv(index=False).encode(), "text/csv")])
    assert at.success[0].value == "校验通过：3 条问题。"
    assert at.warning[0].value == "只有管理员可以导入数据。"
    assert not [b for b in at.button if b.key == "data_go"]


def test_export_download(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE, actor=ADMIN)
    at.selectbox(key="export_kind").set_value("grids")
    at.selectbox(key="export_format").set_value(".csv")
    at.button(key="export_go").click().run()
    assert not at.exception
    assert at.success[-1].value == md_escape("已生成 grids.csv：4 条网格。")
