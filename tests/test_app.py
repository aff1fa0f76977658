"""The app through Streamlit's AppTest: it starts, navigates, and shows the grids."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import pages.ui


@pytest.fixture
def captured_maps(monkeypatch):
    """Replace st_folium (a custom component AppTest cannot run) and keep the maps pages draw."""
    maps = []

    def fake_show_map(m, key, height=640, returned_objects=(), **kwargs):
        maps.append((key, m.get_root().render()))
        return {name: None for name in returned_objects}

    monkeypatch.setattr(pages.ui, "show_map", fake_show_map)
    return maps


def html_has(html: str, text: str) -> bool:
    """`text` appears in rendered map HTML, either raw or JSON-escaped (folium embeds GeoJSON as JSON)."""
    return text in html or json.dumps(text)[1:-1] in html


def run_app(url: str, monkeypatch, page: str | None = None) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file("../app.py", default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    return at


def test_overview_shows_counts_and_grids(city_url, monkeypatch, captured_maps):
    at = run_app(city_url, monkeypatch)
    assert not at.exception
    assert at.title[0].value.startswith("创城网格地图")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["网格"] == "4" and metrics["问题总数"] == "10"
    assert metrics["未结案问题"] == "5"
    key, html = captured_maps[-1]
    assert key == "overview_map"
    for code in ("T-01", "T-02", "T-03", "T-04"):
        assert code in html
    assert html_has(html, "张建国")  # the 帮包市级领导 in the tooltip data


def test_empty_database_says_what_to_do(empty_url, monkeypatch, captured_maps):
    at = run_app(empty_url, monkeypatch)
    assert not at.exception
    assert "python -m gis demo" in at.info[0].value
    assert captured_maps == []
