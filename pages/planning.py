"""网格规划: draw and redraw grid boundaries, see the topology check and the impact, save versions.

The planner edits a *working copy* of a layer version (kept in st.session_state): every drawn
shape is applied at once (snapped to the neighbours, neighbours giving way), checked
(gis.planning.topology) and its impact previewed (gis.planning.impact). Nothing reaches the database until
保存草案; a draft is published with 发布. Without the 规划员 role the page is read-only.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

import shapely
import streamlit as st
from shapely.geometry import shape

from pages import cache

from gis.geo import china

from gis.planning import impact

from gis.planning import edits

from gis.planning import topology

from gis.planning import versions
from gis.config import database_url
from gis.people.permissions import PLANNER, PermissionDenied
from layers.basemap import make_map
from layers.grids import grid_labels
from layers.planning import candidate_grids, draw_tools, editable_grid, issue_areas, issue_markers
from pages import ui

MAP_KEY = "planning_map"
MODES = {"新增网格": "polygon", "修改边界": "polygon", "分割网格": "line", "合并网格": "none", "上传边界文件": "none"}
HELP = {
    "新增网格": "用左上角的多边形或矩形工具画出新网格；顶点在 {tol} 米内自动吸附到相邻网格边界，相邻网格让出重叠部分。",
    "修改边界": "选择网格后，用左上角的编辑工具（✎）拖动它的顶点并点“Save”保存；或直接画一个新多边形替换它。",
    "分割网格": "选择网格后，用折线工具画一条穿过网格的分割线（双击结束），两端画到网格之外。",
    "合并网格": "选择两个相邻网格，点“合并”。",
    "上传边界文件": "上传 QGIS 等制作的 GeoPackage、Shapefile（.zip）或 GeoJSON，字段 code/编号、name/名称、subdistrict/街道。",
}

url = database_url()
engine = cache.engine()
st.title("网格规划")
st.caption("绘制、修改、分割、合并网格边界；保存前自动检查拓扑（无效几何、重叠、空隙、超出区界、分割小区/城中村）并预览调整影响。")

counts = cache.city_counts(url)
if not ui.require_data(counts):
    st.stop()

actor = ui.current_actor()
can_edit = actor is not None and actor.role == PLANNER
if not can_edit:
    st.info("只读模式：以“规划员”身份登录后才能编辑、保存和发布网格版本。您仍可查看现行网格的检查报告和历史版本。")


def _load(layer_id: int | None = None) -> None:
    wc = versions.working_copy(engine, layer_id)
    st.session_state["planning"] = {"url": url, "base": wc.layer_id, "number": wc.number,
                                    "layer_revision": wc.layer_revision, "revisions": wc.revisions,
                                    "grids": wc.grids, "undo": [], "dirty": False,
                                    # drawings already applied (st_folium keeps returning the last one)
                                    "applied": st.session_state.get("planning", {}).get("applied", set())}


ws = st.session_state.get("planning")
if ws is None or ws.get("url") != url:
    _load()
    ws = st.session_state["planning"]

history = versions.history(engine)
published = history[history["status"] == "已发布"]
current_id = int(published["id"].iloc[0]) if len(published) else ws["base"]
context = cache.planning_context(url, current_id)
grids = ws["grids"]
codes = sorted(grids["code"].astype(str))
config = ui.basemap()


def _apply(new_grids, what: str) -> None:
    ws["undo"].append(ws["grids"])
    ws["grids"] = new_grids
    ws["dirty"] = True
    st.session_state["planning_message"] = ("success", what)


def _to_wgs84(geom):
    """A drawn shape in the basemap's datum, back to WGS84."""
    if config.crs_note == "gcj02":
        return china.transform_geometry(geom, china.gcj02_to_wgs84)
    return geom


# ------------------------------------------------------------------ controls
base_row = history[history["id"] == ws["base"]]
base_label = (f"第{ws['number']}版（{base_row['status'].iloc[0]}）" if len(base_row) else f"第{ws['number']}版")
top = st.columns([3, 2, 2])
top[0].markdown(f"**工作副本**：基于 {base_label}，{len(grids)} 个网格" + ("，**有未保存的修改**" if ws["dirty"] else ""))
mode = top[1].radio("操作", list(MODES), key="planning_mode") if can_edit else "查看"
tolerance = top[2].number_input("吸附容差（米）", min_value=0.0, max_value=50.0, value=5.0, step=1.0,
                                disabled=not can_edit, key="planning_tolerance")
neighbours_yield = top[2].checkbox("相邻网格让出重叠部分", value=True, disabled=not can_edit, key="planning_yield")
if can_edit:
    st.caption(HELP[mode].format(tol=f"{tolerance:g}"))

selected = None
if can_edit and mode in ("修改边界", "分割网格"):
    selected = st.selectbox("选择网格", codes, key="planning_grid")
new_meta = {}
if can_edit and mode in ("新增网格", "分割网格"):
    c1, c2, c3 = st.columns(3)
    new_meta["code"] = c1.text_input("新网格编号（留空自动编号）", key="planning_new_code", max_chars=32)
    new_meta["name"] = c2.text_input("新网格名称（可留空）", key="planning_new_name", max_chars=100)
    if mode == "新增网格":
        new_meta["subdistrict"] = c3.text_input("所属街道（留空取重叠最多的网格）", key="planning_new_sd", max_chars=50)
if can_edit and mode == "合并网格":
    c1, c2, c3 = st.columns([2, 2, 1])
    keep = c1.selectbox("保留网格", codes, key="planning_merge_a")
    other = c2.selectbox("并入网格", [c for c in codes if c != keep], key="planning_merge_b")
    if c3.button("合并", key="planning_merge", width="stretch"):
        try:
            _apply(edits.merge_grids(grids, keep, other), f"已将网格 {other} 并入 {keep}。")
            st.rerun()
        except edits.PlanningError as exc:
            st.error(str(exc))
if can_edit and mode == "上传边界文件":
    c1, c2 = st.columns([3, 2])
    upload = c1.file_uploader(f"边界文件（不超过 {edits.MAX_UPLOAD_BYTES // 2**20} MB）",
                              type=["gpkg", "geojson", "json", "zip"], key="planning_upload")
    crs = c2.selectbox("经纬度坐标系", ["wgs84", "gcj02", "bd09"], key="planning_crs",
                       format_func={"wgs84": "WGS84", "gcj02": "GCJ-02（高德/腾讯）", "bd09": "BD-09（百度）"}.get)
    whole = c2.checkbox("文件为完整图层（删除文件中没有的网格）", key="planning_whole")
    if upload is not None and c2.button("应用文件", key="planning_apply_file"):
        try:
            file_grids = edits.read_upload(upload.getvalue(), upload.name, crs)
            _apply(edits.apply_file(grids, file_grids, whole), f"已应用文件 {upload.name}（{len(file_grids)} 个网格）。")
            st.rerun()
        except edits.PlanningError as exc:
            st.error(str(exc))

# ------------------------------------------------------------------ check and impact of the working copy
report = topology.check_grids(grids, context)
diff = edits.changed_codes(grids, context.reference)
changed = set(diff["added"]) | set(diff["changed"])

# ------------------------------------------------------------------ the map
shown = ui.for_display(grids, config)
issues_shown = ui.for_display(report.issues, config) if len(report.issues) else report.issues
if len(report.issues) and config.crs_note == "gcj02":
    lon, lat = china.wgs84_to_gcj02(report.issues["lon"].to_numpy(), report.issues["lat"].to_numpy())
    issues_shown = issues_shown.assign(lon=lon, lat=lat)
m = make_map(ui.CITY_CENTER, zoom=13, basemap=config)
candidate_grids(shown, changed).add_to(m)
grid_labels(shown[~shown.geometry.is_empty]).add_to(m)
areas_layer = issue_areas(issues_shown)
if areas_layer is not None:
    areas_layer.add_to(m)
issue_markers(issues_shown).add_to(m)
draw_mode = MODES.get(mode, "none")
if can_edit and draw_mode != "none":
    group = None
    if mode == "修改边界" and selected:
        group = editable_grid(shown[shown["code"] == selected])
        group.add_to(m)
    draw_tools(draw_mode, group).add_to(m)
focus = shown[shown["code"] == selected] if selected else shown
b = focus.total_bounds
m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
answer = ui.show_map(m, key=MAP_KEY, height=620, returned_objects=["all_drawings", "last_active_drawing"]) or {}

# ------------------------------------------------------------------ apply a new drawing
feature = answer.get("last_active_drawing")
if mode == "修改边界":  # an edited grid comes back in all_drawings with its code
    edited = [f for f in (answer.get("all_drawings") or []) if (f.get("properties") or {}).get("code")]
    feature = edited[-1] if edited else feature
if can_edit and feature and feature.get("geometry"):
    digest = hashlib.sha1(json.dumps([mode, selected, feature["geometry"]], sort_keys=True).encode()).hexdigest()
    if digest not in ws["applied"]:
        ws["applied"].add(digest)
        try:
            geom = _to_wgs84(shape(feature["geometry"]))
            code_of = (feature.get("properties") or {}).get("code")
            if code_of:  # a multipart grid comes back one feature per part: take them all
                parts = [shape(f["geometry"]) for f in answer.get("all_drawings") or []
                         if (f.get("properties") or {}).get("code") == code_of and f.get("geometry")]
                geom = _to_wgs84(shapely.union_all(parts)) if parts else geom
            if mode == "新增网格":
                new = edits.add_grid(grids, geom, new_meta.get("code"), new_meta.get("name"), new_meta.get("subdistrict"),
                                        tolerance, neighbours_yield)
                _apply(new, f"已新增网格 {new['code'].iloc[-1]}，顶点已吸附到相邻网格。")
            elif mode == "修改边界" and selected:
                code = (feature.get("properties") or {}).get("code") or selected
                _apply(edits.replace_geometry(grids, code, geom, tolerance, neighbours_yield),
                       f"已修改网格 {code} 的边界。")
            elif mode == "分割网格" and selected:
                new = edits.split_grid(grids, selected, geom, new_meta.get("code"), new_meta.get("name"))
                _apply(new, f"已将网格 {selected} 分割出新网格 {new['code'].iloc[-1]}。")
            st.rerun()
        except edits.PlanningError as exc:
            st.session_state["planning_message"] = ("error", str(exc))
            st.rerun()

message = st.session_state.pop("planning_message", None)
if message:
    (st.success if message[0] == "success" else st.error)(ui.md_escape(message[1]))

# ------------------------------------------------------------------ the check report
st.subheader("拓扑检查")
if report.has_errors:
    st.error(report.summary())
elif len(report.issues):
    st.warning(report.summary())
else:
    st.success(report.summary())
if len(report.issues):
    table = report.table()
    table.insert(0, "序号", range(1, len(table) + 1))
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("地图上的编号圆点标出每个问题的位置；红色为错误（发布前必须解决），黄色为警告。")

# ------------------------------------------------------------------ impact preview
st.subheader("调整影响")
if not changed and not diff["removed"]:
    st.caption("工作副本与现行版本相同，没有影响。")
else:
    month = date.today().replace(day=1)
    imp = impact.impact(engine, grids, context, cache.planning_scores(url, month))
    st.markdown(ui.md_escape(imp.summary()))
    tabs = st.tabs(["面积转移", "小区/街巷/城中村/点位", "未结案问题", "帮包领导与责任单位", "本月得分与问题数"])
    with tabs[0]:
        st.dataframe(imp.moved_area.rename(columns={"from_grid": "原网格", "to_grid": "新网格", "area_m2": "面积(m²)"})
                     .round(1), hide_index=True, width="stretch")
    with tabs[1]:
        st.dataframe(imp.areas.rename(columns={"kind": "类型", "code": "编号", "name": "名称", "from_grid": "原网格",
                                               "to_grid": "新网格"}), hide_index=True, width="stretch")
    with tabs[2]:
        st.dataframe(imp.problems.drop(columns=["lon", "lat"]).rename(columns={
            "code": "问题编号", "category": "类型", "status": "状态", "reported_at": "上报时间", "from_grid": "原网格",
            "to_grid": "新网格"}), hide_index=True, width="stretch")
        st.caption("历史问题仍归属其上报时的网格；发布后新上报的问题归入新网格。")
    with tabs[3]:
        st.dataframe(imp.responsibles.rename(columns={"grid": "网格", "change": "变化", "role": "角色", "who": "责任人/单位",
                                                      "items": "涉及区域", "area_m2": "面积(m²)"}),
                     hide_index=True, width="stretch")
    with tabs[4]:
        st.dataframe(imp.scores.rename(columns={"code": "网格", "score_before": "调整前得分", "score_after": "调整后得分",
                                                "score_change": "变化", "open_before": "未结案问题（调整前）",
                                                "open_after": "未结案问题（调整后）"})
                     .round(1), hide_index=True, width="stretch")
        st.caption(imp.note)

# ------------------------------------------------------------------ save, publish, versions
st.subheader("保存与发布")
if can_edit:
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    title = c1.text_input("版本说明", key="planning_title", max_chars=200, placeholder="例如：调整古楼街道3号、4号网格边界")
    if c2.button("撤销上一步", key="planning_undo", disabled=not ws["undo"], width="stretch"):
        ws["grids"] = ws["undo"].pop()
        ws["dirty"] = bool(ws["undo"])
        st.rerun()
    if c3.button("保存草案", key="planning_save", type="primary", disabled=not ws["dirty"], width="stretch"):
        try:
            new_id = versions.save_draft(engine, actor, grids, ws["base"], ws["revisions"], title)
            cache.clear()
            _load(new_id)
            st.session_state["planning_message"] = ("success", f"已保存为草案 第{st.session_state['planning']['number']}版。")
            st.rerun()
        except (versions.ConflictError, PermissionDenied, ValueError) as exc:
            st.error(str(exc))
    is_draft = len(base_row) and base_row["status"].iloc[0] == "草案"
    publish_blocked = ws["dirty"] or not is_draft
    if c4.button("发布", key="planning_publish", disabled=bool(publish_blocked), width="stretch",
                 help="先保存草案；有错误（重叠、空隙、无效几何）的草案不能发布。"):
        try:
            versions.publish(engine, actor, ws["base"], ws["layer_revision"])
            cache.clear()
            number = ws["number"]
            _load()
            st.session_state["planning_message"] = ("success", f"第{number}版已发布，原现行版本已归档。")
            st.rerun()
        except (versions.ConflictError, PermissionDenied, ValueError) as exc:
            st.error(str(exc))

st.markdown("**版本历史**")
shown_history = history.drop(columns=["id", "revision"]).rename(columns={
    "number": "版本", "status": "状态", "title": "说明", "note": "备注", "parent": "基于", "created_by": "创建人",
    "created_at": "创建时间", "published_at": "发布时间", "valid_from": "生效", "valid_to": "失效", "grids": "网格数"})
st.dataframe(shown_history, hide_index=True, width="stretch")
if len(history):
    c1, c2, c3 = st.columns([2, 1, 1])
    pick = c1.selectbox("选择版本", history["number"].tolist(), key="planning_version",
                        format_func=lambda n: f"第{n}版（{history.set_index('number').at[n, 'status']}）")
    pick_id = int(history.set_index("number").at[pick, "id"])
    if c2.button("载入查看/编辑", key="planning_open", width="stretch"):
        _load(pick_id)
        st.rerun()
    if can_edit and c3.button("恢复为新草案", key="planning_restore", width="stretch",
                              disabled=pick_id == current_id):
        try:
            new_id = versions.restore(engine, actor, pick_id)
            cache.clear()
            _load(new_id)
            st.session_state["planning_message"] = ("success", f"已由第{pick}版恢复为新草案。")
            st.rerun()
        except (versions.ConflictError, PermissionDenied, ValueError) as exc:
            st.error(str(exc))
