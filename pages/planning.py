"""网格规划: draw and redraw grid boundaries, see the topology check and the impact, save versions.

The planner edits a working copy (gis.planning.session) kept in st.session_state: every drawn shape is
applied at once (snapped, neighbours giving way), checked (gis.planning.topology) and its impact
previewed (gis.planning.impact). Nothing reaches the database until 保存草案; 发布 publishes a draft
(gis.planning.versions refuses one with topology errors). Without the right to edit, read-only.
"""

from __future__ import annotations

import logging

import streamlit as st

from gis import clock
from gis.config import database_url
from gis.geo import china
from gis.people.permissions import PermissionDenied, may
from gis.planning import edits, topology, versions
from gis.planning.session import ADD, DRAW_TOOL, HELP, MERGE, MODES, RESHAPE, SPLIT, UPLOAD, NewGrid, \
    WorkingSession, current_layer
from layers.basemap import make_map
from layers.grids import grid_labels
from layers.planning import candidate_grids, draw_tools, editable_grid, issue_areas, issue_markers
from pages import cache, gate, ui

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

FAILURES = (edits.PlanningError, versions.ConflictError, PermissionDenied, ValueError)

url = database_url()
engine = cache.engine()
st.title("网格规划")
st.caption("绘制、修改、分割、合并网格边界；保存前自动检查拓扑（无效几何、重叠、空隙、超出区界、分割小区/城中村）并预览调整影响。")
if not ui.require_data(cache.city_counts(url)):
    st.stop()
actor = ui.current_actor()
can_edit = may(actor, "grid.edit")
if not can_edit:
    st.info("只读模式：以“规划员”身份登录后才能编辑、保存和发布网格版本。您仍可查看现行网格的检查报告和历史版本。")


def _session() -> WorkingSession:
    ws = st.session_state.get("planning")
    if ws is None or ws.url != url:
        ws = st.session_state["planning"] = WorkingSession.load(engine, url)
    return ws


def _keep(result, after=None) -> None:
    """Keep the new session (or the edited one) and say what happened on the next run."""
    session, message = result if isinstance(result, tuple) else (None, result)
    if session is not None:
        st.session_state["planning"] = session
    if after:
        after()
    st.session_state["planning_message"] = ("success", message)


def _done(result, after=None) -> None:
    _keep(result, after)
    st.rerun()


def _on_click(step_name: str, *args, after=None) -> None:
    """A button's callback (保存草案, 发布, 恢复为新草案): the step runs before the page does, so one run
    shows its outcome (a step taken in the page's body needed a second run). A refusal is said there too."""
    actor_now = gate.callback_actor()
    if actor_now is None:
        return
    ws = st.session_state["planning"]
    args = [st.session_state.get("planning_title") or "" if a is _TITLE else a for a in args]
    try:
        _keep(getattr(ws, step_name)(cache.engine(), actor_now, *args), after)
    except FAILURES as exc:
        st.session_state["planning_message"] = ("error", str(exc))


_TITLE = object()  # stands for the 版本说明 as typed when the button was pressed


def _try(step, *args, after=None) -> None:
    """Run a session step; a refusal (conflict, permission, topology errors …) is shown, not raised."""
    try:
        result = step(*args)
    except FAILURES as exc:
        st.error(ui.md_escape(exc))
        return
    _done(result, after)


ws = _session()
history = versions.history(engine)
current_id = current_layer(history) or ws.base
context = cache.planning_context(url, current_id)
codes = sorted(ws.grids["code"].astype(str))
config = ui.basemap()

# ------------------------------------------------------------------ controls
top = st.columns([3, 2, 2])
top[0].markdown(f"**工作副本**：基于 {ws.label(history)}，{len(ws.grids)} 个网格" + ("，**有未保存的修改**" if ws.dirty else ""))
mode = top[1].radio("操作", MODES, key="planning_mode") if can_edit else "查看"
tolerance = top[2].number_input("吸附容差（米）", min_value=0.0, max_value=50.0, value=5.0, step=1.0,
                                disabled=not can_edit, key="planning_tolerance")
neighbours_yield = top[2].checkbox("相邻网格让出重叠部分", value=True, disabled=not can_edit, key="planning_yield")
if can_edit:
    st.caption(HELP[mode].format(tol=f"{tolerance:g}"))
selected = st.selectbox("选择网格", codes, key="planning_grid") if can_edit and mode in (RESHAPE, SPLIT) else None
new = NewGrid()
if can_edit and mode in (ADD, SPLIT):
    c1, c2, c3 = st.columns(3)
    new.code = c1.text_input("新网格编号（留空自动编号）", key="planning_new_code", max_chars=32)
    new.name = c2.text_input("新网格名称（可留空）", key="planning_new_name", max_chars=100)
    if mode == ADD:
        new.subdistrict = c3.text_input("所属街道（留空取重叠最多的网格）", key="planning_new_sd", max_chars=50)
if can_edit and mode == MERGE:
    c1, c2, c3 = st.columns([2, 2, 1])
    keep = c1.selectbox("保留网格", codes, key="planning_merge_a")
    other = c2.selectbox("并入网格", [c for c in codes if c != keep], key="planning_merge_b")
    if c3.button("合并", key="planning_merge", width="stretch"):
        _try(ws.merge, keep, other)
if can_edit and mode == UPLOAD:
    c1, c2 = st.columns([3, 2])
    upload = c1.file_uploader(f"边界文件（不超过 {edits.upload_limit_mb()} MB）",
                              type=["gpkg", "geojson", "json", "zip", "csv", "xlsx"], key="planning_upload")
    crs = c2.selectbox("经纬度坐标系", ["wgs84", "gcj02", "bd09"], key="planning_crs",
                       format_func={"wgs84": "WGS84", "gcj02": "GCJ-02（高德/腾讯）", "bd09": "BD-09（百度）"}.get)
    whole = c2.checkbox("文件为完整图层（删除文件中没有的网格）", key="planning_whole")
    if upload is not None and c2.button("应用文件", key="planning_apply_file"):
        _try(ws.apply_file, upload.getvalue(), upload.name, crs, whole, neighbours_yield)

# ------------------------------------------------------------------ check, map, a new drawing
report = topology.check_grids(ws.grids, context)
diff = edits.changed_codes(ws.grids, context.reference)
shown = ui.for_display(ws.grids, config)
issues = china.lonlat_from_wgs84(ui.for_display(report.issues, config), config.crs_note)
m = make_map(ui.CITY_CENTER, zoom=13, basemap=config)
candidate_grids(shown, set(diff["added"]) | set(diff["changed"])).add_to(m)
grid_labels(shown[~shown.geometry.is_empty]).add_to(m)
for layer in (issue_areas(issues), issue_markers(issues)):
    if layer is not None:
        layer.add_to(m)
if can_edit and DRAW_TOOL[mode] != "none":
    group = editable_grid(shown[shown["code"] == selected]) if mode == RESHAPE and selected else None
    if group is not None:
        group.add_to(m)
    draw_tools(DRAW_TOOL[mode], group).add_to(m)
focus = shown[shown["code"] == selected] if selected else shown
if not selected and mode not in (ADD, "查看") and (diff["added"] or diff["changed"]):
    focus = shown[shown["code"].isin(diff["added"] + diff["changed"])]  # where the copy differs, with its marks
b = focus.total_bounds
pad = 24 if selected else 60  # vertex handles stay on the map, clear of the toolbar on the left
m.fit_bounds([[b[1], b[0]], [b[3], b[2]]], padding_top_left=(pad + 40, pad), padding_bottom_right=(pad, pad))
answer = ui.show_map(m, key="planning_map", height=620, returned_objects=["all_drawings", "last_active_drawing"]) or {}
if can_edit:
    try:
        said = ws.apply_drawing(mode, answer, selected, new, tolerance, neighbours_yield,
                                lambda g: china.geometry_to_wgs84(g, config.crs_note))
        if said:
            _done(said)
    except edits.PlanningError as exc:
        st.session_state["planning_message"] = ("error", str(exc))
        st.rerun()
message = st.session_state.pop("planning_message", None)
if message:
    (st.success if message[0] == "success" else st.error)(ui.md_escape(message[1]))

# ------------------------------------------------------------------ the check report and the impact
st.subheader("拓扑检查")
(st.error if report.has_errors else st.warning if len(report.issues) else st.success)(report.summary())
if can_edit and (report.issues["kind"] == "overlap").any() and any(diff.values()):
    if st.button("消除重叠：相邻网格让出重叠部分", key="planning_yield_overlaps",
                 help="修改过的网格保持现状，与它们重叠的相邻网格让出重叠部分。"):
        _try(ws.yield_overlaps, context.reference)
if len(report.issues):
    st.dataframe(report.table(), hide_index=True, width="stretch")
    st.caption("地图上的编号圆点标出每个问题的位置；红色为错误（发布前必须解决），黄色为警告。")
st.subheader("调整影响")
if not any(diff.values()):
    st.caption("工作副本与现行版本相同，没有影响。")
else:
    try:
        imp = cache.planning_impact(url, current_id, ws.grids, context, clock.today().replace(day=1))
    except Exception:  # noqa: BLE001  (e.g. the database is away: say so in Chinese, log the detail)
        logging.getLogger(__name__).exception("impact preview failed")
        st.error("调整影响暂时无法计算（详情已记入服务器日志），请稍后刷新页面重试。")
    else:
        st.markdown(ui.md_escape(imp.summary()))
        for tab, (title, table, caption) in zip(st.tabs([t[0] for t in imp.tables()]), imp.tables()):
            if len(table):
                tab.dataframe(table, hide_index=True, width="stretch")
            else:
                tab.caption(f"{title}：没有变化。")
            if caption:
                tab.caption(caption)

# ------------------------------------------------------------------ save, publish, versions
st.subheader("保存与发布")
if can_edit:
    c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
    c1.text_input("版本说明", key="planning_title", max_chars=200, placeholder="例如：调整古楼街道3号、4号网格边界")
    if c2.button("撤销上一步", key="planning_undo", disabled=not ws.undo_stack, width="stretch"):
        ws.undo()
        st.rerun()
    # a draft changes nothing in force: only publishing clears the cached figures
    c3.button("保存草案", key="planning_save", type="primary", disabled=not ws.dirty, width="stretch",
              on_click=_on_click, args=("save", _TITLE))
    c4.button("发布", key="planning_publish", disabled=not ws.may_publish(history), width="stretch",
              help="先保存草案；有错误（重叠、空隙、无效几何）的草案不能发布。", on_click=_on_click, args=("publish",),
              kwargs={"after": cache.clear})
st.markdown("**版本历史**")
st.dataframe(versions.history_table(history), hide_index=True, width="stretch")
if len(history):
    c1, c2, c3 = st.columns([2, 1, 1])
    by_number = history.set_index("number")
    labels = versions.version_labels(history)
    # the key follows the labels: Streamlit keeps a selectbox's value as its label text, so a
    # version published or archived since must not be shown under its old status
    pick = c1.selectbox("选择版本", list(labels), key=f"planning_version_{versions.labels_key(labels)}",
                        format_func=labels.get)
    pick_id = int(by_number.at[pick, "id"])
    if c2.button("载入查看/编辑", key="planning_open", width="stretch"):
        st.session_state["planning"] = WorkingSession.load(engine, url, pick_id, ws.applied)
        st.rerun()
    if can_edit:
        c3.button("恢复为新草案", key="planning_restore", width="stretch", disabled=pick_id == current_id,
                  on_click=_on_click, args=("restore", pick_id, pick))
