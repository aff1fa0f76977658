"""日度汇总 (gis.metrics.day_sums): a period that is not a whole month — the month in progress at t, or the
wall's 上月同期 (`kpis.same_days_before`) — is read as S − R_D + R_t, where D is the start of t's day, S the
period's figures at D (stored: ``problem_day_sums``, markers in ``problem_days``), and R the rows with a date
in [D, t], taken away as of D and added as of t. Triggers on ``problems`` write notes
(``problem_day_changes``) of the earliest moment a write can change; a stored S whose day comes at or after
such a note is computed again at the next read.

What is checked here, on the small city (tests/smallcity.py) and both backends:
- the figures equal those summed from the rows live (``day_sums.ready`` patched to serve nothing) at several
  moments, for the month in progress and its 上月同期, per city / grid / unit / district and with filters,
  on the first read (S computed) and on later ones (S used), also with rows dated exactly at the midnights
  (on a period's first day S has nothing to hold and may not be stored: `by_day`);
- the writes the app makes (the closed loop, 上报, the importer's inserts and corrections, a 问题类型 rule
  from a past date, deletes, clearing the data) either leave S in force (a write dated today only) or make
  it be computed again, and the next read equals the live figures — each write changes those figures, so
  a trigger branch that fails to note it leaves S stale and the test fails;
- a write dated today only leaves S in force, a closing too: it was not closed at D before nor after the write;
- several stored S sharing the notes (two days of one month, a district and the whole city);
- the triggers exist after ``migrate.upgrade`` and note what the design says.

Small-city facts used (tests/smallcity.py; 暴露垃圾 4 h, 占道经营 24 h, 露天烧烤 2 h):
WT01 已结案 (reported 11-02, verified 11-03 09:00), WT03 整改中 (T-01, reported 11-10 08:00, due 11-11 08:00),
WT04 待派遣 (T-01, no unit, 11-19 22:00, due 11-20 00:00), WT05 待核查 (11-12 10:00, due 11-13 10:00,
rectified 11-13 09:00), WT06 整改中 (centre, 11-15 10:00), WT07 已结案 11-16, WT08 整改中 (T-04, U-003,
11-18 21:00, due 11-18 23:00), WT09 / WT10 in October.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import select, text

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Problem, Unit
from gis.io import importer
from gis.io.city import clear_data, write_city
from gis.metrics import day_sums, figures, kpis, periods
from gis.metrics.figures import INT_INDICATORS
from gis.people.permissions import Actor
from gis.problems import intake, workflow
from gis.registry import districts as district_registry
from gis.registry import edits
from tests import smallcity
from tests.conftest import CLOCK, load_small_city, new_database_url

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
T = CLOCK                                 # 2026-11-21 09:00, the pinned clock
D = datetime(2026, 11, 21)                # the start of T's day
YESTERDAY = datetime(2026, 11, 20, 15, 0)
HOME, YG = "371502", "371521"             # the small city's district; a second one (阳谷县) some tests add


def today(hour: int, minute: int = 0) -> datetime:
    """A moment of T's day before T: a write dated today only."""
    return datetime(2026, 11, 21, hour, minute)


ADMIN = Actor.system("测试管理员")
COMMAND = Actor("diaodu", "指挥中心")
VERIFIER = Actor("hecha", "核查员")


def chief(grid: str) -> Actor:
    return Actor(f"chief-{grid}", "网格长", grid)


IN_T01, IN_T02, IN_T03, IN_T04 = (115.983, 36.447), (115.995, 36.445), (115.985, 36.455), (115.996, 36.455)
YG_BOX = box(116.30, 36.44, 116.34, 36.48)  # a second district east of the demo's 东昌府区 (which ends at 116.24)
IN_YG = (116.32, 36.46)

VIEWS = {  # name: figures.counts keywords
    "city": {},
    "grid": {"by": "grid"},
    "unit": {"by": "unit"},
    "district": {"by": "district"},
    "category": {"by": "grid", "category": "暴露垃圾"},
    "category2": {"by": "city", "category": "占道经营"},
    "source": {"by": "unit", "source": "暗访"},
    "subdistrict": {"by": "grid", "subdistrict": "古楼街道"},
    "home": {"by": "grid", "district": HOME},
}


# ---------------------------------------------------------------------------------------------- reading

def this_month(t: datetime) -> dict:
    return periods.month_rows(NOV, NOV, t)[0]


def same_days_before(t: datetime) -> dict:
    return kpis.same_days_before(this_month(t))


PERIODS = {"this": this_month, "prev": same_days_before}


def by_day(period: dict) -> bool:
    """Whether S of the period's day can serve it: not on its first day, when S would hold nothing but rows dated
    exactly at its start (everything is the day's rows then, and the period is summed live)."""
    return datetime.combine(period["t"].date(), time.min) > period["m0"]


def _read(engine, t: datetime, views=VIEWS) -> dict[str, pd.DataFrame]:
    return {f"{p}/{v}": figures.counts(engine, [period(t)], **kw)
            for p, period in PERIODS.items() for v, kw in views.items()}


def _live(monkeypatch, fn, *args, **kw):
    """`fn` with the day sums serving nothing: every period summed from its rows (the reference)."""
    with monkeypatch.context() as m:
        m.setattr(day_sums, "ready", lambda *_a, **_k: {})
        return fn(*args, **kw)


def _ints(df: pd.DataFrame) -> dict:
    return {(r["k"], r["key"]): {c: int(r[c]) for c in INT_INDICATORS} for r in df.to_dict("records")}


def _figures(df: pd.DataFrame) -> dict:
    """Every figure per (month, group), 问题扣分 and hours rounded: to see whether a write changed them."""
    return {(r["k"], r["key"]): (*(int(r[c]) for c in INT_INDICATORS), round(r["ded"], 6), round(r["hours"], 6))
            for r in df.to_dict("records")}


def _same(actual: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    """Equal figures: the same (month, group) rows, every integer figure exactly, 问题扣分 and hours closely."""
    assert _ints(actual) == _ints(expected), what
    got = {(r["k"], r["key"]): (r["ded"], r["hours"]) for r in actual.to_dict("records")}
    for r in expected.to_dict("records"):
        assert got[r["k"], r["key"]] == pytest.approx((r["ded"], r["hours"]), rel=1e-9, abs=1e-6), \
            f"{what}: ded/hours of {r['k']} {r['key']}"


def _checked_read(engine, monkeypatch, t: datetime, what: str, views=VIEWS) -> dict[str, pd.DataFrame]:
    """Every view of both periods at t, read twice (S computed, then used) and live: all equal. Returns the live
    figures. Afterwards the periods' S are stored and in force (city-wide and for the district)."""
    live = _live(monkeypatch, _read, engine, t, views)
    for attempt in ("first read", "second read"):
        stored = _read(engine, t, views)
        for name in live:
            _same(stored[name], live[name], f"{what}, {attempt}: {name} at {t:%m-%d %H:%M}")
        for p, period in PERIODS.items():
            if not by_day(period(t)):
                continue
            assert day_sums.current(engine, period(t)), f"{what}, {attempt}: S of {p} at {t} not in force"
            if any(kw.get("district") == HOME for kw in views.values()):
                assert day_sums.current(engine, period(t), HOME), f"{what}, {attempt}: S of {p}, {HOME}"
    return live


def _stored_days(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM problem_days")).scalar()


def _forget_sums(engine) -> None:
    """Drop every stored S (not a notes table: nothing is left to say they are missing but their absence)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM problem_day_sums"))
        conn.execute(text("DELETE FROM problem_days"))


# ---------------------------------------------------------------------------------------------- writing

PROBLEM_FIELDS = ("category", "standard_code", "description", "source", "reporter", "reported_at", "deadline", "status",
                  "acknowledged_at", "rectified_at", "verified_at", "rework_count", "deduction", "lon", "lat")
DATE_FIELDS = ("reported_at", "deadline", "acknowledged_at", "rectified_at", "verified_at")
STANDARD = {"占道经营": "1.1.1", "暴露垃圾": "1.2.1", "露天烧烤": "9.1.1"}


def _row(engine, code: str) -> dict:
    p, u = Problem.__table__, Unit.__table__
    with engine.connect() as conn:
        row = conn.execute(select(*[p.c[c] for c in PROBLEM_FIELDS], u.c.code.label("unit_code"))
                           .select_from(p.outerjoin(u, u.c.id == p.c.unit_id)).where(p.c.code == code)).mappings().one()
    return {"code": code, **row}


def _import(engine, tmp_path, rows: list[dict], name: str) -> importer.ImportResult:
    """Rows written as a CSV and imported as 数据管理 / `gis import problems` do (new codes inserted, known
    ones corrected in place)."""
    df = pd.DataFrame(rows)
    for c in DATE_FIELDS:
        if c in df:
            df[c] = df[c].map(lambda v: "" if v is None or pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M:%S"))
    path = tmp_path / f"{name}.csv"
    df.to_csv(path, index=False)
    result = importer.import_file(engine, ADMIN, "problems", path)
    assert result.written, result.errors.to_string()
    return result


def correct(engine, tmp_path, code: str, **changes) -> None:
    """A correction by re-import: the problem's own row (every imported column as stored) with `changes`."""
    row = {**_row(engine, code), **changes}
    if "category" in changes and "standard_code" not in changes:
        row["standard_code"] = STANDARD[changes["category"]]
    result = _import(engine, tmp_path, [row], f"fix-{code}")
    assert (result.inserted, result.updated) == (0, 1)


def new_problem(engine, tmp_path, code: str, category: str, reported_at: datetime, place, status="整改中",
                unit_code="U-002", source="暗访", **more) -> None:
    row = {"code": code, "category": category, "description": f"{category} {code}", "reported_at": reported_at,
           "source": source, "status": status, "unit_code": None if status == "待派遣" else unit_code,
           "lon": place[0], "lat": place[1], **more}
    assert _import(engine, tmp_path, [row], f"new-{code}").inserted == 1


def grid_of(engine, code: str) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT g.code FROM problems p JOIN grids g ON g.id = p.grid_id WHERE p.code = :c"),
                            {"c": code}).scalar_one()


# ---------------------------------------------------------------------------------------------- 1. equality

def midnight_rows(engine, tmp_path) -> None:
    """Rows dated exactly at the midnights the moments below fall on or start from (D, a period's end, a month's
    start), where ≤ and < part ways."""
    rows = [
        dict(code="EDGE-01", category="占道经营", reported_at=datetime(2026, 10, 3), place=IN_T01),
        dict(code="EDGE-02", category="暴露垃圾", reported_at=datetime(2026, 11, 3), place=IN_T02, status="已结案",
             rectified_at=datetime(2026, 11, 3, 2), verified_at=datetime(2026, 11, 3, 4)),
        dict(code="EDGE-03", category="暴露垃圾", reported_at=datetime(2026, 10, 20, 20), place=IN_T03),  # due 10-21 00:00
        dict(code="EDGE-04", category="暴露垃圾", reported_at=datetime(2026, 11, 20, 20), place=IN_T04, status="待核查",
             rectified_at=D),  # due and rectified at D
        dict(code="EDGE-05", category="暴露垃圾", reported_at=datetime(2026, 10, 31, 23), place=IN_T01, status="已结案",
             rectified_at=datetime(2026, 10, 31, 23, 30), verified_at=datetime(2026, 11, 1)),
        dict(code="EDGE-06", category="露天烧烤", reported_at=datetime(2026, 11, 1), place=IN_T02, status="待派遣"),
        dict(code="EDGE-07", category="占道经营", reported_at=datetime(2026, 11, 20, 17, 30), place=IN_T03, status="待派遣"),
        dict(code="EDGE-08", category="占道经营", reported_at=datetime(2026, 10, 21, 9), place=IN_T04, source="督查"),
        dict(code="EDGE-09", category="露天烧烤", reported_at=datetime(2026, 11, 2, 22), place=IN_T01, status="已结案",
             rectified_at=datetime(2026, 11, 2, 23), verified_at=datetime(2026, 11, 3)),
        dict(code="EDGE-10", category="暴露垃圾", reported_at=D, place=IN_T02, status="已结案"),  # closed from its report
        dict(code="EDGE-11", category="占道经营", reported_at=datetime(2026, 10, 1), place=IN_T03, status="已结案",
             verified_at=datetime(2026, 10, 1, 8)),
    ]
    out = []
    for r in rows:
        place, status = r.pop("place"), r.pop("status", "整改中")
        out.append({"description": f"边界 {r['code']}", "source": r.pop("source", "暗访"), "status": status,
                    "unit_code": None if status == "待派遣" else "U-002", "lon": place[0], "lat": place[1], **r})
    assert _import(engine, tmp_path, out, "midnights").inserted == len(rows)


MOMENTS = [T, datetime(2026, 11, 20, 17, 30), datetime(2026, 11, 1, 8, 0), datetime(2026, 11, 3, 0, 0)]


@pytest.mark.parametrize("rows", ["small city", "with midnight rows"])
@pytest.mark.parametrize("as_of", MOMENTS, ids=lambda t: f"{t:%m-%d_%H%M}")
def test_the_figures_of_a_period_in_progress_equal_its_rows_summed_live(city_rw, monkeypatch, tmp_path, as_of, rows):
    if rows == "with midnight rows":
        midnight_rows(city_rw, tmp_path)
    later = as_of + timedelta(hours=5)  # the same day: S of D serves it too
    assert later.date() == as_of.date()
    assert not day_sums.current(city_rw, this_month(as_of)) and not day_sums.current(city_rw, same_days_before(as_of))
    assert _live(monkeypatch, _read, city_rw, as_of) is not None and _stored_days(city_rw) == 0  # the reference stores nothing

    _checked_read(city_rw, monkeypatch, as_of, "asked")
    assert day_sums.current(city_rw, this_month(later)) is by_day(this_month(later)), \
        "S of the day serves a later moment of the same day"
    _checked_read(city_rw, monkeypatch, later, "later the same day")
    _checked_read(city_rw, monkeypatch, as_of, "asked again")

    _forget_sums(city_rw)  # the other way round: S first computed for the later moment
    assert not day_sums.current(city_rw, this_month(as_of)) and _stored_days(city_rw) == 0
    _checked_read(city_rw, monkeypatch, later, "later first")
    _checked_read(city_rw, monkeypatch, as_of, "then asked")

    # a whole month (October, from its monthly sums) and the month in progress in one read
    months = periods.month_rows(OCT, NOV, as_of)
    for by in ("city", "grid", "unit"):
        expected = _live(monkeypatch, figures.counts, city_rw, months, by)
        for attempt in ("first", "second"):
            _same(figures.counts(city_rw, months, by), expected, f"October and November by {by}, {attempt}")
    # the wall's KPI tiles: this month against 上月同期
    expected = _live(monkeypatch, kpis.kpis, city_rw, NOV, as_of)
    for attempt in ("first", "second"):
        pd.testing.assert_frame_equal(kpis.kpis(city_rw, NOV, as_of), expected, check_exact=False, obj=f"kpis, {attempt}")


def test_the_month_in_progress_at_the_pinned_clock_is_read_from_its_day_sums(city_rw, monkeypatch):
    """The default moment (now, pinned by the tests' clock) goes through S like any other."""
    months = periods.month_rows(NOV, NOV, datetime.now())
    live = _live(monkeypatch, figures.counts, city_rw, months, "grid")
    _same(figures.counts(city_rw, months, "grid"), live, "now, first")
    assert day_sums.current(city_rw, months[0]) and _stored_days(city_rw) > 0
    _same(figures.counts(city_rw, months, "grid"), live, "now, second")
    by_grid = live.set_index("key")
    assert by_grid["reported"].sum() == 8 and by_grid["due"].sum() > 0  # WT01..WT08: the small city, not nothing


# ---------------------------------------------------------------------------------------------- 2. writes

SETUP = object()


@dataclass(frozen=True)
class Step:
    """What a write must do. this / prev: `current` of this month's / 上月同期's S at T right after the write
    (None: either is right — S may or may not be affected, the figures must be right either way). changes:
    views ("this/grid") whose live figures the write changes (so a stale S would be caught)."""

    what: str
    this: bool | None = None
    prev: bool | None = None
    changes: tuple[str, ...] = ()


CASES = {}


def case(name: str):
    def register(fn):
        CASES[name] = fn
        return fn
    return register


# (a) writes dated today only: S stays in force, R carries them -------------------------------------------

@case("a new problem reported today, its whole loop today")
def _today_loop(e, tmp_path):
    yield SETUP
    code = workflow.create_problem(e, chief("T-01"), "暴露垃圾", "垃圾桶满溢", *IN_T01, source="网格员巡查",
                                   now=today(8))["code"]
    yield Step("上报 08:00", this=True, prev=True, changes=("this/city", "this/grid"))
    workflow.dispatch(e, chief("T-01"), code, "U-002", now=today(8, 5))
    yield Step("派遣 08:05 (its unit set)", this=True, prev=True, changes=("this/unit",))
    workflow.acknowledge(e, chief("T-01"), code, now=today(8, 10))
    yield Step("签收 08:10", this=True, prev=True)
    workflow.submit(e, chief("T-01"), code, "已清运", now=today(8, 20), photo_dir=tmp_path)
    yield Step("提交整改 08:20", this=True, prev=True)
    workflow.verify(e, VERIFIER, code, now=today(8, 40))
    yield Step("核查通过 08:40: closed early, 应结案 now", this=True, prev=True, changes=("this/city", "this/unit"))


@case("steps dated today on problems reported before today")
def _today_steps(e, tmp_path):
    yield SETUP
    workflow.submit(e, chief("T-01"), "WT03", "已整改", now=today(8, 15), photo_dir=tmp_path)
    # WT03 (due 11-11) is rectified today: 处置数 and 平均整改用时 count it at T — rectified_at is one of R's dates
    yield Step("WT03 提交整改 today", this=True, prev=True, changes=("this/city", "this/grid"))
    workflow.verify(e, VERIFIER, "WT05", now=today(8, 30))
    # closed today: not closed at D either way, so S is unchanged (a stricter trigger may still note it)
    yield Step("WT05 核查通过 today", this=None, prev=True, changes=("this/city", "this/unit"))
    grid = grid_of(e, "WT06")
    workflow.request(e, chief(grid), "WT06", workflow.APPLY_DEFERRAL, "拆迁中", now=today(8, 35))
    yield Step("WT06 申请缓办", this=None, prev=True)
    workflow.decide(e, COMMAND, "WT06", True, now=today(8, 45))
    yield Step("WT06 缓办 approved today: out of 应结案 at T", this=True, prev=True, changes=("this/city",))


# (b) writes that change S: registering, closing, correcting, reassigning a problem reported before today ----

@case("立案 today of a hotline report made yesterday")
def _register(e, tmp_path):
    # 占道经营: due 24 h after the report, and again after 立案: both deadlines after D, so only the change
    # of 立案 status (timeless) says that S changed — the report counts in 问题数 from its report on
    code = workflow.create_problem(e, chief("T-01"), "占道经营", "市民来电：占道", *IN_T01, source="市民热线",
                                   now=datetime(2026, 11, 20, 10))["code"]
    yield SETUP
    workflow.register(e, COMMAND, code, now=today(8, 30))
    yield Step("立案", this=False, prev=True, changes=("this/city", "this/grid", "this/category2"))


@case("category corrected by re-import")
def _category(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT03", category="暴露垃圾")  # every date as it was: the category alone changes
    yield Step("WT03 占道经营 → 暴露垃圾", this=False, prev=True, changes=("this/category", "this/category2"))


@case("source corrected by re-import")
def _source(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT03", source="督查")
    yield Step("WT03 暗访 → 督查", this=False, prev=True, changes=("this/source",))


@case("unit set by 派遣 of a problem reported yesterday")
def _dispatch(e, tmp_path):
    yield SETUP
    workflow.dispatch(e, chief("T-01"), "WT04", "U-002", now=today(8, 30))
    yield Step("WT04 → U-002", this=False, prev=True, changes=("this/unit",))


@case("grid changed: moved by re-import")
def _moved(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT03", lon=IN_T04[0], lat=IN_T04[1])
    assert grid_of(e, "WT03") == "T-04"
    yield Step("WT03 T-01 → T-04", this=False, prev=True, changes=("this/grid", "this/subdistrict", "this/home"))


@case("closed by re-import, verified yesterday")
def _closed_backdated(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT03", status="已结案", rectified_at=YESTERDAY - timedelta(hours=2), verified_at=YESTERDAY)
    yield Step("WT03 已结案 11-20", this=False, prev=True, changes=("this/city",))


@case("closed by re-import without a verification time (closed from its report)")
def _closed_from_report(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT08", status="已结案")  # no date changes: only its closed-ness does
    yield Step("WT08 已结案", this=False, prev=True, changes=("this/city", "this/unit"))


@case("reopened by re-import, its verification time kept")
def _reopened(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT01", status="整改中")  # no date changes: only its closed-ness does
    yield Step("WT01 已结案 → 整改中", this=False, prev=True, changes=("this/city",))


@case("rectification time corrected by re-import (none → yesterday)")
def _rectified_backdated(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT03", rectified_at=YESTERDAY)  # a date from NULL to before D (SQLite: min(NULL, x) is NULL)
    yield Step("WT03 rectified 11-20", this=False, prev=True, changes=("this/city",))


@case("退回 today of a problem rectified before today")
def _send_back(e, tmp_path):
    yield SETUP
    workflow.send_back(e, VERIFIER, "WT05", "仍有残留", now=today(8, 30))
    yield Step("WT05 退回: 返工, no longer rectified", this=False, prev=True, changes=("this/city",))


@case("延期 approved today of an overdue problem")
def _extension(e, tmp_path):
    yield SETUP
    workflow.request(e, chief("T-04"), "WT08", workflow.APPLY_EXTENSION, "需协调", datetime(2026, 11, 25, 18),
                     now=today(8, 10))
    yield Step("WT08 申请延期", this=None, prev=True)
    workflow.decide(e, COMMAND, "WT08", True, now=today(8, 20))
    yield Step("WT08 延期 to 11-25: not 应结案 any more", this=False, prev=True, changes=("this/city", "this/unit"))


@case("a 问题类型's deduction from the 1st of the month (rule by date)")
def _deduction(e, tmp_path):
    yield SETUP
    edits.set_category_rule(e, ADMIN, "暴露垃圾", NOV, 4, "自然时", 3.0)
    yield Step("暴露垃圾 扣分 1 → 3 from 11-01", this=False, prev=True, changes=("this/city", "this/category"))


@case("12345 回访 today of a problem closed before today")
def _follow_up(e, tmp_path):
    yield SETUP
    intake.follow_up(e, COMMAND, "WT07", "满意", now=today(8, 30))
    yield Step("WT07 回访 满意", this=None, prev=True, changes=("this/city",))


@case("a grid's 街道 corrected by re-import (a write to grids, not problems)")
def _subdistrict(e, tmp_path):
    yield SETUP
    grids = smallcity.grids()
    grids.loc[grids["code"] == "T-02", "subdistrict"] = "柳园街道"
    path = tmp_path / "grids.geojson"
    grids.to_file(path, driver="GeoJSON")
    assert importer.import_file(e, ADMIN, "grids", path).updated == 4
    yield Step("T-02 古楼街道 → 柳园街道", this=True, prev=True, changes=("this/subdistrict",))


# (c) imports -------------------------------------------------------------------------------------------

@case("a problem reported earlier this month, imported today")
def _backdated_import(e, tmp_path):
    yield SETUP
    new_problem(e, tmp_path, "IM-101", "暴露垃圾", datetime(2026, 11, 10, 9), IN_T02)
    yield Step("IM-101 reported 11-10, overdue", this=False, prev=True, changes=("this/city", "this/grid"))


@case("a problem reported today, imported")
def _today_import(e, tmp_path):
    yield SETUP
    new_problem(e, tmp_path, "IM-102", "占道经营", today(7), IN_T02)
    yield Step("IM-102 reported 07:00", this=True, prev=True, changes=("this/city",))


@case("last month's problem falling due this month, its category corrected")
def _across_months(e, tmp_path):
    new_problem(e, tmp_path, "IM-201", "暴露垃圾", datetime(2026, 10, 31, 23), IN_T01)  # due 11-01 03:00
    yield SETUP
    correct(e, tmp_path, "IM-201", category="占道经营")  # its deadline kept: 应结案 in November, now 占道经营
    yield Step("IM-201 暴露垃圾 → 占道经营", this=False, changes=("this/category", "this/category2"))


@case("last month's problem corrected (上月同期)")
def _last_month(e, tmp_path):
    yield SETUP
    correct(e, tmp_path, "WT09", category="暴露垃圾")  # reported 10-08: in the 1–21 October period
    yield Step("WT09 占道经营 → 暴露垃圾", prev=False, changes=("prev/category", "prev/category2"))


@case("a problem of last month imported (上月同期)")
def _last_month_import(e, tmp_path):
    yield SETUP
    new_problem(e, tmp_path, "IM-301", "占道经营", datetime(2026, 10, 12, 9), IN_T03)
    yield Step("IM-301 reported 10-12", prev=False, changes=("prev/city", "prev/grid"))


# (d) deletes -------------------------------------------------------------------------------------------

@case("a problem deleted")
def _deleted(e, tmp_path):
    yield SETUP
    with e.begin() as conn:
        conn.execute(text("DELETE FROM problem_events WHERE problem_id = (SELECT id FROM problems WHERE code = 'WT03')"))
        conn.execute(text("DELETE FROM problems WHERE code = 'WT03'"))
    yield Step("WT03 deleted", this=False, prev=True, changes=("this/city", "this/grid"))


@case("the data cleared (TRUNCATE on PostgreSQL) and loaded again without one problem")
def _cleared(e, tmp_path):
    yield SETUP
    with e.begin() as conn:
        clear_data(conn)
    yield Step("cleared", this=False, prev=False, changes=("this/city", "prev/city"))
    city = smallcity.city()
    city["problems"] = city["problems"][city["problems"]["code"] != "WT03"]
    with e.begin() as conn:
        write_city(conn, city, smallcity.LAYER_START)
    yield Step("loaded again, without WT03", changes=("this/city", "prev/city"))


@pytest.mark.parametrize("name", list(CASES))
def test_a_write_leaves_the_figures_right(city_rw, monkeypatch, tmp_path, name):
    steps = CASES[name](city_rw, tmp_path)
    assert next(steps) is SETUP
    before = _checked_read(city_rw, monkeypatch, T, f"{name}: before")
    for step in steps:
        what = f"{name} / {step.what}"
        for p, expected in (("this", step.this), ("prev", step.prev)):
            if expected is not None:
                got = day_sums.current(city_rw, PERIODS[p](T))
                assert got is expected, f"{what}: current({p}) is {got}, should be {expected}"
        after = _checked_read(city_rw, monkeypatch, T, what)
        for view in step.changes:
            assert _figures(after[view]) != _figures(before[view]), f"{what}: the write should change {view}"
        before = after


def test_two_stored_days_of_a_month_are_both_computed_again_after_a_write(city_rw, monkeypatch, tmp_path):
    """S of 20 Nov and of 21 Nov both stored: a write before both makes both be computed again, whichever is
    read first (a refresh of one must not take the other's notes away)."""
    evening = datetime(2026, 11, 20, 17, 30)
    for t in (evening, T):
        _checked_read(city_rw, monkeypatch, t, f"before, at {t}")
    correct(city_rw, tmp_path, "WT03", category="暴露垃圾")
    assert not day_sums.current(city_rw, this_month(evening)) and not day_sums.current(city_rw, this_month(T))
    _checked_read(city_rw, monkeypatch, T, "after, today first")
    _checked_read(city_rw, monkeypatch, evening, "after, then yesterday")
    correct(city_rw, tmp_path, "WT05", category="露天烧烤")
    _checked_read(city_rw, monkeypatch, evening, "after, yesterday first")
    _checked_read(city_rw, monkeypatch, T, "after, then today")


def test_a_write_dated_today_does_not_touch_the_sums_of_yesterday(city_rw, monkeypatch, tmp_path):
    """S of 20 Nov (read at 17:30) and writes dated this morning: the figures at 20 Nov 17:30 stay as they were."""
    evening = datetime(2026, 11, 20, 17, 30)
    before = _checked_read(city_rw, monkeypatch, evening, "before")
    workflow.submit(city_rw, chief("T-01"), "WT03", "已整改", now=today(8, 15), photo_dir=tmp_path)
    assert day_sums.current(city_rw, this_month(evening))
    workflow.verify(city_rw, VERIFIER, "WT05", now=today(8, 30))
    after = _checked_read(city_rw, monkeypatch, evening, "after")
    assert all(_figures(after[v]) == _figures(before[v]) for v in before)


def test_a_closing_today_leaves_the_sums_in_force(city_rw, monkeypatch):
    """核查通过 today of a problem reported earlier: closed at T, not at D before or after the write (its closing
    moment is today), so S is unchanged and R carries the change. Closings come all day long: noting them from
    the report would have S summed again at nearly every read of a working day."""
    before = _checked_read(city_rw, monkeypatch, T, "before")
    workflow.verify(city_rw, VERIFIER, "WT05", now=today(8, 30))  # reported 11-12, closed 08:30 today
    assert day_sums.current(city_rw, this_month(T)), "S of today dropped by a closing dated today"
    after = _checked_read(city_rw, monkeypatch, T, "after")
    assert _figures(after["this/city"]) != _figures(before["this/city"])


@pytest.mark.parametrize("first", ["district first", "city first"])
def test_a_district_and_the_whole_city_share_the_notes(city_rw, monkeypatch, tmp_path, first):
    """Two districts: S of the whole city and of each district. A write in one district makes the city's and that
    district's S be computed again, whichever is read first; a problem moving between districts, both."""
    district_registry.add_district(city_rw, ADMIN, YG, "阳谷县", "YG", YG_BOX)
    with city_rw.begin() as conn:
        conn.execute(text("UPDATE problems SET district_code = :yg WHERE code = 'WT08'"), {"yg": YG})
    views = {**VIEWS, "yg": {"by": "grid", "district": YG}, "district": {"by": "district"}}

    def read(what):
        order = ([("yg", YG), ("home", HOME)] if first == "district first" else []) + [(v, None) for v in VIEWS] + \
            ([("yg", YG), ("home", HOME)] if first == "city first" else [])
        live = _live(monkeypatch, _read, city_rw, T, views)
        for v, _district in order:
            for p, period in PERIODS.items():
                _same(figures.counts(city_rw, [period(T)], **views[v]), live[f"{p}/{v}"], f"{what}: {p}/{v}")
        for d in (None, HOME, YG):
            assert day_sums.current(city_rw, this_month(T), d), f"{what}: S of {d or 'the city'} after the read"
        return live

    before = read("before")
    workflow.request(city_rw, chief("T-04"), "WT08", workflow.APPLY_EXTENSION, "需协调", datetime(2026, 11, 25, 18),
                     now=today(8, 10))
    workflow.decide(city_rw, COMMAND, "WT08", True, now=today(8, 20))
    assert not day_sums.current(city_rw, this_month(T)) and not day_sums.current(city_rw, this_month(T), YG)
    after = read("WT08 (阳谷县) 延期")
    assert _ints(after["this/yg"]) != _ints(before["this/yg"])

    correct(city_rw, tmp_path, "WT04", lon=IN_YG[0], lat=IN_YG[1])  # 东昌府区 → 阳谷县 (and out of every grid)
    with city_rw.connect() as conn:
        assert conn.execute(text("SELECT district_code FROM problems WHERE code = 'WT04'")).scalar() == YG
    for d in (None, HOME, YG):
        assert not day_sums.current(city_rw, this_month(T), d), f"WT04 moved: S of {d or 'the city'}"
    moved = read("WT04 moved to 阳谷县")
    assert _ints(moved["this/home"]) != _ints(after["this/home"])
    assert _ints(moved["this/district"]) != _ints(after["this/district"])


# ---------------------------------------------------------------------------------------------- 3. triggers

@pytest.fixture(scope="module")
def database_url(backend_name, tmp_path_factory) -> str:
    url = new_database_url(backend_name, tmp_path_factory, "day_sums")
    migrate.upgrade(get_engine(url))
    return url


def _triggers(engine) -> dict[str, str]:
    """The triggers on problems: name → their text (PostgreSQL: the definition and its function's body)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                     "AND tbl_name = 'problems'")).all()
        else:
            rows = conn.execute(text(
                "SELECT t.tgname, pg_get_triggerdef(t.oid) || ' ' || f.prosrc FROM pg_trigger t "
                "JOIN pg_proc f ON f.oid = t.tgfoid WHERE t.tgrelid = 'problems'::regclass AND NOT t.tgisinternal")).all()
    return {name: body for name, body in rows}


def _tables(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if engine.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())


def _notes(engine) -> list[tuple[str, str, datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT k, district_code, changed_from FROM problem_day_changes")).all()
    return [(k, d, pd.Timestamp(c).to_pydatetime()) for k, d, c in rows]


def _noted(engine, sql: str, **params) -> datetime | None:
    """The earliest moment noted by the write `sql` (None: nothing noted)."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM problem_day_changes"))
        conn.execute(text(sql), params)
    notes = _notes(engine)
    return min(c for _k, _d, c in notes) if notes else None


def test_the_triggers_exist_after_upgrade_and_note_what_a_write_can_change(database_url):
    engine = get_engine(database_url)
    load_small_city(engine)
    migrate.downgrade(engine, "0020")
    assert not {"problem_day_sums", "problem_days", "problem_day_changes"} & _tables(engine)
    assert not any("problem_day_changes" in body for body in _triggers(engine).values())
    migrate.upgrade(engine)
    assert {"problem_day_sums", "problem_days", "problem_day_changes"} <= _tables(engine)
    triggers = _triggers(engine)
    assert {"problems_months_ins", "problems_months_upd", "problems_months_del"} <= set(triggers)  # 0018's kept
    day = {name: body.upper() for name, body in triggers.items() if "PROBLEM_DAY_CHANGES" in body.upper()}
    for event in ("INSERT", "UPDATE", "DELETE") + (("TRUNCATE",) if engine.dialect.name == "postgresql" else ()):
        assert any(f"AFTER {event}" in body or f"OR {event}" in body for body in day.values()), f"no trigger AFTER {event}"

    wt = "WHERE code = :c"
    # a timeless column: from the row's earliest date (WT03 reported 11-10 08:00)
    assert _noted(engine, f"UPDATE problems SET category = '暴露垃圾' {wt}", c="WT03") == datetime(2026, 11, 10, 8)
    assert _noted(engine, f"UPDATE problems SET grid_id = grid_id + 1 {wt}", c="WT03") == datetime(2026, 11, 10, 8)
    assert _noted(engine, f"UPDATE problems SET rework_count = 2 {wt}", c="WT03") == datetime(2026, 11, 10, 8)
    assert _noted(engine, f"UPDATE problems SET deduction = 5 {wt}", c="WT03") == datetime(2026, 11, 10, 8)
    # a date: the earlier of its old and new values (WT08's deadline 11-18 23:00)
    assert _noted(engine, f"UPDATE problems SET deadline = :d {wt}", c="WT08", d=datetime(2026, 11, 25)) == \
        datetime(2026, 11, 18, 23)
    assert _noted(engine, f"UPDATE problems SET deadline = :d {wt}", c="WT08", d=datetime(2026, 11, 17)) == \
        datetime(2026, 11, 17)
    # from none to a value (rectified_at is a date the figures read: 处置数, 平均整改用时)
    assert _noted(engine, f"UPDATE problems SET rectified_at = :d {wt}", c="WT03", d=YESTERDAY) == YESTERDAY
    assert _noted(engine, f"UPDATE problems SET rectified_at = :d {wt}", c="WT04", d=today(8)) == today(8)
    # closed-ness: the closing moment; a closing without verified_at closes from the report
    assert _noted(engine, f"UPDATE problems SET status = '已结案' {wt}", c="WT08") == datetime(2026, 11, 18, 21)
    reopened = _noted(engine, f"UPDATE problems SET status = '整改中' {wt}", c="WT01")
    assert reopened is not None and reopened <= datetime(2026, 11, 3, 9)
    # a column the figures do not read: nothing to note
    assert _noted(engine, f"UPDATE problems SET description = '改' {wt}", c="WT03") is None
    # a write dated today only: today
    assert _noted(engine, f"UPDATE problems SET acknowledged_at = :d, rectified_at = :d, status = '待核查' {wt}",
                  c="WT06", d=today(8, 30)) == today(8, 30)
    # insert and delete: the row's earliest date
    assert _noted(engine, "DELETE FROM problem_events WHERE problem_id = (SELECT id FROM problems WHERE code = :c)",
                  c="WT07") is None
    assert _noted(engine, f"DELETE FROM problems {wt}", c="WT07") == datetime(2026, 11, 16, 7)
    assert _noted(engine, "INSERT INTO problems (code, category, description, source, reported_at, deadline, status, lon, "
                  "lat, geom, rework_count, deduction, revision, registered_at, grid_id, district_code) SELECT 'X1', category, "
                  "description, source, :r, :d, '整改中', lon, lat, geom, 0, deduction, 1, :r, grid_id, district_code "
                  "FROM problems WHERE code = 'WT03'", r=datetime(2026, 11, 9), d=datetime(2026, 11, 9, 4)) \
        == datetime(2026, 11, 9)
    notes = _notes(engine)
    assert {(k, d) for k, d, _c in notes} >= {("2026-11", HOME)}


@pytest.mark.parametrize("how", ["clear_data", "TRUNCATE problems"])
def test_clearing_the_data_leaves_no_day_sums_behind(database_url, how):
    engine = get_engine(database_url)
    if how == "TRUNCATE problems" and engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    load_small_city(engine)
    figures.counts(engine, [this_month(T)])
    assert _stored_days(engine) > 0
    with engine.begin() as conn:
        if how == "clear_data":
            clear_data(conn)
        else:
            conn.execute(text("TRUNCATE problems CASCADE"))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM problem_day_sums")).scalar()
    assert not day_sums.current(engine, this_month(T)) or stored == 0
    assert figures.counts(engine, [this_month(T)]).empty
