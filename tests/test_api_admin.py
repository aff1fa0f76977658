"""系统管理 → 接口密钥: a 管理员 makes and revokes an Open311 API key on the page (AppTest)."""

from __future__ import annotations

from sqlalchemy import select

from gis.db.models import AuditEntry
from gis.people import apikeys
from gis.people.permissions import ADMIN, Actor
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)


def test_admin_creates_and_revokes_an_api_key(city_rw, monkeypatch, captured_maps):
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/admin.py", actor=Actor("admin", ADMIN))
    assert not at.exception
    [box] = [t for t in at.text_input if t.label == "对接系统名称"]
    box.input("12345热线")
    at.button(key="FormSubmitter:admin_apikey_create-生成接口密钥").click().run()
    assert "已生成接口密钥 12345热线" in at.success[0].value
    key = at.code[0].value
    assert apikeys.client(city_rw, key).username == "接口:12345热线"
    at.selectbox(key="admin_apikey_pick").select("12345热线").run()
    at.button(key="admin_apikey_revoke").click().run()
    assert not at.exception and apikeys.client(city_rw, key) is None
    with city_rw.connect() as conn:
        a = AuditEntry.__table__
        acts = conn.execute(select(a.c.actor, a.c.action).where(a.c.target_kind == "apikey")).all()
    assert acts == [("admin", "apikey.create"), ("admin", "apikey.revoke")]
