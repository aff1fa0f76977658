"""The gate in front of every page: who may open which page, the sidebar's user box, sign-out.

`run(pages)` replaces ``st.navigation(pages).run()`` in app.py:

- a wall-screen URL with a valid ``?kiosk=<token>`` → only the wall page (url_path ``wall``), no
  navigation, the read-only kiosk identity in ``st.session_state["actor"]``;
- nobody signed in → the sign-in form (pages/login.py), nothing else (deep links are resolved
  silently and land on the requested page after sign-in);
- signed in → every page, except those in ADMIN_PAGES unless the role is 管理员; the user's
  name and role and a sign-out button in the sidebar (this is the only sidebar code for it).

Sessions end after GRIDMAP_SESSION_IDLE_MINUTES without a click (`gis.people.auth.session_expired`);
a user disabled by an administrator is signed out at their next click, and a timed refresh of the
wall (`recheck`) asks the same questions.

No page runs without the gate: every page calls `require()` first, which stops (and reruns
through app.py) any run that did not come through `run()` — Streamlit's old multipage mode runs
page files directly for the first requests after a restart because the folder is called pages/.

No user sees a traceback: `run()` turns an unexpected exception into a Chinese message with a
short reference id (the detail goes to the log), and a database outage into "数据库暂时不可用"
(the next click after the database returns works again; nothing is cached from the failure).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from datetime import datetime
from pathlib import Path

import sqlalchemy.exc
import streamlit as st

from gis.people import auth

from gis.people import kiosk
from pages import html
from pages.cache import engine
from pages.ui import md_escape
from gis.people.permissions import ADMIN, KIOSK, allowed

ADMIN_PAGES = frozenset({"admin"})  # url_path of pages only 管理员 may open
WALL_PAGE = "wall"
KIOSK_PAGES = (WALL_PAGE, "exposure")  # the 曝光台 is safe for a public screen too (issue 14)
WALL_SCRIPT = "pages/wall.py"
DB_DOWN = "数据库暂时不可用，请稍后刷新页面重试。"
SIGN_IN_FIRST = "请先登录。"
PAGES_DIR = Path(__file__).resolve().parent
log = logging.getLogger("gridmap.gate")
_through_gate = threading.local()  # .active is True only while run() executes the chosen page


def require() -> None:
    """The first statement of every page script: run only when the gate chose this page.

    A run that reached a page file any other way (Streamlit's old multipage mode right after a
    restart) switches that mode off for the process and reruns through app.py; a page file run
    as the main script itself (a test harness) stops with nothing shown.
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or getattr(_through_gate, "active", False):
        return
    PagesManager.uses_pages_directory = False
    if Path(ctx.pages_manager.main_script_path).resolve().parent != PAGES_DIR:
        st.rerun()  # the rerun executes app.py, i.e. the gate
    st.stop()


def _run_page(page) -> None:
    _through_gate.active = True
    try:
        page.run()
    finally:
        _through_gate.active = False


def database_unavailable(exc: BaseException) -> bool:
    """True for errors that mean the database cannot be reached (server down, file unreadable, dropped)."""
    if isinstance(exc, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError)):
        return True
    if type(exc) is sqlalchemy.exc.DatabaseError:  # SQLite: "file is not a database", "disk image is malformed"
        return True
    return isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated


@contextlib.contextmanager
def shielded(where: str = "page"):
    """Show a Chinese message instead of any exception raised inside; log the detail with a reference id."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001  (Streamlit's rerun/stop are BaseException, they pass)
        ref = secrets.token_hex(4).upper()
        if database_unavailable(exc):
            log.error("database unavailable [%s] in %s: %s", ref, where, exc)
            st.error(f"{DB_DOWN}（参考编号 {ref}）", icon=":material/cloud_off:")
        else:
            log.exception("unexpected error [%s] in %s", ref, where)
            st.error(f"页面出错了，请稍后重试；如仍出错请联系管理员并告知参考编号 {ref}。", icon=":material/error:")


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


def _kiosk_pages(pages: list) -> list:
    """The app's URLs, each opening the wall (the 曝光台's its own page): /wall?kiosk=…, /grid?kiosk=… and
    /?kiosk=… all resolve (no "page not found") and keep their address, so a reload keeps the token."""
    paths = [getattr(p, "_url_path", "") or p.url_path for p in pages]  # the default page's own path too
    own = {p.url_path: (p._page, p.title) for p in pages if p.url_path in KIOSK_PAGES and p.url_path != WALL_PAGE}
    return [st.Page(WALL_SCRIPT, title="领导大屏", url_path="kiosk", default=True)] + [
        _kiosk_page(*own.get(path, (WALL_SCRIPT, "领导大屏")), path) for path in paths if path and path != "kiosk"]


def _kiosk_page(script, title: str, url_path: str):
    return st.Page(script, title=title, url_path=url_path)


def _kiosk(pages: list, token: str | None) -> None:
    wall = kiosk.actor_for(engine(), token)  # a district's token: that district's wall only (issue 17)
    if wall is None:
        if token and len(token) < kiosk.MIN_TOKEN_LENGTH:  # ?kiosk=1: a signed-in user's full-screen flag
            _clear(SIGN_IN_FIRST)
        else:
            _clear("大屏令牌无效或已撤销，请登录。")
        return _signed_out(pages)
    st.session_state["actor"] = wall
    st.session_state["kiosk_token"] = token
    _run_page(st.navigation(_kiosk_pages(pages), position="hidden"))


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
        st.markdown(html.UPLOADER_CSS, unsafe_allow_html=True)  # Streamlit's English upload texts, in Chinese
        st.caption("当前用户")
        st.text(f"{actor.shown}（{actor.role}{' · ' + actor.grid_code if actor.grid_code else ''}）")
        if st.button("退出登录", key="gate_sign_out", icon=":material/logout:", width="stretch"):
            sign_out()
            st.rerun()


def run(pages: list) -> None:
    """Run the page the current session may see (see the module docstring)."""
    with shielded("gate"):
        _run(pages)


def settings_page(pages: list, problems: list[str]) -> None:
    """The one page shown while a setting is invalid (`gis.config.validate_settings`): what to fix, then stop."""
    log.error("invalid settings: %s", "; ".join(problems))
    st.navigation(pages, position="hidden")
    st.title("创城网格地图 · 配置有误")
    st.error("系统配置有误，暂时无法使用。请管理员修改以下配置后重启服务：\n\n"
             + "\n".join(f"- {md_escape(p)}" for p in problems), icon=":material/settings_alert:")
    st.stop()


def _run(pages: list) -> None:
    actor = st.session_state.get("actor")
    token = st.query_params.get("kiosk")
    if actor is not None and actor.role == KIOSK:
        return _kiosk(pages, token or st.session_state.get("kiosk_token"))
    if actor is None and token:
        return _kiosk(pages, token)
    if actor is None:
        return _signed_out(pages)

    now = datetime.now()
    fresh, why = _standing(actor, now)
    if why == IDLE:
        sign_out("idle", _idle_message())
        return _signed_out(pages)
    if why == DISABLED:
        _clear(DISABLED_MESSAGE)
        return _signed_out(pages)
    st.session_state["last_seen"] = now
    if fresh != actor:  # role or grid changed by an administrator
        st.session_state["actor"] = actor = fresh

    visible = [p for p in pages if (p.url_path not in ADMIN_PAGES or actor.role == ADMIN)
               and (p.url_path != "bulletin" or allowed(actor, "bulletin.export"))]  # 督查通报: 领导, 管理员
    _sidebar(actor)
    _run_page(st.navigation(visible))


IDLE, DISABLED = "idle", "disabled"  # why a signed-in session no longer stands (`_standing`)
DISABLED_MESSAGE = "账户已停用，请联系管理员。"


def _idle_message() -> str:
    return f"超过 {auth.idle_minutes():g} 分钟未操作，已自动退出，请重新登录。"


def _standing(actor, now: datetime):
    """A signed-in (not kiosk) session as it stands at `now`: (the actor as the database has it now, None),
    or (None, IDLE / DISABLED). The one place the gate, a timed refresh and a callback ask it."""
    if auth.session_expired(st.session_state.get("last_seen"), now):
        return None, IDLE
    if st.session_state.get("auth_source") in ("password", "oidc"):
        fresh = auth.active_actor(engine(), actor.username)
        return (fresh, None) if fresh is not None else (None, DISABLED)
    return actor, None


def _refresh_refusal() -> str | None:
    """Why this session may no longer see data (None: it may). A timed refresh does not count as a click."""
    actor = st.session_state.get("actor")
    if actor is None:
        return SIGN_IN_FIRST
    if actor.role == KIOSK:
        return None if kiosk.valid(engine(), st.session_state.get("kiosk_token")) else "大屏令牌已撤销，请登录。"
    _, why = _standing(actor, datetime.now())
    if why == IDLE:
        sign_out("idle")
        return _idle_message()
    return DISABLED_MESSAGE if why == DISABLED else None


def callback_actor():
    """The actor a widget's callback acts as, or None. A callback runs before app.py, so before the gate:
    it asks the gate's questions itself (signed in, not idle, account still enabled; the role as it is now)
    and acts only if they are answered. On None it does nothing; the run that follows, through the gate,
    signs the session out and says why."""
    actor = st.session_state.get("actor")
    if actor is None or actor.role == KIOSK:
        return None
    try:
        return _standing(actor, datetime.now())[0]
    except Exception as exc:  # noqa: BLE001  (e.g. the database is away: nothing is done, the gate says why)
        log.error("a callback was refused: %s", exc)
        return None


def recheck() -> None:
    """The first statement of every fragment that reruns on a timer (the wall screen): such a rerun
    skips app.py, so it asks the gate's questions again — signed in, not idle, account still
    enabled, kiosk token still valid — and otherwise ends the session and reruns the whole app
    (which shows the sign-in form) before any data is drawn."""
    try:
        refusal = _refresh_refusal()
    except Exception as exc:  # noqa: BLE001  a database outage during a refresh: show nothing, say why
        if not database_unavailable(exc):
            raise
        log.error("database unavailable during a refresh: %s", exc)
        st.error(DB_DOWN, icon=":material/cloud_off:")
        st.stop()
    if refusal is not None:
        _clear(refusal)
        st.rerun(scope="app")



# --- /media/<id>: photos and downloads only for a connected, signed-in session that was shown them -------
#
# Streamlit serves st.image / st.download_button data at /media/<id> to anyone with the URL, for as long
# as any session (even a closed one, kept for reconnection) refers to it, and <id> is a plain content hash.
# `guard_media()` changes both: ids are keyed with a secret drawn at each server start (unguessable even
# for someone holding the same file), and the endpoint answers 404 unless a session that is still
# connected and signed in was sent that file in its current or previous run (or clicked the download
# that produced it). Streamlit internals are wrapped here, in one place; if they change, files are refused.

_media_lock = threading.Lock()
_media_recent: dict[str, set[str]] = {}  # session id → file ids of its previous run (downloads in flight)
_media_deferred: dict[str, set[str]] = {}  # file id made by a deferred download → session ids holding its button


def _session_signed_in(runtime, session_id: str) -> bool:
    info = runtime._session_mgr.get_active_session_info(session_id)  # None once the browser disconnected
    if info is None:
        return False
    state = info.session.session_state
    return "actor" in state and state["actor"] is not None


def media_allowed(file_name: str) -> bool:
    """True when a connected, signed-in session holds the media file `file_name` ("<id>.<ext>")."""
    from streamlit import runtime as st_runtime

    file_id = file_name.split(".", 1)[0]
    try:
        rt = st_runtime.get_instance()
        mgr = rt.media_file_mgr
        with mgr._lock:
            refs = list(mgr._files_by_session_and_coord.items())
            if any(files.get("favicon") == file_id for _, files in refs):  # st.set_page_config's icon: public
                return True
            holders = {sid for sid, files in refs if file_id in files.values()}
        with _media_lock:
            holders |= {sid for sid, ids in _media_recent.items() if file_id in ids}
            holders |= _media_deferred.get(file_id, set())
        return any(_session_signed_in(rt, sid) for sid in holders)
    except Exception:  # noqa: BLE001  internals changed: refuse rather than serve
        log.exception("media check failed for %s", file_id)
        return False


def guard_media() -> None:
    """Install the /media guard (idempotent; app.py calls it on every run)."""
    import hashlib
    import hmac

    from streamlit.runtime import media_file_manager, memory_media_file_storage
    from streamlit.runtime.media_file_storage import MediaFileStorageError
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    storage_cls = memory_media_file_storage.MemoryMediaFileStorage
    if getattr(storage_cls, "_gridmap_guarded", False):
        return
    key = secrets.token_bytes(32)
    plain_id = memory_media_file_storage._calculate_file_id

    def keyed_id(data, mimetype, filename=None):
        return hmac.new(key, plain_id(data, mimetype, filename).encode(), hashlib.sha224).hexdigest()

    get_file, get_url = storage_cls.get_file, storage_cls.get_url
    internal = threading.local()  # set while Streamlit itself builds a URL (get_url reads the file)

    def guarded_get_file(self, filename):
        # Script threads and URL building pass; the HTTP endpoint runs without a script context.
        if (not getattr(internal, "active", False) and get_script_run_ctx(suppress_warning=True) is None
                and not media_allowed(filename)):
            raise MediaFileStorageError(f"{filename} is not available to this request")
        return get_file(self, filename)

    def internal_get_url(self, file_id):
        internal.active = True
        try:
            return get_url(self, file_id)
        finally:
            internal.active = False

    manager_cls = media_file_manager.MediaFileManager
    clear_refs = manager_cls.clear_session_refs

    def clear_session_refs(self, session_id=None):
        sid = session_id or media_file_manager._get_session_id()
        with self._lock:
            previous = set(self._files_by_session_and_coord.get(sid, {}).values())
        with _media_lock:
            if session_id is None:  # a new run of a live session: its last run's files stay valid one run more
                _media_recent[sid] = previous
            else:  # the session ended
                _media_recent.pop(sid, None)
                for made in list(_media_deferred):
                    _media_deferred[made].discard(sid)
                    if not _media_deferred[made]:
                        del _media_deferred[made]
        clear_refs(self, session_id)

    execute_deferred = manager_cls.execute_deferred

    def guarded_execute_deferred(self, file_id):
        url = execute_deferred(self, file_id)
        with self._lock:
            holders = {sid for sid, files in self._files_by_session_and_coord.items() if file_id in files.values()}
            owner = self._deferred_callables.get(file_id, {}).get("session_id")
        holders |= {owner} if owner else set()
        made = url.rsplit("/", 1)[-1].split(".", 1)[0]
        with _media_lock:
            _media_deferred.setdefault(made, set()).update(holders)
        return url

    memory_media_file_storage._calculate_file_id = keyed_id
    storage_cls.get_file = guarded_get_file
    storage_cls.get_url = internal_get_url
    manager_cls.clear_session_refs = clear_session_refs
    manager_cls.execute_deferred = guarded_execute_deferred
    storage_cls._gridmap_guarded = True
