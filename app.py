"""创城网格地图 gridmap: the Streamlit entry point. Registers the pages and runs the chosen one."""

import gis.db  # noqa: F401  (geospatial wheels load before mod_spatialite; see gis.db)
import streamlit as st

st.set_page_config(page_title="创城网格地图 · 东昌府区", page_icon="🗺️", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="总览", icon="🗺️", url_path="overview", default=True),
]

st.navigation(PAGES).run()
