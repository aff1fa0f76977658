"""总览: the city at a glance — the grids on a map, the counts, and where to go next."""

import streamlit as st

from pages import cache
from gis.config import database_url
from layers.basemap import make_map
from layers.grids import grid_labels, grids_by_category
from pages.ui import CITY_CENTER, basemap, current_actor, for_display, require_data, show_map
from pages import gate
from gis.config import setting
from gis.people.permissions import district_scope

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

url = database_url()
scope = district_scope(current_actor())  # a district's user: their district (issue 17); else the whole deployment


def clicked_code(value: dict | None):
    """The grid code of the feature clicked on the map (st_folium's answer), or None."""
    return (((value or {}).get("last_active_drawing") or {}).get("properties") or {}).get("code")


def _on_map_click() -> None:
    """A grid clicked on the map: remembered here, opened at the top of the next run, before the map is
    rebuilt (the click's rerun goes straight to the grid page)."""
    st.session_state["overview_open"] = clicked_code(st.session_state.get("overview_map"))


def open_grid(code) -> None:
    if code and code in set(cache.current_grids(url, scope)["code"]):
        st.switch_page("pages/grid.py", query_params={"grid": code})


open_grid(st.session_state.pop("overview_open", None))
counts = cache.city_counts(url, scope)
names = cache.districts(url)
place = (names.set_index("code")["name"].get(scope) if scope else
         names["name"].iloc[0] if len(names) == 1 else setting("GRIDMAP_CITY_NAME")) if len(names) else ""
st.title(f"创城网格地图 · {place}")
st.caption("全国文明城市创建 · 国家卫生城市复审 网格化管理：网格、街巷、小区、城中村、点位与问题，一张图。")

if require_data(counts):
    cols = st.columns(7)
    labels = [("网格", "grids"), ("街巷", "streets"), ("小区", "compounds"), ("城中村", "villages"),
              ("点位", "points"), ("问题总数", "problems"), ("未结案问题", "open_problems")]
    for col, (label, key) in zip(cols, labels):
        col.metric(label, f"{counts[key]:,}")

    grids = cache.current_grids(url, scope).merge(cache.grid_leaders(url), on="code", how="left")
    config = basemap()
    shown = for_display(grids, config)
    m = make_map(CITY_CENTER, zoom=12, basemap=config)
    tooltip = {"code": "网格编号", "name": "网格名称", "subdistrict": "所属街道",
               "帮包市级领导": "帮包市级领导", "网格长": "网格长", "网格长电话": "联系电话"}
    grids_by_category(shown, "subdistrict", tooltip).add_to(m)
    # labels: the larger grids first when space is short; a click on a label opens its grid (issue 16 §7)
    by_size = shown.assign(_area=shown.to_crs(3857).area).sort_values("_area", ascending=False)
    grid_labels(by_size, selectable=True).add_to(m)
    m.fit_bounds([[shown.total_bounds[1], shown.total_bounds[0]], [shown.total_bounds[3], shown.total_bounds[2]]])
    clicked = show_map(m, key="overview_map", height=680, returned_objects=["last_active_drawing"],
                       on_change=_on_map_click)
    st.caption(f"{counts['grids']} 个网格，按所属街道着色；悬停查看网格名称与帮包责任人，点击网格进入网格详情。")
    # a click the callback did not see (a value returned without a change event, as in AppTest)
    open_grid(clicked_code(clicked))
