"""Publishing refuses a draft with topology errors in the core (gis.planning.versions.publish), whatever
the page shows: through gis, and through 网格规划 with the (disabled) 发布 button pressed anyway.

Small city (tests/smallcity.py): T-01 is box(W, S, MX, MY), T-02 its eastern neighbour.
"""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, box
from sqlalchemy import func, select

from gis.db.models import AuditEntry, Grid, GridLayer, InspectionPoint
from gis.people.permissions import Actor
from gis.planning import versions
from tests import smallcity as sc
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

PLANNER = Actor("planner1", "规划员")
PAGE = "pages/planning.py"


def _snapshot(engine):
    """Everything publishing may change: layers (status, revision, dates), point → grid, audit rows."""
    with engine.connect() as conn:
        layers = [tuple(r) for r in conn.execute(select(GridLayer.id, GridLayer.status, GridLayer.revision,
                                                        GridLayer.valid_from, GridLayer.valid_to)
                                                 .order_by(GridLayer.id))]
        points = dict(conn.execute(select(InspectionPoint.code, InspectionPoint.grid_id)).all())
        audit = conn.execute(select(func.count()).select_from(AuditEntry.__table__)).scalar_one()
    return layers, points, audit


def _draft_with(engine, **geoms) -> int:
    """A draft whose grids are replaced as given, saved as it is (no snapping, no neighbour giving way)."""
    wc = versions.working_copy(engine)
    grids = wc.grids.copy()
    for code, geom in geoms.items():
        grids.loc[grids["code"] == code.replace("_", "-"), "geometry"] = MultiPolygon([geom])
    return versions.save_draft(engine, PLANNER, grids, wc.layer_id, wc.revisions, "有错误的草案")


def test_publish_refuses_an_overlap_and_writes_nothing(city_rw):
    draft = _draft_with(city_rw, T_01=box(sc.W, sc.S, sc.MX + 0.002, sc.MY))  # into T-02, which stays put
    before = _snapshot(city_rw)
    with pytest.raises(versions.PublishRefused) as refused:
        versions.publish(city_rw, PLANNER, draft)
    message = str(refused.value)
    assert "第2版草案有 1 处拓扑错误，不能发布" in message
    assert "网格重叠：网格 T-01 与 T-02 重叠" in message
    assert _snapshot(city_rw) == before
    assert versions.history(city_rw).set_index("number").at[2, "status"] == "草案"


def test_publish_refuses_a_gap_and_lists_every_error(city_rw):
    # T-01 pulled back from T-02 (a gap) and T-03 pushed into T-04 (an overlap)
    draft = _draft_with(city_rw, T_01=box(sc.W, sc.S, sc.MX - 0.002, sc.MY),
                        T_03=box(sc.W, sc.MY, sc.MX + 0.002, sc.N))
    before = _snapshot(city_rw)
    with pytest.raises(versions.PublishRefused) as refused:
        versions.publish(city_rw, PLANNER, draft)
    message = str(refused.value)
    assert "2 处拓扑错误" in message and "网格重叠" in message and "网格空隙" in message
    assert _snapshot(city_rw) == before


def test_a_clean_draft_still_publishes(city_rw):
    draft = _draft_with(city_rw, T_01=box(sc.W, sc.S - 0.001, sc.MX, sc.MY))  # grows south, into nobody's land
    versions.publish(city_rw, PLANNER, draft)
    with city_rw.connect() as conn:
        assert conn.execute(select(GridLayer.status).where(GridLayer.id == draft)).scalar_one() == "已发布"
        assert conn.execute(select(func.count()).select_from(Grid.__table__).where(Grid.layer_id == draft)).scalar() == 4


def test_page_publish_of_a_draft_with_errors_is_refused_by_the_core(city_rw, monkeypatch, captured_maps):
    draft = _draft_with(city_rw, T_01=box(sc.W, sc.S, sc.MX + 0.002, sc.MY))
    before = _snapshot(city_rw)
    at = run_app(city_rw.url.render_as_string(hide_password=False), monkeypatch, page=PAGE, actor=PLANNER)
    next(s for s in at.selectbox if s.key.startswith("planning_version_")).set_value(2).run()
    at.button(key="planning_open").click().run()
    assert not at.exception, at.exception
    assert at.session_state["planning"].base == draft
    assert "有错误，不能发布" in at.error[0].value  # the page's own check report
    publish = at.button(key="planning_publish")
    assert publish.disabled is False  # the rule is not the page's: the core decides and says why
    publish.click().run()
    assert not at.exception, at.exception
    assert any("第2版草案有 1 处拓扑错误，不能发布" in e.value.replace("\\", "") for e in at.error)
    assert _snapshot(city_rw) == before


# ------------------------------------------------------------------ the impact preview's errors surface

def test_month_scores_is_empty_only_when_there_is_nothing_to_score(empty_url, city_engine, tmp_path):
    from datetime import date, datetime

    from gis.db.engine import get_engine
    from gis.planning import impact

    at = datetime(2026, 11, 20, 10)
    assert impact.month_scores(get_engine(empty_url), date(2026, 11, 1), at).empty  # no grids: nothing to score
    assert len(impact.month_scores(city_engine, date(2026, 11, 1), at)) == 4
    broken = get_engine(f"sqlite:///{tmp_path / 'not-migrated.sqlite'}")  # no tables: a real error
    with pytest.raises(Exception) as raised:
        impact.month_scores(broken, date(2026, 11, 1), at)
    assert "no such table" in str(raised.value)


def test_page_says_so_in_chinese_when_the_impact_fails(city_rw, monkeypatch, captured_maps):
    from gis.planning import impact

    def broken(*args, **kwargs):
        raise RuntimeError("connection refused on 10.0.0.5:5432")

    monkeypatch.setattr(impact, "impact", broken)
    drawn = {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[115.985, 36.445], [115.995, 36.445], [115.995, 36.455], [115.985, 36.455], [115.985, 36.445]]]}}
    captured_maps.returns["planning_map"] = {"last_active_drawing": drawn, "all_drawings": [drawn]}
    at = run_app(city_rw.url.render_as_string(hide_password=False), monkeypatch, page=PAGE, actor=PLANNER)
    assert not at.exception, at.exception
    assert any("调整影响暂时无法计算" in e.value for e in at.error)
    assert not any("10.0.0.5" in e.value for e in at.error)  # the detail goes to the log, not to the user
    assert at.button(key="planning_save").disabled is False  # the rest of the page still works
