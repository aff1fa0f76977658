"""网格详情 (pages/grid.py) through AppTest on the small city: reaching a grid (select box, map click,
?grid= link), filtering the ledger, a status change round trip, read-only roles, and XSS.

Small city (tests/smallcity.py): T-01 holds WT01–WT06 and WT09 (WT05 on the T-01/T-02 edge and
WT06 at the centre go to T-01, the lowest id); T-04 holds WT08 and WT10; 阳光小区 (XQ-0001) holds
WT01, WT03, WT09. Statuses: WT03/WT06 整改中, WT04 待派遣, WT05 待核查.
"""

from __future__ import annotations

import re

from datetime import datetime

import pytest
from sqlalchemy import select

from gis.problems import ledger

from gis.problems import workflow
from gis.db.models import Problem
from gis.people.permissions import Actor
from tests.apptools import captured_maps, html_has, run_app  # noqa: F401  (fixture)

PAGE = "pages/grid.py"
CHIEF = Actor("zhoujie", "网格长", "T-01")
VERIFIER = Actor("hecha", "核查员")
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def fresh_cache():
    """City databases are reloaded between tests under the same URL: forget cached reads."""
    import streamlit as st

    st.cache_data.clear()
    yield


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def title(at) -> str:
    """The title as the reader sees it (user text in it is Markdown-escaped: ``T\\-02`` renders as T-02)."""
    return re.sub(r"\\(.)", r"\1", at.title[0].value)


def ledger_codes(at) -> set[str]:
    frames = [df.value for df in at.dataframe if "编号" in df.value.columns and "整改时限" in df.value.columns]
    assert len(frames) == 1
    return set(frames[0]["编号"])


def test_choose_grid_with_select_box_and_map(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE)
    assert not at.exception
    assert title(at) == "网格详情"
    assert captured_maps[-1][0] == "grid_picker_map"
    for code in ("T-01", "T-02", "T-03", "T-04"):
        assert code in captured_maps[-1][1]

    at.selectbox(key="grid_select").set_value("T-02").run()
    assert not at.exception
    assert title(at) == "网格详情 · T-02"
    assert at.query_params["grid"] in ("T-02", ["T-02"])
    assert ledger_codes(at) == {"WT07"}

    # clicking another grid on the grid's own map goes there
    captured_maps.returns["grid_map_T-02"] = {"last_active_drawing": {"properties": {"kind": "grid", "code": "T-03"}}}
    at.run()
    assert not at.exception
    assert title(at) == "网格详情 · T-03"
    assert at.query_params["grid"] in ("T-03", ["T-03"])


def test_click_on_picker_map_opens_grid(city_url, monkeypatch, captured_maps):
    captured_maps.returns["grid_picker_map"] = {"last_active_drawing": {"type": "Feature",
                                                                        "properties": {"code": "T-04", "subdistrict": "柳园街道"}}}
    at = run_app(city_url, monkeypatch, page=PAGE)
    assert not at.exception
    assert title(at) == "网格详情 · T-04"
    assert ledger_codes(at) == {"WT08", "WT10"}


def test_shareable_link_and_responsibility(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE, query={"grid": "T-01"})
    assert not at.exception
    assert title(at) == "网格详情 · T-01"
    assert ledger_codes(at) == {"WT01", "WT02", "WT03", "WT04", "WT05", "WT06", "WT09"}
    card = "".join(m.value for m in at.markdown)
    for text in ("张建国", "13906350001", "陈丽", "周杰", "古楼街道办事处", "0635-8211002", "阳光小区"):
        assert text in card
    key, html = [c for c in captured_maps if c[0] == "grid_map_T-01"][-1]
    assert html_has(html, "阳光小区") and html_has(html, "双井街")
    assert "fa-building" in html or html_has(html, "building")  # the 小区 point icon
    assert not html_has(html, "花园小区")  # T-04's compound is not on T-01's map

    # clicking a compound shows its own responsible people
    captured_maps.returns["grid_map_T-01"] = {"last_active_drawing": {"properties": {"kind": "compound", "code": "XQ-0001"}}}
    at.run()
    assert [s.value for s in at.subheader][0] == "小区：阳光小区"
    people = at.dataframe[0].value
    assert set(people["责任人/单位"]) == {"陈丽", "古楼街道办事处"}


def test_unknown_grid_link_says_so(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE, query={"grid": "NOPE"})
    assert not at.exception
    assert "NOPE" in at.warning[0].value and title(at) == "网格详情"


def test_filters(city_url, city_engine, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE, query={"grid": "T-01"})
    at.multiselect(key="f_status").set_value(["整改中"]).run()
    assert ledger_codes(at) == {"WT03", "WT06"}
    at.multiselect(key="f_status").set_value([]).run()
    at.selectbox(key="f_compound").set_value("XQ-0001").run()
    assert ledger_codes(at) == {"WT01", "WT03", "WT09"}
    at.multiselect(key="f_category").set_value(["占道经营"]).run()
    at.date_input(key="f_from").set_value(datetime(2026, 11, 1).date()).run()
    assert ledger_codes(at) == {"WT01", "WT03"}
    at.selectbox(key="f_compound").set_value(None)
    at.multiselect(key="f_category").set_value([]).run()
    at.date_input(key="f_from").set_value(None).run()
    at.multiselect(key="f_source").set_value(["市民热线"]).run()
    assert ledger_codes(at) == {"WT04"}
    at.multiselect(key="f_source").set_value([]).run()
    at.selectbox(key="f_overdue").set_value("仅超期").run()
    expected = set(ledger.ledger(city_engine, "T-01", overdue=True)["code"])
    assert ledger_codes(at) == expected and "WT01" not in expected and "WT03" in expected
    # the map follows the filters
    html = [c for c in captured_maps if c[0] == "grid_map_T-01"][-1][1]
    assert "WT03" in html and "WT01" not in html


def find_button(at, label):
    hits = [b for b in at.button if b.label == label]
    assert hits, f"no button {label!r}: {[b.label for b in at.button]}"
    return hits[0]


def status_of(engine, code):
    p = Problem.__table__
    with engine.connect() as conn:
        return conn.execute(select(p.c.status, p.c.revision, p.c.rework_count).where(p.c.code == code)).one()


def test_status_change_round_trip(city_rw, monkeypatch, captured_maps):
    url = url_of(city_rw)
    at = run_app(url, monkeypatch, page=PAGE, query={"grid": "T-01"}, actor=CHIEF)
    at.text_input(key="grid_problem_code").input("WT04").run()
    assert not at.exception
    assert "问题 WT04" in [s.value for s in at.subheader]
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == ["派遣"]
    at.selectbox(key="unit_WT04_派遣").set_value("U-002")
    at.text_area(key="note_WT04_派遣").input("请今日处理")
    find_button(at, "派遣").click().run()
    assert not at.exception
    assert "WT04 已派遣" in at.success[0].value
    assert tuple(status_of(city_rw, "WT04")) == ("整改中", 2, 0)
    history = [df.value for df in at.dataframe if "操作" in df.value.columns][0]
    assert list(history["操作"]) == ["派遣"] and history["说明"].iloc[0] == "请今日处理"
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == ["签收", "提交整改", "申请延期", "申请缓办"]

    find_button(at, "签收").click().run()
    at.text_area(key="note_WT04_提交整改").input("已清理")
    find_button(at, "提交整改").click().run()
    assert tuple(status_of(city_rw, "WT04")) == ("待核查", 4, 0)
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == []  # chiefs do not verify

    # a verifier sends it back: 返工
    at.session_state["actor"] = VERIFIER
    at.run()
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == ["核查通过", "退回"]
    find_button(at, "退回").click().run()
    assert "退回原因" in at.error[0].value  # a reason is required; nothing changed
    assert tuple(status_of(city_rw, "WT04")) == ("待核查", 4, 0)
    at.text_area(key="note_WT04_退回").input("仍有残留")
    find_button(at, "退回").click().run()
    assert tuple(status_of(city_rw, "WT04")) == ("整改中", 5, 1)


def test_stale_form_is_refused(city_rw, monkeypatch, captured_maps):
    at = run_app(url_of(city_rw), monkeypatch, page=PAGE, query={"grid": "T-01", "problem": "WT04"}, actor=CHIEF)
    assert "问题 WT04" in [s.value for s in at.subheader]
    workflow.dispatch(city_rw, CHIEF, "WT04", "U-001")  # someone else, meanwhile
    at.selectbox(key="unit_WT04_派遣").set_value("U-002")
    find_button(at, "派遣").click().run()
    assert "已被他人修改" in at.error[0].value
    with city_rw.connect() as conn:
        p = Problem.__table__
        assert conn.execute(select(p.c.revision).where(p.c.code == "WT04")).scalar() == 2


def test_leader_reads_only(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch, page=PAGE, query={"grid": "T-01", "problem": "WT04"})  # default actor: 领导
    assert not at.exception
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == []
    assert any("无权执行" in c.value for c in at.caption)


def test_user_text_is_escaped(city_rw, monkeypatch, captured_maps):
    code = workflow.create_problem(city_rw, CHIEF, "暴露垃圾", XSS, 115.983, 36.447)["code"]
    at = run_app(url_of(city_rw), monkeypatch, page=PAGE, query={"grid": "T-01", "problem": code}, actor=CHIEF)
    assert not at.exception
    html = [c for c in captured_maps if c[0] == "grid_map_T-01"][-1][1]
    # folium writes GeoJSON with \u0026-style escapes: undo them, then look for the raw tag
    plain = html.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")
    assert XSS not in plain and "onerror" in plain
    assert "&lt;img src=x onerror=alert(1)&gt;" in plain
    rendered = [m.value for m in at.markdown]
    assert not any(XSS in text for text in rendered)
    assert any("&lt;img src=x onerror=alert(1)&gt;" in text for text in rendered)  # the problem's detail card
    table = [df.value for df in at.dataframe if "描述" in df.value.columns][0]
    assert XSS in set(table["描述"])  # shown as plain text by the data grid, never as HTML


@pytest.mark.parametrize("query", [{"grid": "T-01", "problem": "WT08"}])
def test_problem_of_another_grid_is_not_opened(city_url, monkeypatch, captured_maps, query):
    at = run_app(city_url, monkeypatch, page=PAGE, query=query, actor=CHIEF)
    assert "WT08" in at.warning[0].value and "不在本网格" in at.warning[0].value


def test_extension_applied_on_the_page_and_approved_by_the_command_centre(city_rw, monkeypatch, captured_maps):
    """申请延期 (网格长, with the new deadline and a reason) → 批准 (指挥中心): the new deadline is in force."""
    from datetime import date, datetime, time

    at = run_app(url_of(city_rw), monkeypatch, page=PAGE, query={"grid": "T-01", "problem": "WT03"}, actor=CHIEF)
    at.date_input(key="until_WT03_申请延期").set_value(date(2026, 11, 30))
    at.time_input(key="until_time_WT03_申请延期").set_value(time(17, 30))
    at.text_area(key="note_WT03_申请延期").input("需协调城管执法")
    find_button(at, "申请延期").click().run()
    assert not at.exception and "WT03 已申请延期" in at.success[0].value
    at.session_state["actor"] = Actor("diaodu", "指挥中心")
    at.run()
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == ["批准", "驳回"]
    assert any("延期至 2026-11-30 17:30" in c.value for c in at.caption)
    find_button(at, "批准").click().run()
    p = Problem.__table__
    with city_rw.connect() as conn:
        row = conn.execute(select(p.c.deadline, p.c.original_deadline).where(p.c.code == "WT03")).one()
    assert row == (datetime(2026, 11, 30, 17, 30), datetime(2026, 11, 11, 8))


def test_an_action_of_a_session_whose_account_was_disabled_changes_nothing(city_rw, monkeypatch, captured_maps):
    """A form's callback runs before app.py's gate: it asks the gate's questions itself (pages.gate.callback_actor).
    A 网格长 disabled by an administrator while the problem was open presses 派遣: nothing happens, the gate signs
    the session out and says why."""
    from gis.people import auth

    auth.add_user(city_rw, Actor.system(), "zhoujie", "网格长", "zhoujie-password-1", grid_code="T-01")
    at = run_app(url_of(city_rw), monkeypatch, page=PAGE, query={"grid": "T-01", "problem": "WT04"}, actor=CHIEF)
    at.session_state["auth_source"] = "password"
    at.run()
    assert [b.label for b in at.button if b.label in workflow.ACTIONS] == ["派遣"]
    at.selectbox(key="unit_WT04_派遣").set_value("U-002")
    auth.set_disabled(city_rw, Actor.system(), "zhoujie", True)
    find_button(at, "派遣").click().run()
    assert not at.exception
    assert tuple(status_of(city_rw, "WT04"))[0] == "待派遣"
    assert any("账户已停用" in w.value for w in at.warning) and at.text_input(key="login_username") is not None


def test_score_trend_is_drawn_with_the_figures_of_score_trend(city_url, city_engine, monkeypatch, captured_maps):
    """考评得分's 12 months as SVG (no chart library in the browser): a month label each, a point per scored
    month whose tooltip gives `gis.metrics.scores.score_trend`'s score and rank."""
    import pandas as pd

    from gis import clock
    from gis.metrics import scores

    at = run_app(city_url, monkeypatch, page=PAGE, query={"grid": "T-01"})
    assert not at.exception
    svg = next(m.value for m in at.markdown if '<svg class="gm-trend"' in m.value)
    trend = scores.score_trend(city_engine, "T-01", months=12, as_of=clock.now().replace(second=0))
    assert svg.count("月</text>") + svg.count("月<tspan") == 12
    scored = trend.dropna(subset=["score"])
    assert svg.count("<circle") == len(scored) > 0
    for row in scored.itertuples():
        rank = "" if pd.isna(row.rank) else f"，第 {int(row.rank)} 名"
        assert f"{row.month.year}年{row.month.month}月 综合得分 {row.score:.2f}{rank}</title>" in svg


def test_trend_chart_breaks_its_line_at_a_month_without_a_score():
    from pages.html import trend_chart

    months = [datetime(2026, m, 1) for m in range(1, 6)]
    svg = trend_chart(months, [90.0, 80.5, None, 70.0, 100.0], [1, 2, None, 3, 1], label="<得分>")
    assert svg.count("<polyline") == 2 and svg.count("<circle") == 4  # 1–2 and 4–5; May's gap drawn as none
    assert "2026年3月" not in svg and "2026年2月 &lt;得分&gt; 80.50，第 2 名" in svg
    assert ">70</text>" in svg and ">100</text>" in svg and ">60</text>" not in svg  # axis from 70 to 100
