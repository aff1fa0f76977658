"""督查通报: the monthly bulletin, gathered once (`collect`) as a plain document model and written
as Word (`gis.accountability.bulletin_docx`) and PDF (`gis.accountability.bulletin_pdf`) from the
same model, so both say the same thing.

Every number is read from the figures' own functions — `gis.metrics.monthly.month_figures` (as
`python -m gis figures`), `gis.metrics.figures.counts` (立案数 by source and category),
`gis.metrics.scores` (红榜 / 黑榜), `gis.metrics.units` (十差单位), `gis.accountability.points`
(点位达标) — never recomputed here. Rates are shown as percentages of the rounded fractions that
`gis figures --json` prints (0.6667 → 66.67%).

The model: a header (发文机关, 文号, title, date) and sections, each a list of blocks:
``("p", text)``, ``("table", header, rows)``, ``("image", path)``, ``("photos", [(caption, path|None), …])``.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from gis.accountability import cards, exposure, interviews, points
from gis.config import setting
from gis.db.models import SOURCES, Category
from gis.metrics import figures, negative, scores, units
from gis.metrics.monthly import month_figures
from gis.metrics.periods import add_months, month_end_as_of, month_rows, month_start
from gis.people.permissions import Actor, district_scope, require
from gis.geo.districts import district_table
from gis.metrics.districts import district_figures
import pandas as pd
from gis.problems.photos import upload_dir

FORMATS = ("docx", "pdf")
HEADLINE = ("立案数", "应结案数", "结案数", "结案率", "按期结案率", "超期数", "返工率", "平均整改用时")
DEFAULT_REQUIREMENTS = ("一、各责任单位要对照本通报逐项整改，黄牌、红牌单位于反馈期限前书面报告整改情况。\n"
                        "二、列入黑榜、十差单位的网格和单位，分管负责同志要亲自研究、限期销号。\n"
                        "三、曝光问题整改到位后，由核查员现场复核、拍照留档，方可摘牌。")


class BulletinError(ValueError):
    """Bad input for a bulletin (Chinese message)."""


@dataclass
class Bulletin:
    month: date
    issuer: str
    number: str
    title: str
    issued_on: date
    sections: list[tuple[str, list]] = field(default_factory=list)
    figures: dict = field(default_factory=dict)  # the month_figures of the month (for checks)


def issuer() -> str:
    """发文机关 (GRIDMAP_BULLETIN_ISSUER)."""
    return setting("GRIDMAP_BULLETIN_ISSUER", "东昌府区创建全国文明城市工作指挥部办公室")


def number_prefix() -> str:
    """The 文号's agency abbreviation (GRIDMAP_BULLETIN_PREFIX): 东创城办 → 东创城办〔2026〕12号."""
    return setting("GRIDMAP_BULLETIN_PREFIX", "东创城办")


def fmt(name: str, value) -> str:
    """A figure as printed: rates as percentages, hours with one decimal, counts as integers."""
    if value is None:
        return "—"
    if name.endswith("率"):
        return f"{value * 100:.2f}%"
    if name == "平均整改用时":
        return f"{value:.1f}小时"
    return f"{value:g}"


def _change(name: str, now, before) -> str:
    if now is None or before is None:
        return "—"
    d = now - before
    if name.endswith("率"):
        return f"{d * 100:+.2f}个百分点"
    return f"{d:+.1f}" if name == "平均整改用时" else f"{d:+g}"


def _stamp(t: datetime) -> str:
    """'数据截至2026年11月30日24时' for a month evaluated at its end, else the moment itself."""
    if t.time() == datetime.min.time():
        d = t.date() - timedelta(days=1)
        return f"数据截至{d.year}年{d.month}月{d.day}日24时"
    return f"数据截至{t:%Y-%m-%d %H:%M}"


def _registered_by(engine: Engine, months: list[dict], subdistrict, district=None, **filt) -> int:
    df = figures.counts(engine, months, "city", subdistrict=subdistrict, district=district, **filt)
    return int(df["registered"].sum()) if len(df) else 0


def _negative_paragraphs(engine: Engine, m: date, t: datetime, grid_codes: set | None) -> list[tuple]:
    """负面清单 (gis.metrics.negative): the month's confirmed events up to t, one line each."""
    ev = negative.events(engine, m, status=negative.CONFIRMED)
    ev = ev[ev["occurred_on"] <= t.date()]
    if grid_codes is not None:
        ev = ev[ev["grid_code"].isin(grid_codes)]
    if ev.empty:
        return [("p", "负面清单：本月无已确认的负面清单事件。")]
    rows = [[r.code, str(r.occurred_on), r.grid_code, r.unit_codes or "—", r.standard,
             negative.VETO_LABEL if r.effect == negative.VETO else f"扣 {r.points:g} 分"]
            for r in ev.sort_values("code").itertuples()]
    return [("p", f"负面清单：本月已确认负面清单事件 {len(rows)} 起。"),
            ("table", ["编号", "发生日期", "网格", "责任单位", "负面清单标准", "处理"], rows)]


def _districts_section(engine: Engine, m: date, t: datetime) -> tuple:
    """区县对比 (issue 17): the districts side by side, best 区县得分 first (`gis.metrics.districts`)."""
    df = district_figures(engine, m, t)
    df = df.assign(_unranked=df["rank"].isna()).sort_values(["_unranked", "rank", "code"])
    rows = [["—" if pd.isna(r.rank) else str(int(r.rank)), r.name, "样本不足" if pd.isna(r.score) else f"{r.score:.2f}",
             str(r.problems), fmt("结案率", None if pd.isna(r.closure_rate) else round(float(r.closure_rate), 4)),
             fmt("按期结案率", None if pd.isna(r.on_time_rate) else round(float(r.on_time_rate), 4)),
             f"{r.yellow}/{r.red}/{r.green}"] for r in df.itertuples()]
    return ("区县对比", [
        ("p", "区县得分为该区县参评网格综合得分的平均值（一票否决的网格计 0 分），各网格在本区县内排名。"),
        ("table", ["名次", "区县", "区县得分", "问题数", "结案率", "按期结案率", "黄/红/绿牌"], rows)])


def _place(engine: Engine, subdistrict: str | None, district: str | None) -> tuple[str, bool]:
    """What the bulletin covers, in words, and whether it is the city's of several districts (市级通报)."""
    names = district_table(engine).set_index("code")["name"]
    if subdistrict:
        return subdistrict, False
    if district:
        return str(names.get(district, district)), False
    if len(names) > 1:
        return f"{setting('GRIDMAP_CITY_NAME')}各区县", True
    return "全区", False


def collect(engine: Engine, month: date, number: int | None = None, requirements: str | None = None,
            subdistrict: str | None = None, issued_on: date | None = None, as_of: datetime | None = None,
            work_dir: Path | None = None, district: str | None = None) -> Bulletin:
    """The bulletin of `month` (evaluated at its end, or `as_of`), its map picture written to `work_dir`.

    `district` (区县 code): that district's bulletin, every figure its own; none, with several districts:
    the city's (市级通报), with a 区县对比 section; `subdistrict`: one 街道's."""
    from gis.accountability.bulletin_map import grid_score_map

    m = month_start(month)
    t = month_end_as_of(m, as_of)
    prev = add_months(m, -1)
    this = month_figures(engine, m, as_of, subdistrict, district=district)
    last = month_figures(engine, prev, as_of, subdistrict, district=district)
    num = number if number is not None else m.month
    if num < 1:
        raise BulletinError(f"文号序号应为正整数，现为 {num}。")
    place, citywide = _place(engine, subdistrict, district)
    b = Bulletin(month=m, issuer=issuer(), number=f"{number_prefix()}〔{m.year}〕{num}号",
                 title=f"关于{m.year}年{m.month}月{place}创城网格化管理工作情况的督查通报",
                 issued_on=issued_on or t.date(), figures=this)
    # 一、主要指标
    rows = [[n, fmt(n, this["city"].get(n)), fmt(n, last["city"].get(n)),
             _change(n, this["city"].get(n), last["city"].get(n))] for n in HEADLINE]
    c = this["city"]
    b.sections.append(("一、主要指标", [
        ("p", f"{m.year}年{m.month}月，{place}立案问题 {fmt('立案数', c['立案数'])} 件，应结案 {fmt('应结案数', c['应结案数'])} 件，"
              f"结案率 {fmt('结案率', c['结案率'])}，按期结案率 {fmt('按期结案率', c['按期结案率'])}，"
              f"超期 {fmt('超期数', c['超期数'])} 件（{_stamp(t)}）。"),
        ("table", ["指标", f"{m.month}月", f"{prev.month}月", "环比"], rows)]))
    if citywide:
        b.sections.append(_districts_section(engine, m, t))
    # 二、问题来源与类别
    months = month_rows(m, m, t)
    by_source = [[s, str(_registered_by(engine, months, subdistrict, district, source=s))] for s in SOURCES]
    with engine.connect() as conn:
        cats = [n for (n,) in conn.execute(select(Category.name).order_by(Category.name))]
    by_cat = sorted(([cat, _registered_by(engine, months, subdistrict, district, category=cat)] for cat in cats),
                    key=lambda r: (-r[1], r[0]))
    b.sections.append(("二、问题来源与类别", [
        ("table", ["问题来源", "立案数"], by_source),
        ("p", "高发问题（按立案数）："),
        ("table", ["问题类型", "立案数"], [[n, str(v)] for n, v in by_cat if v > 0][:10])]))
    # 三、红黑榜与十差单位
    table = scores.monthly_scores(engine, m, t, subdistrict=subdistrict, district=district)
    ranks = scores.rankings(table)
    def grid_rows(df):
        return [[str(int(r.rank)), r.code, r.name, negative.VETO_LABEL if r.vetoed else f"{r.score:.2f}"]
                for r in df.itertuples()]
    worst_units = units.worst_units(engine, m, t, subdistrict=subdistrict, district=district)
    b.sections.append(("三、红黑榜与十差单位", [
        ("p", "红榜（综合得分前十）："), ("table", ["名次", "网格", "名称", "综合得分"], grid_rows(ranks["best"])),
        ("p", "黑榜（综合得分后十）："), ("table", ["名次", "网格", "名称", "综合得分"], grid_rows(ranks["worst"])),
        ("p", "十差单位（按期结案率最低）：" + ("无" if worst_units.empty else "")),
        ("table", ["单位", "应结案数", "超期数", "按期结案率"],
         [[r.unit, str(r.due), str(r.overdue), negative.VETO_LABEL if r.vetoed
           else fmt("按期结案率", round(float(r.on_time_rate), 4))] for r in worst_units.itertuples()]),
        *_negative_paragraphs(engine, m, t, set(table["code"]) if subdistrict or district else None),
        ("image", grid_score_map(engine, table, work_dir or Path("."), f"{m:%Y年%m月}网格综合得分"))]))
    # 四、点位达标月评排名
    rank = points.monthly_ranking(engine, m, as_of, district=district)
    def pt_rows(df):
        return [[r.code, r.name, r.leader or "—", fmt("达标率", round(float(r.rate), 4))] for r in df.itertuples()]
    b.sections.append(("四、点位达标月评排名", [
        ("p", "达标率最高的点位："), ("table", ["点位", "名称", "点长", "达标率"], pt_rows(rank["best"])),
        ("p", "达标率最低的点位："), ("table", ["点位", "名称", "点长", "达标率"], pt_rows(rank["worst"])),
        ("p", "点长排名（后十）："),
        ("table", ["点长", "点位数", "达标率"], [[r.name, str(r.points), fmt("达标率", round(float(r.rate), 4))]
                                          for r in rank["leaders"].tail(10).iloc[::-1].itertuples()])]))
    # 五、三色牌
    m0 = datetime.combine(m, datetime.min.time())
    m1 = datetime.combine(add_months(m, 1), datetime.min.time())
    issued = cards.register(engine, since=m0, until=m1, district=district)
    every = cards.register(engine, district=district)
    lifted = every[every["lifted_at"].notna() & (every["lifted_at"] >= m0) & (every["lifted_at"] < m1)]
    b.sections.append(("五、三色牌", [
        ("p", f"本月签发三色牌 {len(issued)} 张（黄牌 {int((issued['color'] == '黄').sum())} 张、红牌 "
              f"{int((issued['color'] == '红').sum())} 张、绿牌 {int((issued['color'] == '绿').sum())} 张），摘牌 {len(lifted)} 张。"),
        ("table", ["编号", "牌色", "对象", "事由", "处置阶段", "状态"],
         [[r.code, r.color, r.target, r.reason, r.step, r.status] for r in issued.itertuples()]),
        ("table", ["摘牌编号", "牌色", "对象", "摘牌时间"],
         [[r.code, r.color, r.target, f"{r.lifted_at:%Y-%m-%d}"] for r in lifted.itertuples()])]))
    # 六、曝光问题
    shown = exposure.exposed(engine, m0, m1, now=t, district=district)
    blocks: list = [("p", f"本月曝光问题 {len(shown)} 个。" if len(shown) else "本月无曝光问题。")]
    for r in shown.itertuples():
        blocks.append(("p", f"{r.code}（{r.category}）{r.description}。责任单位：{r.unit or '未派遣'}；"
                            f"整改时限：{r.deadline:%Y-%m-%d %H:%M}；状态：{r.state}；"
                            f"曝光决定：{r.decided_by}，{r.decided_at:%Y-%m-%d}。"))
        pair = [("整改前", _photo(r.before_photo)), ("整改后", _photo(r.after_photo))]
        if any(path is not None for _, path in pair):
            blocks.append(("photos", pair))
    b.sections.append(("六、曝光问题", blocks))
    # 七、约谈问责
    talks = interviews.records(engine, m, add_months(m, 1), district=district)
    talk_blocks: list = [("p", f"本月约谈 {int((talks['kind'] == '约谈').sum())} 次、问责 {int((talks['kind'] == '问责').sum())} 次。")]
    for i, r in enumerate(talks.itertuples(), 1):
        links = "；".join(x for x in (f"三色牌 {r.cards}" if r.cards else "", f"问题 {r.problems}" if r.problems else "") if x)
        talk_blocks.append(("p", f"{i}. {r.kind}{r.unit}（{r.people}），{r.held_on:%Y-%m-%d}。事由：{r.reason}"
                                 + (f"（{links}）" if links else "") + f"。结果：{r.outcome or '—'}。"
                                 + (f"跟踪整改期限：{r.follow_up:%Y-%m-%d}。" if r.follow_up else "")))
    b.sections.append(("七、约谈问责", talk_blocks))
    # 八、整改要求
    text = (requirements if requirements is not None else DEFAULT_REQUIREMENTS).strip()
    b.sections.append(("八、整改要求", [("p", line) for line in text.splitlines() if line.strip()]))
    return b


def _photo(rel) -> Path | None:
    path = upload_dir() / rel if rel else None
    return path if path is not None and path.is_file() else None


def build(engine: Engine, actor: Actor, month: date, out_dir: Path, formats=FORMATS, number: int | None = None,
          requirements: str | None = None, subdistrict: str | None = None, issued_on: date | None = None,
          as_of: datetime | None = None, district: str | None = None) -> dict:
    """Write the bulletin of `month` into `out_dir` in `formats`; returns {format: path, "seconds": s}.
    A district's 领导 / 管理员 writes their district's (`district` defaults to it; another is refused)."""
    district = district or district_scope(actor)
    require(actor, "bulletin.export", district_code=district)
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise BulletinError(f"格式“{','.join(bad) or '（空）'}”不支持，应为 docx、pdf 或 docx,pdf。")
    start = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bulletin-map-") as tmp:  # the map picture lives only while writing
        doc = collect(engine, month, number, requirements, subdistrict, issued_on, as_of, work_dir=Path(tmp),
                      district=district)
        out = _write(doc, out_dir, formats, subdistrict or (_place(engine, None, district)[0] if district else None))
    out["seconds"] = time.perf_counter() - start
    return out


def _write(doc: Bulletin, out_dir: Path, formats, subdistrict: str | None) -> dict:
    stem = f"督查通报-{doc.month:%Y-%m}" + (f"-{subdistrict}" if subdistrict else "")
    out: dict = {}
    if "docx" in formats:
        from gis.accountability.bulletin_docx import write_docx
        out["docx"] = write_docx(doc, out_dir / f"{stem}.docx")
    if "pdf" in formats:
        from gis.accountability.bulletin_pdf import write_pdf
        out["pdf"] = write_pdf(doc, out_dir / f"{stem}.pdf")
    return out
