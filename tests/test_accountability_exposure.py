"""曝光台 (issue 14 step 3): exposing problems (roles, audit), the public list with before/after
photos and state, and the page — which must show no reporter, phone number or other personal data."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from gis.accountability import cards, exposure
from gis.accountability.cards import CardError, Evidence
from gis.db.models import AuditEntry, Problem, ProblemEvent
from gis.people.permissions import Actor, PermissionDenied
from tests.apptools import captured_maps, html_has, run_app  # noqa: F401  (fixture)

LEADER = Actor("wang", "领导")
NOW = datetime(2026, 11, 20, 9, 0)
SECRET_PHONE, SECRET_NAME = "13812345678", "赵举报"


def _png(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    path.write_bytes(buf.getvalue())


@pytest.fixture
def exposed_city(city_rw, tmp_path, monkeypatch):
    """WT03 (整改中, overdue at NOW) and WT01 (已结案) exposed; WT03 carries a citizen's name and
    phone in its report, WT01 has a report photo and a rectification photo."""
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    _png(tmp_path / "uploads" / "WT01" / "before.png")
    _png(tmp_path / "uploads" / "WT01" / "after.png")
    with city_rw.begin() as conn:
        conn.execute(update(Problem).where(Problem.code == "WT03").values(
            reporter=SECRET_NAME, description=f"占道经营，市民{SECRET_NAME}来电 {SECRET_PHONE} 反映，固话0635-8211002"))
        pid = conn.execute(select(Problem.id).where(Problem.code == "WT01")).scalar_one()
        for action, at, photo in (("上报", datetime(2026, 11, 2, 9), "WT01/before.png"),
                                  ("提交整改", datetime(2026, 11, 2, 20), "WT01/after.png")):
            conn.execute(ProblemEvent.__table__.insert().values(problem_id=pid, action=action, to_status="整改中",
                                                                actor="gridworker", at=at, photo_path=photo))
    with pytest.raises(PermissionDenied, match="不能执行“曝光”"):
        exposure.expose(city_rw, Actor("diaodu", "指挥中心"), ["WT03"], "逾期", now=NOW)
    with pytest.raises(CardError, match="问题编号不存在：WT99"):
        exposure.expose(city_rw, LEADER, ["WT99"], "逾期", now=NOW)
    assert exposure.expose(city_rw, LEADER, ["WT03", "WT01"], "典型问题曝光", now=NOW) == 2
    assert exposure.expose(city_rw, LEADER, ["WT03"], "again", now=NOW) == 0
    return city_rw


def test_exposed_list_is_public_safe(exposed_city):
    rows = exposure.exposed(exposed_city, now=NOW).set_index("code")
    assert set(rows.index) == {"WT03", "WT01"}
    assert rows.loc["WT03", "state"] == "超期未改" and rows.loc["WT01", "state"] == "已整改"
    assert rows.loc["WT03", "description"] == f"占道经营，市民{SECRET_NAME}来电 ＊＊＊ 反映，固话＊＊＊"
    assert (rows.loc["WT01", "before_photo"], rows.loc["WT01", "after_photo"]) == ("WT01/before.png", "WT01/after.png")
    assert rows.loc["WT03", "before_photo"] is None
    assert rows.loc["WT01", ["decided_by", "decided_at", "unit"]].tolist() == ["wang", NOW, "古楼街道办事处"]
    assert "reporter" not in rows.columns and SECRET_PHONE not in rows.to_csv()
    with exposed_city.connect() as conn:
        n = conn.execute(select(func.count()).where(AuditEntry.action == "exposure.add")).scalar_one()
    assert n == 2
    assert exposure.exposed(exposed_city, since=datetime(2026, 12, 1), now=NOW).empty


def test_card_escalation_exposes_its_problems(city_rw, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_UPLOAD_DIR", str(tmp_path / "uploads"))
    code = cards.issue(city_rw, LEADER, "grid", "T-01", "黄", "暗访", Evidence(problems=["WT05"]), now=NOW)
    cards.escalate(city_rw, LEADER, code, "说明", file=("说明.docx", b"PK.."), now=NOW)
    cards.escalate(city_rw, LEADER, code, "曝光", now=NOW)
    rows = exposure.exposed(city_rw, now=NOW)
    assert rows[["code", "card"]].values.tolist() == [["WT05", code]]


def test_exposure_page_shows_no_personal_data(exposed_city, monkeypatch, captured_maps):
    url = exposed_city.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/exposure.py", query={"display": "1"})
    assert not at.exception
    texts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [e.value for e in at.title]
    page = "\n".join(str(t) for t in texts)
    assert "曝光台" in page and "WT03 · 占道经营" in page and "超期未改" in page and "曝光决定：wang" in page
    assert "整改前：无照片" in page and "整改后：无照片" in page  # WT03 has none
    assert len(at.get("image")) == 2  # WT01's before and after
    maps = "\n".join(html for key, html in captured_maps if key == "exposure_map")
    assert html_has(maps, "WT03")
    for secret in (SECRET_PHONE, "0635-8211002", "13906350011", "李娜", "0635-8211001"):
        assert secret not in page and not html_has(maps, secret), secret
    assert not at.get("form")  # display mode: no form on a public screen


def test_kiosk_token_opens_the_exposure_screen(exposed_city, monkeypatch, captured_maps):
    token = "exposure-screen-token-2026"
    monkeypatch.setenv("GRIDMAP_KIOSK_TOKENS", token)
    url = exposed_city.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, query={"kiosk": token}, actor=None)
    at.switch_page("pages/exposure.py").run()
    assert not at.exception
    assert "曝光台" in [t.value for t in at.title] and not at.get("form")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/cards.py")  # a kiosk opens the wall and the 曝光台, nothing else
