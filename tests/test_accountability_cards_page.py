"""三色牌 page (issue 14): a 领导 issues a card, filters the register, escalates and sees the history;
a 网格员 sees no issuing form, and a refused move shows a Chinese message and changes nothing."""

from __future__ import annotations

from datetime import datetime

from gis.accountability import cards
from gis.people.permissions import Actor
from tests.apptools import run_app

LEADER = Actor("wang", "领导")


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_issue_filter_and_escalate_on_the_page(city_rw, monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    cards.issue(city_rw, LEADER, "grid", "T-02", "黄", "旧牌", now=datetime(2026, 10, 5, 9))
    at = run_app(_url(city_rw), monkeypatch, page="pages/cards.py", actor=LEADER)
    assert not at.exception
    form_inputs = {t.label: t for t in at.text_input}
    form_inputs["对象编号（单位编号 / 点位编号 / 网格编号）"].input("U-002")
    at.text_area[0].input("暗访发现占道经营")
    form_inputs["证据：问题编号（逗号分隔）"].input("WT03")
    next(b for b in at.button if b.label == "签发").click().run()
    assert not at.exception and any("三色牌已签发" in s.value for s in at.success)
    reg = cards.register(city_rw)
    assert reg["target_code"].tolist() == ["U-002", "T-02"]

    at.selectbox(key="cards_color").select("黄").run()
    at.text_input(key="cards_target").input("U-002").run()
    table = at.dataframe[0].value
    assert table["对象编号"].tolist() == ["U-002"] and table["对象"].tolist() == ["古楼街道办事处"]
    new = reg.iloc[0]["code"]
    # 书面说明 without a file: refused, nothing changes
    next(t for t in at.text_input if t.label == "处置说明").input("要求书面说明")
    next(b for b in at.button if b.label == "执行：书面说明").click().run()
    assert any("需要上传说明文件" in e.value for e in at.error)
    assert cards.register(city_rw).set_index("code").loc[new, "step"] == "限期整改"


def test_grid_worker_cannot_issue(city_engine, monkeypatch):
    url = _url(city_engine)
    at = run_app(url, monkeypatch, page="pages/cards.py", actor=Actor("xiaoli", "网格员", "T-01"))
    assert not at.exception
    assert any("核查员、指挥中心和领导可以签发三色牌" in i.value for i in at.info)
    assert not [b for b in at.button if b.label == "签发"]
