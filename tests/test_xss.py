"""User text stays inert: an XSS payload in a problem description, a compound name and a grid
name is escaped in the HTML of every page that shows it (folium maps, HTML markdown, st.html,
pydeck JSON), through AppTest with the real pages.

A page that is renamed or missing fails here: it is never skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from pages import cache
from gis.db.models import Compound, Grid, Problem
from gis.people.permissions import Actor
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
PAYLOAD = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
RAW_FORMS = (PAYLOAD, json.dumps(PAYLOAD)[1:-1], PAYLOAD.replace("<", "\\u003c").replace(">", "\\u003e"),
             "<img src=x onerror")
ESCAPED_FORMS = (ESCAPED, ESCAPED.replace("&", "\\u0026"), "&amp;lt;img src=x onerror")


def _write_text(engine, description: str, suffix: str) -> None:
    """WT03's description becomes `description`; 阳光小区's and T-01's names get `suffix`."""
    with engine.begin() as conn:
        conn.execute(update(Problem.__table__).where(Problem.__table__.c.code == "WT03").values(description=description))
        conn.execute(update(Compound.__table__).where(Compound.__table__.c.name == "阳光小区")
                     .values(name=f"阳光小区{suffix}"))
        conn.execute(update(Grid.__table__).where(Grid.__table__.c.code == "T-01").values(name=f"古楼一网格{suffix}"))
        assert conn.execute(select(Compound.__table__.c.id).where(Compound.__table__.c.name.contains(suffix))).first()
    cache.clear()


@pytest.fixture
def poisoned(city_rw):
    """The small city with the payload in WT03's description, 阳光小区's name and T-01's name."""
    _write_text(city_rw, f"占道经营 {PAYLOAD}", PAYLOAD)
    yield city_rw
    cache.clear()


def _html_sources(at, maps) -> list[tuple[str, str]]:
    """Every piece of the run's output that a browser would parse as HTML or feed to a tooltip."""
    out = [(f"map {key}", html) for key, html in maps]
    for md in at.markdown:
        if md.allow_html:
            out.append(("markdown(unsafe_allow_html)", md.value))
    for el in at.get("html"):
        out.append(("st.html", getattr(el.proto, "body", "")))
    for el in at.get("deck_gl_json_chart"):
        out.append(("pydeck", getattr(el.proto, "json", "")))
    return out


def _check_page(at, maps, expect_shown: bool = True) -> None:
    assert not at.exception, at.exception
    sources = _html_sources(at, maps)
    for where, text in sources:
        for raw in RAW_FORMS:
            assert raw not in text, f"raw payload in {where}"
    if expect_shown:  # the test looked where the text is actually shown
        assert any(esc in text for _, text in sources for esc in ESCAPED_FORMS), [w for w, _ in sources]


def _page(name: str) -> str:
    assert (ROOT / "pages" / name).is_file(), f"pages/{name} is missing (renamed?): update this test"
    return f"pages/{name}"


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _open(engine, monkeypatch, maps, page, query=None, actor=Actor("leader", "领导")):
    """Run the app, then open `page`; `maps` keeps only that page's maps."""
    at = run_app(_url(engine), monkeypatch, query=query, actor=actor)
    maps.clear()
    return at.switch_page(page).run()


def test_overview(poisoned, monkeypatch, captured_maps):
    at = _open(poisoned, monkeypatch, captured_maps, _page("overview.py"))
    _check_page(at, captured_maps)


def test_grid_page_with_the_problem_open(poisoned, monkeypatch, captured_maps):
    at = _open(poisoned, monkeypatch, captured_maps, _page("grid.py"), query={"grid": "T-01", "problem": "WT03"},
               actor=Actor("chief", "网格长", "T-01"))
    _check_page(at, captured_maps)
    shown = "".join(text for _, text in _html_sources(at, captured_maps))
    assert "占道经营 " + ESCAPED in shown or "占道经营 " + ESCAPED.replace("&", "\\u0026") in shown  # description
    assert any(f"阳光小区{esc}" in shown for esc in ESCAPED_FORMS)  # compound name (map tooltip)


def test_grid_picker(poisoned, monkeypatch, captured_maps):
    at = _open(poisoned, monkeypatch, captured_maps, _page("grid.py"))
    _check_page(at, captured_maps)


def test_wall(poisoned, monkeypatch, captured_maps):
    at = _open(poisoned, monkeypatch, captured_maps, _page("wall.py"))
    _check_page(at, captured_maps)


def test_planning(poisoned, monkeypatch, captured_maps):
    at = _open(poisoned, monkeypatch, captured_maps, _page("planning.py"), actor=Actor("p", "规划员"))
    _check_page(at, captured_maps)


def test_admin_audit_log(poisoned, monkeypatch, captured_maps):
    """A payload typed as a user name at the sign-in form lands in the audit log: shown as data."""
    from gis.people import auth

    auth.authenticate(poisoned, PAYLOAD, "x")
    at = _open(poisoned, monkeypatch, captured_maps, _page("admin.py"), actor=Actor("a", "管理员"))
    _check_page(at, captured_maps, expect_shown=False)
    log = next(d.value for d in at.dataframe if "操作人" in d.value.columns)  # the audit log's table
    assert PAYLOAD in log["操作人"].tolist()  # a dataframe cell: text, not HTML


# --- Markdown injection (issue 11 §8): a grid code that is a Markdown link stays text -------------

LINK_CODE = "[c](javascript:alert(33))"


@pytest.fixture
def link_coded(city_rw):
    """The small city with grid T-02 renamed to the code LINK_CODE."""
    with city_rw.begin() as conn:
        conn.execute(update(Grid.__table__).where(Grid.__table__.c.code == "T-02").values(code=LINK_CODE))
    cache.clear()
    yield city_rw
    cache.clear()


def _markdown_texts(at) -> list[tuple[str, str]]:
    """Every element whose text Streamlit parses as Markdown. An ``unsafe_allow_html`` block that starts
    with a tag and has no blank line is a CommonMark HTML block: its text is not parsed as Markdown
    (checked in Chromium: a card showing this code on the wall draws no link), html.escape covers it."""
    kinds = ("title", "header", "subheader", "caption", "markdown", "success", "error", "warning", "info")
    out = []
    for kind in kinds:
        for el in at.get(kind):
            text = str(el.value)
            html_block = getattr(el, "allow_html", False) and text.lstrip().startswith("<") and "\n\n" not in text
            if not html_block:
                out.append((kind, text))
    return out


def _no_markdown_link(at) -> None:
    import re

    assert not at.exception, at.exception
    for kind, text in _markdown_texts(at):
        assert not re.search(r"(?<!\\)\]\((?!\s*#)[^)]*javascript", text), f"live Markdown link in st.{kind}: {text!r}"


@pytest.mark.parametrize("page, query, actor", [
    ("grid.py", {"grid": LINK_CODE}, Actor("leader", "领导")),
    ("grid.py", {"grid": LINK_CODE, "problem": "WT03"}, Actor("leader", "领导")),
    ("grid.py", {}, Actor("leader", "领导")),
    ("overview.py", {}, Actor("leader", "领导")),
    ("wall.py", {}, Actor("leader", "领导")),
    ("planning.py", {}, Actor("p", "规划员")),
])
def test_a_grid_code_that_is_a_markdown_link_stays_text(link_coded, monkeypatch, captured_maps, page, query, actor):
    at = _open(link_coded, monkeypatch, captured_maps, _page(page), query=query, actor=actor)
    _no_markdown_link(at)
    if query.get("grid"):
        titles = [t.value for t in at.title]
        assert any(r"\[c\]\(javascript\:alert\(33\)\)" in t for t in titles), titles  # shown, as text


# --- Template injection: map text is data, never a template of the server (branca compiled it again) ---------

TEMPLATE = "{{ this.__init__.__globals__ }}{% if true %}"


@pytest.fixture
def templated(city_rw):
    """The small city with Jinja syntax in WT03's description, 阳光小区's name and T-01's name."""
    _write_text(city_rw, f"占道经营{TEMPLATE}", TEMPLATE)
    yield city_rw
    cache.clear()


@pytest.mark.parametrize("page, query, actor", [
    ("grid.py", {"grid": "T-01", "problem": "WT03"}, Actor("chief", "网格长", "T-01")),
    ("overview.py", {}, Actor("leader", "领导")),
    ("wall.py", {}, Actor("leader", "领导")),
    ("planning.py", {}, Actor("p", "规划员")),
])
def test_template_syntax_in_user_text_is_shown_as_text(templated, monkeypatch, captured_maps, page, query, actor):
    """Before: the grid page's map evaluated the description on the server ({{ … }} printed the module's
    globals) and an unclosed {% if %} broke the page."""
    at = _open(templated, monkeypatch, captured_maps, _page(page), query=query, actor=actor)
    assert not at.exception, at.exception
    maps = "".join(html for _, html in captured_maps)
    assert "__builtins__" not in maps and "urandom" not in maps  # no globals of the server's code in the page
    if page == "grid.py":
        assert "占道经营" + TEMPLATE in maps and "阳光小区" + TEMPLATE in maps  # shown as typed
