"""网格详情: one grid — its map, who answers for it, its score, and its problem ledger (问题闭环).

Reached by clicking a grid on a map, by the select box, or by a shareable link ``?grid=DC-07``
(``&problem=<编号>`` opens a problem). Changes go through gis.problems.workflow with the signed-in actor;
without one the page is read-only.
"""

from __future__ import annotations

import html
from datetime import date, datetime, time

import folium
import geopandas as gpd
import pandas as pd
import streamlit as st

from pages import cache

from gis.problems import exports

from gis.problems import ledger

from gis.problems import workflow
from gis.config import database_url, setting
from gis.db.models import ALL_STATUSES, SOURCES
from gis.people.permissions import PermissionDenied
from layers import areas as area_layers
from layers.basemap import make_map
from layers.common import geojson_layer
from layers.grids import grid_labels, grids_by_category
from pages import ui
from pages.ui import CITY_CENTER, basemap, current_actor, for_display, require_data

MAP_PROBLEMS = 1000  # problems drawn on the map: the newest of the filtered ledger
LEDGER_LABELS = {"code": "编号", "status": "状态", "overdue": "超期", "ack": "反馈不过夜", "category": "类型",
                 "description": "描述", "source": "来源", "reported_at": "上报时间", "deadline": "整改时限",
                 "unit": "责任单位", "compound": "小区", "street": "街巷", "village": "城中村",
                 "rework_count": "返工", "deduction": "扣分"}


def esc(text) -> str:
    return html.escape("" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text))


def now_minute() -> datetime:
    pinned = setting("GRIDMAP_NOW")  # demos and tests may pin the clock (ISO datetime)
    now = datetime.fromisoformat(pinned) if pinned else datetime.now()
    return now.replace(second=0, microsecond=0)


def clicked(result: dict | None, key: str) -> dict | None:
    """The properties of a newly clicked feature (each click is handled once)."""
    feature = (result or {}).get("last_active_drawing") or None
    props = (feature or {}).get("properties") or None
    marker = repr(props)
    if not props or st.session_state.get(f"{key}_seen") == marker:
        return None
    st.session_state[f"{key}_seen"] = marker
    return props


def go_to_grid(code: str) -> None:
    st.query_params.clear()
    st.query_params["grid"] = code
    st.rerun()


def on_select_grid() -> None:
    chosen = st.session_state.get("grid_select")
    st.query_params.clear()
    if chosen:
        st.query_params["grid"] = chosen


url = database_url()
counts = cache.city_counts(url)
if not require_data(counts):
    st.stop()

grids = cache.current_grids(url)
labels = {c: f"{c} · {n}（{s}）" for c, n, s in zip(grids["code"], grids["name"], grids["subdistrict"])}
code = st.query_params.get("grid")
if code and code not in labels:
    st.warning(f"没有编号为 {ui.md_escape(code)} 的网格，请重新选择。")
    code = None
if st.session_state.get("grid_select") != code:
    st.session_state["grid_select"] = code
actor = current_actor()
now = now_minute()

head, pick = st.columns([3, 2], vertical_alignment="bottom")
pick.selectbox("选择网格", list(labels), format_func=labels.get, index=None, key="grid_select",
               placeholder="输入编号或名称搜索…", on_change=on_select_grid)

# ------------------------------------------------------------------ no grid yet: pick one on the map
if code is None:
    head.title("网格详情")
    st.caption("点击地图上的网格，或在右上方选择网格，查看责任人、考评得分与问题台账。")
    config = basemap()
    shown = for_display(grids, config)
    m = make_map(CITY_CENTER, zoom=12, basemap=config)
    grids_by_category(shown, "subdistrict", {"code": "网格编号", "name": "网格名称", "subdistrict": "所属街道"}).add_to(m)
    grid_labels(shown).add_to(m)
    b = shown.total_bounds
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    props = clicked(ui.show_map(m, key="grid_picker_map", height=640, returned_objects=["last_active_drawing"]),
                    "grid_picker_map")
    if props and props.get("code") in labels:
        go_to_grid(props["code"])
    st.stop()

# ------------------------------------------------------------------ the grid
grid = cache.grid_info(url, code)
info = grid.iloc[0]
areas = cache.grid_areas(url, code)
card = cache.grid_responsibility(url, code)
head.title(f"网格详情 · {code}")
st.caption(f"{ui.md_escape(info['name'])} · {ui.md_escape(info['subdistrict'])} · 面积 {info['area_m2'] / 1e6:.2f} km² · "
           f"小区 {len(areas['compound'])} · 街巷 {len(areas['street'])} · 城中村 {len(areas['village'])} · "
           f"点位 {len(areas['point'])} · 分享链接 `?grid={code}`")

flash = st.session_state.pop("grid_flash", None)
if flash:
    (st.success if flash[0] == "success" else st.error)(ui.md_escape(flash[1]))
if actor is None:
    st.info("登录后可处理问题。当前为只读浏览。")

# Score of this month (gis.metrics.scores) and the ledger summary.
month = date(now.year, now.month, 1)
scores = cache.grid_scores(url, month, now)
mine = scores[scores["code"] == code]
totals = cache.grid_ledger_counts(url, code, now)
cols = st.columns(6)
if len(mine):
    row = mine.iloc[0]
    cols[0].metric("本月综合得分", f"{row['score']:.1f}", help="见 README：综合得分 / 合规指数")
    ranked = int(scores["ranked"].sum())
    cols[1].metric("全市排名", f"{int(row['rank'])} / {ranked}" if row["ranked"] else "未排名",
                   help=None if row["ranked"] else "本月测评样本不足，不参加排名")
    cols[2].metric("得分等级", row["color"])
    cols[3].metric("本月问题", f"{int(row['problems']):,}")
cols[4].metric("未结案", f"{totals['open']:,}")
cols[5].metric("已超期", f"{totals['overdue']:,}")
held = cache.active_cards(url)  # accountability (issue 14): the grid's 三色牌 in force
held = held[(held["target_kind"] == "网格") & (held["target_code"] == code)]
if len(held):
    st.warning("在册三色牌：" + "；".join(f"{r.color}牌 {r.code}（{ui.md_escape(r.reason)}，{r.step}）"
                                      for r in held.itertuples()))

# ------------------------------------------------------------------ filters (they drive map and table)
with st.expander("问题筛选", expanded=True):
    f1, f2, f3, f4 = st.columns(4)
    status = f1.multiselect("状态", ALL_STATUSES, key="f_status", placeholder="全部状态")
    category = f2.multiselect("问题类型", cache.categories(url)["name"].tolist(), key="f_category",
                              placeholder="全部类型")
    source = f3.multiselect("来源", SOURCES, key="f_source", placeholder="全部来源")
    overdue_choice = f4.selectbox("超期", ["全部", "仅超期", "未超期"], key="f_overdue")
    f5, f6, f7, f8 = st.columns(4)
    date_from = f5.date_input("上报日期（起）", value=None, key="f_from", format="YYYY-MM-DD")
    date_to = f6.date_input("上报日期（止）", value=None, key="f_to", format="YYYY-MM-DD")
    compound_names = dict(zip(areas["compound"]["code"], areas["compound"]["name"]))
    street_names = dict(zip(areas["street"]["code"], areas["street"]["name"]))
    compound = f7.selectbox("小区", list(compound_names), format_func=compound_names.get, index=None,
                            key="f_compound", placeholder="全部小区")
    street = f8.selectbox("街巷", list(street_names), format_func=street_names.get, index=None, key="f_street",
                          placeholder="全部街巷")
filters = dict(status=tuple(status), category=tuple(category), source=tuple(source),
               overdue={"仅超期": True, "未超期": False}.get(overdue_choice), date_from=date_from, date_to=date_to,
               compound=compound, street=street)
ledger_df = cache.grid_ledger(url, code, now, limit=ledger.LEDGER_LIMIT, **filters)
matching = cache.grid_ledger_counts(url, code, now, **filters)

# ------------------------------------------------------------------ map + responsibility card
map_col, card_col = st.columns([3, 2])
config = basemap()
shown_grid = for_display(grid, config)
b = shown_grid.total_bounds
m = make_map(((b[1] + b[3]) / 2, (b[0] + b[2]) / 2), zoom=15, basemap=config)
others = for_display(grids[grids["code"] != code], config).assign(kind="grid")
geojson_layer(others, "其他网格（点击进入）", lambda _f: {"color": "#94a3b8", "weight": 1, "fillOpacity": 0.04},
              tooltip={"code": "网格编号", "name": "网格名称"}, properties=["kind", "code"],
              highlight={"weight": 3, "color": "#ffd400", "fillOpacity": 0.15}).add_to(m)
area_layers.grid_outline(shown_grid).add_to(m)
if len(areas["village"]):
    area_layers.area_polygons(for_display(areas["village"], config), "village", "城中村",
                              {"name": "城中村", "households": "户数"}).add_to(m)
if len(areas["compound"]):
    area_layers.area_polygons(for_display(areas["compound"], config), "compound", "小区",
                              {"name": "小区", "households": "户数", "property_company": "物业"}).add_to(m)
if len(areas["street"]):
    area_layers.streets(for_display(areas["street"], config)).add_to(m)
if len(areas["point"]):
    area_layers.inspection_points(for_display(areas["point"], config), show=False).add_to(m)
on_map = ledger_df.head(MAP_PROBLEMS)
on_map = on_map.sort_values("status", key=lambda s: s.eq("已结案"), ascending=False, kind="stable")  # open on top
if len(on_map):
    pts = gpd.GeoDataFrame(on_map, geometry=gpd.points_from_xy(on_map["lon"], on_map["lat"]), crs="EPSG:4326")
    area_layers.problems(for_display(pts, config), name=f"问题（{len(on_map):,}）").add_to(m)
open_code = st.query_params.get("problem")
if open_code and open_code in set(ledger_df["code"]):
    hit = ledger_df[ledger_df["code"] == open_code].iloc[0]
    spot = for_display(gpd.GeoDataFrame(geometry=gpd.points_from_xy([hit["lon"]], [hit["lat"]]), crs="EPSG:4326"),
                       config).geometry.iloc[0]
    folium.Marker([spot.y, spot.x], tooltip=f"当前问题 {esc(open_code)}",
                  icon=folium.Icon(icon="star", prefix="fa", color="red")).add_to(m)
folium.LayerControl(collapsed=False).add_to(m)
m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
with map_col:
    result = ui.show_map(m, key=f"grid_map_{code}", height=600, returned_objects=["last_active_drawing"])
    st.markdown(area_layers.legend_html(), unsafe_allow_html=True)
    note = f"地图显示筛选结果中最新的 {len(on_map):,} 条问题；" if matching["total"] > len(on_map) else ""
    st.caption(f"{note}点击小区、街巷、城中村或点位查看其责任人；点击问题打开详情；点击其他网格进入该网格。")

props = clicked(result, f"grid_map_{code}")
if props:
    kind, target = props.get("kind"), props.get("code")
    if kind == "grid" and target in labels and target != code:
        go_to_grid(target)
    elif kind in ("compound", "street", "village", "point"):
        st.session_state["grid_area"] = (code, kind, target)
    elif kind == "problem" and target:
        st.query_params["problem"] = target
        open_code = target

with card_col:
    area = st.session_state.get("grid_area")
    if area and area[0] == code:
        _, kind, target = area
        frame = areas.get(kind)
        name = dict(zip(frame["code"], frame["name"])).get(target, target) if frame is not None else target
        st.subheader(f"{ledger.KIND_LABELS[kind]}：{ui.md_escape(name)}")
        people = cache.area_responsibles(url, kind, target)
        if people.empty:
            st.caption("尚未明确责任人。")
        else:
            st.dataframe(people.rename(columns={"role": "角色", "name": "责任人/单位", "title": "职务",
                                                "unit": "单位", "phone": "电话"}),
                         hide_index=True, width="stretch")
        if st.button("返回网格责任公示", key="grid_area_back"):
            st.session_state.pop("grid_area", None)
            st.rerun()
    st.subheader("责任公示")
    rows = []
    for r in card[card["grid"]].itertuples():
        covers = f'<div class="gm-covers">负责 {esc(r.covers)}</div>' if r.covers else ""
        rows.append(f'<div class="gm-person"><span class="gm-role">{esc(r.role)}</span>'
                    f'<b>{esc(r.name)}</b><span class="gm-title">{esc(r.title)}'
                    f'{" · " + esc(r.unit) if r.unit else ""}</span>'
                    f'<span class="gm-phone">{esc(r.phone)}</span>{covers}</div>')
    st.markdown(
        "<style>.gm-person{padding:6px 0;border-bottom:1px solid #e2e8f0;font-size:14px;overflow:hidden}"
        ".gm-role{display:inline-block;min-width:104px;color:#475569}.gm-title{color:#64748b;margin-left:8px}"
        ".gm-phone{float:right;font-variant-numeric:tabular-nums;color:#0f172a}.gm-covers{color:#64748b;"
        "font-size:12px;margin-left:104px}</style>" + ("".join(rows) or "尚未登记网格责任人。"),
        unsafe_allow_html=True)
    local = card[~card["grid"] | card["covers"].ne("")]
    if len(local):
        with st.expander(f"小区、街巷、城中村、点位的责任人（{len(local)}）"):
            st.dataframe(local[["role", "name", "phone", "covers"]].rename(columns={
                "role": "角色", "name": "责任人/单位", "phone": "电话", "covers": "负责"}),
                hide_index=True, width="stretch", height=min(420, 38 + 35 * len(local)))

# ------------------------------------------------------------------ score trend and who lost points
st.subheader("考评得分")
trend_col, lost_col = st.columns([2, 3])
with trend_col:
    trend = cache.grid_score_trend(url, code, now)
    if len(trend):
        chart = trend.assign(月份=pd.to_datetime(trend["month"]).dt.strftime("%Y-%m")).set_index("月份")
        st.line_chart(chart[["score"]].rename(columns={"score": "综合得分"}), height=220)
        st.caption("近 12 个月综合得分；排名：" + "、".join(
            f"{m_}月 {'—' if pd.isna(r_) else int(r_)}" for m_, r_ in
            zip(pd.to_datetime(trend["month"]).dt.month, trend["rank"])))
lost = cache.grid_lost_points(url, code, month)
with lost_col:
    t1, t2 = st.tabs(["谁丢分 · 按测评标准", "谁丢分 · 按责任单位"])
    numbers = {"problems": "问题数", "problem_points": "问题扣分", "failed": "测评不合格",
               "inspection_points": "测评失分", "total": "合计失分"}
    t1.dataframe(lost["by_standard"].rename(columns={"standard_code": "标准", "item": "测评项目",
                                                     "content": "测评内容", "text": "标准内容", **numbers}),
                 hide_index=True, width="stretch", height=240)
    t2.dataframe(lost["by_unit"].rename(columns={"unit": "责任单位", **numbers}), hide_index=True,
                 width="stretch", height=240)
    st.caption(f"{month:%Y年%m月}：问题按上报时扣分计入派遣的责任单位；测评失分计入点位的责任单位。")

# ------------------------------------------------------------------ the ledger
st.subheader(f"问题台账（{matching['total']:,} 条）")
st.caption(f"未结案 {matching['open']:,} 条，其中超期 {matching['overdue']:,} 条。"
           + (f"表格显示最新的 {len(ledger_df):,} 条，下载 Excel 可得全部；" if matching["total"] > len(ledger_df) else "")
           + "点击表头排序，选中一行打开问题。")
table = ledger_df[list(LEDGER_LABELS)].rename(columns=LEDGER_LABELS)
selection = st.dataframe(
    table, hide_index=True, width="stretch", height=380, key="ledger_table", on_select="rerun",
    selection_mode="single-row",
    column_config={"上报时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                   "整改时限": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
                   "超期": st.column_config.CheckboxColumn(), "描述": st.column_config.TextColumn(width="large")})
picked = (selection or {}).get("selection", {}).get("rows") if selection else None
if picked:
    chosen = ledger_df["code"].iloc[picked[0]]
    if chosen != st.session_state.get("ledger_picked"):
        st.session_state["ledger_picked"] = chosen
        st.query_params["problem"] = chosen
        open_code = chosen

d1, d2, d3 = st.columns([1, 1, 2])
stamp = f"{now:%Y%m%d}"


def full_ledger():
    return ledger.ledger(cache.engine(), code, now=now, **{k: list(v) if isinstance(v, tuple) else v
                                                           for k, v in filters.items()})


d1.download_button("下载台账（Excel）", lambda: exports.ledger_xlsx(full_ledger(), code, info["name"], now),
                   file_name=f"{code}_问题台账_{stamp}.xlsx", key="dl_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
d2.download_button("下载图层（GeoPackage）", lambda: exports.grid_geopackage(grid, areas, full_ledger()),
                   file_name=f"{code}_图层_{stamp}.gpkg", key="dl_gpkg", mime="application/geopackage+sqlite3")
typed = d3.text_input("打开问题", key="grid_problem_code", placeholder="输入问题编号，如 WT2026110000001",
                      label_visibility="collapsed")
if typed and typed.strip() != st.session_state.get("grid_problem_typed"):
    st.session_state["grid_problem_typed"] = typed.strip()
    open_code = typed.strip()
    st.query_params["problem"] = open_code


# ------------------------------------------------------------------ one problem: location, history, actions
def _asked_deadline(key: str):
    """申请延期: the new deadline asked for (date and time widgets of the form)."""
    day, at = st.session_state.get(f"until_{key}"), st.session_state.get(f"until_time_{key}")
    return datetime.combine(day, at) if day is not None and at is not None else None


def act(problem_code: str, action: str, revision: int) -> None:
    """Form callback: runs with the revision the page showed (optimistic locking)."""
    key = f"{problem_code}_{action}"
    upload = st.session_state.get(f"photo_{key}")
    try:
        workflow.apply(cache.engine(), current_actor(), problem_code, action, expected_revision=revision,
                       note=st.session_state.get(f"note_{key}"), unit_code=st.session_state.get(f"unit_{key}"),
                       photo=upload.getvalue() if upload is not None else None,
                       photo_name=upload.name if upload is not None else None,
                       new_deadline=_asked_deadline(key))
    except (workflow.WorkflowError, PermissionDenied) as exc:
        st.session_state["grid_flash"] = ("error", str(exc))
        return
    cache.clear()
    st.session_state["grid_flash"] = ("success", f"问题 {problem_code} 已{action}。")


if open_code:
    detail = ledger.problem_detail(cache.engine(), open_code, now=now)  # uncached: the revision must be fresh
    st.divider()
    if detail is None or detail["grid_code"] != code:
        st.warning(f"问题 {ui.md_escape(open_code)} 不在本网格。")
    else:
        st.subheader(f"问题 {open_code}")
        badge = area_layers.STATUS_COLORS.get(detail["status"], "#64748b")
        place = " · ".join(esc(x) for x in (detail["grid_code"], detail["compound"], detail["street"], detail["village"])
                           if x)
        fields = [
            ("状态", f'<span style="background:{badge};color:#fff;border-radius:4px;padding:1px 6px">'
                     f'{esc(detail["status"])}</span>' + (' <b style="color:#dc2626">已超期</b>' if detail["overdue"] else "")),
            ("类型", esc(detail["category"])), ("来源", esc(detail["source"])), ("上报人", esc(detail["reporter"])),
            ("描述", esc(detail["description"])), ("位置", f'{place}（{detail["lon"]:.5f}, {detail["lat"]:.5f}）'),
            ("上报时间", f'{detail["reported_at"]:%Y-%m-%d %H:%M}'), ("整改时限", f'{detail["deadline"]:%Y-%m-%d %H:%M}'),
            ("责任单位", esc(detail["unit"] or "未派遣") + (f' ☎ {esc(detail["unit_phone"])}' if detail["unit_phone"] else "")),
            ("反馈不过夜", esc(detail["ack"])), ("返工次数", str(detail["rework_count"])),
        ]
        info_col, act_col = st.columns([3, 2])
        info_col.markdown(
            '<table class="gm-detail">' + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in fields) + "</table>"
            "<style>.gm-detail th{white-space:nowrap;color:#475569;font-weight:500;padding-right:12px;text-align:left}"
            ".gm-detail td,.gm-detail th{border:none;padding:3px 8px 3px 0;font-size:14px}</style>",
            unsafe_allow_html=True)
        history = detail["history"]
        info_col.markdown("**处理记录**")
        if history.empty:
            info_col.caption("（导入的历史问题，无逐步记录）")
        else:
            info_col.dataframe(history.drop(columns="photo_path").rename(columns={
                "at": "时间", "action": "操作", "from_status": "原状态", "to_status": "新状态", "actor": "操作人",
                "unit": "责任单位", "note": "说明"}), hide_index=True, width="stretch",
                column_config={"时间": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")})
            base = workflow.upload_dir().resolve()
            for when, path in zip(history["at"], history["photo_path"]):
                full = (base / str(path)).resolve() if isinstance(path, str) else None
                if full is not None and full.is_relative_to(base) and full.is_file():
                    info_col.image(str(full), width=260, caption=f"整改照片 {when:%Y-%m-%d %H:%M}")

        with act_col:
            st.markdown("**下一步操作**")
            acked = detail["acknowledged_at"] is not None
            actions = workflow.allowed_actions(actor, detail["status"], acked, code, detail["request_kind"],
                                               detail["deferred_at"] is not None)
            if actor is None:
                st.info("登录后可处理问题。")
            elif not actions:
                legal = workflow.legal_actions(detail["status"], acked)
                st.caption("该问题已结案。" if not legal else
                           f"当前状态可进行：{'、'.join(legal)}；您的角色（{ui.md_escape(actor.role)}）无权执行。")
            unit_table = cache.units(url)
            grid_units = [k[2:] for k, r in zip(card["key"], card["role"]) if r == "责任单位" and k.startswith("U:")]
            for action in actions:
                key = f"{open_code}_{action}"
                with st.form(f"form_{key}_{detail['revision']}", border=True):
                    if action == workflow.DISPATCH:
                        codes = unit_table["code"].tolist()
                        names = dict(zip(unit_table["code"], unit_table["name"]))
                        default = codes.index(grid_units[0]) if grid_units and grid_units[0] in codes else None
                        st.selectbox("责任单位", codes, index=default, format_func=names.get, key=f"unit_{key}")
                        st.text_area("派遣说明（可选）", key=f"note_{key}", height=68)
                    elif action == workflow.SUBMIT:
                        st.text_area("整改说明", key=f"note_{key}", height=68, placeholder="整改措施与结果")
                        st.file_uploader("整改照片（可选，JPEG/PNG，≤5 MB）", type=["jpg", "jpeg", "png"],
                                         key=f"photo_{key}")
                    elif action == workflow.VERIFY:
                        st.text_area("核查意见（可选）", key=f"note_{key}", height=68)
                    elif action == workflow.RETURN:
                        st.text_area("退回原因（返工）", key=f"note_{key}", height=68)
                    elif action == workflow.ACKNOWLEDGE:
                        st.caption("责任单位确认已接收。反馈不过夜：派遣当天须在 24 时前签收。")
                    elif action == workflow.APPLY_EXTENSION:
                        st.date_input("延期至", key=f"until_{key}", value=None)
                        st.time_input("时刻", key=f"until_time_{key}", value=time(17, 30))
                        st.text_area("延期原因", key=f"note_{key}", height=68)
                    elif action in (workflow.REJECT, workflow.APPLY_DEFERRAL, workflow.REFUSE):
                        if action == workflow.REFUSE:
                            st.caption(f"待审批：{detail['request_kind']}")
                        st.text_area({workflow.REJECT: "不予立案理由", workflow.APPLY_DEFERRAL: "缓办原因",
                                      workflow.REFUSE: "驳回理由"}[action], key=f"note_{key}", height=68)
                    elif action in (workflow.REGISTER, workflow.APPROVE):
                        if action == workflow.APPROVE:
                            asked = detail["request_deadline"]
                            st.caption(f"待审批：{detail['request_kind']}"
                                       + (f"，延期至 {asked:%Y-%m-%d %H:%M}" if asked is not None else ""))
                        st.text_area("说明（可选）", key=f"note_{key}", height=68)
                    st.form_submit_button(action, type="primary" if action != workflow.RETURN else "secondary",
                                          on_click=act, args=(open_code, action, int(detail["revision"])))
