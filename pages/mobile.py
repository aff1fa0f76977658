"""移动巡查: the phone page (390 px wide) of 网格员, 网格长 and 核查员 (督查 / 暗访 inspectors).

Three tabs, one column, big buttons, feedback right under the button pressed:
上报问题 (我的位置 from the browser's geolocation, 拍照 / 相册 — pages/field_capture.py —, or the
location from the photo's EXIF GPS, a tap on the small map, or typed lon/lat; the category with its time limit; the
grid, compound, street and unit shown before sending), 我的待办 (one next action per problem) and
今日巡查 (points due a visit; 测评录入 for inspectors). Rules: gis.problems.field and workflow.
"""

from __future__ import annotations

from datetime import date

import folium
import pandas as pd
import streamlit as st

from gis.config import database_url
from gis.metrics import scores
from gis.people.permissions import PermissionDenied, allowed
from gis.problems import field, photos, workflow
from gis import clock
from gis.geo.china import gcj02_to_wgs84, wgs84_to_gcj02
from layers.areas import grid_outline
from layers.basemap import make_map
from pages import cache, field_capture, ui
from pages.ui import CITY_CENTER, basemap, current_actor, for_display, md_escape
from pages import gate

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

# Streamlit's uploader (整改照片, 不达标照片; the report form uses pages/field_capture.py) speaks English
# ("Drag and drop file here", "Limit 200MB per file", "Browse files"): hidden, and said in Chinese with CSS. The page is laid out for a 390 px phone.
st.markdown("""<style>
[data-testid="stFileUploaderDropzoneInstructions"] > div > span,
[data-testid="stFileUploaderDropzoneInstructions"] > div > small {display:none}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {content:"拍照或从相册选择（JPEG / PNG，≤ 10 MB）";
  font-size:0.9rem}
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"],
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] * {font-size:0 !important}
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"]::after {content:"选择照片";
  font-size:1rem; white-space:nowrap}
.stMainBlockContainer {padding-left:0.8rem; padding-right:0.8rem; padding-top:2.5rem}
div.stButton > button, div.stFormSubmitButton > button {min-height:3rem; width:100%}
</style>""", unsafe_allow_html=True)

actor = current_actor()
st.title("移动巡查")
if actor is None:
    st.info("请先登录。")
    st.stop()
url = database_url()
eng = cache.engine()
now = clock.now().replace(second=0)
can_report = allowed(actor, "problem.create", actor.grid_code)
can_inspect = allowed(actor, "inspection.record")


POINT_COLOR = "#d32f2f"  # the report's location on the small map
ACCURACY_COLOR = "#1976d2"  # the circle of the phone's stated accuracy around 我的位置


def flash(key: str) -> None:
    """The message left by the last press of button `key`, shown where the button is."""
    msg = st.session_state.pop(f"m_flash_{key}", None)
    if msg:
        (st.success if msg[0] == "ok" else st.error)(msg[1])


def remember(key: str, ok: bool, text: str) -> None:
    st.session_state[f"m_flash_{key}"] = ("ok" if ok else "err", text)


def grid_score(grid_code: str | None):
    if not grid_code:
        return None
    df = scores.monthly_scores(eng, date(now.year, now.month, 1), as_of=now)
    row = df[df["code"] == grid_code]
    return None if row.empty else row.iloc[0]


report_tab, todo_tab, round_tab = st.tabs(["上报问题", "我的待办", "今日巡查"])

# ------------------------------------------------------------------ 上报问题
with report_tab:
    if not can_report:
        st.info(f"角色“{actor.role}”不上报问题；上报由网格长、网格员和核查员进行。")
    else:
        v = st.session_state.setdefault("m_form", 0)  # bumped after a report: fresh, empty fields
        got = field_capture.capture(f"m_cap_{v}", photos.MAX_BYTES)  # 我的位置 / 拍照 / 相册
        data = got.photo.data if got.photo else None
        gps = photos.gps(data) if data else None
        if got.location and got.location.seq != st.session_state.get(f"m_geo_seen_{v}"):
            st.session_state[f"m_geo_seen_{v}"] = got.location.seq
            st.session_state.pop(f"m_tap_{v}", None)  # a new fix replaces an earlier tap on the map
        tapped = st.session_state.get(f"m_tap_{v}")
        typed = st.text_input("经纬度（可选，如 115.985, 36.445）", key=f"m_lonlat_{v}",
                              placeholder="无法定位时，在地图上点选或在此填写")
        point, how = None, None
        if typed.strip():
            try:
                lon_s, lat_s = typed.replace("，", ",").split(",")
                point, how = (float(lon_s), float(lat_s)), "填写的经纬度"
            except ValueError:
                st.error("经纬度格式不对，应为“经度, 纬度”，如 115.985, 36.445。")
        elif tapped:
            point, how = tapped, "地图点选"
        elif got.location:
            point, how = (got.location.lon, got.location.lat), "我的位置"
        elif gps:
            point, how = gps, "照片自带定位"
        if data:
            preview, bad = cache.photo_preview(data, got.photo.name)
            if bad:
                st.error(md_escape(bad))  # said now, before 上报; the rest of the form stays
            else:
                st.image(preview, width=120, caption=f"现场照片：{got.photo.name}")
        where = field.place(eng, *point, now) if point else None
        config = basemap()
        gcj = config.crs_note == "gcj02"  # GCJ-02 tiles: what is drawn is shifted onto them, and taps back
        shown = tuple(float(c) for c in wgs84_to_gcj02(*point)) if point and gcj else point
        m = make_map(shown[::-1] if shown else CITY_CENTER, zoom=16 if shown else 13, basemap=config)
        if where:  # the grid the point falls in, to confirm at a glance
            grids = cache.current_grids(url)
            grid = for_display(grids[grids["code"] == where["grid_code"]], config)
            grid_outline(grid).add_to(m)
            b = grid.total_bounds
            m.fit_bounds([[min(b[1], shown[1]), min(b[0], shown[0])], [max(b[3], shown[1]), max(b[2], shown[0])]],
                         padding=(10, 10))
        if shown and how == "我的位置" and got.location.accuracy:
            folium.Circle(shown[::-1], radius=min(got.location.accuracy, 2000), color=ACCURACY_COLOR, weight=1,
                          fill=True, fill_opacity=0.12).add_to(m)  # how far off the phone may be
        if shown:
            folium.CircleMarker(shown[::-1], radius=8, color=POINT_COLOR, fill=True, fill_opacity=0.9).add_to(m)
        result = ui.show_map(m, key=f"m_map_{v}", height=260, returned_objects=["last_clicked"])
        click = (result or {}).get("last_clicked")
        if click and (click["lng"], click["lat"]) != st.session_state.get(f"m_tap_used_{v}"):
            st.session_state[f"m_tap_used_{v}"] = (click["lng"], click["lat"])  # st_folium repeats its last click
            lon, lat = gcj02_to_wgs84(click["lng"], click["lat"]) if gcj else (click["lng"], click["lat"])
            st.session_state[f"m_tap_{v}"] = (float(lon), float(lat))
            st.rerun()
        if point and where:
            st.caption(f"位置（{how}）：{point[0]:.6f}, {point[1]:.6f} · 网格 {where['grid_code']} {md_escape(where['grid_name'])}"
                       f" · 小区 {md_escape(where['compound'] or '—')} · 街巷 {md_escape(where['street'] or '—')}"
                       f" · 城中村 {md_escape(where['village'] or '—')} · 责任单位 {md_escape(where['unit'] or '—')}")
        elif point:
            st.warning(f"位置（{how}）{point[0]:.6f}, {point[1]:.6f} 不在任何网格内。")
        else:
            st.caption("位置：点“我的位置”定位，或用带定位的照片，或在地图上点选、填写经纬度。")
        cats = workflow.category_table(eng)
        limits = {r["name"]: "{:g} {}".format(*workflow.category_limit(r)) for r in cats.to_dict("records")}
        category = st.selectbox("问题类型（整改时限）", list(limits), index=None, placeholder="选择问题类型",
                                format_func=lambda c: f"{c}（{limits[c]}）", key=f"m_cat_{v}")
        text = st.text_area("问题描述", max_chars=workflow.NOTE_MAX_CHARS, key=f"m_text_{v}", height=90)
        if st.button("上报", type="primary", key="m_send"):
            try:
                if category is None:
                    raise field.FieldError("请选择问题类型。")
                made = field.report(eng, actor, category, text, *(point or (None, None)), photo=data,
                                    photo_name=got.photo.name if got.photo else None, now=now)
            except (field.FieldError, photos.PhotoError, workflow.WorkflowError, PermissionDenied) as exc:
                st.error(md_escape(str(exc)))  # the form keeps what was filled in
            else:
                cache.clear()
                st.session_state["m_form"] = v + 1
                remember("send", True, f"已上报 {made['code']}（网格 {made['grid_code']}，{made['status']}），"
                                       f"整改时限 {made['deadline']:%m-%d %H:%M}。")
                st.rerun()
        flash("send")

# ------------------------------------------------------------------ 我的待办
with todo_tab:
    items = field.todo(eng, actor, now)
    if items.empty:
        st.info("没有待办。" if actor.role in ("网格长", "网格员", "核查员") else f"角色“{actor.role}”没有待办。")
    units = cache.units(url)
    for r in items.itertuples():
        with st.container(border=True):
            left = r.deadline - now
            due = (f"超期 {-left.total_seconds() / 3600:.0f} 小时" if left.total_seconds() < 0
                   else f"剩余 {left.total_seconds() / 3600:.0f} 小时")
            st.markdown(f"**{r.code}** · {r.category} · {r.status} · 时限 {r.deadline:%m-%d %H:%M}（{due}）")
            st.caption(md_escape(r.description))
            key = f"m_do_{r.code}"
            try:
                if r.action == workflow.ACKNOWLEDGE and st.button("签收", key=key):
                    workflow.acknowledge(eng, actor, r.code, r.revision, now=now)
                    remember(r.code, True, f"{r.code} 已签收。")
                    st.rerun()
                elif r.action == workflow.DISPATCH:
                    unit = st.selectbox("责任单位", units["code"].tolist(), key=f"{key}_unit",
                                        format_func=dict(zip(units["code"], units["name"])).get)
                    if st.button("派遣", key=key):
                        workflow.dispatch(eng, actor, r.code, unit, r.revision, now=now)
                        remember(r.code, True, f"{r.code} 已派遣。")
                        st.rerun()
                elif r.action == workflow.SUBMIT:
                    note = st.text_input("整改说明", key=f"{key}_note")
                    pic = st.file_uploader("整改照片", type=["jpg", "jpeg", "png", "webp"], key=f"{key}_pic")
                    if st.button("提交整改", key=key):
                        stored = photos.prepare(pic.getvalue(), pic.name).data if pic else None
                        workflow.submit(eng, actor, r.code, note, r.revision, photo=stored,
                                        photo_name="整改.jpg" if stored else None, now=now)
                        remember(r.code, True, f"{r.code} 已提交整改，等待核查。")
                        st.rerun()
                elif r.action == workflow.VERIFY:
                    reason = st.text_input("退回原因（退回时必填）", key=f"{key}_why")
                    ok_col, back_col = st.columns(2)
                    if ok_col.button("核查通过", key=key):
                        workflow.verify(eng, actor, r.code, r.revision, now=now)
                        remember(r.code, True, f"{r.code} 核查通过，已结案。")
                        st.rerun()
                    if back_col.button("退回", key=f"{key}_back"):
                        workflow.send_back(eng, actor, r.code, reason, r.revision, now=now)
                        remember(r.code, True, f"{r.code} 已退回整改。")
                        st.rerun()
            except (workflow.WorkflowError, photos.PhotoError, PermissionDenied) as exc:
                st.error(md_escape(str(exc)))
            flash(r.code)

# ------------------------------------------------------------------ 今日巡查 · 测评录入
with round_tab:
    try:
        st.caption(field.off_peak(now.date()).text)
    except Exception:  # noqa: BLE001  (a year the holiday calendar lacks: no slot hint, the list still works)
        pass
    days = st.number_input("多少天未巡查算到期", min_value=1, max_value=90, value=7, step=1, key="m_days")
    due = field.due_points(eng, actor, now.date(), int(days))
    if due.empty:
        st.info("没有到期的点位。")
    else:
        st.dataframe(due.assign(last=due["last"].map(lambda d: "从未" if pd.isna(d) else f"{d:%m-%d}"))
                     .rename(columns={"code": "点位", "name": "名称", "kind": "类型", "grid_code": "网格",
                                      "last": "上次", "idle_days": "间隔天数"}),
                     hide_index=True, width="stretch", height=min(36 * (len(due) + 1) + 4, 300))
    if can_inspect:
        st.subheader("测评录入")
        names = dict(zip(due["code"], due["name"]))
        pick = st.selectbox("点位", list(names), index=None, placeholder="选择点位",
                            format_func=lambda c: f"{c} {names[c]}", key="m_point")
        if pick:
            stds = field.point_standards(eng, pick)
            results, shots = {}, {}
            for s in stds.itertuples():
                results[s.code] = st.radio(f"{s.code} {s.text}（{s.points:g} 分）", field.RESULTS, index=None,
                                           horizontal=True, key=f"m_std_{pick}_{s.code}")
                if results[s.code] == field.FAIL:
                    pic = st.file_uploader(f"{s.code} 不达标照片", type=["jpg", "jpeg", "png", "webp"],
                                           key=f"m_stdpic_{pick}_{s.code}")
                    shots[s.code] = pic.getvalue() if pic else None
            grid_code = due.loc[due["code"] == pick, "grid_code"].iloc[0]
            if st.button("保存测评", type="primary", key="m_inspect"):
                chosen = {c: r for c, r in results.items() if r}
                before = grid_score(grid_code)
                try:
                    n = field.record_inspection(eng, actor, pick, chosen, shots, today=now.date())
                except (field.FieldError, photos.PhotoError, PermissionDenied) as exc:
                    st.error(md_escape(str(exc)))
                else:
                    cache.clear()
                    after = grid_score(grid_code)
                    moved = (f"网格 {grid_code} 本月综合得分 {before['score']:.1f} → {after['score']:.1f}"
                             if before is not None and after is not None else "")
                    remember("inspect", True, f"已保存 {pick} 的 {n} 项测评。{moved}")
                    st.rerun()
        flash("inspect")  # after a save the point has left the list: the message stays here
