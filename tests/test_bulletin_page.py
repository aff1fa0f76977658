"""督查通报 page: a 领导 edits the 整改要求 and builds the Word and PDF; other roles cannot."""

from __future__ import annotations

import io
import pytest
from docx import Document

from gis.people.permissions import Actor
from tests.apptools import run_app


def test_leader_builds_with_edited_requirements(city_engine, monkeypatch):
    url = city_engine.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/bulletin.py", actor=Actor("wang", "领导"), timeout=180)
    assert not at.exception
    at.text_area(key="bulletin_requirements").input("一、请各单位于十日内报送整改情况。")
    at.button(key="bulletin_build").click().run()
    assert not at.exception and not at.error
    files = at.session_state["bulletin_files"]
    name, data = files["docx"]
    assert name.startswith("督查通报-") and name.endswith(".docx")
    paras = [p.text for p in Document(io.BytesIO(data)).paragraphs]
    assert "一、请各单位于十日内报送整改情况。" in paras
    assert files["pdf"][1][:5] == b"%PDF-"


def test_other_roles_cannot_build(city_engine, monkeypatch):
    url = city_engine.url.render_as_string(hide_password=False)
    at = run_app(url, monkeypatch, page="pages/overview.py", actor=Actor("hecha", "核查员"))
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # the gate does not offer it
        at.switch_page("pages/bulletin.py")
