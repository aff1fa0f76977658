"""创城网格地图 gridmap: the Streamlit entry point. Registers the pages and runs the chosen one.

`python app.py [streamlit options]` serves it (pages/launch.py: modules imported and Streamlit's old
multipage mode off before the first session); Streamlit then runs this file for every session.
"""

import sys

import gis.db.engine  # noqa: F401  (geospatial wheels load before mod_spatialite; see gis.db.engine)
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

if __name__ == "__main__" and get_script_run_ctx() is None:  # `python app.py [streamlit options]`: serve it
    from pages import launch

    launch.serve(__file__, sys.argv[1:])  # exits when the server stops

st.set_page_config(page_title="创城网格地图 · 东昌府区", page_icon="static/favicon.png", layout="wide")

PAGES = [
    st.Page("pages/overview.py", title="总览", icon=":material/map:", url_path="overview", default=True),
    st.Page("pages/grid.py", title="网格详情", icon=":material/grid_view:", url_path="grid"),
    st.Page("pages/wall.py", title="领导大屏", icon=":material/monitor:", url_path="wall"),
    st.Page("pages/planning.py", title="网格规划", icon=":material/edit_location_alt:", url_path="planning"),
    st.Page("pages/mobile.py", title="移动巡查", icon=":material/smartphone:", url_path="mobile"),  # 网格员/网格长/核查员 act
    st.Page("pages/data.py", title="数据管理", icon=":material/database:", url_path="data"),  # import: 管理员 (checked in gis.io)
    st.Page("pages/indicators.py", title="指标说明", icon=":material/info:", url_path="indicators"),  # numbers (issue 12)
    st.Page("pages/admin.py", title="系统管理", icon=":material/admin_panel_settings:", url_path="admin"),  # 管理员 only (pages/gate.py)
    st.Page("pages/cards.py", title="三色牌", icon=":material/style:", url_path="cards"),
    st.Page("pages/exposure.py", title="曝光台", icon=":material/campaign:", url_path="exposure"),  # kiosk-able (pages/gate.py)
    st.Page("pages/bulletin.py", title="督查通报", icon=":material/description:", url_path="bulletin"),  # 领导, 管理员
]

from gis.config import validate_settings  # noqa: E402
from pages import gate  # noqa: E402  sign-in, kiosk token, role-filtered pages, sidebar user box

gate.guard_media()  # /media/<id> only for connected, signed-in sessions; unguessable ids
problems = validate_settings()  # every GRIDMAP_* setting and DATABASE_URL, checked before any page runs
if problems:
    gate.settings_page(PAGES, problems)
gate.run(PAGES)
