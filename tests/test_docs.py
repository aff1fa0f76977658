"""The README stays honest: every setting, page and command the code has is documented, and back."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from gis.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CODE = "\n".join(p.read_text(encoding="utf-8") for d in ("gis", "pages", "layers") for p in (ROOT / d).rglob("*.py"))
CODE += (ROOT / "app.py").read_text(encoding="utf-8")


def _settings(text: str) -> set[str]:
    return {s for s in re.findall(r"\bGRIDMAP_[A-Z_]*[A-Z]\b", text)}


def test_every_setting_read_in_code_is_documented_and_back():
    readme = _settings(README) - {"GRIDMAP_LOCKOUT"}  # "GRIDMAP_LOCKOUT_*" in prose
    assert _settings(CODE) - readme == set(), "settings read in code but missing from the README"
    assert readme - _settings(CODE) == set(), "settings documented in the README that the code never reads"
    assert "DATABASE_URL" in README


def test_every_declared_setting_is_in_the_configuration_table():
    from gis.config import SETTINGS

    table = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert [name for name in SETTINGS if f"`{name}`" not in table] == []


def test_every_page_is_in_the_pages_table():
    titles = re.findall(r'st\.Page\("pages/\w+\.py", title="([^"]+)"', (ROOT / "app.py").read_text(encoding="utf-8"))
    table = README.split("## Pages", 1)[1].split("\n## ", 1)[0]
    assert len(titles) >= 6
    for title in titles:
        assert f"| {title} |" in table, title


def test_every_cli_command_is_documented():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        assert f"python -m gis {name}" in README, name
