"""`python app.py` (pages/launch.py): the app's modules are imported before the first session, the
custom components they declare are served, and Streamlit's old multipage mode never runs a page file."""

from __future__ import annotations

import urllib.request

from pages import launch
from tests.browser import served_app
from tests.gate_wsclient import visit


def test_the_modules_of_the_pages_but_no_page_script():
    names = launch.app_modules()
    assert {"pages.gate", "pages.ui", "pages.cache", "pages.field_capture", "streamlit_folium",
            "gis.metrics.scores", "layers.choropleth"} <= set(names)
    assert not {"pages.wall", "pages.overview", "pages.admin", "pages.grid"} & set(names)


def test_served_app_serves_its_components_before_any_session_and_no_page_file_directly(city_url):
    with served_app(city_url) as base:
        for component in ("streamlit_folium.st_folium", "pages.field_capture.field_capture"):
            with urllib.request.urlopen(f"{base}/component/{component}/index.html", timeout=30) as resp:
                assert resp.status == 200, component
        first = visit(base, "gate")  # in the old multipage mode this would run pages/gate.py as a page
        assert "创城网格地图 · 登录" in first.text
