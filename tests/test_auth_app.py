"""The sign-in gate through AppTest: login page, wrong password, lock-out, navigation by role,
the kiosk token (the wall page and nothing else), the admin page, and the audit log viewer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete

from gis.people import audit

from gis.people import auth

from gis.people import kiosk
from gis.db.models import AuditEntry, KioskToken, User
from gis.people.permissions import Actor
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
ADMIN = Actor("管理员甲", "管理员")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def site(city_rw, monkeypatch):
    """The small city with three users (admin, a 领导, a 网格长 of T-01) and an empty audit log."""
    with city_rw.begin() as conn:
        for table in (User, KioskToken, AuditEntry):
            conn.execute(delete(table.__table__))
    auth.add_user(city_rw, ADMIN, "admin", "管理员", "admin-password")
    auth.add_user(city_rw, ADMIN, "leader", "领导", "leader-password")
    auth.add_user(city_rw, ADMIN, "chief", "网格长", "chief-password", grid_code="T-01")
    with city_rw.begin() as conn:
        conn.execute(delete(AuditEntry.__table__))
    monkeypatch.delenv("GRIDMAP_KIOSK_TOKENS", raising=False)
    return city_rw


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _titles(at) -> list[str]:
    return [t.value for t in at.title]


def _sign_in(at, username, password):
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    return at.button(key="FormSubmitter:login_form-登录").click().run()


def _on_login_page(at) -> bool:
    return _titles(at) == ["创城网格地图 · 登录"] and len(at.text_input) == 2


def test_signed_out_sees_only_the_login_page(site, monkeypatch, captured_maps):
    at = run_app(_url(site), monkeypatch, actor=None)
    assert not at.exception
    assert _on_login_page(at)
    assert captured_maps == [] and not at.metric  # no map, no counts
    assert not at.sidebar.button  # no sign-out button, no user box
    # asking for another page while signed out still shows the login page
    for page in ("pages/overview.py", "pages/admin.py", "pages/wall.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert _on_login_page(at), page
        assert captured_maps == []


def test_wrong_password_then_sign_in_then_navigate(site, monkeypatch, captured_maps):
    at = run_app(_url(site), monkeypatch, actor=None)
    _sign_in(at, "leader", "not-the-password")
    assert not at.exception
    assert [e.value for e in at.error] == ["用户名或密码错误。"]
    assert _on_login_page(at) and "actor" not in at.session_state

    _sign_in(at, "leader", "leader-password")
    assert not at.exception
    assert at.session_state["actor"] == Actor("leader", "领导")
    assert _titles(at)[0] == "创城网格地图 · 东昌府区"  # the overview
    assert captured_maps[-1][0] == "overview_map"
    assert "leader（领导）" in [t.value for t in at.sidebar.text]
    # a 领导 may not open the admin page: it is not even registered for the session
    with pytest.raises(ValueError):
        at.switch_page("pages/admin.py")
    at.switch_page("pages/wall.py").run()
    assert not at.exception and captured_maps[-1][0] == "wall_map"

    # sign out
    at.sidebar.button(key="gate_sign_out").click().run()
    assert _on_login_page(at) and "actor" not in at.session_state
    log = audit.entries(site)
    assert log["action"].tolist() == ["auth.logout", "auth.login", "auth.login_failed"]
    assert set(log["actor"]) == {"leader"}


def test_lock_out_message_in_chinese(site, monkeypatch):
    monkeypatch.setenv("GRIDMAP_LOCKOUT_ATTEMPTS", "2")
    at = run_app(_url(site), monkeypatch, actor=None)
    _sign_in(at, "chief", "wrong-1")
    _sign_in(at, "chief", "wrong-2")
    message = at.error[0].value
    assert message.startswith("密码连续错误 2 次，账户已锁定") and "后再试" in message
    _sign_in(at, "chief", "chief-password")  # the right password, but locked
    assert "账户已锁定" in at.error[0].value and "actor" not in at.session_state


def test_disabled_user_is_signed_out_at_the_next_click(site, monkeypatch, captured_maps):
    at = run_app(_url(site), monkeypatch, actor=None)
    _sign_in(at, "chief", "chief-password")
    assert at.session_state["actor"] == Actor("chief", "网格长", "T-01", district_code="371502")
    auth.set_disabled(site, ADMIN, "chief", True)
    at.run()
    assert _on_login_page(at) and "停用" in at.warning[0].value


def test_idle_session_expires(site, monkeypatch, captured_maps):
    from datetime import datetime, timedelta

    at = run_app(_url(site), monkeypatch, actor=None)
    _sign_in(at, "leader", "leader-password")
    at.session_state["last_seen"] = datetime.now() - timedelta(minutes=31)
    at.run()
    assert _on_login_page(at) and "30 分钟未操作" in at.warning[0].value
    assert audit.entries(site)["action"].iloc[0] == "auth.expired"


def test_kiosk_token_opens_the_wall_and_nothing_else(site, monkeypatch, captured_maps):
    token = kiosk.create(site, ADMIN, "指挥中心")
    at = run_app(_url(site), monkeypatch, actor=None, query={"kiosk": token})
    assert not at.exception
    assert at.session_state["actor"].role == "大屏"
    assert [k for k, _ in captured_maps] == ["wall_map"]
    assert not at.sidebar.button  # no navigation, no sign-out
    # the other pages are not registered for a kiosk session
    for page in ("pages/overview.py", "pages/admin.py", "pages/grid.py"):
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_kiosk_session_asking_for_another_page_gets_the_wall(site, monkeypatch, captured_maps):
    """As if the URL were edited to /overview?kiosk=…: the request names a real page."""
    token = kiosk.create(site, ADMIN, "指挥中心")
    for page in ("pages/overview.py", "pages/admin.py"):
        at = run_app(_url(site), monkeypatch, actor=None)  # signed out: every page is registered (hidden)
        at.query_params["kiosk"] = token
        captured_maps.clear()
        at.switch_page(page).run()
        assert not at.exception
        assert [k for k, _ in captured_maps] == ["wall_map"], page
        assert "系统管理" not in _titles(at)


def test_revoked_or_wrong_token_gets_the_login_page(site, monkeypatch, captured_maps):
    token = kiosk.create(site, ADMIN, "指挥中心")
    at = run_app(_url(site), monkeypatch, actor=None, query={"kiosk": "x" * 32})
    assert _on_login_page(at) and "令牌无效" in at.warning[0].value and captured_maps == []
    at = run_app(_url(site), monkeypatch, actor=None, query={"kiosk": token})
    assert captured_maps[-1][0] == "wall_map"
    kiosk.revoke(site, ADMIN, "指挥中心")
    captured_maps.clear()
    at.run()
    assert _on_login_page(at) and captured_maps == []


def test_configured_kiosk_token(site, monkeypatch, captured_maps):
    monkeypatch.setenv("GRIDMAP_KIOSK_TOKENS", "configured-wall-token-0001")
    at = run_app(_url(site), monkeypatch, actor=None, query={"kiosk": "configured-wall-token-0001"})
    assert not at.exception and [k for k, _ in captured_maps] == ["wall_map"]


@pytest.mark.parametrize("actor", [Actor("l", "领导"), Actor("c", "网格长", "T-01"), Actor("v", "核查员"),
                                   Actor("p", "规划员")])
def test_admin_page_refused_for_non_admins(site, monkeypatch, captured_maps, actor):
    at = run_app(_url(site), monkeypatch, actor=None)  # registers every page (hidden)
    at.session_state["actor"] = actor
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    assert "系统管理" not in _titles(at) and not at.dataframe
    assert _titles(at)[0] == "创城网格地图 · 东昌府区"  # fell back to the overview


def test_admin_page_refuses_to_run_without_the_gate(site, monkeypatch):
    """Defence in depth: run directly (not through app.py's gate) the page shows nothing, even to an admin."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DATABASE_URL", _url(site))
    at = AppTest.from_file("../pages/admin.py", default_timeout=60)
    at.session_state["actor"] = Actor("a", "管理员")
    at.run()
    assert not at.exception and not at.title and not at.dataframe and not at.text_input


def _admin_app(site, monkeypatch):
    at = run_app(_url(site), monkeypatch, actor=None)
    _sign_in(at, "admin", "admin-password")
    at.switch_page("pages/admin.py").run()
    assert not at.exception and _titles(at) == ["系统管理"]
    return at


def test_admin_manages_users_on_the_page(site, monkeypatch, captured_maps):
    at = _admin_app(site, monkeypatch)
    users = at.dataframe[0].value
    assert users["用户名"].tolist() == ["admin", "chief", "leader"]
    assert not any("hash" in c or "密码" in c for c in users.columns)
    # add a user with a generated password: shown once
    at.text_input[0].input("newbie")
    at.selectbox[0].select("核查员")
    at.button(key="FormSubmitter:admin_add_user-新增").click().run()
    assert not at.exception
    assert "已新增用户 newbie" in at.success[0].value
    password = at.code[0].value
    assert auth.authenticate(site, "newbie", password).actor == Actor("newbie", "核查员", district_code="371502")
    # disable the leader
    at.selectbox(key="admin_user_pick").select("leader").run()
    at.button(key="admin_disable").click().run()
    assert "已停用用户 leader" in at.success[0].value
    assert auth.active_actor(site, "leader") is None
    # reset the chief's password
    at.selectbox(key="admin_user_pick").select("chief").run()
    at.button(key="admin_reset").click().run()
    assert auth.authenticate(site, "chief", at.code[0].value).ok
    actions = audit.entries(site, action_prefix="user.")["action"].tolist()
    assert actions == ["user.reset_password", "user.disable", "user.add"]
    assert set(audit.entries(site, action_prefix="user.")["actor"]) == {"admin"}


def test_admin_creates_and_revokes_a_kiosk_token(site, monkeypatch, captured_maps):
    at = _admin_app(site, monkeypatch)
    name_box = [t for t in at.text_input if t.label == "新令牌名称"][0]
    name_box.input("大厅大屏")
    at.button(key="FormSubmitter:admin_kiosk_create-生成令牌").click().run()
    token = at.code[0].value
    assert kiosk.valid(site, token)
    at.selectbox(key="admin_kiosk_pick").select("大厅大屏").run()
    at.button(key="admin_kiosk_revoke").click().run()
    assert not kiosk.valid(site, token)


def _audit_view(at, kind: str):
    at.selectbox(key="audit_kind").select(kind).run()
    assert not at.exception
    frame = at.dataframe[1].value
    return frame


def test_audit_log_viewer_shows_each_kind_of_change(site, monkeypatch, captured_maps, tmp_path):
    """Sign-ins, user changes, problem statuses, boundary versions and imports."""
    from gis.io import importer
    from gis.planning import versions
    from gis.problems import workflow
    from tests import io_files

    auth.authenticate(site, "leader", "wrong-password")
    auth.set_disabled(site, ADMIN, "leader", True)
    workflow.dispatch(site, Actor("chief", "网格长", "T-01"), "WT04", "U-002")
    wc = versions.working_copy(site)
    candidate = wc.grids.copy()
    candidate.loc[candidate["code"] == "T-02", "name"] = "古楼街道2号网格（更名）"
    draft = versions.save_draft(site, Actor("planner", "规划员"), candidate, wc.layer_id, wc.revisions, "更名")
    versions.publish(site, Actor("planner", "规划员"), draft)
    shp = io_files.write_shp(io_files.grid_frame(), tmp_path / "grids.shp")
    assert importer.import_file(site, ADMIN, "grids", shp).written

    at = _admin_app(site, monkeypatch)
    assert set(_audit_view(at, "登录")["操作"]) == {"登录失败", "登录"}  # in Chinese (gis.people.audit)
    users = _audit_view(at, "用户")
    assert users["操作"].tolist() == ["停用用户"] and users["对象"].tolist() == ["leader"]
    problems = _audit_view(at, "问题")
    assert problems["操作"].tolist() == ["派遣"] and problems["对象"].tolist() == ["WT04"]
    assert problems["操作人"].tolist() == ["chief"]
    assert _audit_view(at, "网格版本")["操作"].tolist() == ["发布网格版本", "保存网格草稿"]
    assert _audit_view(at, "导入")["操作"].tolist() == ["导入网格"]
    # filter by actor
    at.selectbox(key="audit_kind").select("全部").run()
    at.selectbox(key="audit_actor").select("leader").run()
    assert set(at.dataframe[1].value["操作人"]) == {"leader"}


def test_login_page_offers_oidc_only_when_configured(site, monkeypatch, tmp_path):
    at = run_app(_url(site), monkeypatch, actor=None)
    assert not [b for b in at.button if b.label == "使用统一身份认证登录"]
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "x"\n'
                       'client_id = "gridmap"\nclient_secret = "y"\n'
                       'server_metadata_url = "https://idp.example/.well-known/openid-configuration"\n')
    monkeypatch.setenv("GRIDMAP_SECRETS", str(secrets))
    from gis import config

    config._secrets.cache_clear()
    try:
        at = run_app(_url(site), monkeypatch, actor=None)
        assert [b for b in at.button if b.label == "使用统一身份认证登录"]
    finally:
        monkeypatch.delenv("GRIDMAP_SECRETS")
        config._secrets.cache_clear()


def test_empty_users_table_says_how_to_create_an_admin(site, monkeypatch):
    with site.begin() as conn:
        conn.execute(delete(User.__table__))
    at = run_app(_url(site), monkeypatch, actor=None)
    assert "python -m gis user add admin --role 管理员" in at.info[0].value
