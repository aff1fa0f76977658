"""Twelve months of 创城 activity: problems (问题台账) and inspections (测评记录).

Everything is vectorised with numpy (loops only over small tables: kinds, categories,
months), so a million problems take seconds. The model, kept simple but shaped so the
dashboard's rankings and trends mean something:

* problems sit around anchors - inspection points (weighted by kind: 农贸市场, 背街小巷,
  城中村, 九小门店, 建筑工地 much worse than 学校/医院/机关单位), positions along streets
  and inside 城中村 - plus 10-80 m Gaussian jitter;
* every grid has a latent badness (``grid_badness``) scaling its problem rate, slowing
  its rectification and lowering its inspection pass rate;
* the category depends on the place kind and the season (露天烧烤 in summer); report
  times are work-hour and weekday heavy with a few at night;
* a mild improving trend: fewer problems, faster rectification and more passes later
  in the year (创城 works). Status is derived from the timeline at the end moment: ``until``
  23:59:59 for a date, or the datetime given (the build's "now") — nothing is ever reported,
  rectified or verified after it (a report drawn later on the last day moves to the day before);
* inspections by calendar month: the 测评组 plans 32–44 visits (distinct point-days) per grid and
  month in its first three weeks (a few grids get 18–28: a thin sample, 样本不足), spread over
  the grid's points; the month in progress gets the part of its plan already done;
* the 负面清单: two confirmed events (``negative_events``) in the months before the current one,
  in the worst grids by latent badness (never a top grid by accident): a 重大安全生产责任事故
  (否决) two months back and a 重大负面舆情 (扣分) last month.

Timestamps are naive local time (Asia/Shanghai).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import shapely

from gis.demo.people import chinese_names, current, locate_in_grids
from gis.demo.standards import KIND_ITEMS, templates

STATUSES = ("待派遣", "整改中", "待核查", "已结案")
SOURCES = ("暗访", "督查", "市民热线", "网格员巡查")
KIND_WEIGHT = {"农贸市场": 8.0, "城中村": 6.0, "背街小巷": 5.0, "建筑工地": 5.0, "九小门店": 4.0,
               "商业大街": 4.0, "车站": 3.0, "主次干道": 2.5, "公共厕所": 2.0, "广场公园": 2.0,
               "小区": 1.5, "医院": 1.0, "学校": 0.6, "机关单位": 0.5}
# logit penalty of the inspection pass probability by point kind
KIND_DIFFICULTY = {"农贸市场": 0.6, "城中村": 0.6, "背街小巷": 0.4, "建筑工地": 0.4, "九小门店": 0.3,
                   "商业大街": 0.2, "医院": -0.3, "学校": -0.5, "机关单位": -0.7}
_TYPE_SHARE = (0.6, 0.25, 0.15)  # problems anchored at points / along streets / inside villages
_BASE_CAT = {"占道经营": 3, "乱停乱放": 4, "露天烧烤": 1, "小广告": 4, "暴露垃圾": 3, "违章建筑": 0.3,
             "乱搭乱建": 1, "道路破损": 1.5, "公厕脏乱": 0.2, "公益广告缺失": 1.5, "乱扔垃圾": 4,
             "绿化带破坏": 1, "乱拉乱挂": 1.5, "井盖缺失": 0.5, "噪音扰民": 0.5, "不文明养犬": 0.8,
             "乱堆乱放": 3}
_KIND_CAT = {  # multipliers on _BASE_CAT by place kind
    "主次干道": {"乱停乱放": 3, "道路破损": 1.5, "井盖缺失": 2, "公益广告缺失": 1.5, "违章建筑": 0.2},
    "背街小巷": {"乱堆乱放": 2, "乱拉乱挂": 2, "暴露垃圾": 1.5, "小广告": 1.5, "道路破损": 1.5},
    "商业大街": {"占道经营": 3, "露天烧烤": 3, "小广告": 1.5, "噪音扰民": 2, "违章建筑": 0.2},
    "农贸市场": {"占道经营": 4, "暴露垃圾": 2.5, "露天烧烤": 2, "乱扔垃圾": 1.5, "乱停乱放": 1.5},
    "学校": {"乱停乱放": 2, "占道经营": 1.5, "违章建筑": 0.1},
    "医院": {"乱停乱放": 3, "违章建筑": 0.1},
    "公共厕所": {"公厕脏乱": 60},
    "广场公园": {"不文明养犬": 4, "绿化带破坏": 3, "乱扔垃圾": 1.5, "噪音扰民": 3},
    "车站": {"乱停乱放": 2.5, "占道经营": 1.5, "乱扔垃圾": 1.5},
    "九小门店": {"占道经营": 3, "小广告": 1.5, "乱拉乱挂": 1.5, "露天烧烤": 2},
    "小区": {"乱搭乱建": 3, "违章建筑": 4, "不文明养犬": 2, "乱堆乱放": 1.5, "乱停乱放": 1.2},
    "城中村": {"暴露垃圾": 4, "违章建筑": 6, "乱搭乱建": 3, "乱拉乱挂": 2, "乱堆乱放": 2},
    "机关单位": {"公益广告缺失": 2, "违章建筑": 0.1},
    "建筑工地": {"暴露垃圾": 1.5, "道路破损": 2, "乱堆乱放": 3, "噪音扰民": 3},
}
_SEASON = {  # month-of-year multipliers (Jan..Dec)
    "露天烧烤": (0.2, 0.2, 0.4, 0.8, 2, 3, 3.5, 3.5, 2, 0.8, 0.3, 0.2),
    "噪音扰民": (0.6, 0.6, 0.8, 1, 1.2, 1.5, 1.6, 1.6, 1.2, 1, 0.7, 0.6),
    "暴露垃圾": (0.9, 1.2, 0.9, 0.9, 1, 1.2, 1.3, 1.3, 1.1, 1, 0.9, 0.9),
}
_EVENING = ("露天烧烤", "噪音扰民")
_HOURS_DAY = np.array([.3, .2, .15, .1, .1, .3, 1.5, 4, 9, 10, 9.5, 7, 3.5, 4, 8, 9, 8.5, 6, 3, 2, 1.5, 1, .7, .4])
_HOURS_EVE = np.array([1.5, 1, .5, .2, .1, .1, .2, .5, 1, 1, 1, 1, 1, 1, 1, 1.5, 2, 3, 6, 9, 10, 9, 6, 3])
_WEEKDAY = np.array([1.15, 1.05, 1.05, 1.05, 1.0, 0.65, 0.55])  # Mon..Sun
_SRC_DAY, _SRC_OFF = np.array([.08, .14, .20, .58]), np.array([.15, .05, .55, .25])
_POINT_SUFFIX = np.array(["门口", "东侧", "西侧", "南侧", "北侧", "周边", "对面", "附近"], dtype=object)
_ROAD_SUFFIX = np.array(["沿线", "中段", "路口", "人行道", "两侧"], dtype=object)
_ROAD_KINDS = ("主次干道", "背街小巷", "商业大街")
_BUILDING_SIDE = np.array(["东侧", "西侧", "南侧", "北侧", "楼下", "单元门口"], dtype=object)
_VILLAGE_PART = np.array(["村内主街", "东侧胡同", "西侧胡同", "村口", "北片区", "南片区", "村委会附近"], dtype=object)
_CORNER = np.array(["东北角", "西北角", "东南角", "西南角", "东侧", "西侧", "南侧", "北侧"], dtype=object)
_M_LAT, _POOL = 110_574.0, 64


def window(until: dt.date) -> tuple[dt.date, int]:
    """First day and length (days) of the twelve months ending at ``until``."""
    try:
        back = until.replace(year=until.year - 1)
    except ValueError:  # 29 Feb
        back = dt.date(until.year - 1, 3, 1) - dt.timedelta(days=1)
    start = back + dt.timedelta(days=1)
    return start, (until - start).days + 1


def grid_badness(grids: pd.DataFrame, seed: int) -> np.ndarray:
    """Latent badness per grid (row order), ~lognormal around 1, a tenth clearly worse."""
    rng = np.random.default_rng([seed, 0])
    z = rng.normal(0.0, 0.45, len(grids))
    z[rng.choice(len(grids), size=max(1, len(grids) // 10), replace=False)] += 0.7
    return np.exp(z)


def _draw(cum: np.ndarray, rows: np.ndarray, rng) -> np.ndarray:
    """Vectorised categorical draw: column index per sample from cumulative-probability
    table ``cum`` (one row per distribution), row ``rows[i]`` for sample i.

    Row r is shifted by +r so the flattened table is monotone; one searchsorted then
    serves all distributions without an (n, C) temporary.
    """
    r, c = cum.shape
    flat = (cum / cum[:, -1:] + np.arange(r)[:, None]).ravel()
    pos = np.searchsorted(flat, rows + rng.random(len(rows)), side="right")
    return np.clip(pos - rows * c, 0, c - 1)


def _meters(lat):
    return 111_320.0 * np.cos(np.radians(lat))


def _anchors(layers, people, bad):
    """Anchor table (dict of arrays): type 0 point / 1 street / 2 village, ref row, kind,
    name, grid position, x, y, dispatch unit and sampling weight."""
    grids = layers["grids"]
    cur = current(people["assignments"])
    cur = cur[cur["role"] == "责任单位"].drop_duplicates(["target_kind", "target_code"])
    unit = dict(zip(zip(cur["target_kind"], cur["target_code"]), cur["unit_code"]))
    parts = []
    for typ, (layer, tk) in enumerate((("points", "point"), ("streets", "street"), ("villages", "village"))):
        f = layers.get(layer)
        if f is None or not len(f):
            continue
        geo = np.asarray(f.geometry.values)
        g = locate_in_grids(geo, grids)
        if typ == 0:
            kind = f["kind"].to_numpy(object)
            w = np.array([KIND_WEIGHT.get(k, 1.0) for k in kind])
        elif typ == 1:
            kind = np.where(f["road_class"].to_numpy(object) == "背街小巷", "背街小巷", "主次干道").astype(object)
            lat = shapely.get_coordinates(geo)[:, 1].mean()
            length = shapely.length(shapely.transform(geo, lambda c: c * [_meters(lat), _M_LAT]))
            w = length * np.array([KIND_WEIGHT[k] for k in kind])
        else:
            kind = np.full(len(f), "城中村", dtype=object)
            w = np.sqrt(f["households"].to_numpy(float).clip(1, None))
        w = w * bad[g]
        rep = shapely.point_on_surface(geo)
        parts.append(dict(typ=np.full(len(f), typ), ref=np.arange(len(f)), kind=kind,
                          name=f["name"].to_numpy(object), grid=g, x=shapely.get_x(rep), y=shapely.get_y(rep),
                          unit=np.array([unit.get((tk, c)) for c in f["code"]], dtype=object),
                          w=_TYPE_SHARE[typ] * w / w.sum()))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _street_tables(streets):
    """Per-street lookups for descriptions: segment/side labels and crossing streets."""
    geo = np.asarray(streets.geometry.values)
    n = len(geo)
    xy0 = shapely.get_coordinates(shapely.get_point(geo, 0))
    xy1 = shapely.get_coordinates(shapely.get_point(geo, -1))
    d = (xy1 - xy0) * [np.cos(np.radians(xy0[:, 1].mean())), 1.0]
    ew = np.abs(d[:, 0]) >= np.abs(d[:, 1])
    inc = np.where(ew, d[:, 0] > 0, d[:, 1] > 0)
    seg = np.empty((n, 3), dtype=object)
    seg[:] = ["南段", "中段", "北段"]
    seg[ew] = ["西段", "中段", "东段"]
    seg[~inc] = seg[~inc, ::-1]
    side = np.where(ew[:, None], np.array([["路北", "路南"]], dtype=object),
                    np.array([["路东", "路西"]], dtype=object))
    names = streets["name"].to_numpy(object)
    i, j = shapely.STRtree(geo).query(geo, predicate="intersects")
    keep = (i != j) & (names[i] != names[j])
    o = np.lexsort((j[keep], i[keep]))
    i, j = i[keep][o], j[keep][o]
    pt = shapely.centroid(shapely.get_geometry(shapely.intersection(geo[i], geo[j]), 0))
    cnt = np.bincount(i, minlength=n)
    width = max(1, int(cnt.max(initial=0)))
    slot = np.arange(len(i)) - np.repeat(np.cumsum(cnt) - cnt, cnt)  # rank within the street (i sorted)
    cx = np.zeros((n, width))
    cy = np.zeros((n, width))
    cname = np.full((n, width), "", dtype=object)
    cx[i, slot], cy[i, slot], cname[i, slot] = shapely.get_x(pt), shapely.get_y(pt), names[j]
    return seg, side, cnt, cx, cy, cname


def _village_pool(villages, rng):
    """``_POOL`` interior sample points per village (vectorised rejection sampling)."""
    geo = np.asarray(villages.geometry.values)
    b = shapely.bounds(geo)
    k = 4 * _POOL
    x = b[:, [0]] + rng.random((len(geo), k)) * (b[:, [2]] - b[:, [0]])
    y = b[:, [1]] + rng.random((len(geo), k)) * (b[:, [3]] - b[:, [1]])
    inside = shapely.contains_xy(np.repeat(geo, k).reshape(len(geo), k), x, y)
    rank = np.where(inside, np.cumsum(inside, axis=1) - 1, k)  # position among inside points
    rep = shapely.point_on_surface(geo)
    px = np.repeat(shapely.get_x(rep)[:, None], _POOL, 1)
    py = np.repeat(shapely.get_y(rep)[:, None], _POOL, 1)
    r, c = np.nonzero(rank < _POOL)
    px[r, rank[r, c]], py[r, rank[r, c]] = x[r, c], y[r, c]
    n_in = np.minimum(inside.sum(1), _POOL)
    for v in np.flatnonzero((n_in > 0) & (n_in < _POOL)):  # few insiders: cycle them
        px[v] = np.resize(px[v, :n_in[v]], _POOL)
        py[v] = np.resize(py[v, :n_in[v]], _POOL)
    return px, py


def _category_probs(kinds, cat_names):
    """Cumulative category probabilities, one row per (kind, month-of-year)."""
    base = np.array([_BASE_CAT.get(c, 1.0) for c in cat_names])
    w = np.array([[base[j] * _KIND_CAT.get(k, {}).get(c, 1.0) for j, c in enumerate(cat_names)] for k in kinds])
    season = np.array([_SEASON.get(c, (1.0,) * 12) for c in cat_names]).T  # (12, C)
    p = w[:, None, :] * season[None, :, :]
    return np.cumsum(p / p.sum(-1, keepdims=True), -1).reshape(len(kinds) * 12, len(cat_names))


def _padded(cands):
    """Pad (values, weights) candidate lists into a value table and cumulative weights."""
    width = max(len(c) for c, _ in cands)
    vals = np.full((len(cands), width), "", dtype=object)
    cum = np.ones((len(cands), width))
    for r, (c, w) in enumerate(cands):
        vals[r, :len(c)] = c
        cum[r, :len(c)] = np.cumsum(w) / np.sum(w)
        cum[r, len(c) - 1] = 1.0
    return vals, cum


def _standard_table(kinds, cat_names, std):
    """Candidate standard codes and cumulative weights per (category, kind): standards of the
    category applicable at the kind (any of the category otherwise); 负面清单 less often."""
    cands = []
    for c in cat_names:
        of_cat = std[std["category"] == c]
        for k in kinds:
            sub = of_cat[of_cat["item"].isin(KIND_ITEMS.get(k, ()))]
            sub = sub if len(sub) else of_cat
            cands.append((sub["code"].tolist(), np.where(sub["negative"], 0.35, 1.0)))
    return _padded(cands)


def _template_table(kinds, cat_names):
    """Description templates per (category, kind), equally likely."""
    cands = [(t, np.ones(len(t))) for c in cat_names for t in (templates(c, k) for k in kinds)]
    return _padded(cands)


def _strings(vocab, idx) -> pd.api.extensions.ExtensionArray:
    """pandas string array ``vocab[idx]`` (-1 = missing) built by an array take, so that
    low-cardinality columns cost no per-row Python string objects."""
    return pd.array(np.asarray(vocab, dtype=object), dtype="str").take(np.asarray(idx), allow_fill=True)


def _describe(an, a, typ, cat, col, tt, combo, st, rng):
    """Description per problem: location phrase (东关农贸市场门口 / 柳园路与兴华路交叉口西侧 /
    柳园路西段路北 / 水城花园3号楼北侧 / 后菜园村东侧胡同) + category template.

    Each row is reduced to an integer key (anchor, phrase variant, template); text is built
    once per distinct key and gathered with a take - ~10x fewer string operations at 1M rows.
    """
    n = len(a)
    v = rng.integers(0, 1 << 16, n)
    kind = an["kind"][a]
    xq = (typ == 0) & (kind == "小区")
    road = (typ == 0) & np.isin(kind, _ROAD_KINDS)
    c1 = v % len(_POINT_SUFFIX)
    c2 = np.zeros(n, np.int64)
    c1[road] = v[road] % len(_ROAD_SUFFIX)
    c1[xq], c2[xq] = v[xq] % len(_BUILDING_SIDE), (v[xq] // 8) % 30
    c1[typ == 2] = v[typ == 2] % len(_VILLAGE_PART)
    if st is not None:  # streets: c2 = segment 0-2 along the street, 3 + slot at a crossing
        along, at = (typ == 1) & (st["slot"] < 0), st["slot"] >= 0
        c1[along], c2[along] = v[along] % 2, np.minimum((st["t"][along] * 3).astype(np.int64), 2)
        c1[at], c2[at] = v[at] % len(_CORNER), 3 + st["slot"][at]
    key = (((a.astype(np.int64) * 256 + c1) * 4096 + c2) * 64 + cat) * 64 + col
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    r = first
    ar, tr, k1, k2 = a[r], typ[r], c1[r], c2[r]
    loc = an["name"][ar].copy()
    m = (tr == 0) & ~xq[r] & ~road[r]
    loc[m] += _POINT_SUFFIX[k1[m]]
    m = road[r]
    loc[m] += _ROAD_SUFFIX[k1[m]]
    m = xq[r]
    loc[m] += np.array([f"{i}号楼" for i in range(1, 31)], dtype=object)[k2[m]] + _BUILDING_SIDE[k1[m]]
    m = tr == 2
    loc[m] += _VILLAGE_PART[k1[m]]
    if st is not None:
        seg, side, cname, sr = st["seg"], st["side"], st["cname"], st["s"][r]
        m = (tr == 1) & (k2 < 3)
        loc[m] += seg[sr[m], k2[m]] + side[sr[m], k1[m]]
        m = (tr == 1) & (k2 >= 3)
        loc[m] += "与" + cname[sr[m], k2[m] - 3] + "交叉口" + _CORNER[k1[m]]
    return loc + tt[combo[r], col[r]], inv


def _when(an, a, kinds, cat_names, ndays, start, rng):
    """Report day (weekday pattern, improving trend), category (place kind x season), second."""
    n = len(a)
    days = np.datetime64(start, "D") + np.arange(ndays)
    dow = (days.view("int64") + 3) % 7  # 1970-01-01 was a Thursday
    dw = _WEEKDAY[dow] * (1.15 - 0.3 * np.arange(ndays) / ndays)
    day = rng.choice(ndays, size=n, p=dw / dw.sum())
    moy = (days.astype("datetime64[M]").view("int64") % 12)[day]
    kidx = np.searchsorted(kinds, an["kind"])[a]
    cat = _draw(_category_probs(kinds, cat_names), kidx * 12 + moy, rng)
    eve = np.isin(cat, [cat_names.index(c) for c in _EVENING if c in cat_names])
    hours = _draw(np.cumsum([_HOURS_DAY, _HOURS_EVE], axis=1), eve.astype(np.int64), rng)
    rep = day * 86400 + hours * 3600 + rng.integers(0, 3600, n)
    return day, kidx, cat, hours, rep


def _where(layers, an, a, typ, rng):
    """Position: the anchor point, a point along the street (or its crossing), a point
    inside the village; plus 10-80 m Gaussian jitter. Also returns street lookups."""
    n = len(a)
    x, y = an["x"][a].copy(), an["y"][a].copy()
    st = None
    streets = layers.get("streets")
    if streets is not None and len(streets):
        seg, side, cnt, cx, cy, cname = _street_tables(streets)
        m = typ == 1
        s = an["ref"][a] * m
        t = rng.random(n)
        slot = np.where(m & (cnt[s] > 0) & (rng.random(n) < 0.3), (t * cnt[s]).astype(np.int64), -1)
        along = m & (slot < 0)
        pts = shapely.line_interpolate_point(np.asarray(streets.geometry.values)[s[along]], t[along],
                                             normalized=True)
        x[along], y[along] = shapely.get_x(pts), shapely.get_y(pts)
        at = slot >= 0
        x[at], y[at] = cx[s[at], slot[at]], cy[s[at], slot[at]]
        st = {"s": s, "t": t, "slot": slot, "seg": seg, "side": side, "cname": cname}
    villages = layers.get("villages")
    if villages is not None and len(villages):
        px, py = _village_pool(villages, rng)
        m = typ == 2
        v, j = an["ref"][a[m]], rng.integers(0, _POOL, m.sum())
        x[m], y[m] = px[v, j], py[v, j]
    sigma = rng.uniform(10, 80, n)
    x += rng.normal(0, 1, n) * sigma / _meters(y)
    y += rng.normal(0, 1, n) * sigma / _M_LAT
    return x, y, st


def _timeline(rep, tf, dl, badness, end, rng):
    """Seconds (since window start) of dispatch, acknowledgement, rectification and
    verification; rework count; status index into STATUSES at the end moment (second ``end``)."""
    n = len(rep)
    dispatch = rep + rng.lognormal(np.log(600), 0.8, n)
    tod = dispatch % 86400  # the 派遣 desk works 07:00-22:00; night reports wait for the morning
    dispatch += np.where(tod < 7 * 3600, 7 * 3600 - tod, np.where(tod >= 22 * 3600, 86400 + 7 * 3600 - tod, 0))
    dispatch += np.where(rng.random(n) < 0.02, rng.uniform(1, 15, n) * 86400, 0)  # 权属争议, 待派遣 long
    ack = dispatch + rng.lognormal(np.log(1200), 1.0, n)
    ack += np.where(rng.random(n) < 0.06 - 0.04 * tf, rng.uniform(10, 60, n) * 3600, 0)  # 反馈过夜
    # time to rectify as a share of the deadline: median 0.42 -> 0.23 over the year, slower in bad grids
    ratio = np.exp(np.log(0.42) - 0.6 * tf + 0.35 * np.log(badness) + 0.65 * rng.normal(0, 1, n))
    ratio *= np.where(rng.random(n) < 0.03, rng.uniform(3, 60, n), 1.0)  # 久拖不决
    rect = np.maximum(rep + ratio * dl, ack + 600)
    verify_delay = rng.lognormal(np.log(6 * 3600), 0.8, n)
    rework = np.where(rng.random(n) < 0.065 - 0.03 * tf, 1 + (rng.random(n) < 0.25), 0)  # 退回返工
    rect += rework * (verify_delay + np.maximum(0.5 * ratio * dl, 600))
    verify = rect + verify_delay
    status = np.select([dispatch > end, rect > end, verify > end], [0, 1, 2], 3)
    rework[status < 2] = 0
    return ack, rect, verify, rework, status


def _problems(layers, std, cats, people, n, seed, start, ndays, bad, end, part=0):
    rng = np.random.default_rng([seed, 1] + ([part] if part else []))
    an = _anchors(layers, people, bad)
    a = rng.choice(len(an["w"]), size=n, p=an["w"] / an["w"].sum())
    typ = an["typ"][a]
    kinds = sorted(set(an["kind"]) | set(KIND_WEIGHT))
    cat_names = cats["name"].tolist()
    day, kidx, cat, hours, rep = _when(an, a, kinds, cat_names, ndays, start, rng)
    late = rep > end  # drawn on the last day after the end moment: the day before, same hour
    rep[late] -= 86400
    day[late] -= 1
    x, y, st = _where(layers, an, a, typ, rng)

    combo = cat * len(kinds) + kidx
    tt, tcum = _template_table(kinds, cat_names)
    desc, desc_inv = _describe(an, a, typ, cat, _draw(tcum, combo, rng), tt, combo, st, rng)
    sc, scum = _standard_table(kinds, cat_names, std)
    std_idx = pd.Index(std["code"]).get_indexer(sc.ravel()).reshape(sc.shape)[combo, _draw(scum, combo, rng)]
    deduction = cats["deduction"].to_numpy(float)[cat] * np.where(std["negative"].to_numpy(bool)[std_idx], 2.0, 1.0)

    g = an["grid"][a]
    dl = cats["deadline_hours"].to_numpy(float)[cat] * 3600
    ack, rect, verify, rework, status = _timeline(rep, day / ndays, dl, bad[g], end, rng)
    off = (hours < 8) | (hours >= 19)
    src = _draw(np.cumsum([_SRC_DAY, _SRC_OFF], axis=1), off.astype(np.int64), rng)
    who, who_idx = _reporters(src, g, rep, start, layers["grids"], people, seed, rng)
    has_unit = an["unit"] != None  # noqa: E711  (object array: elementwise)
    unit_vocab, unit_idx = np.unique(an["unit"][has_unit].astype(str), return_inverse=True)
    anchor_unit = np.full(len(has_unit), -1)
    anchor_unit[has_unit] = unit_idx
    unit = np.where(status == 0, -1, anchor_unit[a])
    return _frame(locals())


def _frame(v: dict) -> pd.DataFrame:
    """Assemble the problems frame from ``_problems``' local arrays (``v``), sorted by
    report time, with codes WT<yyyymm><7-digit counter within the month>."""
    o = np.argsort(v["rep"], kind="stable")
    base = np.datetime64(v["start"], "s")
    end = v["end"]
    status = v["status"]

    def ts(sec, keep):
        return np.where(keep, base + sec.astype("int64").astype("timedelta64[s]"), np.datetime64("NaT", "s"))[o]

    reported_at = base + v["rep"][o].astype("timedelta64[s]")
    months, inv = np.unique(reported_at.astype("datetime64[M]"), return_inverse=True)
    first = np.searchsorted(inv, np.arange(len(months)))
    prefix = np.array(["WT" + str(m).replace("-", "") for m in months], dtype="U8")
    counter = (np.arange(len(o)) - first[inv] + 1 + 10**7).astype("U8")  # "1" + 7 digits
    codes = np.strings.add(prefix[inv], counter.view("U1").reshape(-1, 8)[:, 1:].copy().view("U7").ravel())
    return pd.DataFrame({
        "code": pd.array(codes, dtype="str"), "category": _strings(v["cat_names"], v["cat"][o]),
        "standard_code": _strings(v["std"]["code"], v["std_idx"][o]),
        "description": _strings(v["desc"], v["desc_inv"][o]), "lon": v["x"][o], "lat": v["y"][o],
        "reported_at": reported_at, "source": _strings(SOURCES, v["src"][o]),
        "deadline": ts(v["rep"] + v["dl"], True), "status": _strings(STATUSES, status[o]),
        "unit_code": _strings(v["unit_vocab"], v["unit"][o]),
        "acknowledged_at": ts(v["ack"], (status > 0) & (v["ack"] <= end)),
        "rectified_at": ts(v["rect"], status >= 2), "verified_at": ts(v["verify"], status == 3),
        "rework_count": v["rework"][o].astype("int64"), "deduction": v["deduction"][o],
        "reporter": _strings(v["who"], v["who_idx"][o]),
    })


def _inspectors(people, seed, k=12):
    return np.array(chinese_names(np.random.default_rng([seed, 3]), k, exclude=set(people["persons"]["name"])),
                    dtype=object)


def _reporters(src, g, rep, start, grids, people, seed, rng):
    """Reporter vocabulary and index per problem: '12345热线' / '暗访组' / a 督查 inspector /
    a 网格员 of the grid on duty that day (any of the grid's before the first assignment)."""
    a = people["assignments"]
    a = a[(a["target_kind"] == "grid") & (a["role"] == "网格员")]
    name = dict(zip(people["persons"]["code"], people["persons"]["name"]))
    row = pd.Series(np.arange(len(grids)), index=grids["code"].to_numpy()).reindex(a["target_code"]).to_numpy()
    a, row = a[~np.isnan(row)], row[~np.isnan(row)].astype(np.int64)
    slot = pd.Series(row).groupby(row).cumcount().to_numpy()
    width = max(1, int(slot.max(initial=0)) + 1)
    table = np.full((len(grids), width), "网格员", dtype=object)
    lo = np.full((len(grids), width), np.iinfo(np.int64).max)
    hi = np.full((len(grids), width), np.iinfo(np.int64).max)
    day0 = pd.Timestamp(start)
    table[row, slot] = a["person_code"].map(name).to_numpy(object)
    lo[row, slot] = (pd.to_datetime(a["valid_from"]) - day0).dt.days.to_numpy() * 86400
    hi[row, slot] = ((pd.to_datetime(a["valid_to"]) - day0).dt.days.fillna(10**9).to_numpy(np.int64) + 1) * 86400
    insp = _inspectors(people, seed)
    vocab = np.concatenate([["12345热线", "暗访组"], insp, table.ravel()]).astype(object)
    out = np.where(src == 2, 0, 1)
    m = src == 1
    out[m] = 2 + rng.integers(0, len(insp), m.sum())
    m = np.flatnonzero(src == 3)
    gm, t = g[m], rep[m][:, None]
    ok = (lo[gm] <= t) & (t < hi[gm])
    ok[~ok.any(1)] = lo[gm[~ok.any(1)]] < np.iinfo(np.int64).max  # before any assignment: anyone
    k = (rng.random(len(m)) * ok.sum(1)).astype(np.int64)
    j = np.argmax(np.cumsum(ok, axis=1, dtype=np.int16) > k[:, None], axis=1)
    out[m] = 2 + len(insp) + gm * width + j
    return vocab, out


#: Inspection visits (distinct point-days) the 测评组 plans per grid and calendar month, in the month's
#: first INSPECTION_DAYS days; THIN_VISITS for the few grids it reaches less (样本不足 below 30).
PLAN_VISITS, THIN_VISITS, INSPECTION_DAYS = (32, 44), (18, 28), 22


def _visit_plan(g, n_grids, start, ndays, last_day, rng):
    """(point row, day index) of every inspection visit: per grid and calendar month a planned number
    of visits spread over its points (a point at most once a day), on days of the month's first
    INSPECTION_DAYS within the window and up to ``last_day``; the month in progress gets its share."""
    days = np.datetime64(start, "D") + np.arange(ndays)
    months = np.unique(days.astype("datetime64[M]"))
    cal0 = (months.astype("datetime64[D]") - np.datetime64(start, "D")).astype(np.int64)  # day 1 of each month
    nxt = np.append(cal0[1:], ndays)
    lo = np.maximum(cal0, 0)
    hi = np.minimum(np.minimum(cal0 + INSPECTION_DAYS, nxt), last_day + 1)
    share = np.clip(hi - lo, 0, None) / INSPECTION_DAYS
    plan = rng.integers(PLAN_VISITS[0], PLAN_VISITS[1] + 1, size=(n_grids, len(months)))
    thin = rng.choice(n_grids, size=max(1, n_grids // 20), replace=False)
    plan[thin] = rng.integers(THIN_VISITS[0], THIN_VISITS[1] + 1, size=(len(thin), len(months)))
    plan = np.rint(plan * share[None, :]).astype(np.int64)
    n_pts = np.bincount(g[g >= 0], minlength=n_grids)
    rank = np.empty(len(g), np.int64)  # a point's place among its grid's points, shuffled per point
    keys = rng.random(len(g))
    by = np.lexsort((keys, g))
    start_of = np.cumsum(n_pts) - n_pts
    rank[by] = np.arange(len(g)) - start_of[g[by]]
    gg = np.clip(g, 0, None)
    per = plan[gg] // np.maximum(n_pts[gg], 1)[:, None]  # (points, months)
    extra = (rank[:, None] + np.arange(len(months))[None, :] * 7) % np.maximum(n_pts[gg], 1)[:, None] \
        < (plan[gg] % np.maximum(n_pts[gg], 1)[:, None])
    k = np.minimum(per + extra, (hi - lo).clip(0)[None, :])
    k[g < 0] = 0
    p_idx, m_idx = np.nonzero(k)
    kk = k[p_idx, m_idx]
    width = INSPECTION_DAYS
    span = (hi - lo)[m_idx]
    pick = np.argsort(np.where(np.arange(width)[None, :] < span[:, None], rng.random((len(p_idx), width)), 2.0), axis=1)
    r, c = np.nonzero(np.arange(width)[None, :] < kk[:, None])
    return p_idx[r], lo[m_idx[r]] + pick[r, c]


def _inspections(layers, std, seed, start, ndays, bad, inspectors, last_day):
    """测评记录: the visits of `_visit_plan`, each checking 3-6 standards applicable to the point
    kind; pass probability falls with grid badness and kind difficulty and rises over the year.
    Failed standards score 0 or half points."""
    rng = np.random.default_rng([seed, 2])
    pts = layers["points"]
    g = locate_in_grids(np.asarray(pts.geometry.values), layers["grids"])
    kinds = sorted(set(pts["kind"]))
    lists = []
    for k in kinds:
        codes = np.flatnonzero(std["item"].isin(KIND_ITEMS.get(k, ("环境卫生", "文明行为"))).to_numpy())
        lists.append(codes)
    width = max(len(c) for c in lists)
    table = np.full((len(kinds), width), -1)
    for i, c in enumerate(lists):
        table[i, :len(c)] = c
    avail = (table >= 0).sum(1)
    kp = np.searchsorted(kinds, pts["kind"].to_numpy(object))

    vp, vday = _visit_plan(g, len(layers["grids"]), start, ndays, last_day, rng)
    vins = inspectors[rng.integers(0, len(inspectors), len(vp))]
    nstd = np.minimum(rng.integers(3, 7, len(vp)), avail[kp[vp]])
    keys = np.where(table[kp[vp]] >= 0, rng.random((len(vp), width)), 2.0)
    pick = np.argsort(keys, axis=1)
    v, j = np.nonzero(np.arange(width)[None, :] < nstd[:, None])
    s = table[kp[vp[v]], pick[v, j]]

    p, day = vp[v], vday[v]
    negative = std["negative"].to_numpy(bool)[s]
    diff = np.array([KIND_DIFFICULTY.get(k, 0.0) for k in kinds])[kp[p]]
    logit = 1.7 + 1.0 * (day / ndays - 0.5) - 1.0 * np.log(bad[g[p]]) - diff + 0.8 * negative
    passed = rng.random(len(s)) < 1 / (1 + np.exp(-logit))
    pts_w = std["points"].to_numpy(float)[s]
    partial = ~passed & ~negative & (rng.random(len(s)) < 0.4)
    score = np.where(passed, pts_w, np.where(partial, 0.5 * pts_w, 0.0))
    order = np.lexsort((s, p, day))
    on = (np.datetime64(start, "D") + day.astype("timedelta64[D]")).astype(object)
    return pd.DataFrame({
        "point_code": pts["code"].to_numpy(object)[p][order], "standard_code": std["code"].to_numpy(object)[s][order],
        "inspected_on": on[order], "passed": passed[order], "score": score[order], "inspector": vins[v][order],
    })


def _months_back(d: dt.date, n: int, day: int) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 - n, 12)
    return dt.date(y, m + 1, day)


def _negative_events(grids, std, people, bad, start, end) -> pd.DataFrame:
    """The demo's 负面清单事件 (gis.metrics.negative): two confirmed events in the worst grids by latent
    badness — a 重大安全生产责任事故 (否决) on the 14th two months before the end's month and a 重大负面舆情
    (扣分) on the 9th of the month before — each with the grid's 责任单位 on that day."""
    neg = std[std["negative"] & std["negative_effect"].notna()] if "negative_effect" in std else std.iloc[0:0]
    veto = neg[neg["negative_effect"] == "否决"]
    deduct = neg[neg["negative_effect"] == "扣分"]
    if veto.empty or deduct.empty:
        return pd.DataFrame()
    worst = np.argsort(-bad, kind="stable")[:2]
    plan = [(veto.iloc[0], worst[0], _months_back(end.date(), 2, 14),
             "建筑工地脚手架坍塌，造成 1 人死亡、2 人受伤，经区应急管理局调查认定为安全生产责任事故", "经区应急管理局调查认定，予以确认"),
            (deduct.iloc[0], worst[1], _months_back(end.date(), 1, 9),
             "网传小区垃圾堆积、污水横流视频引发大量转载，被省级媒体曝光", "经核实属实，予以确认")]
    rows = []
    for n, (standard, g, day, what, note) in enumerate(plan, start=1):
        if day < start:
            continue
        code = str(grids["code"].iloc[g])
        units = current(people["assignments"], on=day)
        units = units[(units["target_kind"] == "grid") & (units["target_code"] == code) & (units["role"] == "责任单位")]
        reported = dt.datetime.combine(day, dt.time(17, 30))
        rows.append({"code": f"FM{day:%Y%m}-001", "standard_code": standard["code"], "grid_code": code,
                     "unit_codes": ",".join(sorted(units["unit_code"].dropna().astype(str).unique())) or None,
                     "occurred_on": day, "description": what, "status": "已确认", "reported_by": "command",
                     "reported_at": reported, "decided_by": "leader", "decided_at": reported + dt.timedelta(days=2),
                     "decision_note": note, "revision": 2})
    return pd.DataFrame(rows)


def _span(until: dt.date | dt.datetime) -> tuple[dt.datetime, dt.date, int, int]:
    """The end moment (the end of that day for a date), the twelve months' first day and length, and the
    end in seconds from the first day (nothing is drawn after it)."""
    if isinstance(until, dt.datetime):
        end = until.replace(microsecond=0)
    else:
        end = dt.datetime.combine(pd.Timestamp(until).date(), dt.time(23, 59, 59))
    start, ndays = window(end.date())
    return end, start, ndays, min(int((end - dt.datetime.combine(start, dt.time())).total_seconds()), ndays * 86400 - 1)


def build_activity(layers: dict, standards_df: pd.DataFrame, categories_df: pd.DataFrame, people: dict,
                   n_problems: int = 50_000, seed: int = 2024, *, until: dt.date | dt.datetime) -> dict[str, pd.DataFrame]:
    """Problems, inspections and 负面清单 events for the twelve months ending at ``until``: the end of
    that day for a date, that moment for a datetime (nothing happens after it).

    Returns {"problems", "inspections", "negative_events"}. Deterministic for (layers, people, seed,
    until, n_problems); grid badness depends only on ``seed`` and the grid order.
    """
    end, start, ndays, end_s = _span(until)
    # an inspection is a day's work: the end's own day counts once the working day is over
    last_day = ndays - 1 if end.time() >= dt.time(17, 30) else ndays - 2
    std = standards_df.reset_index(drop=True)
    cats = categories_df.reset_index(drop=True)
    bad = grid_badness(layers["grids"], seed)
    return {
        "problems": _problems(layers, std, cats, people, int(n_problems), seed, start, ndays, bad, end_s),
        "inspections": _inspections(layers, std, seed, start, ndays, bad, _inspectors(people, seed), last_day),
        "negative_events": _negative_events(layers["grids"], std, people, bad, start, end),
    }


def problems_part(city: dict, n_problems: int, seed: int, part: int, *, until: dt.date | dt.datetime,
                  seen: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Part `part` (1, 2, …) of a demo bigger than one chunk (`gis.demo.build.PROBLEM_CHUNK`):
    `n_problems` more problems drawn like the first part, from their own random stream, so memory
    stays bounded at any size. `seen` counts the problems of earlier parts per month ("yyyymm"):
    codes continue each month's counter after them. Returns the part and the updated counts."""
    _, start, ndays, end_s = _span(until)
    std, cats = city["standards"].reset_index(drop=True), city["categories"].reset_index(drop=True)
    frame = _problems(city, std, cats, city, int(n_problems), seed, start, ndays,
                      grid_badness(city["grids"], seed), end_s, part=part)
    month = frame["code"].str.slice(2, 8)
    number = frame["code"].str.slice(8).astype("int64") + month.map(seen).fillna(0).astype("int64").to_numpy()
    frame["code"] = "WT" + month + number.astype(str).str.zfill(7)
    return frame, seen.add(month.value_counts(), fill_value=0).astype("int64")


def month_counts(problems: pd.DataFrame) -> pd.Series:
    """Problems per month ("yyyymm", from the codes WT<yyyymm><counter>): the `seen` of `problems_part`."""
    return problems["code"].str.slice(2, 8).value_counts()
