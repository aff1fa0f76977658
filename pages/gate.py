"""The gate in front of every page: who may open which page, the sidebar's user box, sign-out.

`run(pages)` replaces ``st.navigation(pages).run()`` in app.py:

- a wall-screen URL with a valid ``?kiosk=<token>`` → only the wall page (url_path ``wall``), no
  navigation, the read-only kiosk identity in ``st.session_state["actor"]``;
- nobody signed in → the sign-in form (pages/login.py), nothing else (deep links are resolved
  silently and land on the requested page after sign-in);
- signed in → every page, except those in ADMIN_PAGES unless the role is 管理员; the user's
  name and role and a sign-out button in the sidebar (this is the only sidebar code for it).

Sessions end after GRIDMAP_SESSION_IDLE_MINUTES without a click (`gis.people.auth.session_expired`);
a user disabled by an administrator is signed out at their next click.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from gis.people import auth

from gis.people import kiosk
from pages.cache import engine
from gis.people.permissions import ADMIN, KIOSK, allowed

ADMIN_PAGES = frozenset({"admin"})  # url_path of pages only 管理员 may open
WALL_PAGE = "wall"
KIOSK_PAGES = (WALL_PAGE, "exposure")  # accountability (issue 14): the 曝光台 is safe for a public screen too
_SESSION_KEYS = ("actor", "last_seen", "auth_source", "kiosk_token")


def _clear(message: str | None = None) -> None:
    for key in _SESSION_KEYS:
        st.session_state.pop(key, None)
    if message:
        st.session_state["gate_message"] = message


def sign_out(reason: str = "sign-out", message: str | None = None) -> None:
    """End the session (audited as auth.logout / auth.expired)."""
    actor = st.session_state.get("actor")
    source = st.session_state.get("auth_source")
    if actor is not None and actor.role != KIOSK:
        auth.record_sign_in(engine(), actor, "auth.expired" if reason == "idle" else "auth.logout", {"reason": reason})
    _clear(message)
    if source == "oidc" and oidc_configured():
        st.logout()


def oidc_configured() -> bool:
    """st.login is offered only when secrets.toml has an [auth] section (see secrets.toml.example)."""
    from gis.config import _secrets  # plain TOML read, no Streamlit secrets error when the file is absent

    section = _secrets().get("auth")
    return isinstance(section, dict) and bool(section)


def _kiosk(pages: list, token: str | None) -> None:
    if not kiosk.valid(engine(), token):
        _clear("大屏令牌无效或已撤销，请登录。")
        return _signed_out(pages)
    st.session_state["actor"] = kiosk.KIOSK_ACTOR
    st.session_state["kiosk_token"] = token
    wall = [p for p in pages if p.url_path in KIOSK_PAGES]
    if not wall:
        st.error("大屏页面尚未安装。")
        st.stop()
    st.navigation(wall, position="hidden").run()


def _signed_out(pages: list) -> None:
    from pages import login

    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        ident = st.user.get("email") or st.user.get("preferred_username") or ""
        actor = auth.active_actor(engine(), ident)
        if actor is not None:
            st.session_state.update(actor=actor, auth_source="oidc", last_seen=datetime.now())
            auth.record_sign_in(engine(), actor, "auth.login", {"via": "oidc"})
            st.rerun()
        st.session_state["gate_message"] = f"统一身份账户 {ident} 未在本系统登记或已停用，请联系管理员。"
    # Resolve the requested URL among the real pages (no "page not found"), but show only the form.
    st.navigation(pages, position="hidden")
    login.render(engine(), oidc=oidc_configured(), message=st.session_state.pop("gate_message", None))


def _sidebar(actor) -> None:
    with st.sidebar:
        st.caption("当前用户")
        st.text(f"{actor.username}（{actor.role}{' · ' + actor.grid_code if actor.grid_code else ''}）")
        if st.button("退出登录", key="gate_sign_out", icon=":material/logout:", width="stretch"):
            sign_out()
            st.rerun()


def run(pages: list) -> None:
    """Run the page the current session may see (see the module docstring)."""
    actor = st.session_state.get("actor")
    token = st.query_params.get("kiosk")
    if actor is not None and actor.role == KIOSK:
        return _kiosk(pages, token or st.session_state.get("kiosk_token"))
    if actor is None and token:
        return _kiosk(pages, token)
    if actor is None:
        return _signed_out(pages)

    now = datetime.now()
    if auth.session_expired(st.session_state.get("last_seen"), now):
        sign_out("idle", f"超过 {auth.idle_minutes():g} 分钟未操作，已自动退出，请重新登录。")
        return _signed_out(pages)
    st.session_state["last_seen"] = now
    if st.session_state.get("auth_source") in ("password", "oidc"):
        fresh = auth.active_actor(engine(), actor.username)
        if fresh is None:
            _clear("账户已停用，请联系管理员。")
            return _signed_out(pages)
        if fresh != actor:  # role or grid changed by an administrator
            st.session_state["actor"] = actor = fresh

    visible = [p for p in pages if (p.url_path not in ADMIN_PAGES or actor.role == ADMIN)
               and (p.url_path != "bulletin" or allowed(actor, "bulletin.export"))]  # issue 14
    _sidebar(actor)
    st.navigation(visible).run()


def recheck() -> None:
    """For fragments that rerun on a timer (the wall screen): they skip app.py, so call this at
    their top to end a kiosk session whose token was revoked (a full rerun goes through the gate)."""
    actor = st.session_state.get("actor")
    if actor is not None and actor.role == KIOSK and not kiosk.valid(engine(), st.session_state.get("kiosk_token")):
        _clear("大屏令牌已撤销，请登录。")
        st.rerun(scope="app")

