"""Evaluation standards (全国文明城市测评体系, 实地考察 part) and problem categories.

A realistic, hand-written subset: the demo needs plausible wording and weights so that
inspection scores, 负面清单 deductions and problem categories line up the way they do in
a real 创城 dashboard. Nothing here is random; every function returns a fresh DataFrame.
"""

from __future__ import annotations

import pandas as pd
from gis.assessment import KIND_ITEMS

# (item 测评项目, content 测评内容, text 测评标准, points, negative 负面清单, category)
# Codes are assigned as "3.<item no>.<standard no>" (3 = 实地考察) in this order.
_ITEMS: list[tuple[str, list[tuple[str, str, float, bool, str | None]]]] = [
    ("市容环境", [
        ("主次干道", "路面平整，无坑洼破损，无积水；无乱堆乱放、无乱搭乱建", 2.0, False, "道路破损"),
        ("主次干道", "沿街门店无出店经营、占道经营，无流动摊贩", 2.0, False, "占道经营"),
        ("主次干道", "沿街建筑立面整洁，无乱贴乱画、无违规张贴小广告", 1.5, False, "小广告"),
        ("户外广告", "户外广告、门头牌匾设置规范，无破损，无乱拉乱挂横幅", 1.0, False, "乱拉乱挂"),
        ("园林绿化", "绿化带内无垃圾杂物，无毁绿种菜、无踩踏裸土，行道树无缺株死株", 1.0, False, "绿化带破坏"),
        ("餐饮油烟", "沿街餐饮单位油烟净化设施正常使用，无露天烧烤", 1.0, False, "露天烧烤"),
        ("突出问题", "城区范围内出现露天烧烤、占道烧烤经营", 1.0, False, "露天烧烤"),
        ("突出问题", "主次干道出现占道经营、马路市场", 1.0, False, "占道经营"),
        ("突出问题", "建筑立面、公共设施上出现乱贴乱画小广告", 1.0, False, "小广告"),
        ("突出问题", "出现私搭乱建彩钢棚、简易房", 1.0, False, "乱搭乱建"),
    ]),
    ("环境卫生", [
        ("道路保洁", "道路清扫保洁到位，路面无烟头、纸屑、果皮等废弃物", 1.5, False, "乱扔垃圾"),
        ("垃圾收运", "垃圾桶（箱）设置合理、外观整洁，垃圾日产日清，无满溢", 2.0, False, "暴露垃圾"),
        ("垃圾分类", "生活垃圾分类投放设施齐全，标识清晰，分类投放准确", 1.0, False, None),
        ("卫生死角", "无卫生死角，无积存垃圾，无建筑垃圾乱倒乱卸", 1.5, False, "暴露垃圾"),
        ("突出问题", "出现暴露垃圾、积存垃圾未及时清运", 1.0, False, "暴露垃圾"),
    ]),
    ("交通秩序", [
        ("机动车停放", "机动车按标线有序停放，无占用人行道、盲道、消防通道停车", 2.0, False, "乱停乱放"),
        ("非机动车停放", "非机动车、共享单车停放整齐有序，无堵塞通道", 1.5, False, "乱停乱放"),
        ("路口秩序", "主要路口有交警或交通协管员执勤，机动车礼让斑马线", 1.5, False, None),
        ("交通设施", "交通标志、标线、信号灯设置规范，清晰完好", 1.0, False, None),
        ("行人守法", "行人、非机动车遵守交通信号，无闯红灯、无逆行", 1.0, False, None),
        ("突出问题", "出现车辆乱停乱放、占道停车堵塞交通", 1.0, False, "乱停乱放"),
    ]),
    ("公共设施", [
        ("市政设施", "井盖、雨水篦子齐全完好，无缺失、无破损下沉", 1.5, False, "井盖缺失"),
        ("人行道", "人行道地砖平整，无松动、缺失，盲道连续畅通", 1.0, False, "道路破损"),
        ("公共服务设施", "公交站亭、路灯、护栏、座椅等设施完好整洁", 1.0, False, None),
        ("架空线缆", "架空线缆规整，无乱拉乱接、垂落杂乱", 1.0, False, "乱拉乱挂"),
        ("无障碍设施", "无障碍坡道、扶手等设施建设规范，完好可用", 0.5, False, None),
        ("突出问题", "井盖缺失、破损未设置警示并及时处置", 1.0, False, "井盖缺失"),
    ]),
    ("公益广告", [
        ("主次干道", "主次干道、重要路口设置社会主义核心价值观公益广告，内容规范、画面完好", 1.5, False, "公益广告缺失"),
        ("施工围挡", "建筑工地围挡设置公益广告，内容健康，无破损褪色", 1.0, False, "公益广告缺失"),
        ("公共场所", "车站、广场、公园、商场等公共场所显著位置设置公益广告", 1.0, False, "公益广告缺失"),
        ("社区小区", "社区、小区、城中村主要出入口及宣传栏设置公益广告", 1.0, False, "公益广告缺失"),
        ("突出问题", "公益广告缺失、破损褪色未及时更换或出现错别字", 1.0, False, "公益广告缺失"),
    ]),
    ("农贸市场", [
        ("经营秩序", "市场内划行归市、摊位整齐，无场外占道经营", 2.0, False, "占道经营"),
        ("环境卫生", "地面干净无积水，垃圾及时清运，无暴露垃圾、无异味", 2.0, False, "暴露垃圾"),
        ("活禽管理", "活禽经营区域相对独立，宰杀区隔离设置，设施符合卫生要求", 1.0, False, None),
        ("公示宣传", "设置公平秤、食品安全检测公示栏和公益广告", 1.0, False, "公益广告缺失"),
        ("周边秩序", "市场周边车辆停放有序，无乱停乱放", 1.0, False, "乱停乱放"),
        ("病媒防制", "防蝇防鼠设施齐全，熟食区有防尘防蝇措施", 1.0, False, None),
    ]),
    ("背街小巷", [
        ("路面", "路面硬化平整，无坑洼积水，排水通畅", 1.5, False, "道路破损"),
        ("秩序", "无乱堆乱放，无占用巷道堆放杂物", 1.5, False, "乱堆乱放"),
        ("立面", "墙面整洁，无乱贴乱画、无小广告", 1.0, False, "小广告"),
        ("空中秩序", "无乱拉乱挂、乱晾乱晒，空中线缆规整", 1.0, False, "乱拉乱挂"),
        ("照明", "路灯照明设施完好，夜间亮灯率达标", 0.5, False, None),
        ("保洁", "保洁到位，无暴露垃圾和卫生死角", 1.5, False, "暴露垃圾"),
    ]),
    ("居民小区", [
        ("楼院环境", "小区道路整洁，楼道内无堆放杂物、无乱贴小广告", 1.5, False, "乱堆乱放"),
        ("私搭乱建", "无私搭乱建，无违规占用公共绿地、公共空间", 1.5, False, "乱搭乱建"),
        ("停车秩序", "车辆停放有序，消防通道畅通", 1.0, False, "乱停乱放"),
        ("物业管理", "物业管理规范，垃圾分类投放点设置合理、清运及时", 1.0, False, "暴露垃圾"),
        ("文明养犬", "文明养犬，出户牵绳，及时清理犬只粪便", 1.0, False, "不文明养犬"),
        ("宣传氛围", "设置社会主义核心价值观和文明健康生活方式公益广告", 0.5, False, "公益广告缺失"),
        ("突出问题", "楼顶、院落出现违法建设或新增违章建筑", 1.0, False, "违章建筑"),
    ]),
    ("城中村", [
        ("街巷路面", "主要街巷路面硬化，排水通畅，无污水横流", 1.0, False, "道路破损"),
        ("垃圾治理", "垃圾定点收集、日产日清，无暴露垃圾、无积存垃圾", 2.0, False, "暴露垃圾"),
        ("违法建设", "无违章建筑，无乱搭乱建", 1.5, False, "违章建筑"),
        ("村容村貌", "柴草杂物堆放整齐，无乱堆乱放", 1.0, False, "乱堆乱放"),
        ("空中秩序", "空中线缆规整，无乱拉乱挂", 1.0, False, "乱拉乱挂"),
        ("宣传氛围", "村内主要位置设置公益广告和宣传栏", 0.5, False, "公益广告缺失"),
    ]),
    ("学校周边", [
        ("周边秩序", "学校周边200米内无流动摊贩、无占道经营", 1.5, False, "占道经营"),
        ("接送秩序", "上下学时段接送车辆停放有序，设置护学岗", 1.5, False, "乱停乱放"),
        ("周边环境", "周边无网吧、游戏厅等营业性娱乐场所，无出售“三无”食品", 1.0, False, None),
        ("宣传警示", "校门口及周边设置公益广告和交通安全警示标志", 0.5, False, "公益广告缺失"),
    ]),
    ("医院", [
        ("停车秩序", "院内及门前车辆停放有序，无乱停乱放", 1.5, False, "乱停乱放"),
        ("院内环境", "院内环境整洁，无暴露垃圾，医疗废物规范处置", 1.0, False, "暴露垃圾"),
        ("便民服务", "设置导医服务台和志愿服务站，候诊秩序良好", 1.0, False, None),
        ("宣传氛围", "公共区域设置公益广告和禁烟标识", 0.5, False, "公益广告缺失"),
    ]),
    ("公共厕所", [
        ("卫生状况", "公厕干净无异味，地面无积水、无污渍，便池无堵塞", 2.0, False, "公厕脏乱"),
        ("设施管理", "洗手液、厕纸等设施齐全，有专人保洁管理", 1.0, False, "公厕脏乱"),
        ("标识公示", "公厕指示牌设置规范，开放时间和管理责任人公示", 0.5, False, None),
        ("突出问题", "公厕脏乱差、有明显异味", 1.0, False, "公厕脏乱"),
    ]),
    ("九小门店", [
        ("门前三包", "门前三包责任落实，门前无乱堆乱放、无出店经营", 1.5, False, "占道经营"),
        ("店内卫生", "店内外环境整洁，无油污、无垃圾", 1.0, False, "乱扔垃圾"),
        ("牌匾标识", "门头牌匾设置规范，无乱贴、乱挂", 0.5, False, "乱拉乱挂"),
        ("证照公示", "营业执照、卫生许可证等证照齐全并亮照经营", 0.5, False, None),
        ("宣传氛围", "经营场所张贴“讲文明 树新风”公益广告", 0.5, False, "公益广告缺失"),
    ]),
    ("建筑工地", [
        ("围挡管理", "工地实行封闭管理，围挡完整、规范设置", 1.0, False, None),
        ("扬尘治理", "土方、物料覆盖到位，出入口车辆冲洗，无扬尘污染", 1.5, False, None),
        ("渣土运输", "渣土车密闭运输，无抛洒滴漏", 1.0, False, None),
        ("夜间施工", "夜间施工按规定办理许可，无噪音扰民", 1.0, False, "噪音扰民"),
        ("周边环境", "建筑垃圾及时清运，工地周边无乱堆乱放", 1.0, False, "乱堆乱放"),
    ]),
    ("文明行为", [
        ("公共卫生", "市民无乱扔垃圾、随地吐痰、乱扔烟头等不文明行为", 1.5, False, "乱扔垃圾"),
        ("公共秩序", "公共场所无大声喧哗，无噪音扰民", 1.0, False, "噪音扰民"),
        ("文明养犬", "文明养犬，遛犬牵绳，无犬只伤人", 1.0, False, "不文明养犬"),
        ("排队礼让", "排队礼让，公共场所秩序良好", 0.5, False, None),
        ("突出问题", "出现乱扔烟头、随地吐痰现象", 1.0, False, "乱扔垃圾"),
        ("突出问题", "出现遛犬不牵绳、不清理犬只粪便现象", 1.0, False, "不文明养犬"),
    ]),
    ("广场公园", [
        ("园容园貌", "广场、公园环境整洁，绿化养护良好，无毁绿践踏", 1.5, False, "绿化带破坏"),
        ("设施维护", "健身、照明、座椅等设施完好", 1.0, False, None),
        ("活动秩序", "广场舞等群众活动音量适度，不扰民", 1.0, False, "噪音扰民"),
        ("宣传氛围", "设置公益广告和文明提示牌", 0.5, False, "公益广告缺失"),
    ]),
    ("公共交通站点", [
        ("站前秩序", "站前广场秩序良好，无拉客揽客、无占道经营", 1.5, False, "占道经营"),
        ("车辆停放", "出租车、网约车、非机动车停放有序", 1.5, False, "乱停乱放"),
        ("站内环境", "候车区域整洁，无暴露垃圾，卫生间干净无异味", 1.0, False, "暴露垃圾"),
        ("志愿服务", "设置公益广告和志愿服务站点", 0.5, False, "公益广告缺失"),
    ]),
]


# 负面清单 (negative list) of the 测评体系: events that happen to a city, not street nuisances an inspector
# checks at a point. (content, text, points, effect): 否决 vetoes the grid's 综合得分 for the month (points
# nominal), 扣分 deducts the points (gis.metrics.negative). Codes follow _ITEMS: 3.<len(_ITEMS) + 1>.<n>.
NEGATIVE_LIST: list[tuple[str, str, float, str]] = [
    ("安全生产", "发生重大安全生产责任事故，造成人员死亡或重大财产损失", 10.0, "否决"),
    ("生态环境", "发生重大环境污染事件或生态破坏事件", 10.0, "否决"),
    ("食品药品安全", "发生食品药品安全事故，造成群体性健康损害", 10.0, "否决"),
    ("网络舆情", "发生造成恶劣影响的重大负面舆情，被中央或省级媒体曝光", 5.0, "扣分"),
    ("党风廉政", "党员干部发生严重违法违纪案件，造成恶劣社会影响", 10.0, "否决"),
    ("社会稳定", "发生群体性事件，造成严重社会影响", 5.0, "扣分"),
    ("社会治安", "电信网络诈骗案件高发，被上级通报", 3.0, "扣分"),
    ("社会治安", "发生重大刑事案件或涉黑涉恶案件，造成恶劣影响", 3.0, "扣分"),
    ("道德风尚", "发生严重违背社会公德、引发公众强烈反感的事件", 2.0, "扣分"),
]


# name, deadline_hours (整改时限), deduction (扣分), default standard code
_CATEGORIES: list[tuple[str, float, float, str]] = [
    ("占道经营", 24, 1.0, "3.1.2"),
    ("乱停乱放", 2, 0.5, "3.3.1"),
    ("露天烧烤", 2, 2.0, "3.1.6"),
    ("小广告", 24, 0.5, "3.1.3"),
    ("暴露垃圾", 4, 1.0, "3.2.2"),
    ("违章建筑", 720, 3.0, "3.9.3"),
    ("乱搭乱建", 168, 1.5, "3.8.2"),
    ("道路破损", 72, 1.0, "3.1.1"),
    ("公厕脏乱", 4, 1.0, "3.12.1"),
    ("公益广告缺失", 72, 0.5, "3.5.1"),
    ("乱扔垃圾", 2, 0.5, "3.2.1"),
    ("绿化带破坏", 72, 0.5, "3.1.5"),
    ("乱拉乱挂", 24, 0.5, "3.1.4"),
    ("井盖缺失", 12, 2.0, "3.4.1"),
    ("噪音扰民", 24, 0.5, "3.15.2"),
    ("不文明养犬", 24, 0.5, "3.15.3"),
    ("乱堆乱放", 24, 0.5, "3.7.2"),
]

# --- numbers (issue 12): each category's 整改时限 in its own unit (gis.problems.worktime) and,
# where the standard has one, the urgent first limit in hours (井盖缺失: a warning sign within 1 h).
# deadline_hours above stays the natural-hours equivalent the demo's history was generated with.
_TIME_LIMITS: dict[str, tuple[float, str, float | None]] = {
    "占道经营": (8, "工作时", None), "乱停乱放": (2, "工作时", None), "露天烧烤": (2, "自然时", None),
    "小广告": (8, "工作时", None), "暴露垃圾": (4, "工作时", None), "违章建筑": (20, "工作日", 4),
    "乱搭乱建": (20, "工作日", 4), "道路破损": (5, "工作日", None), "公厕脏乱": (4, "工作时", None),
    "公益广告缺失": (5, "工作日", None), "乱扔垃圾": (2, "工作时", None), "绿化带破坏": (5, "工作日", None),
    "乱拉乱挂": (8, "工作时", None), "井盖缺失": (16, "工作时", 1), "噪音扰民": (2, "自然时", None),
    "不文明养犬": (8, "工作时", None), "乱堆乱放": (8, "工作时", None),
}

# Description templates per category: they follow a location phrase, e.g.
# "柳园南路与兴华路交叉口西侧" + "有商贩占道经营水果摊". "kind,kind|text" limits a template to
# those 点位 kinds (e.g. 广场舞 only at 广场公园/小区); every category keeps untagged ones.
DESCRIPTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "占道经营": ("有商贩占道经营水果摊", "有流动摊贩占道售卖蔬菜", "沿街商户出店经营，货物摆放至人行道",
             "早市摊点未按时收摊，占用车行道"),
    "乱停乱放": ("非机动车乱停乱放，堵塞盲道", "机动车违规停放在人行道上", "共享单车无序停放，占用通道",
             "电动车乱停乱放，影响通行"),
    "露天烧烤": ("有商户露天烧烤，油烟扰民", "夜间有摊贩占道露天烧烤", "烧烤摊在人行道上露天经营"),
    "小广告": ("墙面、电线杆上张贴小广告", "有喷涂的办证、开锁小广告",
            "主次干道,车站,商业大街|公交站牌上乱贴小广告", "小区|楼道内张贴小广告"),
    "暴露垃圾": ("垃圾桶满溢，有暴露垃圾未及时清运", "有积存生活垃圾，异味明显", "有建筑垃圾、杂物堆放未清运"),
    "违章建筑": ("有新增违章建筑（彩钢板房）", "城中村,小区,背街小巷|有私自加盖的违建房屋",
             "小区|楼顶违规搭建阳光房"),
    "乱搭乱建": ("私搭乱建简易棚", "违规搭建雨棚、遮阳棚", "占用公共空间搭建储物间"),
    "道路破损": ("路面坑洼破损，雨后积水", "人行道地砖松动、缺失", "路缘石破损，存在安全隐患"),
    "公厕脏乱": ("公厕地面湿滑、有异味", "公厕便池堵塞，无人清理", "公厕洗手液、厕纸缺失，卫生差"),
    "公益广告缺失": ("公益广告缺失", "核心价值观公益广告褪色破损，未及时更换", "建筑工地|围挡未设置公益广告"),
    "乱扔垃圾": ("地面有烟头、纸屑等散落垃圾", "绿化带内有塑料袋、饮料瓶等垃圾", "有行人乱扔垃圾、烟头"),
    "绿化带破坏": ("绿化带被踩踏，黄土裸露", "行道树缺株、死株未补植", "小区,城中村,背街小巷,广场公园|绿地被毁种菜"),
    "乱拉乱挂": ("沿街乱拉电线、晾晒衣物", "树上乱拉乱挂横幅", "空中线缆杂乱，有垂落"),
    "井盖缺失": ("井盖缺失，存在安全隐患", "井盖破损下沉", "雨水篦子缺失"),
    "噪音扰民": ("商户外放音响招揽顾客，噪音扰民", "夜间经营场所噪音扰民", "建筑工地|夜间施工噪音扰民",
             "广场公园,小区|广场舞音响音量过大"),
    "不文明养犬": ("有遛狗不牵绳现象", "犬只粪便未及时清理", "有大型犬未拴养"),
    "乱堆乱放": ("杂物乱堆乱放，占用人行道", "沿街堆放废旧物品", "小区|楼道内堆放杂物"),
}


def templates(category: str, kind: str) -> list[str]:
    """Description templates usable for a problem of ``category`` at a place of ``kind``."""
    out = []
    for t in DESCRIPTION_TEMPLATES.get(category, ("存在问题",)):
        kinds, _, text = t.rpartition("|")
        if not kinds or kind in kinds.split(","):
            out.append(text)
    return out


def standards() -> pd.DataFrame:
    """The 测评标准 table: code, item, content, text, points, negative, category, negative_effect.

    The 负面清单 rows (item 负面清单, NEGATIVE_LIST) are events with an effect (否决 / 扣分); no point
    kind's items include them, so the demo's inspections and problems never use them.

    ``category`` links a standard to the problem category it is mostly about (None for
    standards such as 交通信号灯 that do not map to a field problem type).
    """
    rows = []
    for i, (item, entries) in enumerate(_ITEMS, start=1):
        for j, (content, text, points, negative, category) in enumerate(entries, start=1):
            rows.append((f"3.{i}.{j}", item, content, text, float(points), bool(negative), category, None))
    i = len(_ITEMS) + 1
    for j, (content, text, points, effect) in enumerate(NEGATIVE_LIST, start=1):
        rows.append((f"3.{i}.{j}", "负面清单", content, text, float(points), True, None, effect))
    return pd.DataFrame(rows, columns=["code", "item", "content", "text", "points", "negative", "category",
                                       "negative_effect"])


def categories() -> pd.DataFrame:
    """Problem categories (问题类型): name, deadline_hours, deduction, standard_code, time_limit,
    time_unit, urgent_hours."""
    return pd.DataFrame(
        [(n, float(h), float(d), s, *_TIME_LIMITS[n]) for n, h, d, s in _CATEGORIES],
        columns=["name", "deadline_hours", "deduction", "standard_code", "time_limit", "time_unit", "urgent_hours"],
    )


def applicability(standards_df: pd.DataFrame | None = None) -> pd.DataFrame:
    """Which standards apply to which 点位 kind: columns kind, standard_code.

    Used to pick the standards an inspector checks at a point (测评记录) and the
    standard a problem found there is booked against.
    """
    std = standards() if standards_df is None else standards_df
    rows = [(kind, code) for kind, items in KIND_ITEMS.items()
            for code in std.loc[std["item"].isin(items), "code"]]
    return pd.DataFrame(rows, columns=["kind", "standard_code"])
