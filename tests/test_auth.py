"""Sign-in and roles through the gis/ API: hashing, lock-out, idle expiry, disabled users,
the role × action matrix, kiosk tokens, and the CLI.

Times are passed as `now`, so the 15-minute lock is tested without waiting.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select

from gis.people import audit

from gis.people import auth

from gis.people import kiosk
from gis.problems import workflow
from gis.cli.main import main as cli
from gis.db.models import AuditEntry, KioskToken, Problem, ProblemEvent, User
from gis.people.permissions import ACTIONS, GRID_SCOPED, KIOSK, ROLES, Actor, PermissionDenied, allowed, require

T0 = datetime(2026, 11, 20, 9, 0)
ADMIN = Actor("管理员甲", "管理员")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id with small costs: the production costs take ~0.1–1 s per check on a busy 2-core box."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def _wipe_users(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(User.__table__))
        conn.execute(delete(KioskToken.__table__))
        conn.execute(delete(AuditEntry.__table__))


@pytest.fixture
def users(city_rw):
    """The small city with no users and an empty audit log."""
    _wipe_users(city_rw)
    return city_rw


def _row(engine, username):
    t = User.__table__
    with engine.connect() as conn:
        return conn.execute(select(t).where(t.c.username == username)).first()


def _actions(engine, prefix=""):
    return audit.entries(engine, action_prefix=prefix or None)["action"].tolist()


# --- hashing -------------------------------------------------------------------------------

def test_passwords_are_argon2_hashes_never_plain_text(users, monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher())  # the production parameters
    auth.add_user(users, ADMIN, "wang", "领导", "correct-horse", now=T0)
    stored = _row(users, "wang").password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "correct-horse" not in stored
    assert auth.verify_password(stored, "correct-horse")
    assert not auth.verify_password(stored, "correct-horsE")
    assert not auth.verify_password("not a hash", "x")
    # same password, different salt
    assert auth.hash_password("correct-horse") != auth.hash_password("correct-horse")


def test_sign_in_success_and_failure_are_audited(users):
    auth.add_user(users, ADMIN, "wang", "领导", "correct-horse", now=T0)
    ok = auth.authenticate(users, "wang", "correct-horse", T0)
    assert ok.ok and ok.actor == Actor("wang", "领导", None)
    bad = auth.authenticate(users, "wang", "nope-nope", T0)
    assert not bad.ok and bad.message == auth.WRONG
    nobody = auth.authenticate(users, "nobody", "whatever", T0)
    assert not nobody.ok and nobody.message == auth.WRONG  # same answer as a wrong password
    log = audit.entries(users)
    assert log["action"].tolist() == ["auth.login_failed", "auth.login_failed", "auth.login", "user.add"]
    assert log["actor"].tolist() == ["nobody", "wang", "wang", "管理员甲"]
    assert _row(users, "wang").last_login_at == T0


# --- lock-out ------------------------------------------------------------------------------

def test_ten_wrong_passwords_lock_for_fifteen_minutes(users):
    auth.add_user(users, ADMIN, "li", "网格长", "right-password", grid_code="T-01", now=T0)
    for i in range(9):
        r = auth.authenticate(users, "li", f"wrong-{i}", T0 + timedelta(seconds=i))
        assert not r.ok and r.locked_until is None
    assert _row(users, "li").failed_attempts == 9
    assert "再错 1 次" in r.message
    tenth = auth.authenticate(users, "li", "wrong-9", T0 + timedelta(seconds=9))
    until = T0 + timedelta(seconds=9, minutes=15)
    assert tenth.locked_until == until and "锁定" in tenth.message
    assert _row(users, "li").locked_until == until
    # locked: the right password is refused too, until the 15 minutes are over
    for t in (T0 + timedelta(minutes=1), until - timedelta(seconds=1)):
        r = auth.authenticate(users, "li", "right-password", t)
        assert not r.ok and r.locked_until == until and "锁定" in r.message
    r = auth.authenticate(users, "li", "right-password", until + timedelta(seconds=1))
    assert r.ok and r.actor.grid_code == "T-01"
    row = _row(users, "li")
    assert row.failed_attempts == 0 and row.locked_until is None
    assert _actions(users, "auth.locked") == ["auth.locked"]


def test_a_fresh_count_after_the_lock_and_a_success_resets_it(users):
    auth.add_user(users, ADMIN, "li", "领导", "right-password", now=T0)
    for i in range(9):
        auth.authenticate(users, "li", "wrong", T0)
    assert auth.authenticate(users, "li", "right-password", T0).ok
    assert _row(users, "li").failed_attempts == 0
    for i in range(9):  # nine more after a success do not lock
        assert auth.authenticate(users, "li", "wrong", T0).locked_until is None


def test_lockout_settings_are_configurable(users, monkeypatch):
    monkeypatch.setenv("GRIDMAP_LOCKOUT_ATTEMPTS", "3")
    monkeypatch.setenv("GRIDMAP_LOCKOUT_MINUTES", "60")
    auth.add_user(users, ADMIN, "li", "领导", "right-password", now=T0)
    auth.authenticate(users, "li", "wrong", T0)
    auth.authenticate(users, "li", "wrong", T0)
    third = auth.authenticate(users, "li", "wrong", T0)
    assert third.locked_until == T0 + timedelta(minutes=60)
    assert not auth.authenticate(users, "li", "right-password", T0 + timedelta(minutes=59)).ok
    assert auth.authenticate(users, "li", "right-password", T0 + timedelta(minutes=61)).ok


def test_reset_password_lifts_the_lock(users):
    auth.add_user(users, ADMIN, "li", "领导", "right-password", now=T0)
    for _ in range(10):
        auth.authenticate(users, "li", "wrong", T0)
    new = auth.reset_password(users, ADMIN, "li", now=T0)
    assert len(new) >= auth.MIN_PASSWORD_LENGTH
    assert not auth.authenticate(users, "li", "right-password", T0).ok
    assert auth.authenticate(users, "li", new, T0 + timedelta(seconds=1)).ok


# --- idle expiry ---------------------------------------------------------------------------

def test_session_idle_expiry_is_a_pure_rule_over_timestamps(monkeypatch):
    monkeypatch.delenv("GRIDMAP_SESSION_IDLE_MINUTES", raising=False)
    assert not auth.session_expired(None, T0)
    assert not auth.session_expired(T0, T0 + timedelta(minutes=30))
    assert auth.session_expired(T0, T0 + timedelta(minutes=30, seconds=1))
    monkeypatch.setenv("GRIDMAP_SESSION_IDLE_MINUTES", "5")
    assert auth.idle_minutes() == 5
    assert auth.session_expired(T0, T0 + timedelta(minutes=6))
    assert not auth.session_expired(T0, T0 + timedelta(minutes=4))
    assert not auth.session_expired(T0, T0 + timedelta(minutes=6), idle=10)


# --- disabled users ------------------------------------------------------------------------

def test_disabled_users_cannot_sign_in_until_enabled(users):
    auth.add_user(users, ADMIN, "zhao", "核查员", "right-password", now=T0)
    auth.set_disabled(users, ADMIN, "zhao", True, now=T0)
    r = auth.authenticate(users, "zhao", "right-password", T0)
    assert not r.ok and "停用" in r.message
    assert auth.active_actor(users, "zhao") is None
    auth.set_disabled(users, ADMIN, "zhao", False, now=T0)
    assert auth.authenticate(users, "zhao", "right-password", T0).ok
    assert auth.active_actor(users, "zhao") == Actor("zhao", "核查员", district_code="371502")
    assert _actions(users, "user.") == ["user.enable", "user.disable", "user.add"]


def test_user_input_is_validated_and_nothing_written_on_error(users):
    with pytest.raises(auth.AuthError, match="角色"):
        auth.add_user(users, ADMIN, "x1", "超级用户", "password-1")
    with pytest.raises(auth.AuthError, match="网格"):
        auth.add_user(users, ADMIN, "x2", "网格长", "password-1")  # no grid
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.add_user(users, ADMIN, "x3", "网格员", "password-1", grid_code="T-99")
    with pytest.raises(auth.AuthError, match="8"):
        auth.add_user(users, ADMIN, "x4", "领导", "short")
    with pytest.raises(auth.AuthError, match="用户名"):
        auth.add_user(users, ADMIN, "two words", "领导", "password-1")
    auth.add_user(users, ADMIN, "x5", "领导", "password-1")
    with pytest.raises(auth.AuthError, match="已存在"):
        auth.add_user(users, ADMIN, "x5", "领导", "password-1")
    with pytest.raises(auth.AuthError, match="不存在"):
        auth.set_disabled(users, ADMIN, "ghost", True)
    with pytest.raises(auth.AuthError, match="自己"):
        auth.set_disabled(users, Actor("x5", "管理员"), "x5", True)
    assert auth.list_users(users)["username"].tolist() == ["x5"]
    assert _actions(users) == ["user.add"]


# --- the role matrix -----------------------------------------------------------------------

# Written out by hand from the table (not derived from ACTIONS): role -> actions allowed.
EXPECTED = {
    # accountability (issue 14): leaders issue, escalate, expose, interview and lift cards, and export the bulletin
    "领导": {"card.issue", "card.escalate", "card.expose", "card.interview", "card.lift", "bulletin.export",
           "negative.report", "negative.decide"},
    "网格长": {"problem.create", "problem.dispatch", "problem.acknowledge", "problem.submit", "problem.request"},
    "网格员": {"problem.create", "problem.dispatch", "problem.acknowledge", "problem.submit", "problem.request"},
    # a 督查 / 暗访 inspector reports what is found, records inspections on the phone, issues a card (issues 14, 15)
    "核查员": {"problem.verify", "problem.return", "card.issue", "problem.create", "inspection.record"},
    "规划员": {"grid.edit", "grid.publish"},
    "管理员": {"data.import", "user.manage", "audit.view", "card.rules", "bulletin.export", "registry.edit",
            "negative.report", "negative.decide", "district.manage"},
    "指挥中心": {"problem.register", "problem.approve", "card.issue", "card.escalate", "card.rules", "problem.followup",
             "negative.report", "negative.decide"},
    KIOSK: set(),
}


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_role_action_matrix(role, action):
    own = "T-01"
    actor = Actor("someone", role, own if role in ("网格长", "网格员") else None)
    expected = action in EXPECTED[role]
    assert allowed(actor, action, own) is expected
    if expected:
        require(actor, action, own)
    else:
        with pytest.raises(PermissionDenied, match="无权操作"):
            require(actor, action, own)


@pytest.mark.parametrize("role", ["网格长", "网格员"])
@pytest.mark.parametrize("action", sorted(GRID_SCOPED))
def test_grid_roles_only_act_on_their_own_grid(role, action):
    actor = Actor("someone", role, "T-01")
    assert allowed(actor, action, "T-01")
    with pytest.raises(PermissionDenied, match="T-02"):
        require(actor, action, "T-02")
    with pytest.raises(PermissionDenied):
        require(Actor("nogrid", role, None), action, "T-01")


def test_every_action_is_covered_and_every_role_listed():
    assert set(EXPECTED) - {KIOSK} == set(ROLES)
    assert set().union(*EXPECTED.values()) == set(ACTIONS)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "管理员"] + [KIOSK])
def test_user_management_refused_below_admin_and_nothing_written(users, role):
    actor = Actor("someone", role, "T-01" if role in ("网格长", "网格员") else None)
    auth.add_user(users, ADMIN, "target", "领导", "password-1", now=T0)
    before = _row(users, "target")
    for call in (lambda: auth.add_user(users, actor, "new", "管理员", "password-1"),
                 lambda: auth.set_disabled(users, actor, "target", True),
                 lambda: auth.reset_password(users, actor, "target", "password-2"),
                 lambda: kiosk.create(users, actor, "wall"),
                 lambda: kiosk.revoke(users, actor, "wall")):
        with pytest.raises(PermissionDenied):
            call()
    assert auth.list_users(users)["username"].tolist() == ["target"]
    assert _row(users, "target") == before
    assert kiosk.list_tokens(users).empty
    assert _actions(users) == ["user.add"]


# --- through the problem workflow (gis.problems.workflow) -----------------------------------------

def _problem(engine, code):
    p = Problem.__table__
    with engine.connect() as conn:
        row = conn.execute(select(p.c.status, p.c.revision, p.c.unit_id).where(p.c.code == code)).first()
        events = conn.execute(select(func.count()).select_from(ProblemEvent.__table__)).scalar()
    return row, events


# In the small city: WT04 (T-01) 待派遣, WT03 (T-01) 整改中 acknowledged, WT05 (T-01) 待核查,
# WT08 (T-04) 整改中. Each case: the call, the grid of the problem, the roles allowed.
CASES = {
    "problem.dispatch": (lambda e, a: workflow.dispatch(e, a, "WT04", "U-002", now=T0), "WT04"),
    "problem.submit": (lambda e, a: workflow.submit(e, a, "WT03", "已清理", now=T0), "WT03"),
    "problem.verify": (lambda e, a: workflow.verify(e, a, "WT05", now=T0), "WT05"),
    "problem.return": (lambda e, a: workflow.send_back(e, a, "WT05", "未整改到位", now=T0), "WT05"),
    "problem.create": (lambda e, a: workflow.create_problem(e, a, "占道经营", "测试", 115.984, 36.446, now=T0), None),
}


def _actor_for(role, grid="T-01"):
    return Actor(f"{role}用户", role, grid if role in ("网格长", "网格员") else None)


@pytest.mark.parametrize("action", sorted(CASES))
def test_workflow_matrix_denied_roles_change_nothing(city_rw, action):
    call, code = CASES[action]
    denied = [_actor_for(r) for r in ROLES if action not in EXPECTED[r]]
    denied += [Actor("大屏", KIOSK)]
    if action in GRID_SCOPED:  # a grid manager of another grid
        denied += [_actor_for("网格长", "T-04"), _actor_for("网格员", "T-02")]
    with city_rw.connect() as conn:
        n_problems = conn.execute(select(func.count()).select_from(Problem.__table__)).scalar()
    before = _problem(city_rw, code) if code else None
    log_before = len(audit.entries(city_rw))
    for actor in denied:
        with pytest.raises(PermissionDenied):
            call(city_rw, actor)
    if code:
        assert _problem(city_rw, code) == before
    with city_rw.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Problem.__table__)).scalar() == n_problems
    assert len(audit.entries(city_rw)) == log_before
    # and an allowed role succeeds, with an audit entry
    allowed_role = next(r for r in ROLES if action in EXPECTED[r])
    call(city_rw, _actor_for(allowed_role))
    assert audit.entries(city_rw)["action"].iloc[0] == action


# --- kiosk tokens --------------------------------------------------------------------------

def test_kiosk_tokens_created_hashed_and_revoked(users, monkeypatch):
    monkeypatch.delenv("GRIDMAP_KIOSK_TOKENS", raising=False)
    token = kiosk.create(users, ADMIN, "指挥中心", now=T0)
    assert kiosk.valid(users, token)
    with users.connect() as conn:
        stored = conn.execute(select(KioskToken.__table__.c.token_hash)).scalar()
    assert token not in stored and len(stored) == 64
    assert not kiosk.valid(users, token[:-1] + ("x" if token[-1] != "x" else "y"))
    assert not kiosk.valid(users, "") and not kiosk.valid(users, None)
    kiosk.revoke(users, ADMIN, "指挥中心", now=T0)
    assert not kiosk.valid(users, token)
    with pytest.raises(auth.AuthError):
        kiosk.revoke(users, ADMIN, "指挥中心")
    assert _actions(users, "kiosk.") == ["kiosk.revoke", "kiosk.create"]


def test_kiosk_tokens_from_settings(users, monkeypatch):
    monkeypatch.setenv("GRIDMAP_KIOSK_TOKENS", "short, a-long-enough-token-123 ,another-token-4567890")
    assert kiosk.configured_tokens() == ["a-long-enough-token-123", "another-token-4567890"]
    assert kiosk.valid(users, "a-long-enough-token-123")
    assert not kiosk.valid(users, "short")  # too short to be a token
    assert not kiosk.valid(users, "a-long-enough-token-12")


def test_the_kiosk_identity_may_write_nothing():
    for action in ACTIONS:
        assert not allowed(kiosk.KIOSK_ACTOR, action, "T-01")


# --- the CLI -------------------------------------------------------------------------------

def test_cli_user_commands(users, capsys, monkeypatch):
    url = users.url.render_as_string(hide_password=False)
    assert cli(["--database", url, "user", "add", "chen", "--role", "网格长", "--grid", "T-02",
                "--password", "chen-password"]) == 0
    assert auth.authenticate(users, "chen", "chen-password", T0).actor == Actor("chen", "网格长", "T-02", district_code="371502")
    capsys.readouterr()
    assert cli(["--database", url, "user", "add", "sun", "--role", "规划员"]) == 0
    out = capsys.readouterr().out
    password = out.strip().splitlines()[-1].split("：")[-1]
    assert auth.authenticate(users, "sun", password, T0).ok
    # invalid input: exit 1, nothing written
    assert cli(["--database", url, "user", "add", "zhou", "--role", "网格员"]) == 1  # no grid
    assert cli(["--database", url, "user", "add", "chen", "--role", "领导", "--password", "x" * 9]) == 1
    assert cli(["--database", url, "user", "disable", "ghost"]) == 1
    assert cli(["--database", url, "user", "add", "wu", "--role", "神仙"]) == 2  # argparse choices
    assert cli(["--database", url, "user", "add"]) == 2
    assert cli(["--database", url, "user", "disable", "chen"]) == 0
    assert not auth.authenticate(users, "chen", "chen-password", T0).ok
    assert cli(["--database", url, "user", "enable", "chen"]) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("new-password-1\n"))
    assert cli(["--database", url, "user", "reset-password", "chen", "--password", "-"]) == 0
    assert auth.authenticate(users, "chen", "new-password-1", T0).ok
    capsys.readouterr()
    assert cli(["--database", url, "user", "list"]) == 0
    listing = capsys.readouterr().out
    assert "chen\t网格长\tT-02\t正常" in listing and "sun\t规划员" in listing
    assert "password" not in listing and "$argon2" not in listing
    actors = set(audit.entries(users, action_prefix="user.")["actor"])
    assert len(actors) == 1 and next(iter(actors)).startswith("命令行")


def test_cli_kiosk_commands(users, capsys):
    url = users.url.render_as_string(hide_password=False)
    assert cli(["--database", url, "kiosk", "create", "大厅"]) == 0
    token = capsys.readouterr().out.splitlines()[0].split("：")[-1]
    assert kiosk.valid(users, token)
    assert cli(["--database", url, "kiosk", "list"]) == 0
    assert "大厅" in capsys.readouterr().out
    assert cli(["--database", url, "kiosk", "revoke", "大厅"]) == 0
    assert not kiosk.valid(users, token)
    assert cli(["--database", url, "kiosk", "revoke", "大厅"]) == 1


def test_demo_users_once_with_passwords_in_a_private_file(users, tmp_path, monkeypatch):
    target = tmp_path / "demo_users.txt"
    monkeypatch.setenv("GRIDMAP_DEMO_USERS_FILE", str(target))
    made = auth.ensure_demo_users(users)
    roles = {role for _, role, _ in made}
    assert roles == set(ROLES)
    assert (target.stat().st_mode & 0o777) == 0o600
    lines = [ln.split("\t") for ln in target.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    for username, role, password in lines:
        assert auth.authenticate(users, username, password, T0).actor.role == role
    assert auth.ensure_demo_users(users) == []  # users exist: nothing more
