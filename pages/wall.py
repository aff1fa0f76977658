"""领导大屏: the command centre's wall screen — compliance map, KPI tiles, 红黑榜, 十差单位, 得分等级 (score band), trend.

One district's wall, or — for a city-level viewer (市文明办) of a deployment with several districts (区县,
issue 17) — the city's: the districts side by side (区县得分, 结案率, 按期结案率, 三色牌, trend) and a map
of the districts coloured by score; a click on a district (or ``?district=<code>``) opens its own wall.
A district's user sees their district's wall only (`gis.people.permissions.district_scope`).

Dark, large type, one screen without scrolling at 1920×1080 (and 3840×2160, zoomed ×2). Kiosk
mode (``?kiosk=<token>``, see pages/gate.py) hides Streamlit's header, menu and sidebar and the
filters. The body is a fragment that re-runs itself every GRIDMAP_WALL_REFRESH seconds (default
60): only the fragment redraws, the page does not flicker. Every number comes from gis.metrics /
gis.metrics.heat through the cached wrappers; this page only lays them out.
"""

from __future__ import annotations

import html
from urllib.parse import urlencode
from datetime import date, datetime, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from pages import cache

from gis import clock
from gis.metrics import definitions, periods, settings
from gis.metrics.negative import VETO_LABEL
from gis.metrics.scores import color_counts, rankings
from gis.config import database_url
from gis.people.permissions import KIOSK, district_scope
from gis.config import setting
from layers.basemap import make_map
from layers.choropleth import CARD_FILL, score_choropleth, score_legend, wall_labels
from layers.heat import heat_deck
from pages import gate
from pages.ui import basemap, current_actor, for_display, require_data, show_map

gate.require()  # first: no page runs without the sign-in gate (pages/gate.py)

MAP_HEIGHT = 840  # kiosk: the map fills the screen's height below the KPI tiles
MAP_HEIGHT_SIGNED_IN = 690  # signed in, the filters row and narrower tiles above it: legend still on a 1080 screen
TREND_WIDTH = 470  # fixed (not measured) so that the 4K zoom does not double it
MAP_ZOOM = 12.6  # the demo city's 61 grids fill the map column at 1920×1080 (and at 4K, zoomed ×2)
VIEWS = {"score": "综合得分", "heat": "问题热力"}

url = database_url()
params = st.query_params
actor = current_actor()
kiosk = bool(params.get("kiosk")) or (actor is not None and actor.role == KIOSK)
DISTRICTS = cache.districts(url)
DISTRICT_NAMES = dict(zip(DISTRICTS["code"], DISTRICTS["name"]))


def _on_district_click() -> None:
    """A district clicked on the city map: its wall, at the next run."""
    code = (((st.session_state.get("city_map") or {}).get("last_active_drawing") or {}).get("properties") or {}).get("code")
    if code in DISTRICT_NAMES:
        st.query_params["district"] = code


def _district() -> str | None:
    """The district this wall shows: the viewer's own (a district's user), else ``?district=`` when it
    names one; None: the city wall (several districts) or the only district's (one)."""
    own = district_scope(actor)
    if own is not None:
        return own
    asked = params.get("district")
    return asked if asked in DISTRICT_NAMES else None


DISTRICT = _district()
CITY_VIEW = DISTRICT is None and len(DISTRICTS) > 1
PLACE = (setting("GRIDMAP_CITY_NAME") if CITY_VIEW
         else DISTRICT_NAMES.get(DISTRICT) or (DISTRICTS["name"].iloc[0] if len(DISTRICTS) else ""))


def _as_of() -> datetime | None:
    """`?as_of=YYYY-MM-DD` replays the wall as at the end of that day (default: now)."""
    raw = params.get("as_of")
    try:
        return datetime.combine(date.fromisoformat(raw), datetime.min.time()) + timedelta(days=1) if raw else None
    except ValueError:
        return None


AS_OF = _as_of()

CSS = """
<style>
html, body, .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] { background:#0b1220 !important; color:#e2e8f0; }
.block-container, [data-testid="stMainBlockContainer"] { padding:3.6rem 1.1rem 0 1.1rem !important; max-width:100% !important; }
[data-testid="stVerticalBlock"] { gap:0.45rem; }
.gm-head { display:flex; align-items:baseline; justify-content:space-between; margin:0 0 2px 0; }
.gm-head h1 { font-size:36px; font-weight:800; color:#f8fafc; margin:0; padding:0; letter-spacing:2px; }
.gm-head .sub { font-size:20px; color:#94a3b8; }
.gm-kpis { display:grid; grid-template-columns:repeat(6, 1fr); gap:12px; }
.gm-kpi { background:#111c33; border:1px solid #1e3a5f; border-radius:10px; padding:8px 16px 8px 16px; }
.gm-kpi .l { font-size:21px; color:#93c5fd; font-weight:600; }
.gm-kpi .v { font-size:46px; font-weight:800; color:#f8fafc; line-height:1.08; font-variant-numeric:tabular-nums; }
.gm-kpi .v small { font-size:22px; font-weight:600; color:#cbd5e1; margin-left:4px; }
.gm-kpi .d { font-size:19px; color:#94a3b8; }
.gm-kpi .good { color:#4ade80; font-weight:700; } .gm-kpi .bad { color:#f87171; font-weight:700; }
.gm-panel h3 { font-size:24px; font-weight:800; margin:0 0 4px 0; padding:0; color:#f1f5f9; }
.gm-panel h3 .n { font-size:17px; color:#94a3b8; font-weight:500; margin-left:8px; }
.gm-table { width:100%; border-collapse:collapse; font-size:20px; line-height:1.18; font-variant-numeric:tabular-nums; }
.gm-table th, .gm-table td { border:none !important; }
.gm-table th { text-align:left; color:#94a3b8; font-weight:600; font-size:16px; border-bottom:1px solid #334155; padding:1px 4px; }
.gm-table td { padding:2px 4px; border-bottom:1px solid #1e293b !important; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; max-width:210px; }
.gm-table td.num, .gm-table th.num { text-align:right; }
.gm-red h3 { color:#f87171; } .gm-black h3 { color:#e2e8f0; background:#020617; padding:0 6px; border-left:6px solid #475569; }
.gm-cards { display:grid; grid-template-columns:repeat(11, 1fr); gap:4px; }
.gm-card { border-radius:4px; font-size:15px; font-weight:800; text-align:center; padding:3px 0; color:#0b1220; }
.gm-tally { font-size:20px; margin:2px 0 4px 0; }
.gm-tally b { font-size:24px; }
.gm-note { font-size:15px; color:#94a3b8; margin-top:2px; }
a.gm-i { font-size:0.7em; color:#64748b; text-decoration:none; margin-left:6px; vertical-align:super; }
/* signed in (not kiosk): the filters' labels light on navy, Streamlit's header band navy too */
[data-testid="stHeader"] { background:#0b1220 !important; }
[data-testid="stHeader"] button, [data-testid="stHeader"] a, [data-testid="stHeader"] span { color:#cbd5e1 !important; }
[data-testid="stMain"] [data-testid="stWidgetLabel"], [data-testid="stMain"] [data-testid="stWidgetLabel"] p { color:#cbd5e1 !important; font-size:15px; }
/* 3840×2160 at 100 % scaling: the same layout drawn twice as large. Widths Streamlit measures
   in device pixels (iframes) are pinned to their column so they are not doubled again. */
@media (min-width: 2600px) { html { zoom:2; } iframe { width:100% !important; } }
/* a phone (a leader away from the command centre): tiles two by two, type that fits */
@media (max-width: 700px) {
  .gm-head { display:block; } .gm-head h1 { font-size:26px; letter-spacing:1px; } .gm-head .sub { font-size:15px; }
  .gm-kpis { grid-template-columns:repeat(2, 1fr); gap:8px; }
  .gm-kpi .v { font-size:32px !important; } .gm-kpi .l { font-size:16px !important; } .gm-kpi .d { font-size:13px !important; }
  .gm-table { font-size:15px; } .gm-panel h3 { font-size:19px; } .gm-cards { grid-template-columns:repeat(6, 1fr); }
}
</style>
"""
KIOSK_CSS = """
<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stDecoration"], [data-testid="stStatusWidget"], #MainMenu, footer { display:none !important; }
.block-container, [data-testid="stMainBlockContainer"] { padding-top:0.5rem !important; }
</style>
"""
SIGNED_IN_CSS = """
<style>
.block-container, [data-testid="stMainBlockContainer"] { padding-top:3.2rem !important; }
.gm-kpi .v { font-size:40px; } .gm-kpi .d { font-size:16px; } .gm-kpi .l { font-size:19px; }
</style>
"""
st.markdown(CSS + (KIOSK_CSS if kiosk else SIGNED_IN_CSS), unsafe_allow_html=True)
map_height = MAP_HEIGHT if kiosk else MAP_HEIGHT_SIGNED_IN


def months_back(n: int = 12) -> list[date]:
    this = periods.month_start(AS_OF - timedelta(microseconds=1) if AS_OF else clock.now())
    return [periods.add_months(this, -i) for i in range(n)]


# On the first days of a month the wall shows last month, complete (labelled), not a month just begun.
SHOWN_MONTH, LAST_MONTH_COMPLETE = periods.wall_month(AS_OF or clock.now())


def filters() -> dict:
    """Month, sub-district, category, source and map view: widgets outside kiosk mode."""
    months = months_back()
    view = params.get("view", "score")
    view = view if view in VIEWS else "score"
    if kiosk or CITY_VIEW:
        month = SHOWN_MONTH
        if CITY_VIEW and not kiosk:
            month = st.columns(5)[0].selectbox("月份", months, format_func=lambda d: f"{d.year}年{d.month}月",
                                               key="wall_month", index=months.index(SHOWN_MONTH) if SHOWN_MONTH in months else 0)
        return {"month": month, "subdistrict": None, "category": None, "source": None, "view": view}
    options = cache.wall_filter_options(url, DISTRICT)
    cols = st.columns([1, 1, 1, 1, 1.3])
    month = cols[0].selectbox("月份", months, format_func=lambda d: f"{d.year}年{d.month}月", key="wall_month",
                              index=months.index(SHOWN_MONTH) if SHOWN_MONTH in months else 0)
    sd = cols[1].selectbox("街道", [None] + options["subdistrict"], format_func=lambda v: v or "全部街道", key="wall_sd")
    cat = cols[2].selectbox("问题类型", [None] + options["category"], format_func=lambda v: v or "全部类型", key="wall_cat")
    src = cols[3].selectbox("来源", [None] + options["source"], format_func=lambda v: v or "全部来源", key="wall_src")
    view = cols[4].segmented_control("地图", list(VIEWS), default=view, format_func=VIEWS.get, key="wall_view") or "score"
    return {"month": month, "subdistrict": sd, "category": cat, "source": src, "view": view}


def _fmt(value: float, unit: str) -> str:
    if pd.isna(value):
        return "—"
    return f"{value:.1f}" if unit in ("%", "小时") else f"{value:,.0f}"


def info(name: str) -> str:
    """ⓘ: a link to the figure's definition on the 指标说明 page."""
    anchor = definitions.anchor(name) or "score"
    return f'<a class="gm-i" href="/indicators#{anchor}" target="_self" title="指标说明：{html.escape(name)}">ⓘ</a>'


def kpi_tiles(k: pd.DataFrame) -> str:
    tiles = []
    for key, row in k.iterrows():  # six fixed tiles
        change = row["change"]
        compared = row.get("compared", "上月")
        if pd.isna(change) or abs(change) < 1e-9:
            delta = f"与{compared}持平" if not pd.isna(change) else f"{compared}无数据"
        else:
            good = (change > 0) == bool(row["higher_is_better"])
            arrow = "▲" if change > 0 else "▼"
            unit = "个百分点" if row["unit"] == "%" else row["unit"]
            delta = (f'较{html.escape(compared)} <span class="{"good" if good else "bad"}">{arrow} '
                     f'{_fmt(abs(change), row["unit"])}{unit}</span>')
        tiles.append(f'<div class="gm-kpi"><div class="l">{html.escape(row["label"])}{info(row["label"])}</div>'
                     f'<div class="v">{_fmt(row["value"], row["unit"])}<small>{html.escape(row["unit"])}</small></div>'
                     f'<div class="d">{delta}</div></div>')
    return '<div class="gm-kpis">' + "".join(tiles) + "</div>"


def table(df: pd.DataFrame, columns: dict[str, str], numeric=()) -> str:
    """An escaped HTML table of `df`'s `columns` (column → header)."""
    head = "".join(f'<th class="{"num" if c in numeric else ""}">{html.escape(h)}</th>' for c, h in columns.items())
    cells = pd.Series("", index=df.index, dtype=object)
    for c in columns:
        cls = ' class="num"' if c in numeric else ""
        cells = cells + f"<td{cls}>" + df[c].astype(str).map(html.escape) + "</td>"
    body = ("<tr>" + cells + "</tr>").str.cat() if len(df) else f'<tr><td colspan="{len(columns)}">暂无</td></tr>'
    return f'<table class="gm-table"><tr>{head}</tr>{body}</table>'


def ranking_panel(title: str, css: str, df: pd.DataFrame) -> str:
    shown = df.assign(r=df["rank"].astype(str), s=df["score"].map("{:.1f}".format).where(~df["vetoed"], VETO_LABEL))
    return (f'<div class="gm-panel {css}"><h3>{html.escape(title)}{info("综合得分")}</h3>'
            + table(shown, {"r": "名次", "code": "编号", "name": "网格", "s": "得分"}, numeric=("r", "s")) + "</div>")


def units_panel(units: pd.DataFrame) -> str:
    shown = units.assign(rate=(units["on_time_rate"] * 100).map(lambda v: "—" if pd.isna(v) else f"{v:.0f}%")
                         .where(~units["vetoed"], VETO_LABEL))
    return (f'<div class="gm-panel"><h3>十差单位{info("按期结案率")}<span class="n">按期结案率最低（应结案≥{settings.unit_min_cases()}件）</span></h3>'
            + table(shown, {"unit": "责任单位", "due": "应结案", "overdue": "超期", "rate": "按期率"},
                    numeric=("due", "overdue", "rate")) + "</div>")


def accountability_panel(cards: pd.DataFrame, ranking: dict) -> str:
    """三色牌 in force and the month's lowest 点位达标率 (issue 14), one compact line each."""
    n = cards["color"].value_counts()
    worst = "、".join(f"{html.escape(str(r.name))} {r.rate * 100:.0f}%" for r in ranking["worst"].itertuples()) or "—"
    return (f'<div class="gm-note">在册三色牌：<span style="color:{CARD_FILL["黄"]}">黄 {int(n.get("黄", 0))}</span> · '
            f'<span style="color:{CARD_FILL["红"]}">红 {int(n.get("红", 0))}</span> · '
            f'<span style="color:{CARD_FILL["绿"]}">绿 {int(n.get("绿", 0))}</span>　点位达标最低：{worst}</div>')


def cards_panel(scores: pd.DataFrame) -> str:
    counts = color_counts(scores)
    fills = scores["color"].map(CARD_FILL)
    cards = ('<div class="gm-card" style="background:' + fills + '" title="' + scores["name"].map(html.escape)
             + '">' + scores["code"].map(html.escape).str.replace(r"^[A-Za-z]+-", "", regex=True) + "</div>").str.cat()
    tally = " ".join(f'<span style="color:{CARD_FILL[c]}">{"样本不足" if c == "灰" else c} <b>{n}</b></span>'
                     for c, n in counts.items())
    return (f'<div class="gm-panel"><h3>得分等级{info("综合得分")}</h3><div class="gm-tally">{tally}</div>'
            f'<div class="gm-cards">{cards}</div></div>')


def trend_chart(trend: pd.DataFrame) -> alt.LayerChart:
    data = trend.assign(月份=pd.to_datetime(trend["month"]).dt.strftime("%y-%m"),
                        按期结案率=(trend["on_time_rate"] * 100).round(1), 问题数=trend["problems"])
    base = alt.Chart(data).encode(x=alt.X("月份:N", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=13)))
    bars = base.mark_bar(color="#3b82f6", opacity=0.8).encode(
        y=alt.Y("问题数:Q", axis=alt.Axis(title="问题数", titleColor="#60a5fa", labelFontSize=13, titleFontSize=15)))
    line = base.mark_line(color="#facc15", strokeWidth=4, point=alt.OverlayMarkDef(size=60, color="#facc15")).encode(
        y=alt.Y("按期结案率:Q", scale=alt.Scale(domain=[0, 100]),
                axis=alt.Axis(title="按期结案率 %", titleColor="#facc15", labelFontSize=13, titleFontSize=15)))
    return (alt.layer(bars, line).resolve_scale(y="independent")
            .properties(width=TREND_WIDTH, height=188, background="#0b1220", padding={"left": 4, "right": 4, "top": 6, "bottom": 2})
            .configure_axis(labelColor="#cbd5e1", gridColor="#1e293b", domainColor="#334155")
            .configure_view(strokeWidth=0))


def score_map(scores: pd.DataFrame, grids, th: settings.Thresholds):
    config = basemap()
    leaders = cache.grid_leaders(url)
    frame = grids[["code", "geometry"]].merge(scores, on="code", how="inner").merge(leaders, on="code", how="left")
    frame = frame.assign(
        score_text=frame["score"].map(lambda v: "无测评" if pd.isna(v) else f"{v:.1f}").where(~frame["vetoed"], VETO_LABEL),
        rank_text=frame["rank"].astype(str).where(frame["ranked"], "样本不足"),
        pass_text=(frame["pass_rate"] * 100).map(lambda v: "无测评" if pd.isna(v) else f"{v:.0f}%"),
    )
    shown = for_display(frame, config)
    b = shown.total_bounds
    center = ((b[1] + b[3]) / 2, (b[0] + b[2]) / 2)
    m = make_map(center, zoom=MAP_ZOOM, basemap=config, dark=True, zoom_control=not kiosk, zoom_snap=0.1)
    tooltip = {"name": "网格", "code": "编号", "score_text": "综合得分", "rank_text": "全区排名", "pass_text": "测评通过率",
               "open": "未结案问题", "overdue": "超期问题",
               "帮包市级领导": "帮包市级领导", "帮包市级领导电话": "电话",
               "帮包县级领导": "帮包县级领导", "帮包县级领导电话": "电话 ",
               "网格长": "网格长", "网格长电话": "电话  "}
    tooltip = {k: v for k, v in tooltip.items() if k in shown.columns}
    score_choropleth(shown, tooltip, font_size="20px").add_to(m)
    # labels: the lowest scores first when space is short (the grids a leader looks for)
    wall_labels(shown.sort_values("score", na_position="last"), "code", "帮包市级领导" if "帮包市级领导" in shown.columns else None, font_size=16).add_to(m)
    score_legend(th.green, th.yellow, font_size=19).add_to(m)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]], padding=(12, 12))  # fills the frame at any screen width
    show_map(m, key="wall_map", height=map_height)


def heat_map(f: dict, grids):
    hexes = cache.wall_hexes(url, AS_OF, f["subdistrict"], f["category"], f["source"], DISTRICT)
    b = grids.total_bounds
    deck = heat_deck(hexes, grids, ((b[1] + b[3]) / 2, (b[0] + b[2]) / 2), zoom=12.3)
    st.pydeck_chart(deck, height=map_height, key="wall_heat")
    st.markdown(f'<div class="gm-note">未结案问题 {int(hexes["count"].sum()):,} 件，'
                f'按 H3 六边形（约 0.1 平方公里）汇总，颜色越亮越密集。</div>', unsafe_allow_html=True)


def district_link(code: str | None, text: str) -> str:
    """A link to one district's wall, or the city's (None); the kiosk token (a wall screen follows it) and the
    replayed day (``as_of``) kept."""
    query = ({"district": code} if code else {}) | {k: params[k] for k in ("kiosk", "as_of") if params.get(k)}
    href = "/wall" + ("?" + urlencode(query) if query else "")
    return f'<a href="{html.escape(href)}" target="_self" style="color:#93c5fd;text-decoration:none">{html.escape(text)}</a>'


def districts_panel(df: pd.DataFrame) -> str:
    """The districts side by side, best 区县得分 first: each name opens the district's wall."""
    order = df.assign(_unranked=df["rank"].isna()).sort_values(["_unranked", "rank", "code"])
    pct = (lambda v: "—" if pd.isna(v) else f"{v * 100:.1f}%")
    rows = "".join(
        f'<tr><td class="num">{"—" if pd.isna(r.rank) else int(r.rank)}</td><td>{district_link(r.code, r.name)}</td>'
        f'<td class="num" style="color:{CARD_FILL.get(r.color, "#94a3b8")}">{"样本不足" if pd.isna(r.score) else f"{r.score:.1f}"}</td>'
        f'<td class="num">{r.problems:,}</td><td class="num">{pct(r.closure_rate)}</td><td class="num">{pct(r.on_time_rate)}</td>'
        f'<td class="num"><span style="color:{CARD_FILL["黄"]}">{r.yellow}</span>/<span style="color:{CARD_FILL["红"]}">{r.red}</span>'
        f'/<span style="color:{CARD_FILL["绿"]}">{r.green}</span></td></tr>'
        for r in order.itertuples())
    head = ('<tr><th class="num">名次</th><th>区县</th><th class="num">区县得分</th><th class="num">问题数</th>'
            '<th class="num">结案率</th><th class="num">按期结案率</th><th class="num">黄/红/绿牌</th></tr>')
    return (f'<div class="gm-panel"><h3>区县对比{info("综合得分")}<span class="n">区县得分：参评网格综合得分的平均值；'
            f'点击区县名称或地图进入该区县大屏</span></h3><table class="gm-table">{head}{rows}</table></div>')


def district_trend_chart(trend: pd.DataFrame) -> alt.Chart:
    """按期结案率 of each district, month by month: one line each."""
    data = trend.assign(月份=pd.to_datetime(trend["month"]).dt.strftime("%y-%m"), 区县=trend["name"],
                        按期结案率=(trend["on_time_rate"] * 100).round(1))
    return (alt.Chart(data).mark_line(strokeWidth=3, point=True).encode(
        x=alt.X("月份:N", title=None, axis=alt.Axis(labelAngle=0, labelFontSize=13)),
        y=alt.Y("按期结案率:Q", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(title="按期结案率 %", labelFontSize=13, titleFontSize=15)),
        color=alt.Color("区县:N", legend=alt.Legend(orient="bottom", labelFontSize=14, title=None, labelColor="#e2e8f0")))
        .properties(width=TREND_WIDTH, height=260, background="#0b1220")
        .configure_axis(labelColor="#cbd5e1", gridColor="#1e293b", domainColor="#334155", titleColor="#facc15")
        .configure_view(strokeWidth=0))


def district_map(df: pd.DataFrame, th: settings.Thresholds) -> None:
    """The city's districts coloured by 区县得分; a click opens the district's wall."""
    config = basemap()
    frame = cache.district_shapes(url)[["code", "geometry"]].merge(df, on="code", how="inner")
    frame = frame.assign(score_text=frame["score"].map(lambda v: "样本不足" if pd.isna(v) else f"{v:.1f}"),
                         rank_text=frame["rank"].astype(str).where(frame["rank"].notna(), "—"),
                         rate_text=(frame["on_time_rate"] * 100).map(lambda v: "—" if pd.isna(v) else f"{v:.1f}%"))
    shown = for_display(frame, config)
    b = shown.total_bounds
    m = make_map(((b[1] + b[3]) / 2, (b[0] + b[2]) / 2), zoom=9, basemap=config, dark=True, zoom_control=not kiosk,
                 zoom_snap=0.1)
    tooltip = {"name": "区县", "score_text": "区县得分", "rank_text": "全市排名", "rate_text": "按期结案率",
               "problems": "问题数"}
    score_choropleth(shown, tooltip, name="区县得分", font_size="20px").add_to(m)
    wall_labels(shown, "name", "score_text", font_size=18).add_to(m)
    score_legend(th.green, th.yellow, title="区县得分", font_size=19).add_to(m)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]], padding=(12, 12))
    show_map(m, key="city_map", height=map_height, returned_objects=["last_active_drawing"], on_change=_on_district_click)


def city_wall(f: dict) -> None:
    """The city wall: the city's KPI tiles, the districts' map, their table and their trend."""
    month = f["month"]
    th = settings.thresholds()
    k = cache.wall_kpis(url, month, AS_OF)
    table_df = cache.city_districts(url, month, AS_OF)
    stamp = (AS_OF - timedelta(minutes=1) if AS_OF else clock.now()).strftime("%Y-%m-%d %H:%M")
    st.markdown(f'<div class="gm-head"><h1>{html.escape(PLACE)}创城网格化管理 · 市级大屏</h1>'
                f'<span class="sub">{month.year}年{month.month}月{"（上月完整数据）" if month == SHOWN_MONTH and LAST_MONTH_COMPLETE else ""}'
                f' · {len(table_df)} 个区县 · 数据截至 {stamp}</span></div>' + kpi_tiles(k), unsafe_allow_html=True)
    left, right = st.columns([1.0, 1.0], gap="medium")
    with left:
        district_map(table_df, th)
    with right:
        st.markdown(districts_panel(table_df) + '<div class="gm-panel" style="margin-top:10px"><h3>近12个月按期结案率'
                    '<span class="n">各区县</span></h3></div>', unsafe_allow_html=True)
        st.altair_chart(district_trend_chart(cache.city_district_trend(url, month, AS_OF)), width="content")


counts = cache.city_counts(url, DISTRICT)
if require_data(counts):
    chosen = filters()

    @st.fragment(run_every=st.session_state.setdefault("wall_refresh_every", settings.refresh_interval()))
    def wall(f: dict) -> None:
        gate.recheck()  # the timed refresh skips app.py: end a wall whose kiosk token was revoked
        if CITY_VIEW:
            city_wall(f)
            return
        month, sd, cat, src = f["month"], f["subdistrict"], f["category"], f["source"]
        th = settings.thresholds()
        scores = cache.wall_scores(url, month, AS_OF, sd, cat, src, DISTRICT)
        k = cache.wall_kpis(url, month, AS_OF, sd, cat, src, DISTRICT)
        trend = cache.wall_trend(url, month, AS_OF, sd, cat, src, DISTRICT)
        units = cache.wall_units(url, month, AS_OF, sd, cat, src, DISTRICT)
        lists = rankings(scores)
        stamp = (AS_OF - timedelta(minutes=1) if AS_OF else clock.now()).strftime("%Y-%m-%d %H:%M")
        scope = " · ".join(x for x in (sd, cat, src) if x) or "全区"
        back = (" · " + district_link(None, "返回全市")
                if DISTRICT is not None and district_scope(actor) is None and len(DISTRICTS) > 1 else "")
        st.markdown(f'<div class="gm-head"><h1>{html.escape(PLACE)}创城网格化管理 · 领导大屏</h1>'
                    f'<span class="sub">{month.year}年{month.month}月{"（上月完整数据）" if month == SHOWN_MONTH and LAST_MONTH_COMPLETE else ""}'
                    f' · {html.escape(scope)} · 数据截至 {stamp}{back}</span></div>'
                    + kpi_tiles(k), unsafe_allow_html=True)
        left, mid, right = st.columns([1.12, 0.6, 0.74], gap="medium")
        grids = cache.current_grids(url, DISTRICT)
        with left:
            if f["view"] == "heat":
                heat_map(f, grids)
            else:
                score_map(scores, grids, th)
        with mid:
            st.markdown(ranking_panel("红榜 · 前十", "gm-red", lists["best"])
                        + ranking_panel("黑榜 · 后十", "gm-black", lists["worst"])
                        + f'<div class="gm-note">本月测评少于 {settings.min_inspections()} 次（点位·日）的网格不排名、不着色（样本不足）：'
                          f'{len(lists["insufficient"])} 个</div>'
                        + accountability_panel(cache.active_cards(url, DISTRICT),
                                               cache.point_ranking(url, month, AS_OF, district=DISTRICT)),
                        unsafe_allow_html=True)
        with right:
            st.markdown(units_panel(units) + cards_panel(scores)
                        + '<div class="gm-panel" style="margin-top:10px"><h3>近12个月趋势'
                          '<span class="n">柱：问题数　线：按期结案率</span></h3></div>', unsafe_allow_html=True)
            st.altair_chart(trend_chart(trend), width="content")

    wall(chosen)
