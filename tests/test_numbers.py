"""Issue 12: states, 应结案 cohorts and the month's figures, on tests/numbers_city.py, by hand.

October 2026 evaluated at 1 Nov 00:00, November at 1 Dec 00:00 (see tests/numbers_city.py):

| figure | October | November |
|---|---|---|
| 问题数 (立案 problems reported in the month) | N02 N03 N04 = 3 | N05 N06 N07 N10 N11 = 5 (N08 待立案, N09 不予立案 not) |
| 立案数 | 3 | 5 (N10 立案 16 Nov) |
| 应结案数 | N01 (closed early 8 Oct), N02, N03 (closed early 30 Oct) = 3 | N04 (延期 deadline 25 Nov), N06, N07, N10 = 4 (N05 缓办) |
| 结案数 / 按期结案数 | 3 / 2 (N02 late) | 3 / 3 |
| 超期数 (not closed by the deadline) | 1 (N02) | 1 (N07) |
| 返工 / 延期 / 缓办 / 处置 | 0 / 0 / 0 / 3 | 1 (N06) / 1 (N04) / 1 (N05) / 3 |
| 平均整改用时 (report → rectified, due cases) | (186 + 64.5 + 222) / 3 = 157.5 h | (1033 + 23 + 35) / 3 = 363.67 h |
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import DateTime, bindparam, text

from gis.db import migrate
from gis.db.engine import get_engine
from gis.metrics import figures, kpis, losses, periods
from gis.problems import ledger, states
from tests import numbers_city
from tests.conftest import new_database_url

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
END_OCT, END_NOV = datetime(2026, 11, 1), datetime(2026, 12, 1)


@pytest.fixture(scope="module")
def numbers_engine(backend_name, tmp_path_factory):
    url = new_database_url(backend_name, tmp_path_factory, "numbers")
    engine = get_engine(url)
    migrate.upgrade(engine)
    numbers_city.load(engine)
    return engine


@pytest.fixture
def frame() -> pd.DataFrame:
    return numbers_city.problems().set_index("code", drop=False)


def _codes(df, mask) -> list[str]:
    return sorted(df["code"][mask])


# --- step 1: one module of states ---------------------------------------------------------------

def test_states_at_a_moment(frame):
    t = END_NOV
    assert _codes(frame, states.is_open(frame, t)) == ["N05", "N07", "N11"]
    assert _codes(frame, states.is_overdue(frame, t)) == ["N07"]  # N05 is 缓办, N11 not yet due
    assert _codes(frame, states.is_on_time(frame, t)) == ["N01", "N03", "N04", "N06", "N10"]
    assert _codes(frame, states.is_closed_late(frame, t)) == ["N02"]
    # 10 Oct 12:00: N02 past its 调休-Saturday deadline and open → 超期; at 11:00 it was not
    assert states.is_overdue(frame.loc["N02"].to_dict(), datetime(2026, 10, 10, 12))
    assert not states.is_overdue(frame.loc["N02"].to_dict(), datetime(2026, 10, 10, 11))
    # N04: past its first deadline (9 Nov) but within the 延期 one: not 超期
    assert not states.is_overdue(frame.loc["N04"].to_dict(), datetime(2026, 11, 20))
    # N05 past its deadline, but 缓办 since 3 Nov 15:00
    assert not states.is_overdue(frame.loc["N05"].to_dict(), datetime(2026, 11, 5))
    assert not states.is_open(frame.loc["N08"].to_dict(), t)  # 待立案 counts nowhere


def test_sql_builders_agree_with_the_predicates(numbers_engine, frame):
    moments = [datetime(2026, 10, 10, 12), datetime(2026, 11, 5), datetime(2026, 11, 20), END_NOV]
    builders = {"open": (states.open_sql, states.is_open), "overdue": (states.overdue_sql, states.is_overdue),
                "on_time": (states.on_time_sql, states.is_on_time),
                "closed_late": (states.closed_late_sql, states.is_closed_late)}
    with numbers_engine.connect() as conn:
        for t in moments:
            for name, (sql, predicate) in builders.items():
                stmt = text(f"SELECT p.code FROM problems p WHERE {sql('p', ':t')} ORDER BY p.code").bindparams(
                    bindparam("t", t, type_=DateTime))
                got = [r[0] for r in conn.execute(stmt)]
                assert got == _codes(frame, predicate(frame, t)), (name, t)
            for m in (OCT, NOV):
                a, b = (datetime.combine(x, datetime.min.time()) for x in (m, periods.add_months(m, 1)))
                stmt = text(f"SELECT p.code FROM problems p WHERE {states.due_in_sql('p', ':a', ':b', ':t')} "
                            "ORDER BY p.code").bindparams(*(bindparam(k, v, type_=DateTime)
                                                            for k, v in (("a", a), ("b", b), ("t", t))))
                got = [r[0] for r in conn.execute(stmt)]
                assert got == _codes(frame, states.is_due_in(frame, a, b, t)), (m, t)


def test_every_case_is_due_in_exactly_one_period(frame):
    later = datetime(2027, 1, 1)
    months = [date(2026, m, 1) for m in (9, 10, 11, 12)]
    hits = sum(states.is_due_in(frame, datetime.combine(m, datetime.min.time()),
                                datetime.combine(periods.add_months(m, 1), datetime.min.time()), later).astype(int)
               for m in months)
    counted = dict(zip(frame["code"], hits))
    assert counted == {"N01": 1, "N02": 1, "N03": 1, "N04": 1, "N05": 0, "N06": 1, "N07": 1, "N08": 0, "N09": 0,
                       "N10": 1, "N11": 1}  # N05 缓办, N08 待立案, N09 不予立案: none


def test_ledger_and_overdue_now_use_the_states(numbers_engine):
    assert kpis.overdue_now(numbers_engine, END_NOV) == 1  # N07
    df = ledger.ledger(numbers_engine, "T-01", now=END_NOV).set_index("code")
    assert not df.at["N05", "overdue"]  # 缓办
    assert sorted(ledger.ledger(numbers_engine, "T-02", overdue=True, now=END_NOV)["code"]) == ["N07"]
    assert ledger.ledger_counts(numbers_engine, "T-02", now=END_NOV)["overdue"] == 1


def test_overdue_at_a_past_moment_reads_the_problems_closed_since(numbers_engine, frame):
    """现超期 at t counts a problem closed after t only when it was closed after its deadline (sql.overdue_at reads
    those through the closed-late index): N02, due Sat 10 Oct 11:30, verified Mon 12 Oct 10:00."""
    assert kpis.overdue_now(numbers_engine, datetime(2026, 10, 10, 11, 30)) == 0  # not yet past its deadline
    assert kpis.overdue_now(numbers_engine, datetime(2026, 10, 11, 12)) == 1  # N02, closed since, late
    assert kpis.overdue_now(numbers_engine, datetime(2026, 10, 12, 10)) == 0  # verified at that moment: closed
    assert kpis.overdue_now(numbers_engine, datetime(2026, 11, 10)) == 0  # N04's 延期 deadline in force, N05 缓办
    assert kpis.overdue_now(numbers_engine, datetime(2026, 11, 21, 10)) == 1  # N07
    # and just before, at and just after each date of each problem, what the states' predicate says of each
    dates = pd.to_datetime(frame[list(states.STATE_COLUMNS[1:])].stack()).dropna().unique()
    for t in sorted({d + pd.Timedelta(minutes=m) for d in dates for m in (-1, 0, 1)}):
        assert kpis.overdue_now(numbers_engine, t.to_pydatetime()) == int(states.is_overdue(frame, t).sum()), t


# --- step 2: 应结案 cohort by deadline ------------------------------------------------------------

def test_tianmen_shaped_month_arithmetic():
    """The published example: 应结案 972, 结案 911 → 93.72 %, 按期结案 737 → 75.82 %."""
    counts = pd.DataFrame([{**{c: 0 for c in figures.INDICATORS}, "registered": 996, "due": 972, "closed": 911,
                            "on_time": 737, "overdue": 972 - 737}])
    rates = figures.with_rates(counts).iloc[0]
    assert round(rates["closure_rate"], 4) == 0.9372
    assert round(rates["on_time_rate"], 4) == 0.7582
    assert rates["overdue_rate"] == pytest.approx(1 - 737 / 972)


def test_month_figures_by_hand(numbers_engine):
    df = kpis.monthly_stats(numbers_engine, OCT, NOV, END_NOV).set_index("month")
    octo, nov = df.loc[OCT], df.loc[NOV]
    assert [int(octo[c]) for c in ("problems", "registered", "due", "closed", "on_time", "overdue", "rework",
                                   "extended", "deferred", "handled")] == [3, 3, 3, 3, 2, 1, 0, 0, 0, 3]
    assert [int(nov[c]) for c in ("problems", "registered", "due", "closed", "on_time", "overdue", "rework",
                                  "extended", "deferred", "handled")] == [5, 5, 4, 3, 3, 1, 1, 1, 1, 3]
    assert octo["on_time_rate"] == pytest.approx(2 / 3) and octo["closure_rate"] == pytest.approx(1.0)
    assert nov["closure_rate"] == pytest.approx(0.75) and nov["extension_rate"] == pytest.approx(0.25)
    assert nov["overdue_rate"] == pytest.approx(0.25) and nov["handling_rate"] == pytest.approx(0.75)
    assert octo["avg_hours"] == pytest.approx(157.5)
    assert nov["avg_hours"] == pytest.approx(1091 / 3)


def test_month_in_progress_counts_what_has_fallen_due(numbers_engine):
    # 18 Nov 00:00: due so far N06 (closed 11 Nov) and N10 (closed 17 Nov); N04 (25 Nov) and N07 (21 Nov) not yet.
    s = kpis.monthly_stats(numbers_engine, NOV, NOV, datetime(2026, 11, 18)).iloc[0]
    assert (s["due"], s["closed"], s["on_time"]) == (2, 2, 2)


def test_figures_by_grid(numbers_engine):
    months = periods.month_rows(NOV, NOV, END_NOV)
    df = figures.counts(numbers_engine, months, "grid").set_index("key")
    assert df.loc["T-01", ["reported", "due", "on_time", "overdue", "deferred"]].tolist() == [3, 1, 1, 0, 1]
    assert df.loc["T-02", ["reported", "due", "on_time", "overdue", "extended"]].tolist() == [2, 3, 2, 1, 1]


# --- step 5: 综合得分 and rankings -----------------------------------------------------------------

def test_partial_credit_counts_the_same_in_the_score_and_in_who_lost_points(numbers_engine):
    from gis.metrics import scores

    inputs = scores.score_inputs(numbers_engine, NOV, END_NOV).set_index("code")
    assert inputs.at["T-02", "ok_points"] == pytest.approx(3.0) and inputs.at["T-02", "all_points"] == pytest.approx(10.0)
    lost = losses.lost_points(numbers_engine, "T-02", NOV)["by_standard"].set_index("standard_code")
    # 1.1.1: two failed visits (2 + 2); 1.2.1: one failed (2) and the partial one (2 − 1)
    assert lost["inspection_points"].to_dict() == {"1.1.1": 4.0, "1.2.1": 3.0}
    assert lost["failed"].to_dict() == {"1.1.1": 2, "1.2.1": 2}
    assert lost["inspection_points"].sum() == inputs.at["T-02", "all_points"] - inputs.at["T-02", "ok_points"]


def test_sample_is_counted_in_visits_and_a_thin_sample_gets_no_colour(numbers_engine):
    from gis.metrics import scores

    df = scores.monthly_scores(numbers_engine, NOV, END_NOV, min_sample=5).set_index("code")
    assert df.at["T-02", "inspections"] == 4  # 5 rows, 4 point-days
    assert not df.at["T-02", "ranked"] and df.at["T-02", "color"] == "灰" and pd.isna(df.at["T-02", "rank"])
    assert df.at["T-01", "ranked"] and df.at["T-01", "rank"] == 1


def test_self_reported_problems_weigh_by_source(numbers_engine, monkeypatch):
    from gis.metrics import scores

    # default: 网格员巡查 ×0.5 → T-02 1.5 of a mean 1.125
    df = scores.monthly_scores(numbers_engine, NOV, END_NOV, min_sample=4).set_index("code")
    assert df.at["T-02", "deduction"] == pytest.approx(10 * 1.5 / 1.125)
    assert df.at["T-02", "score"] == pytest.approx(10.0)
    monkeypatch.setenv("GRIDMAP_SOURCE_WEIGHTS", "网格员巡查=1")  # every source alike: 2 of a mean 1.25
    df = scores.monthly_scores(numbers_engine, NOV, END_NOV, min_sample=4).set_index("code")
    assert df.at["T-02", "deduction"] == pytest.approx(16.0)
    monkeypatch.setenv("GRIDMAP_SOURCE_WEIGHTS", "自查=0.5")
    with pytest.raises(ValueError, match="GRIDMAP_SOURCE_WEIGHTS 中的来源“自查”无效"):
        scores.monthly_scores(numbers_engine, NOV, END_NOV)


def test_month_on_month_compares_the_same_days(numbers_engine):
    # 18 Nov 00:00: November so far (N05, N06, N10 reported; N06, N10 due, both on time) against
    # 1–17 October at 18 Oct 00:00 (N02, N04 reported; N01, N02 due, N01 on time) — not all of October.
    k = kpis.kpis(numbers_engine, NOV, datetime(2026, 11, 18))
    assert k.at["problems", "value"] == 3 and k.at["problems", "previous"] == 2
    assert k.at["on_time_rate", "value"] == pytest.approx(100.0)
    assert k.at["on_time_rate", "previous"] == pytest.approx(50.0)
    assert k.at["on_time_rate", "change"] == pytest.approx(50.0)
    assert k.at["problems", "compared"] == "上月同期（1–17日）"
    # a complete month against the whole month before: October as of its end (3 of 3 due, 2 on time)
    k = kpis.kpis(numbers_engine, NOV, END_NOV)
    assert k.at["problems", "compared"] == "上月" and k.at["on_time_rate", "previous"] == pytest.approx(200 / 3)


def test_the_wall_shows_last_month_complete_on_the_first_days():
    assert periods.wall_month(datetime(2026, 12, 1, 8)) == (NOV, True)
    assert periods.wall_month(datetime(2026, 12, 3, 23, 59)) == (NOV, True)
    assert periods.wall_month(datetime(2026, 12, 4)) == (DEC, False)
