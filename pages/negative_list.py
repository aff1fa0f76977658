"""The 负面清单 tab of the 三色牌 page (the command centre's desk): the month's negative-list events, reporting
one, confirming or withdrawing a reported one. Rules and arithmetic: gis.metrics.negative."""

from __future__ import annotations

import streamlit as st

from gis import clock
from gis.metrics import negative
from gis.people.permissions import PermissionDenied, allowed, district_scope
from pages.ui import md_escape

COLUMNS = {"code": "编号", "occurred_on": "发生日期", "grid_code": "网格", "unit_codes": "责任单位",
           "standard_code": "标准编号", "standard": "负面清单标准", "effect": "效果", "points": "扣分",
           "description": "事件经过", "status": "状态", "reported_by": "登记人", "decided_by": "确认/撤销人",
           "decided_at": "确认/撤销时间", "decision_note": "说明"}


def _done(message: str) -> None:
    st.session_state["negative_notice"] = message
    st.rerun()


def render(eng, actor) -> None:
    """The tab's content for `actor` on engine `eng`."""
    notice = st.session_state.pop("negative_notice", None)
    if notice:
        st.success(notice)
    st.caption("已确认的负面清单事件计入发生当月：否决 → 网格综合得分“一票否决”（排名末位、不上红榜），其责任单位列入十差单位；"
               "扣分 → 从网格综合得分中扣除该标准分值。待确认、已撤销的事件不计分。")
    today = clock.today()
    month = st.date_input("月份（按发生日期）", value=today.replace(day=1), key="negative_month")
    df = negative.events(eng, month, district=district_scope(actor))
    if df.empty:
        st.caption("该月没有负面清单事件。")
    else:
        st.dataframe(df[list(COLUMNS)].rename(columns=COLUMNS), hide_index=True, width="stretch")
    may_report = actor is not None and allowed(actor, "negative.report")
    may_decide = actor is not None and allowed(actor, "negative.decide")
    if not (may_report or may_decide):
        st.info("指挥中心、领导和管理员可以登记、确认或撤销负面清单事件。")
        return
    pending = df[df["status"] == negative.REPORTED]
    if may_decide and len(pending):
        with st.form("negative_decide", clear_on_submit=True):
            code = st.selectbox("待确认的事件", pending["code"].tolist())
            note = st.text_input("确认说明 / 撤销理由")
            a, b = st.columns(2)
            ok, no = a.form_submit_button("确认"), b.form_submit_button("撤销")
        if ok or no:
            rev = int(pending.set_index("code").at[code, "revision"])
            try:
                (negative.confirm if ok else negative.withdraw)(eng, actor, code, note, revision=rev)
            except (negative.NegativeError, PermissionDenied) as exc:
                st.error(md_escape(str(exc)))
            else:
                _done(f"负面清单事件 {code} 已{'确认' if ok else '撤销'}。")
    if may_report:
        stds = negative.negative_standards(eng)
        labels = {f"{r.code} {r.text}（{r.effect or '未设置效果'}" + (f" {r.points:g} 分" if r.effect == negative.DEDUCT
                                                                  else "") + "）": r.code for r in stds.itertuples()}
        with st.form("negative_report", clear_on_submit=True):
            st.markdown("**登记负面清单事件**")
            label = st.selectbox("负面清单标准", list(labels)) if labels else None
            a, b = st.columns(2)
            grid = a.text_input("网格编号（如 DC-07）")
            day = b.date_input("发生日期", value=today, max_value=today)
            units = st.text_input("涉及的责任单位编号（逗号分隔；留空为该网格的责任单位）")
            text = st.text_area("事件经过")
            sent = st.form_submit_button("登记")
        if sent:
            try:
                code = negative.report(eng, actor, labels.get(label, ""), grid, day, text, units.strip() or None)
            except (negative.NegativeError, PermissionDenied) as exc:
                st.error(md_escape(str(exc)))
            else:
                _done(f"已登记负面清单事件 {code}（待确认）。")
