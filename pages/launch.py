"""Serve the dashboard: `python app.py [streamlit options]` (what `make run` and the tests start).

Two things happen after Streamlit's runtime is made and before its server listens, so that sessions
racing a freshly started server (wall screens reconnecting after a restart) all find the same state:

- Every module the app's scripts import is imported once, here, in one thread. Otherwise the first
  sessions' threads import the same large modules at the same moment, and Python may hand one of them
  a module another is still initialising.
- Streamlit's old multipage mode is switched off. With a folder called pages/ next to app.py, Streamlit
  would otherwise run a requested page file directly (past app.py's sign-in gate) until app.py first
  calls `st.navigation`. `pages.gate.require` still guards against that mode when the app is started
  with a bare `streamlit run app.py`.

This module only defines functions: it is never a page.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(script: Path) -> set[str]:
    """Absolute module names `script` imports anywhere (top level or inside functions); for
    `from package import name` also `package.name` when that is a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"), filename=str(script))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names
                         if _is_module(f"{node.module}.{alias.name}"))
    return names


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, AttributeError, ValueError):  # the parent is a module, not a package
        return False


def app_modules(root: Path = ROOT) -> list[str]:
    """Every module app.py and the scripts in pages/ import, sorted. Page scripts themselves are not
    modules: they draw when run, so they are never imported."""
    scripts = [root / "app.py", *sorted((root / "pages").glob("*.py"))]
    page_scripts = {f"pages.{p.stem}" for p in scripts[1:] if _is_page_script(p)}
    names = set().union(*(_imports(p) for p in scripts))
    return sorted(n for n in names if n not in page_scripts and n != "__future__")


def _is_page_script(path: Path) -> bool:
    """A page script calls `gate.require()` at its top level."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr == "require":
                return True
    return False


def preload() -> list[str]:
    """Import every module of `app_modules()`; returns their names. Streamlit's warnings about a
    runtime not yet started (cache decorators, `st` calls at import) are not shown: it starts next."""
    logging.disable(logging.WARNING)
    try:
        names = app_modules()
        for name in names:
            importlib.import_module(name)
    finally:
        logging.disable(logging.NOTSET)
    return names


def register_components(modules: list[str]) -> int:
    """Register with the runtime the custom components (st_folium, the field-capture widget) that the
    preloaded modules declared: Streamlit registers a component only when it is declared inside a script
    run, and these modules will not be imported again. Returns how many."""
    from streamlit.components.v1.custom_component import CustomComponent
    from streamlit.runtime import get_instance

    registry = get_instance().component_registry
    found = {id(v): v for name in modules for v in vars(sys.modules[name]).values() if isinstance(v, CustomComponent)}
    for component in found.values():
        registry.register_component(component)
    return len(found)


def serve(app_path: str, options: list[str]) -> None:
    """Run `streamlit run app_path *options` in this process (exits with it); once Streamlit's runtime exists (custom
    components register with it) and before the server listens, preload and switch the old multipage
    mode off."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.web import cli
    from streamlit.web.server.server import Server

    listen = Server.start

    async def start(server) -> None:
        register_components(preload())
        PagesManager.uses_pages_directory = False  # pages/ holds the app's pages for st.navigation, nothing else
        await listen(server)

    Server.start = start
    sys.argv = ["streamlit", "run", app_path, *options]
    cli.main(prog_name="streamlit")
