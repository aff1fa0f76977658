"""Browser-test harness: serve the app with Streamlit, drive Debian's Chromium with Playwright.

Never `playwright install`: the browser is /usr/bin/chromium (Debian package `chromium`).
`served_app` starts `streamlit run app.py` on a free port against a given database and
stops it afterwards; `open_page` loads a page, waits for Streamlit to finish running, and
records every request whose host is not 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("GRIDMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = ROOT / "tests" / "screenshots"


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_app(database_url: str, env: dict[str, str] | None = None, timeout: float = 60):
    """Run the dashboard on 127.0.0.1:<free port>; yields its base URL."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    proc_env = {**os.environ, "DATABASE_URL": database_url, **(env or {})}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=proc_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
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
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise RuntimeError(f"streamlit did not start:\n{out[-3000:]}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class PageVisit:
    page: object
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def browser(width: int = 1600, height: int = 1000):
    """A Playwright page in headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = b.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
            yield context.new_page()
        finally:
            b.close()


def watch_requests(page) -> PageVisit:
    visit = PageVisit(page)

    def on_request(request):
        host = urlsplit(request.url).hostname
        if request.url.startswith(("data:", "blob:", "about:")):
            return
        if host not in ("127.0.0.1", "localhost"):
            visit.external_requests.append(request.url)

    page.on("request", on_request)
    page.on("requestfailed", lambda r: visit.failed_requests.append(r.url))
    return visit


def wait_for_streamlit(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app has rendered and is no longer running."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMain"]', timeout=timeout_ms)
    # While a script runs, the header's status widget shows "Running…" / a Stop button.
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                   return !s || !/Running|Stop|运行/.test(s.innerText); }""", timeout=timeout_ms)
    page.wait_for_timeout(500)


def map_frame(page, timeout_ms: int = 60_000):
    """The st_folium iframe's Frame, once Leaflet has drawn its first interactive path."""
    handle = page.wait_for_selector('iframe[title="streamlit_folium.st_folium"]', timeout=timeout_ms)
    frame = handle.content_frame()
    frame.wait_for_selector(".leaflet-interactive", timeout=timeout_ms, state="attached")
    return frame


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path
