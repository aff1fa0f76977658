"""Everything a user reads is Chinese (issue 16, item 11): every page, for each demo role, in headless
Chromium at 1920×1080 on the small city, shows no English word outside a short allow-list.

What counts is the text a user sees: text nodes that are laid out and not hidden (closed tabs and
expanders are not), in the page and in the map iframes. Streamlit's icon ligatures (":material/…",
drawn as an icon from a word like "logout") are icons, not words; commands shown as code (`python -m
gis figures`) are typed as they are; a date field's segments are the browser locale's (年/月/日 in a
Chinese browser). The screens are the same on both backends: this runs on one (tests/conftest.py). Data grids draw on a canvas: their
cells are checked through AppTest (tests/test_grid_people.py).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from gis.people import auth
from tests.browser import (
    browser,
    chromium_available,
    open_app,
    served_app,
    sign_in,
    wait_for_streamlit,
)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="no Chromium")]

# The words a Chinese user may read in Latin letters, and why. Keep it short.
ALLOWED = {
    # file kinds and formats named by their own names
    "Excel", "GeoPackage", "GeoJSON", "Shapefile", "CSV", "JPEG", "PNG", "PDF", "Word", "WKT",
    "xlsx", "csv", "gpkg", "geojson", "shp", "zip", "json", "docx", "pdf", "jpg", "jpeg", "png", "prj", "cpg",
    # coordinate systems and units
    "WGS", "GCJ", "BD", "CGCS", "EPSG", "GPS", "km", "m", "MB",
    # brands and standards the pages name
    "Leaflet", "Open", "GeoReport", "API",
}
CODE = re.compile(r"\b[A-Z]{1,4}-?\d[\dA-Z-]*\b")  # DC-01, T-01, WT2026110000001, XQ-0001, U-001, GCJ-02, 8501
URL = re.compile(r"(https?://\S+|[?&][a-z_]+=[\w.-]*|/[a-z_/]+)")  # a shown link or path, e.g. ?grid=T-01
WORD = re.compile(r"[A-Za-z]{2,}")

_VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || !node.textContent.trim()) continue;
    if (el.closest('script, style, noscript, code, pre, [role="spinbutton"], [data-testid="stIconMaterial"], '
                   + '.material-icons, [aria-hidden="true"]'))
      continue;
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (r.width <= 1 || r.height <= 1 || cs.visibility === 'hidden' || cs.opacity === '0') continue;
    if (r.right <= 0 || r.left >= window.innerWidth) continue;  // moved off screen (a skip link until focused)
    out.push(node.textContent);
  }
  return out.join('\\n');
}"""


def english_words(text: str) -> set[str]:
    text = URL.sub(" ", CODE.sub(" ", text))
    return {w for w in WORD.findall(text) if w not in ALLOWED and w.lower() not in ALLOWED}  # .PNG as .png


def visible_text(page) -> str:
    parts = [page.evaluate(_VISIBLE_TEXT)]
    for frame in page.frames[1:]:
        try:
            parts.append(frame.evaluate(_VISIBLE_TEXT))
        except Exception:  # noqa: BLE001  a frame replaced by the next run: the next page is read anyway
            pass
    return "\n".join(parts)


def test_every_page_for_every_demo_role_is_chinese(city_rw, backend_name, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDMAP_DEMO_USERS_FILE", str(tmp_path / "demo_users.txt"))
    made = auth.ensure_demo_users(city_rw)
    assert {role for _, role, _ in made} == {"管理员", "领导", "网格长", "网格员", "核查员", "规划员", "指挥中心"}
    url = city_rw.url.render_as_string(hide_password=False)
    found: dict[str, set[str]] = {}
    with served_app(url) as base:
        for username, role, password in made:
            with browser(1920, 1080) as page:
                open_app(page, base + "/")
                sign_in(page, username, password)
                nav = page.locator('[data-testid="stSidebarNav"] a')
                nav.first.wait_for()
                links = [(a.get_attribute("href"), a.inner_text().split("\n")[-1].strip()) for a in nav.all()]
                assert len(links) >= 9, links
                for i, (href, title) in enumerate(links):
                    if i:  # the first is the page signed in to (总览)
                        page.locator(f'[data-testid="stSidebarNav"] a[href="{href}"]').click()
                        page.wait_for_url(lambda u, path=urlsplit(href).path: urlsplit(u).path == path)
                    page.get_by_role("heading", level=1).first.wait_for()
                    wait_for_streamlit(page)
                    words = english_words(visible_text(page))
                    if words:
                        found[f"{role} · {title}"] = words
    by_word: dict[str, list[str]] = {}
    for where, words in found.items():
        for w in sorted(words):
            by_word.setdefault(w, []).append(where)
    assert by_word == {}, "\n".join(f"{w}: {', '.join(p)}" for w, p in sorted(by_word.items()))
