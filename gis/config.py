"""Settings: environment variables first, then `.streamlit/secrets.toml`, then working defaults.

One place for every knob, so pages, the CLI and the tests agree on where the database is and
how the map looks. Nothing here imports Streamlit: secrets.toml is read as plain TOML.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
SHAPEFILE_DIR = DATA_DIR / "shapefiles"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'gridmap.sqlite'}"


@lru_cache(maxsize=1)
def _secrets() -> dict:
    path = Path(os.environ.get("GRIDMAP_SECRETS", ROOT / ".streamlit" / "secrets.toml"))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def setting(name: str, default: str | None = None) -> str | None:
    """The value of setting `name` (e.g. ``DATABASE_URL``): environment, then secrets.toml, then default."""
    if name in os.environ:
        return os.environ[name]
    value = _secrets().get(name)
    return str(value) if value is not None else default


def database_url() -> str:
    """The database to use: SpatiaLite file under data/ unless DATABASE_URL says otherwise.

    A relative ``sqlite:///data/x.sqlite`` is taken relative to the project root, so the CLI,
    the app and the tests find the same file from any working directory.
    """
    url = setting("DATABASE_URL", DEFAULT_DATABASE_URL)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        url = prefix + str(ROOT / url[len(prefix):])
    return url


BASEMAP_KEYS = ("GRIDMAP_BASEMAP", "GRIDMAP_TILES_URL", "GRIDMAP_TILES_ATTRIBUTION", "GRIDMAP_TILES_CRS",
                "GRIDMAP_TILES_MAX_ZOOM")


def basemap_settings() -> dict[str, str]:
    """The GRIDMAP_* basemap settings that are set (environment or secrets.toml)."""
    return {k: v for k in BASEMAP_KEYS if (v := setting(k)) is not None}
