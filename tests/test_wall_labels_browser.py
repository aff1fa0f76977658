"""The wall and the 总览 map in headless Chromium, on the demo city (61 grids), issue 16 §3, §4, §7.

- §4: the wall's grid labels (code + 帮包市级领导) sit inside the map and never overlap each other or
  the legend, at 1920×1080 and 3840×2160 (kiosk); read from the label boxes Leaflet drew.
- §3: signed in (not kiosk), the wall's filter labels are light on the navy page, no white header
  band, and the legend is wholly on screen at 1920×1080.
- §7: on 总览, a click on a grid's label opens that grid, as a click on its fill does (its page at
  1920×1080 is the README's grid-page screenshot, `make docs-screenshots`).
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import text

from gis.db.engine import get_engine
from gis.people import auth
from gis.people.permissions import Actor
from tests.browser import (
    browser,
    chromium_available,
    click_and_rerun,
    map_frame,
    open_app,
    screenshot,
    served_app,
    sign_in,
    wait_for_streamlit,
)
from tests.conftest import new_database_url

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

TOKEN = "wall-labels-token-0123456789abcdef"
PASSWORD = "Wall-Labels-2026!"
UNTIL = date(2026, 11, 20)
DEMO_URLS: dict[str, str] = {}  # backend → the served demo database

# Waits until the labels are placed for the map's current size, then returns their boxes (visible
# ones only), the map frame's box and the map controls' boxes, all in the map iframe's pixels.
LABEL_BOXES = """sel => {
  const map = document.querySelector('.leaflet-container');
  const f = map.getBoundingClientRect();
  const box = r => ({l: r.left, t: r.top, r: r.right, b: r.bottom});
  const labels = [...map.querySelectorAll(sel)].filter(el => el.closest('.leaflet-marker-icon').style.display !== 'none')
    .map(el => ({code: el.dataset.code, text: el.innerText.replace(/\\s+/g, ' ').trim(), ...box(el.getBoundingClientRect())}));
  const controls = [...map.querySelectorAll('.leaflet-control')].map(c => box(c.getBoundingClientRect()))
    .filter(c => c.r > c.l && c.b > c.t);
  return {frame: box(f), labels, controls, all: map.querySelectorAll(sel).length};
}"""


# Placed for the current size, and the boxes the same at two polls in a row (longer apart than the
# labels' own check for an unannounced move, 500 ms): the placement is over.
STABLE = """sel => {
  const map = document.querySelector('.leaflet-container');
  if (!map || !map.dataset.gmLabels) return false;
  const f = map.getBoundingClientRect();
  if (map.dataset.gmLabels !== Math.round(f.width) + 'x' + Math.round(f.height)) { window.__gmBoxes = null; return false; }
  const now = JSON.stringify([...map.querySelectorAll(sel)].map(el => {
    const r = el.getBoundingClientRect(); return [el.closest('.leaflet-marker-icon').style.display, r.left, r.top, r.width]; }));
  const same = now === window.__gmBoxes;
  window.__gmBoxes = now;
  return same;
}"""


def placed_labels(frame, selector: str) -> dict:
    """The label boxes once they are placed and still (see STABLE)."""
    frame.wait_for_function(STABLE, arg=selector, polling=700)
    return frame.evaluate(LABEL_BOXES, selector)


def _overlap(a, b, gap: float = 0) -> bool:
    """Boxes overlapping, or closer than `gap` pixels (two names side by side read as one)."""
    return (a["l"] < b["r"] + gap - 0.5 and b["l"] < a["r"] + gap - 0.5
            and a["t"] < b["b"] + gap - 0.5 and b["t"] < a["b"] + gap - 0.5)


def _assert_placed(found: dict, n_grids: int) -> None:
    frame, labels = found["frame"], found["labels"]
    assert found["all"] == n_grids
    outside = [x["code"] for x in labels if x["l"] < frame["l"] or x["r"] > frame["r"]
               or x["t"] < frame["t"] or x["b"] > frame["b"]]
    assert outside == [], f"labels clipped by the map frame: {outside}"
    pairs = [(a["text"], b["text"]) for i, a in enumerate(labels) for b in labels[i + 1:] if _overlap(a, b, 3)]
    assert pairs == [], f"labels overlapping or touching: {pairs}"
    on_controls = [x["code"] for x in labels for c in found["controls"] if _overlap(x, c)]
    assert on_controls == [], f"labels under the legend or a control: {on_controls}"


@pytest.fixture(scope="module")
def demo_app(backend_name, tmp_path_factory):
    """The demo city (61 grids, 5,000 problems) served on `backend_name`, with a 领导 account."""
    from gis.demo.build import build_demo

    url = new_database_url(backend_name, tmp_path_factory, "walllabels")
    engine = get_engine(url)
    build_demo(engine, n_problems=5000, until=UNTIL, out_dir=None)
    auth.add_user(engine, Actor.system(), "leader01", "领导", PASSWORD)
    with served_app(url, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base:
        DEMO_URLS[backend_name] = url
        yield base


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_wall_labels_inside_the_map_and_apart(demo_app, backend_name, width, height):
    with browser(width, height) as page:
        open_app(page, f"{demo_app}/wall?kiosk={TOKEN}&as_of={UNTIL.isoformat()}")
        frame = map_frame(page)
        wait_for_streamlit(page)
        found = placed_labels(frame, ".gm-wall-label")
        screenshot(page, f"wall_labels_{width}_{backend_name}")
    _assert_placed(found, 61)
    codes = {x["code"] for x in found["labels"]}
    # every grid keeps at least its code on the wall; the ones of the issue are there
    assert len(codes) == 61, sorted({f"DC-{i:02d}" for i in range(1, 62)} - codes)
    assert {"DC-33", "DC-34", "DC-46"} <= codes
    with_leader = [x for x in found["labels"] if " " in x["text"]]
    assert len(with_leader) >= 30  # most labels still name their leader


def test_signed_in_wall_is_readable_and_whole(demo_app, backend_name):
    with browser(1920, 1080) as page:
        open_app(page, f"{demo_app}/wall?as_of={UNTIL.isoformat()}")
        sign_in(page, "leader01", PASSWORD)
        page.get_by_role("heading", name="东昌府区创城网格化管理 · 领导大屏", exact=True).wait_for()
        frame = map_frame(page)
        wait_for_streamlit(page)
        found = placed_labels(frame, ".gm-wall-label")
        looks = page.evaluate("""() => {
          const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
          const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
            .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
          const labels = [...document.querySelectorAll('[data-testid="stWidgetLabel"]')]
            .filter(el => el.offsetParent).map(el => ({text: el.innerText.trim(), lum: lum(rgb(getComputedStyle(el.querySelector('p') || el).color))}));
          const header = document.querySelector('[data-testid="stHeader"]');
          const hb = rgb(getComputedStyle(header).backgroundColor);
          const iframe = document.querySelector('iframe[title="streamlit_folium.st_folium"]').getBoundingClientRect();
          return {labels, header: hb, iframeTop: iframe.top, innerHeight: window.innerHeight};
        }""")
        legend = frame.evaluate("() => { const r = document.querySelector('.gm-legend').getBoundingClientRect();"
                                " return {t: r.top, b: r.bottom}; }")
        screenshot(page, f"wall_signed_in_1920_{backend_name}")
    navy = 0.0065  # relative luminance of the page's #0b1220
    texts = {x["text"] for x in looks["labels"]}
    assert {"月份", "街道", "问题类型", "来源", "地图"} <= texts
    for x in looks["labels"]:  # WCAG contrast of each filter label against the navy page ≥ 7
        assert (x["lum"] + 0.05) / (navy + 0.05) >= 7, x
    header = looks["header"]
    assert len(header) < 4 or header[3] == 0 or max(header[:3]) < 60, f"a light header band: {header}"
    assert looks["iframeTop"] + legend["b"] <= looks["innerHeight"], (looks, legend)  # the legend wholly on screen
    _assert_placed(found, 61)


# In the map's frame: what the map had sent to the page when the click's own zero-delay tasks were done (a
# timer set from a timer set by a listener that runs before the map's: it runs after every task the click set
# with no delay), kept in the page (the frame goes with the page switch). A debounced send comes 250 ms later.
SENT_AT_ONCE = """() => document.addEventListener('click', () => setTimeout(() => setTimeout(() => {
    window.parent.__gmSentAtOnce = JSON.stringify((window.__GLOBAL_DATA__ || {}).previous_data || null); }, 0), 0), true)"""


def test_clicking_a_label_on_the_overview_opens_its_grid(demo_app, backend_name):
    with browser(1920, 1080) as page:
        open_app(page, f"{demo_app}/")
        sign_in(page, "leader01", PASSWORD)
        page.get_by_role("heading", name="创城网格地图 · 东昌府区", exact=True).wait_for()
        frame = map_frame(page)
        wait_for_streamlit(page)
        found = placed_labels(frame, ".gm-label")
        _assert_placed(found, 61)
        target = next(x for x in found["labels"] if x["code"] == "DC-34")
        label = frame.locator(".gm-label", has_text=re.compile("^DC-34$"))
        frame.evaluate(SENT_AT_ONCE)
        click_and_rerun(page, label)
        # the click reached the page at once, not after streamlit-folium's 250 ms debounce (layers/clicks.py)
        page.wait_for_function("() => window.__gmSentAtOnce !== undefined")
        assert '"code":"DC-34"' in page.evaluate("() => window.__gmSentAtOnce"), page.evaluate("() => window.__gmSentAtOnce")
        heading = page.get_by_role("heading", name="网格详情 · DC-34", exact=True)
        heading.wait_for()
        wait_for_streamlit(page)
        assert "grid=DC-34" in page.url
        assert target["text"] == "DC-34"
        # the page as the README shows it (make docs-screenshots): the map and the ledger drawn
        map_frame(page)
        page.get_by_text(re.compile(r"^问题台账（")).first.wait_for()
        page.locator('[data-testid="stDataFrame"] canvas').first.wait_for()
        wait_for_streamlit(page)
        screenshot(page, f"grid_page_1920_{backend_name}")
        # §13: a problem from a link has its star on the map (beside the map: feature_group_to_add), and
        # opening another problem keeps the map as it is (no rebuild of the grid's 1,000 problem marks)
        with get_engine(DEMO_URLS[backend_name]).connect() as conn:
            first, second = conn.execute(text(
                "SELECT p.code FROM problems p JOIN grids g ON g.id = p.grid_id "
                "WHERE g.code = 'DC-34' ORDER BY p.reported_at DESC LIMIT 2")).scalars().all()
        open_app(page, f"{demo_app}/grid?grid=DC-34&problem={first}")  # a reload: sign in again
        sign_in(page, "leader01", PASSWORD)
        page.get_by_role("heading", name=f"问题 {first}", exact=True).wait_for()
        wait_for_streamlit(page)
        frame = map_frame(page)
        frame.locator(".awesome-marker-icon-red").first.wait_for()
        assert frame.locator(".awesome-marker-icon-red").count() == 1
        frame.evaluate("() => { document.querySelector('.leaflet-container').__gmKept = true; }")
        box = page.get_by_placeholder("输入问题编号，如 WT2026110000001", exact=True)
        box.fill(second)
        click_and_rerun(page, lambda: box.press("Enter"))
        page.get_by_role("heading", name=f"问题 {second}", exact=True).wait_for()
        wait_for_streamlit(page)
        frame = map_frame(page)
        assert frame.evaluate("() => document.querySelector('.leaflet-container').__gmKept === true")
        assert frame.locator(".awesome-marker-icon-red").count() == 1
