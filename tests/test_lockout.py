"""Lock-out cannot be used as a weapon (issue 11 §6): locks are per (account, client), clients and
accounts under attack slow down with a growing delay, the owner's known client keeps a way in,
every attempt is audited with its client, and at most two argon2 hashes run at once.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, select

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import AuditEntry, SignInGuard, User
from gis.people import audit, auth
from gis.people.guard import LOCAL_CLIENT, client_key
from gis.people.permissions import Actor
from tests.browser import (
    WAIT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    chromium_available,
    served_app,
    wait_for_streamlit,
)
from tests.test_concurrency import together

T0 = datetime(2026, 11, 20, 9, 0)
ADMIN = Actor("管理员甲", "管理员")
ATTACKER, OWNER = "10.66.0.1", "10.0.0.7"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.delenv("GRIDMAP_LOCKOUT_ATTEMPTS", raising=False)
    monkeypatch.delenv("GRIDMAP_LOCKOUT_MINUTES", raising=False)


@pytest.fixture
def site(city_rw):
    with city_rw.begin() as conn:
        for table in (User, SignInGuard, AuditEntry):
            conn.execute(delete(table.__table__))
    auth.add_user(city_rw, ADMIN, "admin", "管理员", "admin-password", now=T0)
    auth.add_user(city_rw, ADMIN, "leader", "领导", "leader-password", now=T0)
    return city_rw


def _sign(engine, password, at, client, username="admin"):
    return auth.authenticate(engine, username, password, at, client=client)


def _details(engine, action):
    log = audit.entries(engine, action_prefix=action)
    return [json.loads(d) for d in log.loc[log["action"] == action, "detail"]]


def test_an_attacker_locks_only_their_own_client(site):
    assert _sign(site, "admin-password", T0 - timedelta(days=1), OWNER).ok  # the owner's usual client
    for i in range(10):
        r = _sign(site, f"guess-{i}", T0 + timedelta(seconds=i), ATTACKER)
    assert r.locked_until == T0 + timedelta(seconds=9, minutes=15) and "仅限此设备" in r.message
    assert not _sign(site, "admin-password", T0 + timedelta(minutes=1), ATTACKER).ok  # locked there, even right
    assert _sign(site, "admin-password", T0 + timedelta(minutes=1), OWNER).ok  # the owner is not locked out
    # sixteen minutes later: ten more, locked again — still only on the attacker's client
    later = T0 + timedelta(minutes=16)
    for i in range(10):
        r = _sign(site, f"guess-{i}", later + timedelta(seconds=i), ATTACKER)
    assert r.locked_until is not None
    assert _sign(site, "admin-password", later + timedelta(minutes=1), OWNER).ok
    # a client never seen before is not locked either (the account's count was reset by the owner)
    assert _sign(site, "admin-password", later + timedelta(minutes=2), "10.0.0.8").ok
    failed = _details(site, "auth.login_failed")
    assert len(failed) == 21 and {d["client"] for d in failed} == {ATTACKER}
    assert [d["reason"] for d in failed].count("locked") == 1
    assert len(_details(site, "auth.locked")) == 2
    assert {d["client"] for d in _details(site, "auth.login")} == {OWNER, "10.0.0.8"}


def test_a_client_spraying_passwords_waits_longer_and_longer_unchecked(site, monkeypatch):
    checked = []
    real_verify = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda h, p: checked.append(p) or real_verify(h, p))
    at = T0
    for i in range(20):  # twenty wrong passwords over several accounts, real and made up
        r = _sign(site, "wrong-pass", at, ATTACKER, username=("admin", "leader", f"ghost{i}")[i % 3])
        assert r.message.startswith(auth.WRONG) and r.locked_until is None
    assert len(checked) == 20
    # the 20th set a delay of 1 s; then 2 s, 4 s …: attempts in between are refused unchecked
    waits = []
    for n in range(4):
        refused = _sign(site, "leader-password", at, ATTACKER, username="leader")
        assert not refused.ok and "过于频繁" in refused.message
        until = _guard(site, "client", "", ATTACKER)["blocked_until"]
        waits.append((until - at).total_seconds())
        at = until  # waited exactly long enough: this attempt is checked (and wrong again)
        assert _sign(site, "wrong-pass", at, ATTACKER, username=f"ghost-x{n}").message == auth.WRONG
    assert waits == [1, 2, 4, 8]
    assert len(checked) == 24  # the refused attempts cost no argon2 work
    assert [d["reason"] for d in _details(site, "auth.login_failed")].count("throttled") == 4
    assert _sign(site, "leader-password", at, "10.0.0.9", username="leader").ok  # other clients are not slowed


def test_guessing_from_many_clients_slows_unknown_clients_not_the_owner(site):
    assert _sign(site, "admin-password", T0 - timedelta(days=1), OWNER).ok
    for i in range(20):  # one guess each from twenty addresses
        assert not _sign(site, "guess", T0 + timedelta(seconds=i), f"10.77.0.{i}").ok
    at = T0 + timedelta(seconds=19)
    r = _sign(site, "admin-password", at, "10.88.0.1")  # right password, new client: must wait
    assert not r.ok and "过于频繁" in r.message
    assert _sign(site, "admin-password", at, OWNER).ok  # the owner's known client gets in
    assert _sign(site, "admin-password", at, "10.88.0.1").ok  # and the account's count starts again


def test_reset_password_lifts_the_lock_on_every_client(site):
    for i in range(10):
        _sign(site, f"guess-{i}", T0, ATTACKER)
    new = auth.reset_password(site, ADMIN, "admin", now=T0)
    assert _sign(site, new, T0, ATTACKER).ok
    with site.connect() as conn:
        row = conn.execute(select(User.__table__).where(User.__table__.c.username == "admin")).first()
    assert row.failed_attempts == 0 and row.locked_until is None


def _guard(engine, kind, account, client):
    t = SignInGuard.__table__
    with engine.connect() as conn:
        return dict(conn.execute(select(t).where(t.c.kind == kind, t.c.account == account,
                                                 t.c.client == client)).mappings().one())


def test_client_key_is_the_connection_address_or_a_local_proxy_header():
    assert client_key("203.0.113.5", {"X-Forwarded-For": "1.2.3.4"}) == "203.0.113.5"  # a remote peer: its address
    assert client_key(None, {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}) == "198.51.100.7"  # what the proxy saw
    assert client_key(None, {"X-Real-IP": "198.51.100.8"}) == "198.51.100.8"
    assert client_key(None, {"X-Forwarded-For": "<script>"}) == LOCAL_CLIENT
    assert client_key(None, None) == LOCAL_CLIENT


def test_at_most_two_argon2_hashes_at_once(monkeypatch):
    real = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    stored = real.hash("password-1")
    lock, active, peak = threading.Lock(), [0], [0]

    class Counting:
        def verify(self, h, p):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            try:
                return real.verify(h, p)
            finally:
                with lock:
                    active[0] -= 1

    monkeypatch.setattr(auth, "_hasher", Counting())
    results = together([lambda: auth.verify_password(stored, "password-1")] * 12)
    assert results == [True] * 12
    assert peak[0] <= auth.HASH_CONCURRENCY == 2


def test_a_made_up_name_gets_the_same_answers_as_a_real_one(site):
    """Hints and the lock come alike for every name: they never tell whether an account exists."""
    answers = {}
    for name in ("admin", "no-such-user"):
        answers[name] = [(r.message, r.locked_until) for r in
                         (_sign(site, "guess", T0, f"10.5.0.{len(answers)}", username=name) for _ in range(11))]
    assert answers["admin"] == answers["no-such-user"]
    assert "再错 1 次" in answers["admin"][8][0] and answers["admin"][9][1] is not None


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")
def test_locked_out_on_the_attackers_browser_only(tmp_path):
    """Served app, two browsers behind a local proxy (X-Forwarded-For): three wrong passwords
    (GRIDMAP_LOCKOUT_ATTEMPTS=3) lock admin in the attacker's browser; the owner still signs in."""
    from playwright.sync_api import sync_playwright

    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    auth.add_user(engine, ADMIN, "admin", "管理员", "admin-password", now=T0)

    def open_form(b, client):
        page = b.new_context(locale="zh-CN", extra_http_headers={"X-Forwarded-For": client}).new_page()
        page.goto(base)
        page.wait_for_selector("text=创城网格地图 · 登录", timeout=WAIT_MS)
        wait_for_streamlit(page)
        return page

    def sign_in(page, password, expected):
        page.get_by_label("用户名", exact=True).fill("admin")
        page.get_by_label("密码", exact=True).fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_selector(f'[data-testid="stAlert"] >> text={expected}', timeout=WAIT_MS)

    def failures_audited():
        return len(_details(engine, "auth.login_failed"))

    with served_app(url, env={"GRIDMAP_LOCKOUT_ATTEMPTS": "3"}) as base, sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            attacker = open_form(b, ATTACKER)
            sign_in(attacker, "guess-1", "再错 2 次")
            sign_in(attacker, "guess-2", "再错 1 次")
            sign_in(attacker, "guess-3", "账户已锁定（仅限此设备）")
            sign_in(attacker, "admin-password", "账户已锁定（仅限此设备）")  # the right password, but not here
            deadline = time.monotonic() + 60
            while failures_audited() < 4 and time.monotonic() < deadline:  # that last attempt was answered
                time.sleep(0.2)
            assert "admin（管理员）" not in attacker.inner_text("body")
            owner = open_form(b, OWNER)
            owner.get_by_label("用户名", exact=True).fill("admin")
            owner.get_by_label("密码", exact=True).fill("admin-password")
            owner.get_by_role("button", name="登录", exact=True).click()
            owner.wait_for_selector("text=admin（管理员）", timeout=WAIT_MS)
        finally:
            b.close()
    failed = _details(engine, "auth.login_failed")
    assert [d["client"] for d in failed] == [ATTACKER] * 4
    assert [d["client"] for d in _details(engine, "auth.login")] == [OWNER]
