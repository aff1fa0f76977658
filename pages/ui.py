"""Page helpers shared by every page: the map widget, the configured basemap, empty-database notice.

`show_map` wraps st_folium in one place so that tests can replace it (AppTest cannot run
custom components) and every page asks for only the map events it needs.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from gis.config import basemap_settings
from gis.geo.china import from_wgs84
from layers.basemap import BasemapConfig, basemap_from_env
from layers.clicks import InstantClick

CITY_CENTER = (36.452, 115.995)


def basemap() -> BasemapConfig:
    """The basemap configured by GRIDMAP_BASEMAP & co. (default: none)."""
    return basemap_from_env(basemap_settings())


def for_display(gdf: gpd.GeoDataFrame, config: BasemapConfig) -> gpd.GeoDataFrame:
    """Geometries as the basemap expects them: shifted to GCJ-02 for a GCJ-02 tile server."""
    return from_wgs84(gdf, "gcj02") if config.crs_note == "gcj02" else gdf


def show_map(m, key: str, height: int = 640, returned_objects=(), **kwargs):
    """Render a folium map; returns st_folium's dict with only `returned_objects` filled.

    A map that answers only with the clicked feature sends it at once (`layers.clicks.InstantClick`).
    """
    if list(returned_objects) == ["last_active_drawing"]:
        InstantClick().add_to(m)
    return st_folium(m, key=key, height=height, use_container_width=True,
                     returned_objects=list(returned_objects), **kwargs)


def require_data(counts: dict) -> bool:
    """Show a notice and return False when the database holds no grids yet."""
    if counts.get("grids", 0) == 0:
        st.info("数据库中还没有网格数据。请先运行 `python -m gis demo` 构建示范城区，或在“数据管理”中导入网格。")
        return False
    return True


def current_actor():
    """The signed-in user as a `gis.people.permissions.Actor`, or None.

    Sign-in puts it in ``st.session_state["actor"]``; tests may set it directly. Write
    functions in gis/ check the actor's role themselves; pages only use it to decide what to show.
    """
    return st.session_state.get("actor")


def md_escape(text) -> str:
    """User text made literal for st.markdown / st.success / st.caption (which render Markdown):
    every ASCII punctuation mark is backslash-escaped (a hyphen only at the start of a line), so no
    link, image, list, HTML, LaTeX or :directive: can come out of it. For HTML (unsafe_allow_html) use html.escape instead."""
    import string

    text = str(text)
    # "-" only starts a list or a rule at the beginning of a line: elsewhere (grid codes like T-02) it stays.
    return "".join("\\" + c if c in string.punctuation and (c != "-" or i == 0 or text[i - 1] == "\n") else c
                   for i, c in enumerate(text))



def readable(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with every missing value shown blank: a data grid draws None / NaN / NaT as "None" or "nan".

    Columns with no missing value keep their type (numbers sort as numbers, dates use their column
    format); a column with gaps becomes text (dates as YYYY-MM-DD HH:MM).
    """
    out = df.copy()
    for name in out.columns:
        col = out[name]
        if not col.isna().any():
            continue
        if pd.api.types.is_datetime64_any_dtype(col):
            out[name] = col.dt.strftime("%Y-%m-%d %H:%M").fillna("")
        elif pd.api.types.is_numeric_dtype(col):
            out[name] = col.map(lambda v: "" if pd.isna(v) else f"{v:.2f}".rstrip("0").rstrip(".")
                                  if isinstance(v, float) else str(v))
        else:
            out[name] = col.astype(object).where(col.notna(), "")
    return out


def table(df: pd.DataFrame, empty: str = "暂无记录。", container=None, **kwargs):
    """st.dataframe as people read it: blanks for missing values (`readable`), and a line of text in place
    of an empty grid (which says "empty"). Returns st.dataframe's value (None when empty)."""
    box = container if container is not None else st
    if df.empty:
        box.caption(empty)
        return None
    return box.dataframe(readable(df), **kwargs)
