"""The code has no unused imports, undefined names or syntax errors (ruff's pyflakes rules, F and E9).

Tests redefine pytest fixtures by importing them (F811 is how pytest shares fixtures), so F811 is
allowed under tests/ only.
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> str:
    local = Path(sys.executable).with_name("ruff")
    return str(local) if local.exists() else shutil.which("ruff") or "ruff"


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([_ruff(), "check", "--no-cache", "--select", "F,E9", "--output-format", "concise", *args],
                          cwd=ROOT, capture_output=True, text=True)


def test_code_is_clean():
    result = _check("gis", "pages", "layers", "bench", "app.py")
    assert result.returncode == 0, result.stdout + result.stderr


def test_tests_are_clean():
    result = _check("--ignore", "F811", "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_fails_on_an_unused_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n", encoding="utf-8")
    assert _check(str(bad)).returncode == 1
