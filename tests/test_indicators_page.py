"""The 指标说明 page (pages/indicators.py) through AppTest: every figure with its formula, the
settings in force, and the anchors the wall's ⓘ links open."""

from __future__ import annotations

from gis.metrics import definitions
from tests.apptools import run_app


def _text(at) -> str:
    return "\n".join(m.value for m in at.markdown) + "\n".join(s.value for s in at.subheader)


def test_every_figure_is_explained_with_its_formula(city_url, monkeypatch):
    monkeypatch.setenv("GRIDMAP_MIN_INSPECTIONS", "12")
    monkeypatch.setenv("GRIDMAP_WORK_HOURS", "09:00-12:00,14:00-18:00")
    at = run_app(city_url, monkeypatch, page="pages/indicators.py")
    assert not at.exception
    assert [t.value for t in at.title] == ["指标说明"]
    text = _text(at)
    for f in (*definitions.FIGURES, *definitions.WALL_FIGURES):
        assert f"#### {f.name}" in text, f.name
        assert f.formula in text, f.name
        assert f'<a id="{definitions.anchor(f.name)}"></a>' in text
    assert "按期结案数 ÷ 应结案数" in text and "应结案数 − 按期结案数" in text
    assert "本月测评不少于 12 次" in text  # the settings in force
    assert "09:00–12:00、14:00–18:00" in text
    assert "网格员巡查 ×0.5" in text
    assert definitions.anchor("结案率") == "closure-rate"


def test_signed_out_visitors_do_not_see_it(city_url, monkeypatch):
    at = run_app(city_url, monkeypatch, actor=None)
    assert "指标说明" not in [t.value for t in at.title]
