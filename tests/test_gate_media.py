"""Issue 11 §3: photos and downloads at /media/<id> only while a signed-in session that was shown them
is connected (Chromium for the session, a plain HTTP client for the outsider).

Before: a rectification photo's URL answered 200 without any session, and still five seconds after the
session closed; the id was the content hash (anyone holding the photo could compute it). Now the id is
keyed with a secret drawn at server start, and the endpoint answers 404 once the session signed out
or disconnected (`pages.gate.guard_media`).
"""

from __future__ import annotations

import io
import time
import urllib.error
import urllib.request

import pytest
from PIL import Image

from gis.db import migrate
from gis.db.engine import get_engine
from gis.people import auth
from gis.people.permissions import Actor
from gis.problems import workflow
from tests.browser import WAIT_MS, browser, chromium_available, served_app, wait_for_streamlit
from tests.conftest import load_small_city

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def site(tmp_path):
    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    load_small_city(engine)
    auth.add_user(engine, Actor.system(), "leader", "领导", "leader-password")
    uploads = tmp_path / "uploads"
    photo = _png()
    workflow.submit(engine, Actor("chief", "网格长", "T-01"), "WT03", "已清理", photo=photo, photo_name="a.png",
                    photo_dir=uploads)
    return url, {"GRIDMAP_UPLOAD_DIR": str(uploads)}, photo


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _until_refused(url: str, seconds: float = 5.0) -> float:
    """Seconds until `url` answers 404 (polled); fails after `seconds`."""
    start = time.monotonic()
    while _status(url) != 404:
        assert time.monotonic() - start < seconds, f"{url} still served {seconds} s later"
        time.sleep(0.1)
    return time.monotonic() - start


def _open_problem(page, base: str) -> str:
    page.goto(f"{base}/grid?grid=T-01&problem=WT03")
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill("leader-password")
    page.get_by_role("button", name="登录", exact=True).click()
    img = page.locator('img[src*="/media/"]').first
    img.wait_for(timeout=WAIT_MS)
    page.wait_for_function("() => { const i = document.querySelector('img[src*=\"/media/\"]');"
                           " return i && i.complete && i.naturalWidth === 64; }", timeout=WAIT_MS)
    wait_for_streamlit(page, timeout_ms=WAIT_MS)
    return base + img.get_attribute("src")[img.get_attribute("src").index("/media/"):]


def test_a_photo_url_is_unguessable_and_dies_with_sign_out(site):
    url, env, photo = site
    with served_app(url, env=env) as base, browser(1600, 1000) as page:
        src = _open_problem(page, base)  # the signed-in browser drew the photo (64 px wide)
        from streamlit.runtime.memory_media_file_storage import _calculate_file_id

        plain = _calculate_file_id(photo, "image/png")  # what Streamlit alone would have used
        assert plain not in src and _status(f"{base}/media/{plain}.png") == 404
        assert _status(src) == 200  # while the leader's session is connected and signed in
        page.get_by_role("button", name="退出登录", exact=True).click()
        page.get_by_label("用户名").wait_for(timeout=WAIT_MS)
        _until_refused(src)


def test_a_photo_url_dies_when_the_browser_closes(site):
    url, env, _ = site
    with served_app(url, env=env) as base:
        with browser(1600, 1000) as page:
            src = _open_problem(page, base)
            assert _status(src) == 200
        _until_refused(src)  # was still 200 five seconds after the session closed


def test_a_download_works_for_the_user_and_not_after_sign_out(site):
    url, env, _ = site
    with served_app(url, env=env) as base, browser(1600, 1000) as page:
        _open_problem(page, base)
        with page.expect_download(timeout=WAIT_MS) as info:
            page.get_by_role("button", name="下载台账（Excel）", exact=True).click()
        download = info.value
        assert download.failure() is None and download.suggested_filename.endswith(".xlsx")
        link = download.url
        assert "/media/" in link
        page.get_by_role("button", name="退出登录", exact=True).click()
        page.get_by_label("用户名").wait_for(timeout=WAIT_MS)
        _until_refused(link)
