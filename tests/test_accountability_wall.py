"""The wall and the grid page show the 三色牌 in force and the month's lowest 点位达标率 (issue 14)."""

from __future__ import annotations

from datetime import datetime

from gis.accountability import cards
from gis.people.permissions import Actor
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

LEADER = Actor("wang", "领导")


def test_wall_and_grid_page_show_cards(city_rw, monkeypatch, captured_maps):
    code = cards.issue(city_rw, LEADER, "grid", "T-01", "黄", "连续两月黑榜", now=datetime(2026, 11, 20, 9))
    cards.issue(city_rw, LEADER, "unit", "U-002", "红", "占道经营", now=datetime(2026, 11, 20, 9))
    url = city_rw.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/wall.py", query={"as_of": "2026-11-30"})
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "在册三色牌" in text and ">黄 1</span>" in text and ">红 1</span>" in text
    assert "点位达标最低：许营村 25%、双井街 50%" in text
    monkeypatch.setenv("GRIDMAP_NOW", "2026-11-20T12:00:00")
    at = run_app(url, monkeypatch, page="pages/grid.py", query={"grid": "T-01"})
    assert not at.exception
    assert any(f"黄牌 {code}（连续两月黑榜，限期整改）" in w.value for w in at.warning)
    at = run_app(url, monkeypatch, page="pages/grid.py", query={"grid": "T-02"})
    assert not [w for w in at.warning if "在册三色牌" in w.value]
