"""Helpers for driving pages with Streamlit's AppTest.

AppTest cannot run custom components (st_folium, pydeck): pages render maps through
`pages.ui.show_map`, which `captured_maps` replaces to keep the rendered map HTML and to
feed back a chosen return value (e.g. a clicked feature or a drawn polygon).
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import pages.ui
from gis.people.permissions import Actor


class MapCapture(list):
    """Maps drawn during a run: (key, html). Set `.returns[key] = {...}` to fake st_folium's answer."""

    def __init__(self):
        super().__init__()
        self.returns: dict[str, dict] = {}


@pytest.fixture
def captured_maps(monkeypatch) -> MapCapture:
    maps = MapCapture()

    def fake_show_map(m, key, height=640, returned_objects=(), **kwargs):
        maps.append((key, m.get_root().render()))
        answer = {name: None for name in returned_objects}
        answer.update(maps.returns.get(key, {}))
        return answer

    monkeypatch.setattr(pages.ui, "show_map", fake_show_map)
    return maps


def html_has(html: str, text: str) -> bool:
    """`text` appears in rendered map HTML, raw or JSON-escaped (folium embeds GeoJSON as JSON)."""
    return text in html or json.dumps(text)[1:-1] in html


LEADER = Actor("测试领导", "领导")


def navigation_mode_only(monkeypatch) -> None:
    """Make AppTest run app.py (and so its sign-in gate) on every run, as the server does.

    With a folder named pages/ next to app.py, AppTest re-enters Streamlit's old multipage
    mode on each run and would run the requested page file directly, past app.py. The server
    leaves that mode for good on the first request (app.py's st.navigation; `pages.gate.require`).
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def run_app(url: str, monkeypatch, page: str | None = None, query: dict | None = None, timeout: int = 90,
            actor: Actor | None = LEADER) -> AppTest:
    """Run app.py against database `url`, optionally switching to `page` (e.g. "pages/wall.py").

    The session is signed in as `actor` (default: a 领导); `actor=None` runs it signed out.
    """
    monkeypatch.setenv("DATABASE_URL", url)
    navigation_mode_only(monkeypatch)
    at = AppTest.from_file("../app.py", default_timeout=timeout)
    if actor is not None:
        at.session_state["actor"] = actor
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page:
        at.switch_page(page).run()
    return at
