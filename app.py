"""创城网格地图 gridmap: the Streamlit entry point. Registers the pages and runs the chosen one."""

import gis.db.engine  # noqa: F401  (geospatial wheels load before mod_spatialite; see gis.db.engine)
import streamlit as st

st.set_page_config(page_title="创城网格地图 · 东昌府区", page_icon="static/favicon.png", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="总览", icon=":material/map:", url_path="overview", default=True),
    st.Page("pages/grid.py", title="网格详情", icon=":material/grid_view:", url_path="grid"),
    st.Page("pages/wall.py", title="领导大屏", icon=":material/monitor:", url_path="wall"),
    st.Page("pages/planning.py", title="网格规划", icon=":material/edit_location_alt:", url_path="planning"),
    st.Page("pages/admin.py", title="系统管理", icon=":material/admin_panel_settings:", url_path="admin"),  # 管理员 only (pages/gate.py)
    st.Page("pages/mobile.py", title="移动巡查", icon=":material/smartphone:", url_path="mobile"),  # 网格员/网格长/核查员 act
    st.Page("pages/data.py", title="数据管理", icon=":material/database:", url_path="data"),  # import: 管理员 (checked in gis.io)
]

from pages import gate  # noqa: E402  sign-in, kiosk token, role-filtered pages, sidebar user box

gate.run(PAGES)
