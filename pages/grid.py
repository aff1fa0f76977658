"""网格详情: one grid — its map, who answers for it, its score, and its problem ledger (问题闭环).

Reached by clicking a grid on a map, by the select box, or by a shareable link ``?grid=DC-07``
(``&problem=<编号>`` opens a problem). Data and texts come from gis.problems.ledger, changes go through
gis.problems.workflow with the signed-in actor (read-only without one), photos through gis.problems.photos.
"""

from __future__ import annotations

from datetime import datetime, time

import streamlit as st

from gis import clock
from gis.config import database_url
from gis.db.models import ALL_STATUSES, SOURCES
from gis.geo.kinds import AREA_LABELS
from gis.metrics import definitions
from gis.people.permissions import PermissionDenied, district_scope, own_grid
from gis.io import downloads
from gis.problems import ledger, photos, workflow
from layers import areas as area_layers
from layers.basemap import make_map
from layers.detail import add_grid_detail, star_group
from layers.grids import grid_labels, grids_by_category
from pages import cache, gate, html, ui

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

MAP_PROBLEMS = 1000  # problems drawn on the map: the newest of the filtered ledger
NOTE_LABELS = {workflow.DISPATCH: "派遣说明（可选）", workflow.SUBMIT: "整改说明", workflow.VERIFY: "核查意见（可选）",
               workflow.RETURN: "退回原因（返工）", workflow.APPLY_EXTENSION: "延期原因",
               workflow.REJECT: "不予立案理由", workflow.APPLY_DEFERRAL: "缓办原因", workflow.REFUSE: "驳回理由",
               workflow.REGISTER: "说明（可选）", workflow.APPROVE: "说明（可选）"}


def clicked(result: dict | None, key: str) -> dict | None:
    """The properties of a newly clicked feature (each click is handled once)."""
    props = ((result or {}).get("last_active_drawing") or {}).get("properties") or None
    if not props or st.session_state.get(f"{key}_seen") == repr(props):
        return None
    st.session_state[f"{key}_seen"] = repr(props)
    return props


def go_to_grid(grid_code: str) -> None:
    st.query_params.clear()
    st.query_params["grid"] = grid_code
    st.rerun()


def on_select_grid() -> None:
    chosen = st.session_state.get("grid_select")
    st.query_params.clear()
    if chosen:
        st.query_params["grid"] = chosen


def open_problem(problem_code: str) -> str:
    st.query_params["problem"] = problem_code  # the shareable link follows
    return problem_code


def follow_map_click(value: dict | None, open_code: str | None) -> str | None:
    """Act on a new click on the grid's map (st_folium's answer): another grid opens it, an area shows its
    responsible people beside the map, a problem opens it. Returns the problem to show."""
    props = clicked(value, map_key) or {}
    kind, target = props.get("kind"), props.get("code")
    if kind == "grid" and target in labels and target != code:
        go_to_grid(target)
    elif kind in areas:
        st.session_state["grid_area"] = (code, kind, target)
    elif kind == "problem" and target:
        return open_problem(target)
    return open_code


def asked_deadline(key: str):
    """申请延期: the new deadline asked for (date and time widgets of the form)."""
    day, at = st.session_state.get(f"until_{key}"), st.session_state.get(f"until_time_{key}")
    return datetime.combine(day, at) if day is not None and at is not None else None


def act(problem_code: str, action: str, revision: int, place: int) -> None:
    """Form callback: runs with the revision the page showed (optimistic locking); `place` is the form's
    position among the problem's actions, where the outcome is shown on the rerun."""
    actor_now = gate.callback_actor()
    if actor_now is None:
        return
    key, upload = f"{problem_code}_{action}", st.session_state.get(f"photo_{problem_code}_{action}")
    try:
        workflow.apply(cache.engine(), actor_now, problem_code, action, expected_revision=revision,
                       note=st.session_state.get(f"note_{key}"), unit_code=st.session_state.get(f"unit_{key}"),
                       photo=upload.getvalue() if upload else None, photo_name=upload.name if upload else None,
                       new_deadline=asked_deadline(key))
    except (workflow.WorkflowError, PermissionDenied) as exc:
        st.session_state["grid_flash"] = ("error", str(exc), problem_code, place)
        return
    cache.clear()
    st.session_state["grid_flash"] = ("success", f"问题 {problem_code} 已{action}。", problem_code, place)


def show_flash(flash) -> None:
    """The outcome of the action just taken, where its button was (the page keeps its scroll position)."""
    (st.success if flash[0] == "success" else st.error)(ui.md_escape(flash[1]))


url = database_url()
actor = ui.current_actor()
scope = district_scope(actor)  # a district's user sees their district's grids only (issue 17)
if not ui.require_data(cache.city_counts(url, scope)):
    st.stop()
grids, config, now = cache.current_grids(url, scope), ui.basemap(), clock.now().replace(second=0)
labels = {c: f"{c} · {n}（{s}）" for c, n, s in zip(grids["code"], grids["name"], grids["subdistrict"])}
code = st.query_params.get("grid")
if code and code not in labels:
    st.warning(f"没有编号为 {ui.md_escape(code)} 的网格，请重新选择。")
    code = None
elif code is None and own_grid(actor) in labels:  # a 网格长 / 网格员 lands on their own grid
    code = st.query_params["grid"] = own_grid(actor)
if st.session_state.get("grid_select") != code:
    st.session_state["grid_select"] = code
head, pick = st.columns([3, 2], vertical_alignment="bottom")
pick.selectbox("选择网格", list(labels), format_func=labels.get, index=None, key="grid_select",
               placeholder="输入编号或名称搜索…", on_change=on_select_grid)
if code is None:  # ------------------------------------------------ no grid yet: pick one on the map
    head.title("网格详情")
    st.caption("点击地图上的网格，或在右上方选择网格，查看责任人、考评得分与问题台账。")
    shown = ui.for_display(grids, config)
    m = make_map(ui.CITY_CENTER, zoom=12, basemap=config)
    grids_by_category(shown, "subdistrict", {"code": "网格编号", "name": "网格名称", "subdistrict": "所属街道"}).add_to(m)
    grid_labels(shown).add_to(m)
    b = shown.total_bounds
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    props = clicked(ui.show_map(m, key="grid_picker_map", height=640, returned_objects=["last_active_drawing"]),
                    "grid_picker_map")
    if props and props.get("code") in labels:
        go_to_grid(props["code"])
    st.stop()

grid, areas, card = cache.grid_info(url, code), cache.grid_areas(url, code), cache.grid_responsibility(url, code)
head.title(f"网格详情 · {ui.md_escape(code)}")
st.caption(f"{ui.md_escape(ledger.grid_summary(grid.iloc[0], areas))} · 分享链接 {ui.md_escape('?grid=' + code)}")
flash = st.session_state.pop("grid_flash", None)  # shown beside the action's button (below)
if actor is None:
    st.info("登录后可处理问题。当前为只读浏览。")
month = now.date().replace(day=1)
tiles = ledger.score_tiles(cache.grid_scores(url, month, now), code, cache.grid_ledger_counts(url, code, now),
                           definitions.SCORE_SUMMARY)
with st.container(key="grid_tiles"):  # three abreast on a phone (html.TILES_CSS)
    st.markdown(html.TILES_CSS, unsafe_allow_html=True)
    for col, (label, value, help_text) in zip(st.columns(6)[6 - len(tiles):], tiles):
        col.metric(label, value, help=help_text)
held = cache.active_cards(url)  # the grid's 三色牌 in force (gis.accountability)
held = held[(held["target_kind"] == "网格") & (held["target_code"] == code)]
if len(held):
    st.warning("在册三色牌：" + "；".join(f"{r.color}牌 {r.code}（{ui.md_escape(r.reason)}，{r.step}）"
                                      for r in held.itertuples()))

with st.expander("问题筛选", expanded=True):  # ------------------- filters (they drive map and table)
    f = st.columns(4) + st.columns(4)
    names = {k: dict(zip(areas[k]["code"], areas[k]["name"])) for k in ("compound", "street")}
    filters = dict(
        status=tuple(f[0].multiselect("状态", ALL_STATUSES, key="f_status", placeholder="全部状态")),
        category=tuple(f[1].multiselect("问题类型", cache.categories(url)["name"].tolist(), key="f_category",
                                        placeholder="全部类型")),
        source=tuple(f[2].multiselect("来源", SOURCES, key="f_source", placeholder="全部来源")),
        overdue=ledger.OVERDUE_CHOICES[f[3].selectbox("超期", list(ledger.OVERDUE_CHOICES), key="f_overdue")],
        date_from=f[4].date_input("上报日期（起）", value=None, key="f_from", format="YYYY-MM-DD"),
        date_to=f[5].date_input("上报日期（止）", value=None, key="f_to", format="YYYY-MM-DD"),
        compound=f[6].selectbox("小区", list(names["compound"]), format_func=names["compound"].get, index=None,
                                key="f_compound", placeholder="全部小区"),
        street=f[7].selectbox("街巷", list(names["street"]), format_func=names["street"].get, index=None,
                              key="f_street", placeholder="全部街巷"))
ledger_df = cache.grid_ledger(url, code, now, limit=ledger.LEDGER_LIMIT, **filters)
matching = cache.grid_ledger_counts(url, code, now, **filters)
open_code = st.query_params.get("problem")

map_key = f"grid_map_{code}"
open_code = follow_map_click(st.session_state.get(map_key), open_code)  # a click on the map, before anything is drawn
map_col, card_col = st.columns([3, 2])  # ---------------------------- map + responsibility card (the map is drawn last)
with card_col:
    area = st.session_state.get("grid_area")
    if area and area[0] == code:
        name = dict(zip(areas[area[1]]["code"], areas[area[1]]["name"])).get(area[2], area[2])
        st.subheader(f"{AREA_LABELS[area[1]]}：{ui.md_escape(name)}")
        people = cache.area_responsibles(url, area[1], area[2])
        if people.empty:
            st.caption("尚未明确责任人。")
        else:
            ui.table(people.rename(columns=ledger.PEOPLE_HEADERS), hide_index=True, width="stretch")
        if st.button("返回网格责任公示", key="grid_area_back"):
            st.session_state.pop("grid_area", None)
            st.rerun()
    st.subheader("责任公示")
    st.markdown(html.people_card(card[card["grid"]], "尚未登记网格责任人。"), unsafe_allow_html=True)
    local = card[~card["grid"] | card["covers"].ne("")]
    if len(local):
        with st.expander(f"小区、街巷、城中村、点位的责任人（{len(local)}）"):
            ui.table(local[["role", "name", "phone", "covers"]].rename(columns=ledger.PEOPLE_HEADERS),
                     hide_index=True, width="stretch", height=min(420, 38 + 35 * len(local)))

st.subheader("考评得分")  # ------------------------------------ score trend and who lost points
trend_col, lost_col = st.columns([2, 3])
trend = cache.grid_score_trend(url, code, now)
if len(trend):
    # drawn as SVG: a chart library took the browser longer than the rest of the page (issue 16 §13)
    trend_col.markdown(html.trend_chart(trend["month"], trend["score"], trend["rank"]), unsafe_allow_html=True)
    trend_col.caption(ledger.trend_caption(trend))
lost = cache.grid_lost_points(url, code, month)
for tab, part in zip(lost_col.tabs(["谁丢分 · 按测评标准", "谁丢分 · 按责任单位"]), ("by_standard", "by_unit")):
    ui.table(lost[part].rename(columns=ledger.LOST_HEADERS), f"{month:%Y年%m月}尚无丢分。", tab, hide_index=True,
             width="stretch", height=240)
lost_col.caption(f"{month:%Y年%m月}：问题按上报时扣分计入派遣的责任单位；测评失分计入点位的责任单位。")

st.subheader(f"问题台账（{matching['total']:,} 条）")  # ------------------------------ the ledger
st.caption(f"未结案 {matching['open']:,} 条，其中超期 {matching['overdue']:,} 条。"
           + (f"表格显示最新的 {len(ledger_df):,} 条，下载 Excel 可得全部；" if matching["total"] > len(ledger_df) else "")
           + "点击表头排序，选中一行打开问题。")
when = st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")
selection = ui.table(ledger.ledger_table(ledger_df), "没有符合条件的问题。", hide_index=True, width="stretch",
                     height=380, key="ledger_table", on_select="rerun", selection_mode="single-row",
                     column_config={"上报时间": when, "整改时限": when, "超期": st.column_config.CheckboxColumn(),
                                    "描述": st.column_config.TextColumn(width="large")})
picked = ((selection or {}).get("selection") or {}).get("rows")
if picked and ledger_df["code"].iloc[picked[0]] != st.session_state.get("ledger_picked"):
    st.session_state["ledger_picked"] = ledger_df["code"].iloc[picked[0]]
    open_code = open_problem(st.session_state["ledger_picked"])
d1, d2, d3 = st.columns([1, 1, 2])
full = lambda: ledger.ledger(cache.engine(), code, now=now, **filters)  # noqa: E731  (every row, on download)
d1.download_button("下载台账（Excel）", lambda: downloads.ledger_xlsx(full(), code, grid.iloc[0]["name"], now),
                   file_name=f"{code}_问题台账_{now:%Y%m%d}.xlsx", key="dl_xlsx", on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
d2.download_button("下载图层（GeoPackage）", lambda: downloads.grid_geopackage(grid, areas, full()),
                   file_name=f"{code}_图层_{now:%Y%m%d}.gpkg", key="dl_gpkg", mime="application/geopackage+sqlite3",
                   on_click="ignore")  # no rerun on a click: a rerun re-registers both deferred files, and a
# second click before the browser has the new ids asked for a dropped one ("Deferred file … not found")
typed = (d3.text_input("打开问题", key="grid_problem_code", placeholder="输入问题编号，如 WT2026110000001",
                       label_visibility="collapsed") or "").strip()
if typed and typed != st.session_state.get("grid_problem_typed"):
    st.session_state["grid_problem_typed"] = typed
    open_code = open_problem(typed)

detail = ledger.problem_detail(cache.engine(), open_code, now=now) if open_code else None  # uncached: fresh revision
if open_code:  # ---------------------------------------- one problem: card, history, photos, actions
    st.divider()
if open_code and (detail is None or detail["grid_code"] != code):
    st.warning(f"问题 {ui.md_escape(open_code)} 不在本网格。")
elif open_code:
    st.subheader(f"问题 {ui.md_escape(open_code)}")
    info_col, act_col = st.columns([3, 2])
    status = html.badge(detail["status"], area_layers.STATUS_COLORS.get(detail["status"], "#64748b"))
    info_col.markdown(html.field_table(ledger.detail_fields(detail), status + (
        ' <b style="color:#dc2626">已超期</b>' if detail["overdue"] else "")), unsafe_allow_html=True)
    info_col.markdown("**处理记录**")
    history = detail["history"]
    if history.empty:
        info_col.caption("（导入的历史问题，无逐步记录）")
    else:
        ui.table(ledger.history_table(history), container=info_col, hide_index=True, width="stretch",
                 column_config={"时间": when})
    for shot in history.dropna(subset=["photo_path"]).itertuples():  # a bad file never breaks the page
        picture, label = photos.for_display(shot.photo_path), f"整改照片 {shot.at:%Y-%m-%d %H:%M}"
        if picture:
            info_col.image(picture, width=260, caption=label)
        else:
            info_col.caption(f"{label}：{photos.UNREADABLE}")
    with act_col:
        st.markdown("**下一步操作**")
        actions, hint = ledger.next_steps(actor, detail, code)
        if hint:
            (st.info if actor is None else st.caption)(ui.md_escape(hint))
        units = cache.units(url)
        unit_codes, unit_names = units["code"].tolist(), dict(zip(units["code"], units["name"]))
        first_unit = next((u for u in ledger.grid_unit_codes(card) if u in unit_codes), None)  # the grid's own unit
        place = flash[3] if flash and flash[2] == open_code else None
        for i, action in enumerate(actions):
            if i == place:
                show_flash(flash)
            key = f"{open_code}_{action}"
            with st.form(f"form_{key}_{detail['revision']}", border=True):
                if action == workflow.DISPATCH:
                    st.selectbox("责任单位", unit_codes, format_func=unit_names.get, key=f"unit_{key}",
                                 index=unit_codes.index(first_unit) if first_unit else None)
                if action == workflow.APPLY_EXTENSION:
                    st.date_input("延期至", key=f"until_{key}", value=None)
                    st.time_input("时刻", key=f"until_time_{key}", value=time(17, 30))
                if action in (workflow.APPROVE, workflow.REFUSE):
                    st.caption(ledger.pending_request(detail))
                if action in NOTE_LABELS:
                    st.text_area(NOTE_LABELS[action], key=f"note_{key}", height=68,
                                 placeholder="整改措施与结果" if action == workflow.SUBMIT else None)
                if action == workflow.SUBMIT:
                    st.file_uploader(f"整改照片（可选，JPEG/PNG，≤{photos.MAX_BYTES // 2**20} MB）",
                                     type=["jpg", "jpeg", "png"], key=f"photo_{key}")
                if action == workflow.ACKNOWLEDGE:
                    st.caption("责任单位确认已接收。反馈不过夜：派遣当天须在 24 时前签收。")
                st.form_submit_button(action, type="secondary" if action == workflow.RETURN else "primary",
                                      on_click=act, args=(open_code, action, int(detail["revision"]), i))
        if place is not None and place >= len(actions):  # the pressed form is gone: the message takes its place
            show_flash(flash)
        if place is not None:
            flash = None
if flash:  # the problem is no longer open here: say it at the end of the page, where the action was
    show_flash(flash)

# The map last: building and sending a grid's map (1,000 problems) takes longer than the rest of the page,
# which is on screen meanwhile; the map fills its place beside the responsibility card.
on_map = ledger_df.head(MAP_PROBLEMS)
b = ui.for_display(grid, config).total_bounds
# the open problem's star rides beside the map (feature_group_to_add): opening a problem keeps the map (issue 16 §13)
m = add_grid_detail(make_map(((b[1] + b[3]) / 2, (b[0] + b[2]) / 2), zoom=15, basemap=config), grid,
                    grids[grids["code"] != code], areas, on_map, None, lambda frame: ui.for_display(frame, config))
star = star_group(ledger_df[ledger_df["code"] == open_code].head(1), lambda frame: ui.for_display(frame, config))
m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
with map_col:
    result = ui.show_map(m, key=map_key, height=600, returned_objects=["last_active_drawing"],
                         feature_group_to_add=star)
    st.markdown(area_layers.legend_html(), unsafe_allow_html=True)
    note = f"地图显示筛选结果中最新的 {len(on_map):,} 条问题；" if matching["total"] > len(on_map) else ""
    st.caption(f"{note}点击小区、街巷、城中村或点位查看其责任人；点击问题打开详情；点击其他网格进入该网格。")
if follow_map_click(result, open_code) != open_code or st.session_state.get("grid_area") != area:
    st.rerun()  # a click this run had not seen at its start (a map answering without a change event, as in AppTest)
