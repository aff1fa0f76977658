"""曝光台: the exposed problems with before/after photos, their place on a map, unit, deadline,
state and the 曝光 decision (who, when) — made for a public screen: `?display=1` hides the
navigation and the form (a kiosk token opens it too). Only `gis.accountability.exposure.exposed`
is shown: no reporter, no phone number, no other personal data. 领导 may expose a problem here.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from gis import clock
from gis.accountability import exposure
from gis.accountability.cards import CardError
from gis.metrics.periods import add_months, month_start
from gis.people.permissions import KIOSK, PermissionDenied, allowed, district_scope
from gis.problems.photos import upload_dir
from layers.basemap import make_map
from layers.exposure import exposed_problems
from pages import cache
from pages.ui import basemap, current_actor, md_escape, show_map
from pages import gate

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

actor = current_actor()
params = st.query_params
display = bool(params.get("display")) or bool(params.get("kiosk")) or (actor is not None and actor.role == KIOSK)
if display:
    st.markdown("""<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stDecoration"], #MainMenu, footer { display:none !important; }
</style>""", unsafe_allow_html=True)
st.title("曝光台")
eng = cache.engine()

months = ["全部"] + [add_months(month_start(clock.today()), -i).strftime("%Y-%m") for i in range(12)]
choice = "全部" if display else st.selectbox("曝光月份", months, key="exposure_month")
since = until = None
if choice != "全部":
    since = datetime.strptime(choice, "%Y-%m")
    until = datetime.combine(add_months(since.date(), 1), datetime.min.time())
rows = exposure.exposed(eng, since, until, district=district_scope(actor))
st.caption(f"共 {len(rows)} 个曝光问题。本页不显示举报人、电话等个人信息。")

if len(rows):
    frame = rows.assign(deadline_text=rows["deadline"].map(lambda d: f"{d:%Y-%m-%d %H:%M}"))
    center = (float(frame["lat"].mean()), float(frame["lon"].mean()))
    m = make_map(center, zoom=14, basemap=basemap())
    exposed_problems(frame).add_to(m)
    lats, lons = frame["lat"], frame["lon"]
    if len(frame) > 1:
        m.fit_bounds([[lats.min(), lons.min()], [lats.max(), lons.max()]])
    show_map(m, key="exposure_map", height=420)


def _photo(col, rel, label: str) -> None:
    path = upload_dir() / rel if rel else None
    if path is not None and path.is_file():
        col.image(str(path), caption=label, width="stretch")
    else:
        col.caption(f"{label}：无照片")


for r in rows.itertuples():
    with st.container(border=True):
        text, before, after = st.columns([2, 1, 1])
        text.markdown(f"**{md_escape(r.code)} · {md_escape(r.category)}** — {md_escape(r.state)}")
        text.markdown(md_escape(r.description))
        text.markdown(f"网格 {md_escape(r.grid or '—')} · 责任单位 {md_escape(r.unit or '未派遣')} · "
                      f"整改时限 {r.deadline:%Y-%m-%d %H:%M}")
        card = f"（三色牌 {md_escape(r.card)}）" if r.card else ""
        text.caption(f"曝光决定：{md_escape(r.decided_by)} · {r.decided_at:%Y-%m-%d %H:%M}{card} · "
                     f"{md_escape(r.reason or '')}")
        _photo(before, r.before_photo, "整改前")
        _photo(after, r.after_photo, "整改后")

if not display and actor is not None and allowed(actor, "card.expose"):
    with st.form("exposure_add", clear_on_submit=True):
        st.subheader("曝光问题")
        codes = st.text_input("问题编号（多个用逗号分隔）")
        reason = st.text_input("曝光理由")
        if st.form_submit_button("曝光"):
            try:
                n = exposure.expose(eng, actor, [c.strip() for c in codes.replace("，", ",").split(",") if c.strip()],
                                    reason)
            except (CardError, PermissionDenied) as exc:
                st.error(md_escape(str(exc)))
            else:
                st.session_state["exposure_notice"] = f"已曝光 {n} 个问题。"
                st.rerun()
notice = st.session_state.pop("exposure_notice", None)
if notice:
    st.success(notice)
