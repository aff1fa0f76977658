"""Browser-test harness: serve the app with Streamlit, drive Debian's Chromium with Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (Debian package `chromium`).
`served_app` starts `python app.py` (pages/launch.py) on a free port against a given database and
stops it afterwards; `watch_requests` records every request whose host is not 127.0.0.1.

Never flaky, even on two busy cores: no fixed sleeps, only waits for conditions.
- `wait_for_streamlit` returns once the app is idle: connected, no script running (the state
  Streamlit's status widget shows, `data-test-script-state` on stApp), no stale element of the
  previous run left on screen — and still so at the next poll.
- `click_and_rerun` does an action that reruns the script and waits until that rerun is over:
  a counter of script-state changes (an init script) tells a finished rerun from the idle
  page before it, however slowly the server answers.
- Names are matched exactly (`exact=True`): "登录" must not find "退出登录".
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = ROOT / "tests" / "screenshots"  # gitignored: tests never write tracked files
# How long any wait may take before it fails. Waits end as soon as their condition holds, so a generous
# bound costs nothing on a quiet machine and keeps a loaded one (CI on two busy cores) green.
WAIT_MS = 180_000
# The clock the served app runs at (GRIDMAP_NOW); the same moment as tests/conftest.py's CLOCK.
SERVER_NOW = "2026-11-21T09:00:00"


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(database_url: str, env: dict[str, str] | None = None, timeout: float = 180):
    """Run the dashboard on 127.0.0.1:<free port>; yields its base URL.

    The server's output goes to a file, not a pipe (a full pipe would stall a chatty server); at the
    end any traceback in it is printed, so a failing test shows what the server saw."""
    port = _free_port()
    cmd = [sys.executable, str(ROOT / "app.py"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc_env = {**os.environ, "DATABASE_URL": database_url, "GRIDMAP_NOW": SERVER_NOW, **(env or {})}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=proc_env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def output() -> str:
        log.seek(0)
        return log.read().decode(errors="replace")

    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{output()[-3000:]}")
            time.sleep(0.3)  # poll interval of the health check above
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        text = output()
        log.close()
        if "Traceback" in text:
            print(f"served app {base} logged:\n{text[-6000:]}", file=sys.stderr)


@dataclass
class PageVisit:
    page: object
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)  # "url (reason or HTTP status)"


# Counts every change of stApp's script state (initial → running → notRunning …) from the
# first byte of each document on, so a wait can tell "rerun over" from "not started yet".
# A run so short that React draws "running" and "notRunning" in one go changes no attribute (a page switch
# with warm caches): the messages the server sends over the websocket are counted too (__gmFrames).
_RUN_COUNTER = """
window.__gmScriptStateChanges = 0;
new MutationObserver(records => { window.__gmScriptStateChanges += records.length; })
  .observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
window.__gmFrames = 0;
if (window.WebSocket && !window.WebSocket.__gmCounted) {
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); this.addEventListener('message', () => { window.__gmFrames += 1; }); }
  };
  window.WebSocket.__gmCounted = true;
}
"""

# Idle: connected, the script not running, no stale element, the main area drawn. True only when
# it was already true at the previous poll (a rerun that ends and restarts at once is not idle).
_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-stale="true"]')
    && !!document.querySelector('[data-testid="stMain"]');
  window.__gmIdlePolls = idle ? (window.__gmIdlePolls || 0) + 1 : 0;
  return window.__gmIdlePolls >= 2;
}"""


# One Playwright and one Chromium per process, started by the first `browser()` and stopped by
# `close_shared()` (tests/conftest.py: at the end of each test module) or at exit. Starting them cost
# ~2 CPU-seconds a test; each `browser()` still gets a fresh context: its own cookies, storage and cache.
_shared: dict = {}


def _chromium():
    if _shared.get("browser") is None or not _shared["browser"].is_connected():
        if "playwright" not in _shared:
            from playwright.sync_api import sync_playwright

            _shared["playwright"] = sync_playwright().start()
        _shared["browser"] = _shared["playwright"].chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                                   headless=True)
    return _shared["browser"]


def close_shared() -> None:
    """Stop this process's Chromium and Playwright, if started (a test module's own sync_playwright may follow)."""
    b, pw = _shared.pop("browser", None), _shared.pop("playwright", None)
    with contextlib.suppress(Exception):
        if b is not None:
            b.close()
    if pw is not None:
        pw.stop()


atexit.register(close_shared)


@contextlib.contextmanager
def browser(width: int = 1600, height: int = 1000):
    """A Playwright page in a new context of headless Debian Chromium; the context is closed afterwards
    (its pages and their sessions end, as when a browser window is closed)."""
    context = _chromium().new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    try:
        context.add_init_script(_RUN_COUNTER)
        context.set_default_timeout(WAIT_MS)
        yield context.new_page()
    finally:
        context.close()


def async_playwright():
    """Playwright's async API, for drivers of many tabs at once (bench/load.py): the browser tooling
    stays a test requirement (requirements-test.txt), reached through this harness."""
    from playwright.async_api import async_playwright as start

    return start()


def watch_requests(page) -> PageVisit:
    visit = PageVisit(page)

    def on_request(request):
        host = urlsplit(request.url).hostname
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host not in ("127.0.0.1", "localhost"):
            visit.external_requests.append(request.url)

    def on_failed(request):
        # ERR_ABORTED: the browser dropped a load itself (an iframe redrawn by the next run), not a fault
        if request.failure != "net::ERR_ABORTED":
            visit.failed_requests.append(f"{request.url} ({request.failure})")

    def on_response(response):
        if response.status >= 400:
            visit.failed_requests.append(f"{response.url} ({response.status})")

    page.on("request", on_request)
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    return visit


def wait_for_streamlit(page, timeout_ms: int = WAIT_MS) -> None:
    """Wait until the app is idle: connected, no script running, no stale element (see `_IDLE`)."""
    page.evaluate("() => { window.__gmIdlePolls = 0; }")
    page.wait_for_function(_IDLE, polling=100, timeout=timeout_ms)


def _script_state_changes(page) -> list[int]:
    """[script state changes, websocket messages received] so far in this document."""
    return page.evaluate("() => [window.__gmScriptStateChanges || 0, window.__gmFrames || 0]")


def click_and_rerun(page, target, timeout_ms: int = WAIT_MS, **click_args) -> None:
    """Click `target` (a Locator, or a callable doing the action), then wait for the rerun it starts to end:
    the script state changed, or the server sent something (a run too short to show as running)."""
    before = _script_state_changes(page)
    if callable(target):
        target()
    else:
        target.click(**click_args)
    try:
        page.wait_for_function("n => (window.__gmScriptStateChanges || 0) > n[0] || (window.__gmFrames || 0) > n[1]",
                               arg=before, polling=50, timeout=timeout_ms)
    except Exception as exc:  # say what was clicked and what the page was doing
        raise AssertionError(f"no rerun after clicking {target!r}: {_state(page)}") from exc
    wait_for_streamlit(page, timeout_ms)


def _state(page) -> str:
    """Where the page is and what Streamlit says of itself, for a failing wait's message (and a screenshot)."""
    with contextlib.suppress(Exception):
        screenshot(page, "failed_wait")
    try:
        return page.evaluate("""() => { const a = document.querySelector('[data-testid="stApp"]');
          return location.pathname + location.search + ' connection=' + (a && a.getAttribute('data-test-connection-state'))
            + ' script=' + (a && a.getAttribute('data-test-script-state'))
            + ' changes=' + (window.__gmScriptStateChanges || 0) + ' frames=' + (window.__gmFrames || 0)
            + ' dialog=' + ((document.querySelector('[role="dialog"]') || {}).innerText || '').slice(0, 200); }""")
    except Exception as exc:  # noqa: BLE001  (the page itself may be gone)
        return f"page state unavailable ({exc})"


def open_app(page, url: str, timeout_ms: int = WAIT_MS) -> None:
    """Load `url` and wait for the first run (and the rerun it may ask for) to end."""
    page.goto(url)
    wait_for_streamlit(page, timeout_ms)


def sign_in(page, username: str, password: str) -> None:
    """Fill the sign-in form (pages/login.py) and submit it; returns when the app is idle again."""
    page.get_by_label("用户名", exact=True).wait_for()
    wait_for_streamlit(page)
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    click_and_rerun(page, page.get_by_role("button", name="登录", exact=True))


MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


def map_frame(page, timeout_ms: int = WAIT_MS):
    """The st_folium iframe's Frame, once loaded (scripts, styles) and Leaflet has drawn an interactive path."""
    handle = page.wait_for_selector(MAP_IFRAME, timeout=timeout_ms)
    frame = handle.content_frame()
    frame.wait_for_load_state("load", timeout=timeout_ms)
    frame.wait_for_selector(".leaflet-interactive", timeout=timeout_ms, state="attached")
    return frame


def screenshot(page, name: str) -> Path:
    """Save a screenshot under tests/screenshots/ (gitignored), never over a tracked file."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
