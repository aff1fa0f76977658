"""The house rules, checked on the source (README "Layout"):

- every third-party module the app imports (gis/, pages/, layers/, app.py, bench/) is pinned in
  requirements.txt, and test-only tools stay out of it (they live in requirements-test.txt);
- imports flow pages → gis, layers: gis/ never imports streamlit or pages/ (pages/cache.py is the
  one Streamlit glue), layers/ imports neither gis/ nor streamlit;
- no import cycle between gis modules, nor between gis packages (gis/db, gis/geo, …).

Imports are read with `ast`, including those inside functions: a lazy import still ties two modules.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_SOURCES = ["gis", "pages", "layers", "app.py", "bench"]
OWN = {"gis", "pages", "layers", "bench", "tests"}
TEST_ONLY = {"pytest", "playwright", "pytest-xdist", "time-machine"}
# Known breaches, each to be removed by the change that ends it; a new breach fails at once.
KNOWN_PACKAGE_CYCLES: list[list[str]] = []
KNOWN_OTHER_CACHES = {"pages/data.py"}  # its upload reader (`_read`) belongs in pages/cache.py


def _files(*roots: str) -> list[Path]:
    out = []
    for r in roots:
        p = ROOT / r
        out += [p] if p.is_file() else sorted(p.rglob("*.py"))
    return out


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module imported by `path` (`from a import b` gives a.b and a)."""
    this = _module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
    return names


def _requirements(name: str) -> dict[str, str]:
    """Distribution name (normalised) → the requirement line, for each line of requirements file `name`."""
    out = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        dist = re.split(r"[\[=<>!~ ;]", line, maxsplit=1)[0]
        out[_normalise(dist)] = line
    return out


def _normalise(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def test_every_third_party_import_of_the_app_is_pinned():
    pinned = _requirements("requirements.txt")
    distributions = packages_distributions()
    missing, unpinned = [], []
    for top in sorted({n.split(".")[0] for f in _files(*APP_SOURCES) for n in _imports(f)}):
        if top in OWN or top in sys.stdlib_module_names:
            continue
        dists = [_normalise(d) for d in distributions.get(top, [top])]
        line = next((pinned[d] for d in dists if d in pinned), None)
        if line is None:
            missing.append(f"{top} ({', '.join(dists)})")
        elif "==" not in line:
            unpinned.append(line)
    assert not missing, f"imported by the app but not in requirements.txt: {missing}"
    assert not unpinned, f"not pinned with ==: {unpinned}"


def test_runtime_and_test_requirements_are_split():
    runtime = _requirements("requirements.txt")
    assert not TEST_ONLY & set(runtime), "test tools belong in requirements-test.txt"
    test_lines = (ROOT / "requirements-test.txt").read_text(encoding="utf-8").splitlines()
    assert "-r requirements.txt" in test_lines
    test = _requirements("requirements-test.txt")
    assert TEST_ONLY <= set(test) and all("==" in line for line in test.values())
    assert not set(runtime) & set(test), "a package is listed twice"


def _imports_of(root: str) -> dict[str, set[str]]:
    return {_module_name(f): _imports(f) for f in _files(root)}


def _first(names: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(n for n in names if n.split(".")[0] in prefixes)


def test_gis_never_imports_streamlit_or_pages():
    bad = {m: _first(names, ("streamlit", "pages", "streamlit_folium")) for m, names in _imports_of("gis").items()}
    assert not {m: b for m, b in bad.items() if b}


def test_layers_import_neither_gis_nor_streamlit():
    bad = {m: _first(names, ("gis", "streamlit", "streamlit_folium", "pages")) for m, names in _imports_of("layers").items()}
    assert not {m: b for m, b in bad.items() if b}


def test_only_pages_cache_holds_streamlit_caches():
    users = [f.relative_to(ROOT).as_posix() for f in _files("pages", "app.py", "layers", "gis")
             if re.search(r"st\.cache_(data|resource)\b", f.read_text(encoding="utf-8"))]
    assert "pages/cache.py" in users and set(users) - {"pages/cache.py"} <= KNOWN_OTHER_CACHES, users


def _gis_graph() -> dict[str, set[str]]:
    """gis module → the gis modules it imports (a name that is not a module stands for its module)."""
    modules = set(_imports_of("gis"))
    graph = {}
    for module, names in _imports_of("gis").items():
        targets = set()
        for n in names:
            while n and n not in modules:
                n = n.rpartition(".")[0]
            # a package's __init__ is reached by importing any of its modules: not an edge of its own
            if n and n != module and n != "gis":
                targets.add(n)
        graph[module] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node, or with a self-loop (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package(module: str) -> str:
    """gis.metrics.scores → gis.metrics; gis.config → gis.config (a top-level module is its own unit)."""
    return ".".join(module.split(".")[:2])


def test_no_import_cycle_between_gis_modules():
    graph = _gis_graph()
    # a package's __init__ may re-export its own modules: that is not a cycle between modules
    graph = {m: {t for t in ts if not (_is_init(m) and t.startswith(m + "."))} for m, ts in graph.items()}
    assert _cycles(graph) == []


def test_no_import_cycle_between_gis_packages():
    packages: dict[str, set[str]] = {}
    for module, targets in _gis_graph().items():
        packages.setdefault(_package(module), set()).update(_package(t) for t in targets if _package(t) != _package(module))
    new = [c for c in _cycles(packages) if c not in KNOWN_PACKAGE_CYCLES]
    assert new == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _is_init(module: str) -> bool:
    return (ROOT / Path(*module.split(".")) / "__init__.py").is_file()


def _bare_expressions(source: str) -> list[int]:
    """Lines of statements Streamlit's "magic" would show: an expression on its own that is not a call
    (nor a docstring, await or yield)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        for attr in ("body", "orelse", "finalbody"):
            body = getattr(node, attr, None)
            for i, stmt in enumerate(body if isinstance(body, list) else []):
                if not isinstance(stmt, ast.Expr) or isinstance(stmt.value, (ast.Call, ast.Await, ast.Yield,
                                                                              ast.YieldFrom)):
                    continue
                if (i == 0 and isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                        and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)):
                    continue  # a docstring
                lines.append(stmt.lineno)
    return lines


def test_no_page_relies_on_magic_which_is_off():
    """.streamlit/config.toml turns "magic" off (each page compiles without Streamlit's AST rewrite): a bare
    `df` or `"text"` in a page would silently show nothing, so none may be there."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["magicEnabled"] is False
    found = {str(p.relative_to(ROOT)): _bare_expressions(p.read_text(encoding="utf-8"))
             for p in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]}
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert _bare_expressions('"""doc"""\nimport streamlit as st\nst.write(1)\ndf = 1\ndf\nif df:\n    "shown"\n') == [5, 7]
