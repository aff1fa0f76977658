"""The one glue module between gis/ and Streamlit: cached wrappers for pages.

Caches hold data (DataFrames, GeoDataFrames), never widgets. Each wrapper keys on the
database URL so that tests and apps pointed at different databases do not share entries.
`clear()` is called after every write made through the UI.
"""

from __future__ import annotations

import streamlit as st

from gis import queries
from gis.config import database_url
from gis.db import get_engine

TTL_SECONDS = 600


def engine():
    return get_engine(database_url())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def current_grids(url: str):
    return queries.current_grids(get_engine(url))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def city_counts(url: str):
    return queries.city_counts(get_engine(url))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def grid_leaders(url: str):
    return queries.grid_leaders(get_engine(url))


def clear() -> None:
    """Forget every cached result (after a write)."""
    st.cache_data.clear()
