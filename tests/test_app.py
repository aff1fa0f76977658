"""The app through Streamlit's AppTest: it starts, and the overview shows the grids."""

from __future__ import annotations

from tests.apptools import captured_maps, html_has, run_app  # noqa: F401  (fixture)


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


def test_clicking_a_grid_on_the_overview_opens_its_page(city_url, monkeypatch, captured_maps):
    captured_maps.returns["overview_map"] = {"last_active_drawing": {"type": "Feature", "properties": {"code": "T-03"}}}
    at = run_app(city_url, monkeypatch)
    assert not at.exception
    assert at.query_params.get("grid") in ("T-03", ["T-03"])
    assert any(key != "overview_map" for key, _ in captured_maps)  # the grid page drew its own map
