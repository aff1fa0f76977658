"""Concurrent writes (issue 11 §4): many threads call the same `gis` functions the pages call, at the
same instant (a barrier), on SpatiaLite and PostGIS. Every call gets its right answer — signed in,
refused, one winner per problem revision and the stale-data message for the others, one saved
draft and the conflict message — never "database is locked"; counts and audit rows are exact.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, func, select

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import AuditEntry, Grid, GridLayer, ProblemEvent, SignInGuard, User
from gis.people import audit, auth, kiosk
from gis.people.permissions import Actor
from gis.planning import versions
from gis.problems import workflow
from gis.problems.workflow import StaleProblem
from tests import smallcity as sc
from tests.browser import (
    WAIT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    chromium_available,
    served_app,
    wait_for_streamlit,
)
from tests.conftest import load_small_city
from tests.test_planning import PLANNER_A, PLANNER_B, _wider_t01
from tests.test_workflow import CHIEF, VERIFIER, state

T0 = datetime(2026, 11, 20, 9, 0)
ADMIN = Actor("管理员甲", "管理员")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def site(city_rw):
    with city_rw.begin() as conn:
        for table in (User, SignInGuard, AuditEntry):
            conn.execute(delete(table.__table__))
    return city_rw


def together(calls):
    """Run the callables in parallel threads, released at the same instant; (result or exception) each."""
    barrier = threading.Barrier(len(calls))

    def run(fn):
        barrier.wait()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001  (the test inspects what came back)
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table.__table__).where(*where)).scalar()


def test_fifty_simultaneous_sign_ins_are_all_answered(site):
    for i in range(50):
        auth.add_user(site, ADMIN, f"u{i:02d}", "领导", f"password-{i:02d}", now=T0)
    with site.begin() as conn:
        conn.execute(delete(AuditEntry.__table__))
    right = [i for i in range(50) if i % 5]  # 40 right passwords, 10 wrong ones
    calls = [lambda i=i: auth.authenticate(site, f"u{i:02d}", f"password-{i:02d}" if i in right else "wrong-pass",
                                           T0, client=f"10.0.0.{i}") for i in range(50)]
    started = time.perf_counter()
    results = together(calls)
    elapsed = time.perf_counter() - started
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert [r.ok for r in results] == [i in right for i in range(50)]
    assert all(r.message == auth.WRONG for i, r in enumerate(results) if i not in right)
    log = audit.entries(site)
    assert (log["action"] == "auth.login").sum() == 40 and (log["action"] == "auth.login_failed").sum() == 10
    t = User.__table__
    assert _count(site, User, t.c.last_login_at == T0) == 40
    assert _count(site, User, t.c.failed_attempts == 1) == 10
    print(f"\n50 simultaneous sign-ins: {sum(r.ok for r in results)} signed in, "
          f"{sum(not r.ok for r in results)} refused, 0 errors, {elapsed:.2f} s")


def test_thirty_parallel_wrong_passwords_count_exactly(site):
    auth.add_user(site, ADMIN, "admin", "管理员", "admin-password", now=T0)
    with site.begin() as conn:
        conn.execute(delete(AuditEntry.__table__))
    results = together([lambda: auth.authenticate(site, "admin", "guess-guess", T0, client="10.9.9.9")] * 30)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert not any(r.ok for r in results)
    wrong = [r for r in results if r.locked_until is None]
    locked = [r for r in results if r.locked_until is not None]
    assert len(wrong) == 9 and len(locked) == 21  # the 10th locks; 20 more find the lock
    assert all("锁定" in r.message for r in locked)
    t = User.__table__
    with site.connect() as conn:
        assert conn.execute(select(t.c.failed_attempts).where(t.c.username == "admin")).scalar() == 10
    log = audit.entries(site)
    assert (log["action"] == "auth.login_failed").sum() == 30
    assert (log["action"] == "auth.locked").sum() == 1
    assert log["detail"].str.contains('"wrong password"').sum() == 10
    assert log["detail"].str.contains('"locked"').sum() == 20


def test_ten_simultaneous_actions_on_one_problem_have_one_winner(site, tmp_path):
    before = _count(site, ProblemEvent), _count(site, AuditEntry)
    revision = state(site, "WT04")["revision"]
    verify_rev = state(site, "WT05")["revision"]
    calls = [lambda: workflow.dispatch(site, CHIEF, "WT04", "U-002", expected_revision=revision, now=T0)] * 5
    calls += [lambda: workflow.verify(site, VERIFIER, "WT05", expected_revision=verify_rev, now=T0)] * 5
    results = together(calls)
    for group in (results[:5], results[5:]):
        winners = [r for r in group if isinstance(r, dict)]
        losers = [r for r in group if not isinstance(r, dict)]
        assert len(winners) == 1 and len(losers) == 4
        assert all(isinstance(r, StaleProblem) and "请刷新后重试" in str(r) for r in losers), losers
    assert state(site, "WT04")["status"] == "整改中" and state(site, "WT04")["revision"] == revision + 1
    assert state(site, "WT05")["status"] == "已结案" and state(site, "WT05")["revision"] == verify_rev + 1
    assert (_count(site, ProblemEvent), _count(site, AuditEntry)) == (before[0] + 2, before[1] + 2)


def test_two_planners_saving_at_the_same_instant_one_gets_the_conflict_message(site):
    wc_a, wc_b = versions.working_copy(site), versions.working_copy(site)
    results = together([
        lambda: versions.save_draft(site, PLANNER_A, _wider_t01(wc_a), wc_a.layer_id, wc_a.revisions, "A"),
        lambda: versions.save_draft(site, PLANNER_B, _wider_t01(wc_b, sc.MX + 0.002), wc_b.layer_id, wc_b.revisions, "B"),
    ])
    saved = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(saved) == 1 and len(refused) == 1
    assert isinstance(refused[0], versions.ConflictError) and "保存冲突" in str(refused[0]), refused
    assert _count(site, GridLayer) == 2
    assert _count(site, Grid, Grid.__table__.c.layer_id == saved[0]) == 4


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")
def test_parallel_sign_ins_in_browsers_against_the_served_app(tmp_path):
    """Eight browser sessions press 登录 within a few milliseconds of each other (SpatiaLite)."""
    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    for i in range(8):
        auth.add_user(engine, ADMIN, f"p{i}", "领导", f"password-{i}", now=T0)
    from playwright.sync_api import sync_playwright

    with served_app(url) as base, sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            pages = []
            for i in range(8):
                page = b.new_context(locale="zh-CN", extra_http_headers={"X-Forwarded-For": f"10.1.0.{i}"}).new_page()
                page.goto(base)
                page.wait_for_selector("text=创城网格地图 · 登录", timeout=WAIT_MS)
                wait_for_streamlit(page)
                page.get_by_label("用户名", exact=True).fill(f"p{i}")
                page.get_by_label("密码", exact=True).fill(f"password-{i}" if i < 6 else "wrong-pass")
                pages.append(page)
            for page in pages:  # as close together as one driver can click
                page.get_by_role("button", name="登录", exact=True).click(no_wait_after=True)
            for i, page in enumerate(pages):
                expected = f"p{i}（领导）" if i < 6 else auth.WRONG
                page.wait_for_selector(f"text={expected}", timeout=WAIT_MS)
                assert "database is locked" not in page.inner_text("body")
                assert "Traceback" not in page.inner_text("body")
        finally:
            b.close()
    log = audit.entries(engine, action_prefix="auth.")
    assert (log["action"] == "auth.login").sum() == 6 and (log["action"] == "auth.login_failed").sum() == 2
    clients = set(log["detail"].str.extract(r'"client": "([^"]+)"')[0])
    assert clients == {f"10.1.0.{i}" for i in range(8)}  # the proxy header of a loopback peer names the client


def _spatialite_users(tmp_path, name):
    engine = get_engine(f"sqlite:///{tmp_path / name}")
    migrate.upgrade(engine)
    auth.add_user(engine, ADMIN, "wang", "领导", "wang-password", now=T0)
    return engine


def _hold_write_lock(engine, release: threading.Event, held: threading.Event):
    with engine.begin() as conn:  # like a long import: the write lock, held
        audit.record(conn, "导入", "import.problems", at=T0)
        held.set()
        release.wait(120)


def test_a_sign_in_waits_for_a_long_writer_on_spatialite(tmp_path):
    engine = _spatialite_users(tmp_path, "wait.sqlite")
    release, held = threading.Event(), threading.Event()
    with ThreadPoolExecutor(2) as pool:
        holder = pool.submit(_hold_write_lock, engine, release, held)
        assert held.wait(60)
        try:
            signing = pool.submit(auth.authenticate, engine, "wang", "wang-password", T0, client="10.0.0.1")
            with pytest.raises(TimeoutError):
                signing.result(timeout=1.0)  # still waiting for the lock, not failed
        finally:
            release.set()
        holder.result(60)
        result = signing.result(60)
    assert result.ok
    assert audit.entries(engine)["action"].tolist()[:2] == ["auth.login", "import.problems"]


def test_a_writer_still_locked_out_after_the_busy_timeout_gets_a_chinese_message(tmp_path, monkeypatch):
    import gis.db.engine as db_engine

    monkeypatch.setattr(db_engine, "BUSY_TIMEOUT_S", 0.5)
    engine = _spatialite_users(tmp_path, "busy.sqlite")
    release, held = threading.Event(), threading.Event()
    with ThreadPoolExecutor(1) as pool:
        holder = pool.submit(_hold_write_lock, engine, release, held)
        assert held.wait(60)
        try:
            result = auth.authenticate(engine, "wang", "wang-password", T0, client="10.0.0.1")
            assert not result.ok and result.message.startswith("数据库正忙") and "locked" not in result.message
            with pytest.raises(db_engine.DatabaseBusy, match="数据库正忙"):
                kiosk.create(engine, ADMIN, "大屏一")  # any writer: the same message, no SQL
        finally:
            release.set()
        holder.result(60)
    assert auth.authenticate(engine, "wang", "wang-password", T0, client="10.0.0.1").ok  # the pool is healthy
