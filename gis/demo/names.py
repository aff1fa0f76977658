"""Names of the demo city (演示城市名称库): the real main roads and sub-districts, and name pools.

Real: the main roads (主干道) of the urban core of 东昌府区 with their orientation (their positions
here are approximate, not surveyed) and the sub-districts (街道) with approximate centres.

Invented, but built the way names are built in a Shandong prefecture city: compounds (小区) from
auspicious or local words plus a housing suffix (花园, 家园, 苑 …), old compounds without property
management (无物业老旧小区) from the work unit that built them (…宿舍, …家属院), urban villages (城中村)
from a surname plus a settlement suffix (…庄村, …屯, …集村), and point names from templates
('{sd}中心小学', '东昌东路(柳园路至花园路段)'). Every random choice takes the caller's numpy Generator,
so names are deterministic per seed; ``unique_names`` never repeats a name within a layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# The real main roads (主干道) of the core, in their real orientation, at approximate (not surveyed)
# WGS84 positions: (west/south half, east/north half or None, "EW"/"NS", lat or lon, from road,
# to road). Pairs are split into 西/东 at the old town's meridian and into 南/北 at 东昌路; a road with
# a from/to road starts/ends there, the others cross the whole core.
MAIN_ROADS = (
    ("东昌西路", "东昌东路", "EW", 36.4570, None, None),
    ("柳园南路", "柳园北路", "NS", 116.0030, None, None),
    ("兴华西路", "兴华东路", "EW", 36.4670, None, None),
    ("建设西路", "建设东路", "EW", 36.4785, None, None),
    ("振兴西路", "振兴东路", "EW", 36.4900, None, None),
    ("湖南西路", "湖南东路", "EW", 36.4365, None, None),
    ("光岳南路", "光岳北路", "NS", 115.9620, None, None),
    ("花园南路", "花园北路", "NS", 116.0215, None, None),
    ("昌润南路", "昌润北路", "NS", 116.0400, None, None),
    ("卫育路", None, "NS", 115.9460, "利民路", None),
    ("站前街", None, "EW", 36.4470, "京济路", "光岳路"),
    ("中华路", None, "NS", 116.0570, None, None),
    ("长江路", None, "EW", 36.4265, "柳园路", None),
    ("嘉园路", None, "EW", 36.4460, "柳园路", None),
    ("京济路", None, "NS", 115.9300, None, None),
    ("利民西路", "利民东路", "EW", 36.4165, None, None),
    ("华山路", None, "NS", 116.0730, None, "东昌路"),
    ("黄河路", None, "EW", 36.4060, "花园路", None),
    ("文化路", None, "NS", 115.9830, "兴华路", None),
    ("育新街", None, "NS", 115.9830, None, "湖南路"),
)
# Approximate centres of the sub-districts (街道) of the core, WGS84 (an air-quality station list,
# /work/shared/data/dongchangfu_subdistrict_points.csv); official code order. Centres far outside
# the core are pulled to its edge (``geometry._subdistrict_centres``): only their urban side is in the core.
# 古楼街道 (named after 光岳楼) holds the old town; its station lies 2.5 km north-west of 光岳楼 at
# (115.956142, 36.469224), so the centre used is the midpoint of the two.
SUBDISTRICTS = (
    ("古楼街道", 115.967740, 36.459578), ("柳园街道", 115.987321, 36.436024),
    ("新区街道", 115.979706, 36.467200), ("湖西街道", 115.966267, 36.396028),
    ("道口铺街道", 115.855610, 36.442835), ("闫寺街道", 115.880180, 36.514232),
    ("北城街道", 116.072045, 36.517581), ("东城街道", 116.034620, 36.455019),
    ("蒋官屯街道", 116.065723, 36.466849), ("李海务街道", 115.971687, 36.317226),
    ("九州街道", 116.033696, 36.442518),
)
# 次干道: secondary roads (real-sounding names of Liaocheng and its development zones).
SECONDARY_ROADS = (
    "龙山路", "文轩路", "育英路", "红星路", "新华路", "民主路", "团结路", "胜利路", "光明路",
    "健康路", "和平路", "裕昌路", "松桂路", "湖滨路", "运河路", "铁塔路", "东关街", "北关街",
    "西关街", "闸口街", "陈口路", "水城路", "聊堂路", "聊莘路", "聊阳路", "香江路", "黄山路",
    "泰山路", "嵩山路", "庐山路", "衡山路", "淮河路", "辽河路", "松花江路", "珠江路", "汾河路",
    "海河路", "沂河路", "徒骇河路", "凤凰路", "金柱路", "建材路", "财干路", "站东街", "开发路",
)
# The cross of commercial streets around 光岳楼 in the old town (古城), north/south/east/west.
OLD_TOWN_STREETS = ("楼北大街", "楼南大街", "楼东大街", "楼西大街")
# 背街小巷 of the old town: fixed, traditional names.
OLD_TOWN_LANES = ("米市街", "双井街", "考院街", "大寺街", "万寿观街", "礼拜寺街", "县前街", "府前街")
# Stems and suffixes of the other 背街小巷.
LANE_STEMS = (
    "仁和", "太平", "三元", "兴隆", "福寿", "小东关", "清孝", "东杨", "白衣堂", "文庙", "卫仓",
    "玉皇", "金线", "草市", "柴市", "马市", "羊市", "鱼市", "菜市", "书院", "学院", "文昌", "魁星",
    "关帝庙", "火神庙", "药王庙", "龙王庙", "马神庙", "三官庙", "龙湾", "杨柳", "槐荫", "榆树",
    "枣园", "梨园", "桃园", "杏园", "瓦屋", "窑厂", "粮所", "油坊", "染坊", "酱园", "铁匠", "木匠",
    "皮匠", "纸坊", "前营", "后营", "井台", "牌坊", "双庙", "盐店", "当铺", "朝阳", "育才", "红旗",
    "新风", "卫生", "民生", "柳荫", "枣林", "水井", "花市",
)
LANE_SUFFIXES = ("巷", "胡同", "街", "里")

# 小区 names: prefix + suffix (+ optional phase such as 二区).
COMPOUND_PREFIXES = (
    "东昌", "柳园", "水城", "凤凰", "光岳", "运河", "湖滨", "古楼", "兴华", "建设", "振兴", "昌润",
    "金柱", "鲁西", "龙山", "铁塔", "阳光", "金色", "世纪", "锦绣", "幸福", "和谐", "翰林", "书香",
    "华府", "东方", "盛世", "富华", "嘉和", "瑞景", "泰和", "安居", "御景", "天润", "明珠", "紫薇",
    "丽水", "康桥", "香榭", "怡园", "金鼎", "银河", "新城", "馨港", "颐和", "百合", "兰亭", "文苑",
    "润泽", "永安", "盛华", "宏远", "中鲁", "汇通", "万福", "福泰", "开元", "畅园", "如意", "益寿",
    "聚贤", "新东方", "碧水", "绿洲", "清华", "华信", "鑫源", "恒信", "瑞丰", "金水湾",
)
COMPOUND_SUFFIXES = (
    "花园", "小区", "家园", "苑", "府", "名郡", "新城", "公馆", "雅居", "嘉园", "佳苑", "华庭",
    "名邸", "丽景", "新村", "庭院", "御府", "锦园", "名都", "湾", "明珠",
)
COMPOUND_PHASES = ("一区", "二区", "三区", "四区", "一期", "二期")
# 无物业 old compounds: the work unit (单位) that built them + 宿舍 / 家属院 / 小区.
WORK_UNITS = (
    "棉纺厂", "鲁化", "中通客车", "水利局", "供电公司", "粮食局", "税务局", "电业局", "第一机床厂",
    "造纸厂", "酿酒厂", "制药厂", "化肥厂", "轴承厂", "农机厂", "交通局", "邮电局", "卫生局",
    "商业局", "物资局", "百货大楼", "食品公司", "糖酒公司", "五金公司", "建筑公司", "水泥厂",
    "农科所", "气象局", "地质队", "教育局", "人民医院", "师范学校", "烟草公司", "蔬菜公司",
    "运输公司", "车辆厂", "印刷厂", "服装厂", "面粉厂", "纺织站",
)
WORK_UNIT_SUFFIXES = ("宿舍", "家属院", "小区")
PROPERTY_COMPANIES = (
    "聊城市安居物业管理有限公司", "聊城水城物业服务有限公司", "东昌府区安泰物业管理有限公司",
    "聊城鲁西物业服务有限公司", "聊城市昌润物业管理有限公司", "山东凤凰城物业服务有限公司",
    "聊城金柱物业管理有限公司", "聊城市嘉和物业服务有限公司", "聊城光岳物业管理有限公司",
    "山东鑫源物业服务有限公司", "聊城市东方物业管理有限公司", "聊城泰和物业服务有限公司",
    "聊城市建设物业管理有限公司", "聊城颐和物业服务有限公司", "山东宏远物业管理有限公司",
    "聊城市盛世物业服务有限公司", "聊城运河物业管理有限公司", "聊城市润泽物业服务有限公司",
)

# 城中村: surname (or other stem) + settlement suffix; a few real-style fixed names first.
VILLAGE_FIXED = ("许营村", "孙堂村", "八甲刘村", "前进村", "后菜园村", "耿庄村", "七里铺村", "五里墩村")
VILLAGE_STEMS = (
    "张", "王", "李", "赵", "刘", "陈", "杨", "孙", "周", "吴", "郑", "马", "朱", "胡", "郭", "高",
    "宋", "韩", "于", "董", "程", "曹", "袁", "傅", "吕", "苏", "蒋", "贾", "丁", "魏", "薛", "阎",
    "潘", "杜", "田", "任", "姜", "石", "姚", "郝", "孔", "白", "崔", "侯", "邵", "孟", "常", "武",
    "乔", "前杨", "后王", "东刘", "西李", "南徐", "北孙", "大张", "小王",
)
VILLAGE_SUFFIXES = ("庄村", "屯", "集村", "营村", "堂村", "楼村", "店村", "官屯", "家村", "园村", "庄")

# Inspection points (实地考察点位): fixed names and templates ({sd}: sub-district, {road}: road).
SCHOOLS_FIXED = tuple(f"聊城第{n}中学" for n in "一二三四五六七八九") + (
    "东昌府区实验小学", "聊城外国语学校", "水城中学", "东昌中学", "聊城实验中学", "文轩中学",
)
SCHOOL_TEMPLATES = ("{sd}中心小学", "{sd}中学", "{road}小学", "{road}实验学校", "{sd}第二小学")
HOSPITALS_FIXED = (
    "聊城市人民医院", "聊城市中医医院", "聊城市第三人民医院", "聊城市妇幼保健院", "东昌府区人民医院",
    "东昌府区中医院", "聊城市眼科医院", "聊城市口腔医院",
)
HOSPITAL_TEMPLATES = ("{sd}社区卫生服务中心", "{road}社区卫生服务站")
OFFICES_FIXED = (
    "东昌府区人民政府", "聊城市人民政府", "东昌府区公安分局", "聊城市城市管理局", "东昌府区住房和城乡建设局",
    "东昌府区教育和体育局", "东昌府区市场监督管理局", "东昌府区卫生健康局", "东昌府区文明办",
    "聊城市自然资源和规划局", "东昌府区综合行政执法局", "聊城市生态环境局东昌府分局",
)
OFFICE_TEMPLATES = ("{sdfull}办事处", "{sd}派出所", "{sdfull}便民服务中心", "{sd}社区居委会")
MARKET_TEMPLATES = ("{sd}农贸市场", "{road}农贸市场", "{sd}综合市场", "{road}便民市场")
PARKS_FIXED = (
    "东昌湖风景区", "人民广场", "铁塔公园", "运河公园", "湖滨公园", "水城广场", "凤凰公园", "徒骇河公园",
    "聊城植物园", "世纪广场", "文化广场", "站前广场", "金凤广场", "龙山公园",
)
STATIONS_FIXED = ("聊城站", "聊城汽车总站", "聊城汽车东站", "聊城汽车西站", "聊城公交枢纽站")
COMMERCIAL_STREETS = (
    "东昌路金鼎商业街", "柳园路步行街", "新东方商业街", "百货大楼商业街", "振兴路美食街", "兴华路商业步行街",
    "花园路夜市街", "站前街商业街", "湖南路商业街", "昌润路商业街", "建设路服装街", "利民路小商品街",
    "中华路商业街", "嘉园路美食街", "古城商业街", "光岳路商业街",
)
SITE_TEMPLATES = ("{road}{part}地块项目工地", "{sd}{part}片区改造项目工地")
SITE_PARTS = ("东", "西", "南", "北", "东北", "西南", "东南", "西北", "中")
SHOP_KINDS = (
    "小吃店", "便利店", "理发店", "网吧", "小旅馆", "诊所", "浴池", "小超市", "烟酒店", "美容店",
    "烧烤店", "早餐店", "五金店", "干洗店", "歌舞厅", "水饺馆", "面馆", "药店",
)


def unique_names(rng: np.random.Generator, pool: Sequence[str], n: int) -> list[str]:
    """``n`` distinct names drawn from ``pool`` in a seeded random order (ValueError if too few)."""
    uniq = list(dict.fromkeys(pool))
    if len(uniq) < n:
        raise ValueError(f"name pool has {len(uniq)} names, {n} needed")
    return [uniq[i] for i in rng.permutation(len(uniq))[:n]]


def combine(*parts: Sequence[str]) -> list[str]:
    """All concatenations of one item of each part, in a fixed order (a name pool)."""
    out = [""]
    for part in parts:
        out = [a + b for a in out for b in part]
    return out


def compound_pool() -> list[str]:
    """Modern 小区 names: prefix + suffix, and some with a phase (二区, 一期 …).

    Pairs that repeat a character across the seam (新城新城, 华府御府, 柳园花园) are left out.
    """
    base = [p + s for p in COMPOUND_PREFIXES for s in COMPOUND_SUFFIXES if p[-1] not in s]
    phased = [p + s for p in COMPOUND_PREFIXES[:24] for s in ("小区", "花园", "家园") if p[-1] not in s]
    return base + combine(phased, COMPOUND_PHASES)


def old_compound_pool() -> list[str]:
    """无物业 old compound names: work unit + 宿舍 / 家属院 / 小区."""
    return combine(WORK_UNITS, WORK_UNIT_SUFFIXES)


def lane_pool() -> list[str]:
    """背街小巷 names outside the old town."""
    return combine(LANE_STEMS, LANE_SUFFIXES)


def village_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` 城中村 names: all fixed real-style names plus stem + suffix names, in a seeded order."""
    pool = [v for v in combine(VILLAGE_STEMS, VILLAGE_SUFFIXES) if v not in VILLAGE_FIXED]
    chosen = list(VILLAGE_FIXED[:n]) + unique_names(rng, pool, n - min(n, len(VILLAGE_FIXED)))
    return [chosen[i] for i in rng.permutation(n)]


def base_road_name(name: str) -> str:
    """The road without its direction: 柳园北路 -> 柳园路, 东昌东路 -> 东昌路, 站前街 -> 站前街."""
    if len(name) > 3 and name.endswith("路") and name[-2] in "东西南北":
        return name[:-2] + "路"
    return name


def stretch_name(road: str, a: str | None, b: str | None, side: str) -> str:
    """A stretch of a road: '东昌东路(柳园路至花园路段)', '东昌东路(花园路以东段)' or '东昌东路(全段)'.

    ``a`` and ``b`` are the junction roads at its ends (None at the road's end); ``side`` (东/西/南/北)
    is where a one-junction stretch lies as seen from its junction.
    """
    if a and b:
        return f"{road}({a}至{b}段)"
    return f"{road}({a or b}以{side}段)" if a or b else f"{road}(全段)"


def facility_name(rng: np.random.Generator, templates: Sequence[str], subdistrict: str, road: str) -> str:
    """Fill a random template ('{sd}中心小学', '{road}农贸市场' …) for a place near ``road`` in ``subdistrict``."""
    part = SITE_PARTS[rng.integers(len(SITE_PARTS))]
    return templates[rng.integers(len(templates))].format(
        sd=subdistrict.removesuffix("街道"), sdfull=subdistrict, road=road, part=part)


def shop_name(rng: np.random.Generator, street: str) -> str:
    """A 九小门店 (small shop) by its address: '兴华西路23号小吃店'."""
    return f"{street}{rng.integers(1, 400)}号{SHOP_KINDS[rng.integers(len(SHOP_KINDS))]}"
