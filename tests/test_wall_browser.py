"""The wall screen in headless Chromium at 1920×1080, kiosk mode, on a demo city (61 grids).

The screenshot goes to tests/screenshots/wall_kiosk_1920.png (gitignored). The README's
docs/screenshots/wall.png comes from tests/test_wall_labels_browser.py, which waits for the map's
labels to be placed (`make docs-screenshots`)."""

from __future__ import annotations

from datetime import date

import pytest

from gis.db import migrate
from gis.db.engine import get_engine
from tests.browser import (
    browser,
    chromium_available,
    map_frame,
    open_app,
    screenshot,
    served_app,
    wait_for_streamlit,
    watch_requests,
)

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not chromium_available(), reason="needs Debian's /usr/bin/chromium")]

TOKEN = "wall-browser-token-0123456789abcdef"


@pytest.fixture(scope="module")
def demo_sqlite(tmp_path_factory) -> str:
    from gis.demo.build import build_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('wallbrowser') / 'demo.sqlite'}"
    engine = get_engine(url)
    migrate.upgrade(engine)
    build_demo(engine, n_problems=5000, until=date(2026, 11, 20), out_dir=None)
    return url


def test_kiosk_wall_draws_61_grids_offline(demo_sqlite):
    with served_app(demo_sqlite, env={"GRIDMAP_KIOSK_TOKENS": TOKEN}) as base, browser(1920, 1080) as page:
        visit = watch_requests(page)
        open_app(page, f"{base}/wall?kiosk={TOKEN}&as_of=2026-11-20")
        frame = map_frame(page)
        frame.wait_for_function("() => document.querySelectorAll('path.leaflet-interactive').length >= 61")
        page.wait_for_selector('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg',
                               state="attached")
        # the trend chart is drawn (vega's canvas has its size, or its svg its marks) and the run is over
        page.wait_for_function("""() => [...document.querySelectorAll(
            '[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg')]
            .some(c => c.tagName === 'CANVAS' ? c.width > 0 && c.height > 0 : c.querySelector('path, rect'))""")
        wait_for_streamlit(page)
        screenshot(page, "wall_kiosk_1920")
        shapes = frame.eval_on_selector_all("path.leaflet-interactive", "els => els.length")
        hidden = page.evaluate("""() => ['stHeader', 'stSidebar', 'stToolbar'].every(id => {
            const el = document.querySelector(`[data-testid="${id}"]`);
            return !el || getComputedStyle(el).display === 'none'; })""")
        height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        text = page.inner_text("body")
    assert shapes == 61
    assert visit.external_requests == []
    assert hidden  # kiosk: no Streamlit header, toolbar or sidebar
    assert height <= 1080  # one screen, no scrolling
    for label in ("领导大屏", "结案率", "红榜", "十差单位", "得分等级"):
        assert label in text
