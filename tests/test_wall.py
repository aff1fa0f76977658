"""The wall screen (pages/wall.py) through AppTest, on a demo city (61 grids, 5,000 problems)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from gis.metrics import kpis, scores
from gis.db.engine import get_engine
from gis.people.permissions import LEADER, Actor
from tests.apptools import captured_maps, html_has, run_app  # noqa: F401  (fixture)
from tests.conftest import new_database_url

UNTIL = date(2026, 11, 20)
TOKEN = "wall-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def demo_url(backend_name, tmp_path_factory) -> str:
    from gis.demo.build import build_demo

    url = new_database_url(backend_name, tmp_path_factory, "walldemo")
    build_demo(get_engine(url), n_problems=5000, until=UNTIL, out_dir=None)
    return url


def _markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_kiosk_wall_shows_everything_without_filters(demo_url, monkeypatch, captured_maps):
    monkeypatch.setenv("GRIDMAP_KIOSK_TOKENS", TOKEN)
    at = run_app(demo_url, monkeypatch, query={"kiosk": TOKEN, "as_of": UNTIL.isoformat()}, actor=None)
    assert not at.exception
    text = _markdown(at)
    for label in ("领导大屏", "问题数", "结案率", "按期结案率", "返工率", "现超期", "平均整改用时",
                  "红榜", "黑榜", "十差单位", "得分等级", "近12个月趋势"):
        assert label in text, label
    assert 'data-testid="stHeader"' in text or "stHeader" in text  # kiosk CSS hides the chrome
    assert len(at.selectbox) == 0  # no filters in kiosk mode
    key, html = captured_maps[-1]
    assert key == "wall_map"
    grids = scores.monthly_scores(get_engine(demo_url), UNTIL, datetime(2026, 11, 21))
    assert len(grids) == 61
    for code in grids["code"]:
        assert f'"code": "{code}"' in html or f'"code":"{code}"' in html or html_has(html, code)
    assert html.count('"type": "Feature"') + html.count('"type":"Feature"') == 61
    assert "gm-legend" in html and "cdn" not in html.split("<body>")[-1].lower()
    # the KPI tile shows this month's 问题数 from gis.metrics.scores
    k = kpis.kpis(get_engine(demo_url), UNTIL, datetime(2026, 11, 21))
    assert f"{k.at['problems', 'value']:,.0f}" in text
    best = scores.rankings(grids)["best"]
    assert best["name"].iloc[0] in text
    # every KPI tile and panel links to its definition (ⓘ → 指标说明); 红榜 red, 黑榜 dark
    for anchor in ("problems", "closure-rate", "on-time-rate", "rework-rate", "overdue-now", "avg-hours", "score"):
        assert f'href="/indicators#{anchor}"' in text, anchor
    assert ".gm-red h3 { color:#f87171; }" in text


def test_signed_in_wall_has_filters_and_heatmap(demo_url, monkeypatch, captured_maps):
    at = run_app(demo_url, monkeypatch, page="pages/wall.py", query={"as_of": UNTIL.isoformat()},
                 actor=Actor("leader", LEADER))
    assert not at.exception
    labels = [s.label for s in at.selectbox]
    assert labels == ["月份", "街道", "问题类型", "来源"]
    # filter on one sub-district: the 得分等级 only lists its grids
    sd = at.selectbox[1].options[1]
    at.selectbox[1].select(sd).run()
    assert not at.exception
    assert sd in _markdown(at)
    # switch the map to the heatmap: a pydeck chart of H3 cells, no map
    n_maps = len(captured_maps)
    at.session_state["wall_view"] = "heat"  # the 地图 toggle (segmented control)
    at.run()
    assert not at.exception
    decks = at.get("deck_gl_json_chart")
    assert decks and len(captured_maps) == n_maps
    spec = json.loads(decks[0].proto.json)
    assert spec["layers"][-1]["@@type"] == "H3HexagonLayer"
    assert "cartocdn" not in decks[0].proto.json and spec["mapStyle"].startswith("data:")
    assert len(decks[0].proto.json) < 500_000


def test_signed_in_leader_gets_kiosk_display_with_kiosk_1(demo_url, monkeypatch, captured_maps):
    at = run_app(demo_url, monkeypatch, page="pages/wall.py", query={"kiosk": "1", "as_of": UNTIL.isoformat()},
                 actor=Actor("wang", LEADER))
    assert not at.exception
    # the kiosk CSS that hides Streamlit's header, menu and sidebar (signed in, the header is only coloured navy)
    assert "stSidebarCollapsedControl" in _markdown(at)
    assert len(at.selectbox) == 0
    plain = run_app(demo_url, monkeypatch, page="pages/wall.py", query={"as_of": UNTIL.isoformat()},
                    actor=Actor("wang", LEADER))
    assert "stSidebarCollapsedControl" not in _markdown(plain) and len(plain.selectbox) > 0


def test_first_days_of_a_month_show_last_month_complete(demo_url, monkeypatch, captured_maps):
    monkeypatch.setenv("GRIDMAP_KIOSK_TOKENS", TOKEN)
    at = run_app(demo_url, monkeypatch, query={"kiosk": TOKEN, "as_of": "2026-12-01"}, actor=None)
    assert not at.exception
    text = _markdown(at)
    assert "2026年11月（上月完整数据）" in text
    assert "较上月" in text and "上月同期" not in text  # a complete month against the whole month before


def test_walls_refresh_at_jittered_intervals(monkeypatch):
    """Walls opened together drift apart: each draws its interval once, within 60–66 s for 60 s."""
    import random

    from gis.metrics import settings

    monkeypatch.setenv("GRIDMAP_WALL_REFRESH", "60")
    rng = random.Random(7)
    intervals = [settings.refresh_interval(rng) for _ in range(20)]
    assert all(60.0 <= v <= 66.0 for v in intervals)
    assert max(intervals) - min(intervals) > 2.0  # spread, not 20 walls in step
