"""三色牌: the register with filters, one card's history and its next step (escalate, lift), issuing
by hand, a unit's / point's / grid's record, and 约谈 / 问责 records. Every rule (who may, what is
valid) is in gis.accountability; this page reads widgets, calls it and shows the result."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from gis import clock
from gis.accountability import cards, interviews
from gis.accountability.cards import CardError, Evidence
from gis.people.permissions import PermissionDenied, allowed, district_scope
from pages import cache, negative_list
from pages.ui import current_actor, md_escape, table
from pages import gate

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)
INTERVIEW_HEADERS = {"kind": "类型", "unit": "单位", "people": "对象", "held_on": "日期", "reason": "事由", "cards": "三色牌",
                     "problems": "问题", "outcome": "结果", "follow_up": "跟踪期限", "recorded_by": "记录人",
                     "recorded_at": "记录时间", "id": "序号", "unit_code": "单位编号"}

actor = current_actor()
eng = cache.engine()
st.title("三色牌")
notice = st.session_state.pop("cards_notice", None)
if notice:
    st.success(notice)

KINDS = {"全部": None, **{v: k for k, v in cards.TARGET_LABELS.items()}}


def _try(fn, *args, ok: str, **kwargs) -> None:
    try:
        fn(eng, actor, *args, **kwargs)
    except (CardError, PermissionDenied, ValueError) as exc:
        st.error(md_escape(str(exc)))
        return
    st.session_state["cards_notice"] = ok
    st.rerun()


register_tab, issue_tab, record_tab, talk_tab, negative_tab = st.tabs(
    ["台账", "亮牌", "对象档案", "约谈 / 问责", "负面清单"])

with register_tab:
    f1, f2, f3, f4 = st.columns(4)
    kind = KINDS[f1.selectbox("对象类型", list(KINDS), key="cards_kind")]
    color = f2.selectbox("牌色", ["全部", *cards.COLORS], key="cards_color")
    status = f3.selectbox("状态", ["全部", cards.ACTIVE, cards.ESCALATED, cards.LIFTED], key="cards_status")
    target = f4.text_input("对象编号", key="cards_target").strip() or None
    reg = cards.register(eng, kind, target, None if color == "全部" else color, None if status == "全部" else status,
                         district=district_scope(actor))
    table(reg.drop(columns=["revision"]).rename(columns={
        "code": "编号", "color": "牌色", "target_kind": "对象类型", "target_code": "对象编号", "target": "对象",
        "reason": "事由", "issued_by": "签发人", "issued_at": "签发时间", "deadline": "反馈期限", "step": "处置阶段",
        "status": "状态", "rule": "规则", "lifted_by": "摘牌人", "lifted_at": "摘牌时间", "parent": "由黄牌升级"}),
        hide_index=True, width="stretch")
    if len(reg):
        code = st.selectbox("查看三色牌", reg["code"].tolist(), key="cards_pick")
        row = reg.set_index("code").loc[code]
        st.subheader(f"{row['color']}牌 {code} · {md_escape(row['target'])}（{row['status']}，{row['step']}）")
        table(cards.card_actions(eng, code).rename(columns={"action": "处置", "actor": "经办人", "at": "时间",
                                                                   "note": "说明", "file": "附件"}),
                     hide_index=True, width="stretch")
        nxt = cards.next_step(row["step"])
        if row["status"] == cards.ACTIVE and nxt and actor is not None and allowed(actor, "card.escalate"):
            with st.form("cards_escalate", clear_on_submit=True):
                st.markdown(f"**下一步：{nxt}**")
                note = st.text_input("处置说明")
                upload = st.file_uploader("书面说明文件", type=["pdf", "doc", "docx", "jpg", "jpeg", "png"]) \
                    if nxt == "书面说明" else None
                probs = st.text_input("曝光问题编号（逗号分隔；默认为证据中的问题）") if nxt == "曝光台" else ""
                if st.form_submit_button(f"执行：{nxt}"):
                    _try(cards.escalate, code, note, file=(upload.name, upload.getvalue()) if upload else None,
                         problems=[c.strip() for c in probs.replace("，", ",").split(",") if c.strip()] or None,
                         revision=int(row["revision"]), ok=f"三色牌 {code} 已进入“{nxt}”。")
        if row["status"] == cards.ACTIVE and actor is not None and allowed(actor, "card.lift"):
            with st.form("cards_lift", clear_on_submit=True):
                note = st.text_input("摘牌依据（整改核查情况）")
                if st.form_submit_button("摘牌"):
                    _try(cards.lift, code, note, revision=int(row["revision"]), ok=f"三色牌 {code} 已摘牌。")

with issue_tab:
    if actor is None or not allowed(actor, "card.issue"):
        st.info("核查员、指挥中心和领导可以签发三色牌。")
    else:
        with st.form("cards_issue", clear_on_submit=True):
            a, b, c = st.columns(3)
            kind = KINDS[a.selectbox("对象类型", list(KINDS)[1:])]
            target = b.text_input("对象编号（单位编号 / 点位编号 / 网格编号）")
            color = c.selectbox("牌色", cards.COLORS)
            reason = st.text_area("事由")
            probs = st.text_input("证据：问题编号（逗号分隔）")
            days = st.number_input("反馈期限（天）", min_value=1, max_value=90, value=7)
            if st.form_submit_button("签发"):
                ev = Evidence(problems=[x.strip() for x in probs.replace("，", ",").split(",") if x.strip()])
                now = clock.now().replace(microsecond=0)
                _try(cards.issue, kind, target.strip(), color, reason, ev, deadline=now + timedelta(days=int(days)),
                     now=now, ok="三色牌已签发。")
    if actor is not None and allowed(actor, "card.rules"):
        month = st.date_input("执行月度亮牌规则：月份", value=clock.today().replace(day=1), key="cards_rules_month")
        st.caption(f"只对本区县（{district_scope(actor)}）执行。" if district_scope(actor) else
                   "对各区县分别执行：各按本区县的红黑榜、十差单位和区县设置。")
        if st.button("执行月度规则", key="cards_rules"):
            try:
                issued = cards.apply_rules(eng, actor, month)
            except (CardError, PermissionDenied, ValueError) as exc:
                st.error(md_escape(str(exc)))
            else:
                st.session_state["cards_notice"] = f"按规则签发 {len(issued)} 张三色牌。"
                st.rerun()

with record_tab:
    a, b = st.columns(2)
    kind = KINDS[a.selectbox("对象类型", list(KINDS)[1:], key="cards_rec_kind")]
    target = b.text_input("对象编号", key="cards_rec_code").strip()
    if target:
        hist = cards.history(eng, kind, target, district=district_scope(actor))  # a district's own
        table(hist.rename(columns={"card": "三色牌", "color": "牌色", "action": "处置", "actor": "经办人",
                                          "at": "时间", "note": "说明", "file": "附件"}), "该对象没有三色牌记录。", hide_index=True, width="stretch")
        if kind == "unit":
            table(interviews.records(eng, unit_code=target, district=district_scope(actor)).rename(columns=INTERVIEW_HEADERS), "该单位没有约谈 / 问责记录。",
                  hide_index=True, width="stretch")

with talk_tab:
    table(interviews.records(eng, district=district_scope(actor)).rename(columns=INTERVIEW_HEADERS),  # a district's own
        hide_index=True, width="stretch")
    if actor is not None and allowed(actor, "card.interview"):
        with st.form("cards_interview", clear_on_submit=True):
            a, b, c = st.columns(3)
            kind = a.selectbox("类型", interviews.KINDS)
            unit = b.text_input("责任单位编号")
            held = c.date_input("日期", value=clock.today())
            people = st.text_input("对象（职务 姓名）")
            reason = st.text_area("事由")
            linked_cards = st.text_input("关联三色牌编号（逗号分隔）")
            linked_probs = st.text_input("关联问题编号（逗号分隔）")
            outcome = st.text_input("结果")
            follow = st.date_input("跟踪整改期限", value=None)
            if st.form_submit_button("保存记录"):
                _try(interviews.record, kind, unit.strip(), people, held, reason, cards=linked_cards,
                     problems=linked_probs, outcome=outcome, follow_up=follow, ok=f"{kind}记录已保存。")

with negative_tab:
    negative_list.render(eng, actor)  # 负面清单事件 (pages/negative_list.py)
