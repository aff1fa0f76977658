"""初始化 on the sign-in page (pages/login.py → gis.io.first_run): offered only while there is no user at all;
it sets the district, creates the first 管理员 and loads the default categories; bad input changes nothing."""

from __future__ import annotations

import uuid
import pytest
from sqlalchemy import select

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Category
from gis.geo import district
from gis.people import auth
from gis.people.permissions import Actor
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)
from tests.conftest import new_database_url

BOUNDARY = district.BOUNDARY_FILE  # the real published boundary, GCJ-02


@pytest.fixture
def no_users_url(backend_name, tmp_path_factory) -> str:
    url = new_database_url(backend_name, tmp_path_factory, f"firstrun{uuid.uuid4().hex[:6]}")
    migrate.upgrade(get_engine(url))
    return url


def _fill(at, password2: str = "chuangcheng-2026"):
    at.file_uploader(key="first_run_boundary").set_value([(BOUNDARY.name, BOUNDARY.read_bytes(), "application/json")])
    at.selectbox(key="first_run_coords").set_value("gcj02")
    at.text_input(key="first_run_name").input("东昌府区")
    at.text_input(key="first_run_admin").input("wangchuang")
    at.text_input(key="first_run_password").input("chuangcheng-2026")
    at.text_input(key="first_run_password2").input(password2)
    next(b for b in at.button if b.label == "初始化").click().run()
    assert not at.exception, at.exception


def test_initialise_from_the_sign_in_page(no_users_url, monkeypatch, captured_maps):
    engine = get_engine(no_users_url)
    at = run_app(no_users_url, monkeypatch, actor=None)
    assert [e for e in at.expander if e.label == "初始化（新城市上线）"]
    _fill(at, password2="something-else")
    assert at.error[-1].value == "两次输入的密码不一致。"
    assert auth.user_count(engine) == 0 and not district.custom_district()

    _fill(at)
    assert any("初始化完成" in w.value and "wangchuang" in w.value for w in at.warning)
    assert not [e for e in at.expander if e.label == "初始化（新城市上线）"]  # a user exists now: gone
    assert district.district_name() == "东昌府区"
    assert auth.authenticate(engine, "wangchuang", "chuangcheng-2026").ok
    with engine.connect() as conn:
        assert len(conn.execute(select(Category.name)).all()) == 60


def test_not_offered_once_a_user_exists(no_users_url, monkeypatch, captured_maps):
    auth.add_user(get_engine(no_users_url), Actor.system(), "leader1", "领导", password="password-1")
    at = run_app(no_users_url, monkeypatch, actor=None)
    assert not [e for e in at.expander if e.label == "初始化（新城市上线）"]
    assert not [u for u in at.get("file_uploader")]
    assert [t for t in at.text_input if t.key == "login_username"]
