"""The figures' names, formulas and definitions in Chinese (指标说明): one table, read by the
machine-readable figures (`gis.metrics.monthly`), the 指标说明 page and the wall's ⓘ links.

``column`` is the figure's column in `gis.metrics.figures` (counts) or its rate
(`figures.RATES`); the Chinese name is the JSON key and the on-screen label.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str        # Chinese name: the label on screen and the JSON key
    column: str      # column of gis.metrics.figures (or a rate of figures.RATES)
    formula: str     # how it is computed, in Chinese
    definition: str  # what it counts, in Chinese
    rate: bool = False
    anchor: str = ""  # the 指标说明 page's anchor for the ⓘ link


FIGURES: tuple[Figure, ...] = (
    Figure("立案数", "registered", "本月立案的问题数",
           "本月立案的问题。市民热线、群众举报先为“待立案”，指挥中心立案或不予立案；网格员巡查、暗访、督查发现的问题上报即立案。待立案、不予立案的问题不计入任何指标。"),
    Figure("应结案数", "due", "整改时限在本月的问题 + 本月提前结案的问题 − 缓办",
           "整改时限（含批准延期后的新时限）落在本月的已立案问题，加上时限在以后、但本月已结案的问题，减去批准缓办的问题。每个问题只在一个月份应结案。"),
    Figure("结案数", "closed", "应结案问题中已核查结案的",
           "应结案问题中，到统计时点已核查通过（已结案）的问题。"),
    Figure("结案率", "closure_rate", "结案数 ÷ 应结案数", "应结案问题中已结案的比例。", rate=True),
    Figure("按期结案数", "on_time", "应结案问题中在整改时限内整改并核查结案的",
           "应结案问题中，在整改时限（含延期后的时限）之前完成整改并核查通过的问题。"),
    Figure("按期结案率", "on_time_rate", "按期结案数 ÷ 应结案数", "应结案问题中按期结案的比例。", rate=True),
    Figure("返工数", "rework", "应结案问题中被核查退回过的", "应结案问题中，核查时至少被退回一次（返工）的问题。"),
    Figure("返工率", "rework_rate", "返工数 ÷ 应结案数", "应结案问题中返工的比例。", rate=True),
    Figure("延期数", "extended", "应结案问题中批准过延期的", "应结案问题中，责任单位申请、指挥中心批准延期的问题。"),
    Figure("延期率", "extension_rate", "延期数 ÷ 应结案数", "应结案问题中批准延期的比例。", rate=True),
    Figure("缓办数", "deferred", "本月批准缓办的问题数",
           "本月经指挥中心批准缓办（暂不具备处置条件，如等待季节）的问题；缓办问题不计入应结案，也不算超期。"),
    Figure("超期数", "overdue", "应结案数 − 按期结案数",
           "应结案问题中未在整改时限内结案的：超期结案的，以及到统计时点仍未结案且已过时限（超期）的。"),
    Figure("超期率", "overdue_rate", "超期数 ÷ 应结案数", "应结案问题中超期的比例（= 1 − 按期结案率）。", rate=True),
    Figure("处置率", "handling_rate", "处置数 ÷ 应结案数",
           "应结案问题中，到统计时点责任单位已整改完毕（提交整改或已结案）的比例。", rate=True),
    Figure("平均整改用时", "avg_hours", "应结案且已整改问题的（整改时间 − 上报时间）平均值，单位小时",
           "应结案问题中已整改的，从上报到提交整改的平均小时数（自然时）。"),
    Figure("回访数", "followed", "本月完成的 12345 回访数", "本月 12345 热线对已结案诉求回访、记录了满意度的问题数。"),
    Figure("满意率", "satisfaction_rate", "（满意 + 基本满意）÷ 回访数",
           "本月回访中，市民答复“满意”或“基本满意”的比例；“不满意”计入分母。", rate=True),
)

#: Figures of the wall that are not month figures of the JSON (问题数 is the wall's count of reports).
WALL_FIGURES: tuple[Figure, ...] = (
    Figure("问题数", "problems", "本月上报并已立案的问题数", "本月上报的问题中已立案的（不含待立案、不予立案）。"),
    Figure("现超期", "overdue_now", "统计时点处于超期状态的问题数",
           "统计时点已立案、未结案、未缓办且已过整改时限（含延期后的时限）的问题，不论上报月份。"),
)

BY_NAME = {f.name: f for f in (*FIGURES, *WALL_FIGURES)}

#: 综合得分 in one sentence (a tile's tooltip); the 指标说明 page gives it in full with the settings in force.
SCORE_SUMMARY = ("综合得分 = 100 × 测评通过率 − 问题扣分（最多 30 分，按全市平均扣分折算）− 超期扣分（20 × 超期率），"
                 "限定在 0–100 分；本月没有实地测评的网格没有综合得分。详见“指标说明”页。")

#: Words used by several definitions, for the 指标说明 page.
TERMS: tuple[tuple[str, str], ...] = (
    ("统计时点", "一个月份按月末统计（本月按当前时刻），月份结束后数字不再变化。"),
    ("整改时限", "按问题类型设定：工作时（只计工作日的上班时段）、工作日（上报次日起的整日工作日，至最后一日下班）或自然时；"
               "工作日依国务院公布的法定节假日和调休安排。批准延期后以新时限为准，原时限保留。"),
    ("超期（问题状态）", "已立案、未结案、未缓办，且已过整改时限的问题。"),
    ("按期", "在整改时限之前整改并核查结案。"),
    ("超期结案", "结案时已过整改时限。"),
    ("反馈不过夜", "问题派遣给责任单位后，须在派遣当日 24 时前签收。"),
)


def anchor(name: str) -> str:
    """The anchor of a figure on the 指标说明 page (ASCII, for links: the column name)."""
    f = BY_NAME.get(name)
    return f.column.replace("_", "-") if f else ""
