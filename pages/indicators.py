"""指标说明: every figure's definition in Chinese with its formula — the page each ⓘ on the wall links to.

The text comes from gis.metrics.definitions (the same table the JSON figures use), the settings
from gis.metrics.settings; this page only lays them out. Each figure has an anchor
(``/indicators#closure-rate``) so a link can open it directly.
"""

import streamlit as st

from gis.metrics import definitions, settings
from gis.problems import worktime
from pages import gate

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

st.title("指标说明")
st.caption("各项指标的口径与计算公式。领导大屏、网格详情、`python -m gis figures` 导出的数字均按此计算。")

st.subheader("基本概念", anchor="terms")
for term, text in definitions.TERMS:
    st.markdown(f"**{term}**：{text}")  # trusted text of gis.metrics.definitions

st.subheader("问题指标", anchor="figures")
for f in (*definitions.WALL_FIGURES, *definitions.FIGURES):
    st.markdown(f'<a id="{definitions.anchor(f.name)}"></a>', unsafe_allow_html=True)
    st.markdown(f"#### {f.name}")
    st.markdown(f"**公式**：{f.formula}{'（以小数或百分比表示）' if f.rate else ''}")
    st.markdown(f.definition)

st.subheader("综合得分", anchor="score")
th = settings.thresholds()
weights = "、".join(f"{k} ×{v:g}" for k, v in settings.source_weights().items())
st.markdown(
    "**公式**：综合得分 = 100 × 测评通过率 − 问题扣分 − 超期扣分，结果限定在 0–100 分。\n\n"
    "- **测评通过率** = 本月实地测评所得分 ÷ 应得分（按测评标准分值加权，部分得分计入，与“谁丢分”口径一致）。"
    "本月没有测评的网格没有测评通过率，也就没有综合得分（不按 100% 计）。\n"
    f"- **问题扣分** = 10 × 本网格本月问题扣分 ÷ 全市网格平均扣分，最多 30 分；各来源的扣分权重：{weights}"
    "（网格自查上报的问题权重较低，避免“多报多扣”）。\n"
    "- **超期扣分** = 20 × 本网格本月超期率（超期数 ÷ 应结案数）。\n"
    f"- **排名与三色牌**：本月测评不少于 {settings.min_inspections()} 次（同一点位同一天计 1 次）的网格参加全市排名；"
    f"绿牌 ≥ {th.green:g} 分，黄牌 ≥ {th.yellow:g} 分，其余红牌。测评次数不足的网格显示为灰色“样本不足”，不排名、不着色。\n"
    f"- **十差单位**：本月应结案不少于 {settings.unit_min_cases()} 件的责任单位中，按期结案率最低的十个（同率时超期多者在前）。")

st.subheader("整改时限", anchor="deadlines")
periods = "、".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in worktime.work_hours())
st.markdown(
    f"按问题类型设定，单位为工作时、工作日或自然时。工作时只计工作日的上班时段（{periods}）；"
    "工作日自上报（立案）次日起计整日，至最后一个工作日下班；工作日依国务院公布的法定节假日和调休安排"
    f"（已收录 {min(worktime.COVERED_YEARS)}–{max(worktime.COVERED_YEARS)} 年）。"
    "尚未收录的年份不作推测，系统会提示无法计算。批准延期后以新时限为准，原时限保留。")
