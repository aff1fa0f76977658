"""The map must make no request off this machine: every JS/CSS/font/image it needs is vendored."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import folium
import pytest
from branca.colormap import LinearColormap
from folium import plugins

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from layers import basemap  # noqa: E402
from layers.basemap import (  # noqa: E402
    ASSET_PREFIX,
    VENDORED_ASSETS,
    BasemapConfig,
    ExternalAssetError,
    basemap_from_env,
    local_url,
    localize,
    make_map,
)

VENDOR = ROOT / "static" / "vendor"
CENTER = (31.2304, 121.4737)

POLYGON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "网格一", "code": "G001"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[121.47, 31.23], [121.48, 31.23], [121.48, 31.24], [121.47, 31.24], [121.47, 31.23]]
                ],
            },
        }
    ],
}


def full_map(**kwargs) -> folium.Map:
    """A map using every element the app relies on, added after make_map() like real code does."""
    m = make_map(CENTER, **kwargs)
    folium.GeoJson(
        POLYGON,
        name="网格",
        tooltip=folium.GeoJsonTooltip(fields=["name"]),
        popup=folium.GeoJsonPopup(fields=["name", "code"]),
    ).add_to(m)
    fg = folium.FeatureGroup(name="事件").add_to(m)
    folium.Marker(
        CENTER, tooltip="事件", popup=folium.Popup("详情"), icon=folium.Icon(color="red", icon="info-sign")
    ).add_to(fg)
    folium.Marker(CENTER, icon=folium.Icon(prefix="fa", icon="house", angle=45)).add_to(fg)
    cluster = plugins.MarkerCluster(name="点位").add_to(m)
    folium.Marker([31.231, 121.474], tooltip=folium.Tooltip("点")).add_to(cluster)
    plugins.Draw(export=False).add_to(m)
    plugins.Fullscreen().add_to(m)
    folium.LayerControl().add_to(m)
    return m


def vendored_file(url: str) -> Path:
    """File under static/vendor served at ``url``; fails if outside it."""
    assert url.startswith(ASSET_PREFIX + "/"), url
    path = (VENDOR / url[len(ASSET_PREFIX) + 1:].split("?")[0].split("#")[0]).resolve()
    assert path.is_relative_to(VENDOR.resolve()), f"{url} escapes static/vendor"
    return path


def test_rendered_html_only_links_vendored_files():
    html = full_map().get_root().render()
    urls = re.findall(r'\b(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    assert len(urls) >= 15, urls  # Map + Draw + Fullscreen + MarkerCluster links
    for url in urls:
        assert url.startswith(ASSET_PREFIX + "/"), f"non-local link in page: {url}"
        assert vendored_file(url).is_file(), f"{url} is linked but missing under static/vendor/"
    assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", html, flags=re.I), "external host in page"
    for needed in ("leaflet.js", "leaflet.draw.js", "Control.FullScreen.js", "leaflet.markercluster.js",
                   "leaflet.awesome-markers.js", "all.min.css", "bootstrap-glyphicons.css"):
        assert any(u.endswith(needed) for u in urls), f"{needed} not linked"


def test_every_vendored_asset_exists():
    for cdn, rel in VENDORED_ASSETS.items():
        assert (VENDOR / rel).is_file(), f"{cdn} -> static/vendor/{rel} missing"


def test_css_urls_inside_vendored_files_resolve():
    css_files = sorted(VENDOR.rglob("*.css"))
    assert len(css_files) >= 10
    checked = 0
    for css in css_files:
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"@import", text), f"{css}: @import not allowed"
        for _, ref in re.findall(r"""url\(\s*(["']?)(.*?)\1\s*\)""", text):
            if ref.startswith("data:") or ref.startswith("#"):  # inline data; leaflet's IE VML behaviour
                continue
            assert "//" not in ref, f"{css.relative_to(VENDOR)} references external {ref}"
            target = (css.parent / ref.split("?")[0].split("#")[0]).resolve()
            assert target.is_relative_to(VENDOR.resolve()), f"{css}: {ref} escapes static/vendor"
            assert target.is_file(), f"{css.relative_to(VENDOR)}: url({ref}) -> missing {target}"
            checked += 1
    assert checked >= 30  # leaflet images, draw sprites, FA + glyphicon fonts, marker images


def test_st_folium_loads_only_local_links(monkeypatch):
    """st_folium builds its iframe from the elements' default_js/default_css: check what it would send."""
    import streamlit_folium

    sent = {}

    def fake_component(**kwargs):
        sent.update(kwargs)
        return kwargs["default"]

    monkeypatch.setattr(streamlit_folium, "_component_func", fake_component)
    streamlit_folium.st_folium(full_map(), returned_objects=[])
    links = sent["js_links"] + sent["css_links"]
    assert any(u.endswith("/leaflet.draw.js") for u in sent["js_links"])
    for url in links:
        assert url.startswith(ASSET_PREFIX + "/"), f"st_folium would load {url}"
        assert vendored_file(url).is_file(), url
    assert "html .leaflet-container { background:" in sent["header"]
    icon = re.search(r"\.leaflet-default-icon-path \{ background-image: url\(([^)]+)\); \}", sent["header"])
    assert icon, "default marker path must be set inline (st_folium runs the map before leaflet.css loads)"
    assert vendored_file(icon.group(1)).is_file()


def test_folium_class_defaults_are_not_mutated():
    full_map().get_root().render()
    assert folium.Map.default_js[0][1].startswith("https://")
    assert plugins.Draw.default_js[0][1].startswith("https://")


def test_unknown_external_plugin_raises_naming_url():
    m = make_map(CENTER)
    plugins.MiniMap().add_to(m)
    with pytest.raises(ExternalAssetError, match=r"Control\.MiniMap\.js"):
        m.get_root().render()
    with pytest.raises(ExternalAssetError, match="cdn.example.org"):
        local_url("https://cdn.example.org/x.js")
    with pytest.raises(ExternalAssetError):
        local_url("//cdn.example.org/x.css")


def test_colormap_is_refused():
    m = make_map(CENTER)
    LinearColormap(["white", "red"], vmin=0, vmax=1).add_to(m)
    with pytest.raises(ExternalAssetError, match="ColorMap"):
        localize(m)


def test_local_url_is_idempotent():
    cdn = "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"
    once = local_url(cdn)
    assert once == f"{ASSET_PREFIX}/leaflet-1.9.3/leaflet.js"
    assert local_url(once) == once


# --- base map configuration -------------------------------------------------------------


def test_basemap_from_env_default_is_none():
    cfg = basemap_from_env({})
    assert cfg.kind == "none" and cfg.url is None and not cfg.has_tiles
    assert basemap_from_env({"GRIDMAP_BASEMAP": " None "}).kind == "none"


def test_basemap_from_env_xyz():
    cfg = basemap_from_env({
        "GRIDMAP_BASEMAP": "xyz",
        "GRIDMAP_TILES_URL": "http://10.1.2.3/tiles/{z}/{x}/{y}.png",
        "GRIDMAP_TILES_ATTRIBUTION": "市测绘院",
        "GRIDMAP_TILES_CRS": "GCJ02",
    })
    assert cfg == BasemapConfig("xyz", "http://10.1.2.3/tiles/{z}/{x}/{y}.png", "市测绘院", "gcj02", 18)
    plain = basemap_from_env({"GRIDMAP_BASEMAP": "xyz", "GRIDMAP_TILES_URL": "http://t/{z}/{x}/{y}.png"})
    assert plain.crs_note == "wgs84" and plain.attribution


def test_basemap_from_env_public_is_osm_wgs84():
    cfg = basemap_from_env({"GRIDMAP_BASEMAP": "public"})
    assert cfg.kind == "public" and "openstreetmap.org" in cfg.url and cfg.crs_note == "wgs84"
    assert "OpenStreetMap" in cfg.attribution


@pytest.mark.parametrize("env, word", [
    ({"GRIDMAP_BASEMAP": "google"}, "GRIDMAP_BASEMAP"),
    ({"GRIDMAP_BASEMAP": "xyz"}, "GRIDMAP_TILES_URL"),
    ({"GRIDMAP_BASEMAP": "xyz", "GRIDMAP_TILES_URL": "http://t/tile.png"}, "{z}"),
    ({"GRIDMAP_BASEMAP": "xyz", "GRIDMAP_TILES_URL": "http://t/{z}/{x}/{y}", "GRIDMAP_TILES_CRS": "bd09"},
     "GRIDMAP_TILES_CRS"),
    ({"GRIDMAP_BASEMAP": "public", "GRIDMAP_TILES_CRS": "gcj02"}, "gcj02"),
    ({"GRIDMAP_TILES_MAX_ZOOM": "high"}, "GRIDMAP_TILES_MAX_ZOOM"),
])
def test_basemap_from_env_rejects_bad_values(env, word):
    with pytest.raises(ValueError, match=re.escape(word)):
        basemap_from_env(env)


def test_kind_none_renders_no_tiles_and_a_background():
    html = make_map(CENTER).get_root().render()
    assert "tileLayer" not in html and "{z}" not in html
    assert "html .leaflet-container { background: %s; }" % basemap.BACKGROUND_LIGHT in html
    assert '"attributionControl": false' in html
    dark = make_map(CENTER, dark=True).get_root().render()
    assert basemap.BACKGROUND_DARK in dark and basemap.BACKGROUND_LIGHT not in dark


def test_xyz_renders_its_tile_url():
    cfg = BasemapConfig("xyz", "http://10.1.2.3/tiles/{z}/{x}/{y}.png", "市测绘院", "wgs84", 17)
    html = make_map(CENTER, basemap=cfg).get_root().render()
    assert "L.tileLayer" in html and "http://10.1.2.3/tiles/{z}/{x}/{y}.png" in html
    assert '"maxZoom": 17' in html


def test_make_map_rejects_tiles_kwarg():
    with pytest.raises(TypeError):
        make_map(CENTER, tiles="OpenStreetMap")


def test_map_data_is_written_as_utf8_text_and_stays_html_safe():
    """Chinese in a map's GeoJSON is written as itself (3 bytes in UTF-8), not as a 6-byte \\uXXXX escape;
    <, >, & and ' are still escaped, so no text can close the map's <script>."""
    import geopandas as gpd
    from shapely.geometry import Point

    from layers.areas import problems
    from streamlit_folium import generate_leaflet_string

    frame = gpd.GeoDataFrame({
        "code": ["WT1"], "category": ["暴露垃圾"], "status": ["待核查"], "overdue": [False], "unit": ["古楼街道办事处"],
        "description": ["</script><b>'刘家村'</b> & 南片区"], "reported_at": ["2026-11-20 18:13"],
        "deadline": ["2026-11-20 22:13"]}, geometry=[Point(115.95, 36.45)], crs="EPSG:4326")
    m = make_map(CENTER, zoom=12)
    problems(frame).add_to(m)
    text = generate_leaflet_string(m)
    assert "古楼街道办事处" in text and "\\u53e4" not in text
    assert "</script>" not in text and "<b>" not in text and "'刘家村'" not in text


def test_feature_collection_writes_what_escaped_geojson_wrote():
    """`layers.common.feature_collection` (whole columns at once) gives the same GeoJSON as the frame's own
    `to_json` after `escaped`: text escaped, numbers rounded to 2 places, gaps as '', Arrow strings, booleans."""
    import json

    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point, Polygon

    from layers.common import escaped, feature_collection

    frame = gpd.GeoDataFrame({
        "name": ["<b>南</b> & '北'", None, "东"], "n": [1.234, None, 3], "done": [True, False, True],
        "s": pd.array(["甲", None, "乙"], dtype="string[pyarrow]"), "k": pd.array([1, None, 3], dtype="Int64")},
        geometry=[Point(115.9, 36.4), Polygon([(0, 0), (1, 0), (1, 1)]), Point(116.0, 36.5)], crs="EPSG:4326")
    columns = ["name", "n", "done", "s", "k"]
    expected = json.loads(escaped(frame, columns).to_json(drop_id=True))
    made = json.loads(json.dumps(feature_collection(frame, columns)))
    assert made == expected
    assert made["features"][0]["properties"] == {"name": "&lt;b&gt;南&lt;/b&gt; &amp; &#x27;北&#x27;", "n": 1.23,
                                                 "done": "True", "s": "甲", "k": 1.0}
    assert made["features"][1]["properties"] == {"name": "", "n": "", "done": "False", "s": "", "k": ""}


def test_template_syntax_in_map_data_stays_text():
    """branca handed each rendered part to Jinja again: text from the database ran as a template on the server."""
    import geopandas as gpd
    from shapely.geometry import Point

    from layers.areas import problems

    said = "{{ this.__init__.__globals__ }}{% endif %}"
    frame = gpd.GeoDataFrame({
        "code": ["WT1"], "category": ["暴露垃圾"], "status": ["待核查"], "overdue": [False], "unit": ["单位"],
        "description": [said], "reported_at": ["2026-11-20 18:13"], "deadline": ["2026-11-20 22:13"]},
        geometry=[Point(115.95, 36.45)], crs="EPSG:4326")
    m = make_map(CENTER, zoom=12)
    problems(frame).add_to(m)
    html = m.get_root().render()
    assert said in html and "__builtins__" not in html


def test_problem_circles_share_one_canvas():
    import geopandas as gpd
    from shapely.geometry import Point

    from layers.areas import problems
    from streamlit_folium import generate_leaflet_string

    frame = gpd.GeoDataFrame({
        "code": ["WT1", "WT2"], "category": ["暴露垃圾"] * 2, "status": ["待核查", "已结案"], "overdue": [False, True],
        "unit": ["单位"] * 2, "description": ["甲", "乙"], "reported_at": ["2026-11-20 18:13"] * 2,
        "deadline": ["2026-11-20 22:13"] * 2}, geometry=[Point(115.95, 36.45), Point(115.96, 36.46)], crs="EPSG:4326")
    m = make_map(CENTER, zoom=12)
    problems(frame).add_to(m)
    text = generate_leaflet_string(m)
    assert text.count("window.gmProblemCanvas || L.canvas(") == 1  # in the one pointToLayer every circle goes through
    assert '"renderer": (window.gmProblemCanvas = window.gmProblemCanvas || L.canvas(' in text
