"""Responsible units and people (责任单位 / 责任人) and their 帮包 assignments.

Implements the 全覆盖 rule of 创城 grid management ("谁主管谁负责"): every grid has one
current 帮包市级领导, one 帮包县级领导, one 网格长, ≥1 网格员 and ≥1 责任单位; every street,
compound, village and inspection point has ≥1 current 责任单位 and the 帮包县级领导 of the
grid it lies in. A few historical rows (valid_to in the past, with a successor) make the
tables look like a system that has been in use for a while.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely

START = dt.date(2025, 1, 1)

_SURNAMES = "王张李刘赵孙杨陈徐马朱胡郭高林何罗郑梁宋唐许韩冯邓曹彭曾田董袁于蒋蔡杜魏吕丁任姚卢崔范石贾付白孟秦闫侯史段郝"
_SURNAME_W = np.r_[[9, 8, 8, 7, 5, 5, 4, 4], np.ones(len(_SURNAMES) - 8)]
_GIVEN = ("建国 卫东 志强 海燕 丽娟 红梅 国庆 春生 秀英 玉兰 文静 晓东 学军 凤英 立新 庆华 永刚 振华 淑珍 明"
          " 涛 磊 静 敏 勇 军 伟 芳 娜 强 杰 鹏 超 燕 霞 平 刚 辉 斌 峰 楠 颖 倩 宁 博 浩 帅 亮 媛 琳"
          " 桂芝 宏伟 瑞芳 建华 金凤 德胜 家豪 子涵 思远 雨萱 晨曦 一鸣 文博 雅琴 广利 增光 传峰 继东 兆庆").split()

_COMMUNITIES = ("光岳 东关 南关 西关 北关 兴华 柳园 昌润 香江 花园 运河 湖滨 东昌 龙湾 水城 建设 站前 振兴"
                " 育新 向阳 铁塔 利民 红星 双力 卫育 米市 楼南 铁西 文轩 嘉明 星光 阳光 春晖 明珠 怡景 金柱"
                " 百花 杏林 御润 凤凰").split()

# key -> (name, kind). Keys are referenced by the assignment rules below.
_UNITS: list[tuple[str, str, str]] = [
    ("city_party", "中共聊城市委", "市直部门"),
    ("city_gov", "聊城市人民政府", "市直部门"),
    ("city_npc", "聊城市人大常委会", "市直部门"),
    ("city_cppcc", "政协聊城市委员会", "市直部门"),
    ("city_wmb", "市委宣传部（市文明办）", "市直部门"),
    ("city_zjj", "市住房和城乡建设局", "市直部门"),
    ("city_cgj", "市城市管理局", "市直部门"),
    ("city_jj", "市公安局交通警察支队", "市直部门"),
    ("city_scjg", "市市场监督管理局", "市直部门"),
    ("city_sthj", "市生态环境局", "市直部门"),
    ("city_wjw", "市卫生健康委员会", "市直部门"),
    ("city_jtj", "市教育和体育局", "市直部门"),
    ("city_jtysj", "市交通运输局", "市直部门"),
    ("city_jgsw", "市机关事务服务中心", "市直部门"),
    ("city_swj", "市商务局", "市直部门"),
    ("dist_party", "中共东昌府区委", "区直部门"),
    ("dist_gov", "东昌府区人民政府", "区直部门"),
    ("dist_npc", "东昌府区人大常委会", "区直部门"),
    ("dist_cppcc", "政协东昌府区委员会", "区直部门"),
    ("dist_zfj", "区综合行政执法局", "区直部门"),
    ("dist_zjj", "区住房和城乡建设局", "区直部门"),
    ("dist_scjg", "区市场监督管理局", "区直部门"),
    ("dist_wjj", "区卫生健康局", "区直部门"),
    ("dist_jtj", "区教育和体育局", "区直部门"),
    ("dist_wmb", "区委宣传部（区文明办）", "区直部门"),
    ("dist_ga", "聊城市公安局东昌府分局", "区直部门"),
    ("dist_court", "东昌府区人民法院", "区直部门"),
    ("dist_jcy", "东昌府区人民检察院", "区直部门"),
    ("res_lcu", "聊城大学", "驻地单位"),
    ("res_hosp", "聊城市人民医院", "驻地单位"),
    ("res_grid", "国网聊城供电公司", "驻地单位"),
    ("res_rail", "聊城火车站", "驻地单位"),
    ("res_cmcc", "中国移动聊城分公司", "驻地单位"),
]

_CITY_TITLES = [("市委常委、常务副市长", "city_gov"), ("市委常委、宣传部部长", "city_party"),
                ("市委常委、组织部部长", "city_party"), ("市委常委、政法委书记", "city_party"),
                ("市委常委、统战部部长", "city_party"), ("市委常委、秘书长", "city_party")]
_CITY_TITLES += [("副市长", "city_gov")] * 4 + [("市人大常委会副主任", "city_npc")] * 4
_CITY_TITLES += [("市政协副主席", "city_cppcc")] * 4 + [("市政府秘书长", "city_gov"), ("市人大常委会秘书长", "city_npc")]

_COUNTY_TITLES = [("区委副书记", "dist_party"), ("区委常委、常务副区长", "dist_gov"),
                  ("区委常委、组织部部长", "dist_party"), ("区委常委、宣传部部长", "dist_party"),
                  ("区委常委、政法委书记", "dist_party"), ("区委常委、统战部部长", "dist_party"),
                  ("区委常委、纪委书记、区监委主任", "dist_party"), ("区委常委、办公室主任", "dist_party"),
                  ("区委常委、人武部部长", "dist_party"), ("区委常委、副区长", "dist_gov"),
                  ("副区长、公安分局局长", "dist_ga"), ("区人大常委会主任", "dist_npc"),
                  ("区政协主席", "dist_cppcc"), ("区人民法院院长", "dist_court"),
                  ("区人民检察院检察长", "dist_jcy")]
_COUNTY_TITLES += [("副区长", "dist_gov")] * 5 + [("区人大常委会副主任", "dist_npc")] * 5
_COUNTY_TITLES += [("区政协副主席", "dist_cppcc")] * 5 + [("区政府党组成员", "dist_gov")]
_COUNTY_TITLES += [("区人大常委会一级调研员", "dist_npc"), ("区政协一级调研员", "dist_cppcc"),
                   ("区政府一级调研员", "dist_gov"), ("区委二级调研员", "dist_party"),
                   ("区住建局一级调研员", "dist_zjj"), ("区综合行政执法局一级调研员", "dist_zfj"),
                   ("区委宣传部二级调研员", "dist_wmb"), ("区市场监管局一级调研员", "dist_scjg"),
                   ("区卫健局二级调研员", "dist_wjj")]

_GRID_HEAD_TITLES = ("党工委副书记", "办事处副主任", "人大工委主任", "武装部部长", "党工委委员")

# 点位 kind -> unit key of the competent department (主管部门); None = use the 街道 / ref target.
_POINT_UNIT = {"主次干道": "city_cgj", "商业大街": "dist_zfj", "农贸市场": "dist_scjg", "学校": "city_jtj",
               "医院": "city_wjw", "公共厕所": "city_cgj", "广场公园": "city_cgj", "车站": "city_jtysj",
               "九小门店": "dist_scjg", "机关单位": "city_jgsw", "建筑工地": "city_zjj"}
_CHANGE_DATES = (dt.date(2025, 6, 30), dt.date(2026, 3, 31))  # 帮包 leader changes (调整)
_MEMBER_CHANGE = dt.date(2025, 12, 31)  # a few 网格员 replaced


def chinese_names(rng: np.random.Generator, n: int, exclude=()) -> list[str]:
    """``n`` unique, plausible Chinese personal names (common 鲁西 surnames)."""
    out: list[str] = []
    seen = set(exclude)
    p = _SURNAME_W / _SURNAME_W.sum()
    while len(out) < n:
        k = 2 * (n - len(out)) + 16
        sur = rng.choice(list(_SURNAMES), size=k, p=p)
        giv = rng.choice(_GIVEN, size=k)
        for name in np.char.add(sur, giv).tolist():
            if name not in seen and len(out) < n:
                seen.add(name)
                out.append(name)
    return out


def locate_in_grids(geoms, grids) -> np.ndarray:
    """Index (row position in ``grids``) of the grid containing each geometry's
    representative point; nearest grid for anything outside all grids."""
    geoms = np.asarray(geoms)
    pts = np.where(shapely.get_type_id(geoms) == 0, geoms, shapely.point_on_surface(geoms))
    lines = np.isin(shapely.get_type_id(geoms), (1, 5))
    pts[lines] = shapely.line_interpolate_point(geoms[lines], 0.5, normalized=True)
    tree = shapely.STRtree(np.asarray(grids.geometry.values))
    out = np.full(len(pts), -1, dtype=np.int64)
    hit = tree.query(pts, predicate="within")
    first = np.unique(hit[0], return_index=True)[1]
    out[hit[0][first]] = hit[1][first]
    miss = np.flatnonzero(out < 0)
    if len(miss):
        near = tree.query_nearest(pts[miss])
        first = np.unique(near[0], return_index=True)[1]
        out[miss[near[0][first]]] = near[1][first]
    return out


def _phones(rng, n, mobile: bool) -> list[str]:
    if mobile:
        pre = rng.choice(["130", "131", "132", "135", "137", "138", "139", "150", "151", "152", "155",
                          "156", "158", "159", "180", "182", "186", "187", "188", "189"], size=n)
        return [f"{a}{b:08d}" for a, b in zip(pre, rng.choice(10**8, size=n, replace=False))]
    return [f"0635-8{b:06d}" for b in rng.choice(10**6, size=n, replace=False)]


def _units(grids, compounds, rng):
    """Units table plus lookups: catalogue key -> code, grid row -> 街道 / 社区 unit code,
    property company -> unit code, and the grid rows ordered by (街道, code)."""
    rows = [(name, kind) for _, name, kind in _UNITS]
    key = {k: f"U-{i + 1:03d}" for i, (k, _, _) in enumerate(_UNITS)}
    order = np.lexsort((grids["code"].to_numpy(), grids["subdistrict"].to_numpy()))
    subd_of, comm_of = {}, {}
    for sub in sorted(grids["subdistrict"].unique()):
        suffix = "人民政府" if sub.endswith("镇") else ("办事处" if sub.endswith("街道") else "街道办事处")
        rows.append((sub + suffix, "街道办事处"))
        subd_of[sub] = f"U-{len(rows):03d}"
    n_comm = 0
    for sub in sorted(grids["subdistrict"].unique()):
        members = [i for i in order if grids["subdistrict"].iat[i] == sub]
        for j in range(0, len(members), 2):  # one 社区 per two grids of the same 街道
            base = _COMMUNITIES[n_comm % len(_COMMUNITIES)] + ("" if n_comm < len(_COMMUNITIES) else str(n_comm))
            n_comm += 1
            rows.append((base + "社区居委会", "社区"))
            for i in members[j:j + 2]:
                comm_of[i] = f"U-{len(rows):03d}"
    companies = sorted({c for c in compounds["property_company"] if isinstance(c, str) and c})
    prop_of = {}
    for c in companies:
        rows.append((c, "物业企业"))
        prop_of[c] = f"U-{len(rows):03d}"
    units = pd.DataFrame(rows, columns=["name", "kind"])
    units.insert(0, "code", [f"U-{i + 1:03d}" for i in range(len(units))])
    units["phone"] = _phones(rng, len(units), mobile=False)
    units["contact"] = chinese_names(rng, len(units))
    grid_subd = {i: subd_of[grids["subdistrict"].iat[i]] for i in range(len(grids))}
    return units, key, grid_subd, comm_of, prop_of, order


def build_people(layers: dict, seed: int) -> dict[str, pd.DataFrame]:
    """Units (责任单位), persons (责任人) and assignments (帮包关系) for ``layers``.

    Returns {"units", "persons", "assignments"}; see module docstring for the coverage
    rules. Deterministic for a given ``seed`` and layers.
    """
    rng = np.random.default_rng([seed, 7])
    grids = layers["grids"].reset_index(drop=True)
    units, key, grid_subd, comm_of, prop_of, order = _units(grids, layers["compounds"], rng)
    uname = dict(zip(units["code"], units["name"]))
    n_grid = len(grids)
    n_city = int(np.clip(round(n_grid / 3), 1, len(_CITY_TITLES)))
    n_county = int(np.clip(round(n_grid / 1.5), 1, len(_COUNTY_TITLES)))
    n_former = (min(2, n_city), min(3, n_county))

    persons: list[tuple] = []  # (title, level, unit_code)
    for t, k in _CITY_TITLES[:n_city] + _CITY_TITLES[:n_former[0]]:
        persons.append((t, "市级", key[k]))
    for t, k in _COUNTY_TITLES[:n_county] + _COUNTY_TITLES[-n_former[1]:]:
        persons.append((t, "县级", key[k]))
    pcode = lambda i: f"P-{i + 1:03d}"  # noqa: E731
    city_ids = list(range(n_city))
    former_city = list(range(n_city, n_city + n_former[0]))
    county_ids = list(range(n_city + n_former[0], n_city + n_former[0] + n_county))
    former_county = list(range(county_ids[-1] + 1, county_ids[-1] + 1 + n_former[1]))

    asg: list[tuple] = []  # target_kind, target_code, role, person_idx|None, unit_code, from, to

    def leaders(ids, former, role):
        chunks = np.array_split(order, len(ids))
        taken = rng.choice(len(ids), size=len(former), replace=False)
        for c, (pid, chunk) in enumerate(zip(ids, chunks)):
            f = int(np.flatnonzero(taken == c)[0]) if c in taken else None
            for g in chunk:
                code = grids["code"].iat[g]
                if f is None:
                    asg.append(("grid", code, role, pid, persons[pid][2], START, None))
                    continue
                end = _CHANGE_DATES[f % 2]
                asg.append(("grid", code, role, former[f], persons[former[f]][2], START, end))
                asg.append(("grid", code, role, pid, persons[pid][2], end + dt.timedelta(days=1), None))

    leaders(city_ids, former_city, "帮包市级领导")
    leaders(county_ids, former_county, "帮包县级领导")

    depts = [key[k] for k, _, kind in _UNITS if kind in ("市直部门", "区直部门") and not k.endswith(
        ("party", "gov", "npc", "cppcc", "court", "jcy"))]
    n_members = rng.integers(1, 4, size=n_grid)
    replaced = set(rng.choice(n_grid, size=max(1, n_grid // 15), replace=False).tolist())
    for r, g in enumerate(order):
        code, sub = grids["code"].iat[g], grids["subdistrict"].iat[g]
        persons.append((sub + _GRID_HEAD_TITLES[r % len(_GRID_HEAD_TITLES)], "街道", grid_subd[g]))
        asg.append(("grid", code, "网格长", len(persons) - 1, grid_subd[g], START, None))
        comm = uname[comm_of[g]].removesuffix("居委会")
        first = comm_of.get(order[r - 1]) != comm_of[g] if r else True
        titles = [comm + ("党支部书记" if first else "居委会副主任")] + [comm + "专职网格员"] * 2
        for m in range(int(n_members[g])):
            persons.append((titles[m], "社区", comm_of[g]))
            if m == 0 and g in replaced:  # predecessor left at the end of 2025
                persons.append((comm + "专职网格员", "社区", comm_of[g]))
                asg.append(("grid", code, "网格员", len(persons) - 1, comm_of[g], START, _MEMBER_CHANGE))
                asg.append(("grid", code, "网格员", len(persons) - 2, comm_of[g],
                            _MEMBER_CHANGE + dt.timedelta(days=1), None))
            else:
                asg.append(("grid", code, "网格员", len(persons) - 1, comm_of[g], START, None))
        asg.append(("grid", code, "责任单位", None, comm_of[g], START, None))
        asg.append(("grid", code, "责任单位", None, depts[r % len(depts)], START, None))

    county_rows = {}
    for row in asg:
        if row[2] == "帮包县级领导":
            county_rows.setdefault(row[1], []).append(row)

    def children(kind, frame, unit_rule):
        if frame is None or not len(frame):
            return {}
        gpos = locate_in_grids(frame.geometry.values, grids)
        out = {}
        for i, code in enumerate(frame["code"]):
            g = int(gpos[i])
            us = list(dict.fromkeys(u for u in unit_rule(frame.iloc[i], g) if u))
            out[code] = us
            for u in us:
                asg.append((kind, code, "责任单位", None, u, START, None))
            for row in county_rows[grids["code"].iat[g]]:
                asg.append((kind, code) + row[2:])
        return out

    main = ("主干道", "次干道")
    s_units = children("street", layers.get("streets"), lambda r, g: [key["city_cgj"], grid_subd[g]]
                       if r["road_class"] in main else [grid_subd[g], comm_of[g]])
    c_units = children("compound", layers.get("compounds"),  # 物业 if any, else the 社区 (无物业小区)
                       lambda r, g: [prop_of.get(r["property_company"]) or comm_of[g]])
    v_units = children("village", layers.get("villages"), lambda r, g: [grid_subd[g], comm_of[g]])
    refs = {**s_units, **c_units, **v_units}

    def point_rule(r, g):
        ref = refs.get(r["ref_code"], []) if isinstance(r["ref_code"], str) else []
        own = key.get(_POINT_UNIT.get(r["kind"], ""))
        first = ([own] if own else []) + ref if r["kind"] not in ("小区", "城中村", "背街小巷") else ref
        return first + [grid_subd[g]] if first else [comm_of[g], grid_subd[g]]

    p_units = children("point", layers.get("points"), point_rule)

    names = chinese_names(rng, len(persons), exclude=set(units["contact"]))
    people = pd.DataFrame(persons, columns=["title", "level", "unit_code"])
    people.insert(0, "name", names)
    people.insert(0, "code", [pcode(i) for i in range(len(people))])
    people["phone"] = _phones(rng, len(people), mobile=True)
    people = people[["code", "name", "title", "level", "unit_code", "phone"]]
    # accountability (issue 14): a 点长 per point, from its first 责任单位; drawn from their own
    # generator so that every other name and phone of the demo stays as it was.
    lead_rng = np.random.default_rng(14)
    p_codes = list(p_units)
    leads = pd.DataFrame({"code": [pcode(len(people) + i) for i in range(len(p_codes))],
                          "name": chinese_names(lead_rng, len(p_codes), exclude=set(people["name"]) | set(units["contact"])),
                          "title": [uname[p_units[c][0]] + "点长" for c in p_codes], "level": "点位",
                          "unit_code": [p_units[c][0] for c in p_codes], "phone": _phones(lead_rng, len(p_codes), mobile=True)})
    asg += [("point", c, "点长", len(people) + i, p_units[c][0], START, None) for i, c in enumerate(p_codes)]
    people = pd.concat([people, leads], ignore_index=True)

    a = pd.DataFrame(asg, columns=["target_kind", "target_code", "role", "person_code", "unit_code",
                                   "valid_from", "valid_to"])
    a["person_code"] = [None if p is None or p != p else pcode(int(p)) for p in a["person_code"]]
    a["valid_to"] = a["valid_to"].astype(object).where(a["valid_to"].notna(), None)
    a["valid_from"] = a["valid_from"].astype(object)
    return {"units": units, "persons": people, "assignments": a}


def current(assignments: pd.DataFrame, on: dt.date | None = None) -> pd.DataFrame:
    """Assignments valid on ``on`` (default: open-ended ones, valid_to is None)."""
    if on is None:
        return assignments[assignments["valid_to"].isna()]
    vf = pd.to_datetime(assignments["valid_from"])
    vt = pd.to_datetime(assignments["valid_to"])
    day = pd.Timestamp(on)
    return assignments[(vf <= day) & (vt.isna() | (vt >= day))]


def coverage_gaps(layers: dict, people: dict) -> list[str]:
    """Human-readable violations of the 全覆盖 rules (empty list = fully covered)."""
    cur = current(people["assignments"])
    gaps = []
    cnt = cur.groupby(["target_kind", "target_code", "role"]).size()
    exact = {"帮包市级领导": 1, "帮包县级领导": 1, "网格长": 1}
    for code in layers["grids"]["code"]:
        for role in ("帮包市级领导", "帮包县级领导", "网格长", "网格员", "责任单位"):
            n = int(cnt.get(("grid", code, role), 0))
            if (n != exact[role]) if role in exact else n < 1:
                gaps.append(f"grid {code}: {n} × {role}")
    for kind, layer in (("street", "streets"), ("compound", "compounds"), ("village", "villages"),
                        ("point", "points")):
        for code in layers[layer]["code"]:
            for role in ("责任单位", "帮包县级领导"):
                if cnt.get((kind, code, role), 0) < 1:
                    gaps.append(f"{kind} {code}: no {role}")
    return gaps
