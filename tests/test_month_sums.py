"""月度汇总 (issue 17): whole months are read from their stored sums, with the figures of the rows themselves,
and any write to a problem with a date in a month makes that month be summed again (tests/numbers_city.py;
October 2026 by hand in tests/test_numbers.py: 问题数 3, 应结案 3, 结案 3, 按期 2, 超期 1)."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from gis.db import migrate
from gis.db.engine import get_engine
from gis.metrics import figures, month_sums, periods
from tests import numbers_city
from tests.conftest import new_database_url

OCT, NOV = date(2026, 10, 1), date(2026, 11, 1)
END_NOV = datetime(2026, 12, 1)
OCT_FIGURES = ["reported", "due", "closed", "on_time", "overdue"]


@pytest.fixture(scope="module")
def database_url(backend_name, tmp_path_factory) -> str:
    url = new_database_url(backend_name, tmp_path_factory, "month_sums")
    migrate.upgrade(get_engine(url))
    return url


@pytest.fixture
def engine(database_url):
    engine = get_engine(database_url)
    numbers_city.load(engine)
    return engine


def _months(as_of=END_NOV):
    return periods.month_rows(OCT, NOV, as_of)


def _stored(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(set(conn.execute(text("SELECT k FROM problem_months")).scalars()))


def _changed(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(set(conn.execute(text("SELECT k FROM problem_month_changes")).scalars()))


def _live(engine, monkeypatch, *args, **kw) -> pd.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(month_sums, "ready", lambda *_a, **_k: set())
        return figures.counts(engine, *args, **kw)


def _october(engine) -> list[int]:
    row = figures.counts(engine, periods.month_rows(OCT, OCT, END_NOV)).iloc[0]
    return [int(row[c]) for c in OCT_FIGURES]


def test_whole_months_are_read_from_their_sums_with_the_figures_of_the_rows(engine, monkeypatch):
    assert _stored(engine) == []
    city = figures.counts(engine, _months())
    assert _stored(engine) == ["2026-10", "2026-11"] and _changed(engine) == ["2026-09", "2026-12"]  # never asked for
    by_month = city.set_index("k")
    assert by_month.loc["2026-10", OCT_FIGURES].tolist() == [3, 3, 3, 2, 1]
    assert by_month.loc["2026-11", ["reported", "due", "closed", "on_time", "overdue", "deferred"]].tolist() == [5, 4, 3, 3, 1, 1]
    assert by_month.loc["2026-10", "hours"] / by_month.loc["2026-10", "hours_n"] == pytest.approx(157.5)
    for kw in ({"by": "city"}, {"by": "grid"}, {"by": "unit"}, {"by": "district"}, {"by": "grid", "category": "占道经营"},
               {"by": "unit", "source": "市民热线"}, {"by": "city", "subdistrict": "新区街道"}):
        stored = figures.counts(engine, _months(), **kw).reset_index(drop=True)
        live = _live(engine, monkeypatch, _months(), **kw).reset_index(drop=True)
        pd.testing.assert_frame_equal(stored, live, check_exact=False, check_dtype=False)
    grid = figures.counts(engine, periods.month_rows(NOV, NOV, END_NOV), "grid").set_index("key")
    assert grid.loc["T-02", ["reported", "due", "on_time", "overdue", "extended"]].tolist() == [2, 3, 2, 1, 1]


def test_a_month_in_progress_is_never_stored(engine):
    mid = datetime(2026, 11, 18)
    s = figures.counts(engine, periods.month_rows(NOV, NOV, mid)).iloc[0]
    assert (s["due"], s["closed"], s["on_time"]) == (2, 2, 2)  # N06 and N10 had fallen due by 18 Nov
    assert _stored(engine) == []


def test_the_source_weights_apply_to_stored_months_without_summing_again(engine, monkeypatch):
    figures.counts(engine, _months())
    monkeypatch.setenv("GRIDMAP_SOURCE_WEIGHTS", "暗访=2,市民热线=0.5")
    stored = figures.counts(engine, _months()).set_index("k")
    # October: N02, N03, N04 by 暗访, deductions 1 + 3 + 3, weighed 2
    assert stored.loc["2026-10", "ded"] == pytest.approx(14.0)
    assert stored["ded"].tolist() == pytest.approx(_live(engine, monkeypatch, _months()).set_index("k")["ded"].tolist())


def test_any_write_to_a_problem_of_a_stored_month_is_counted_at_the_next_read(engine):
    assert _october(engine) == [3, 3, 3, 2, 1]
    with engine.begin() as conn:  # N02 (closed 12 Oct, late) gets a deadline in December: 按期 now
        conn.execute(text("UPDATE problems SET deadline = :d WHERE code = 'N02'"), {"d": datetime(2026, 12, 20)})
    assert "2026-10" in _changed(engine) and "2026-12" in _changed(engine)
    assert _october(engine) == [3, 3, 3, 3, 0]
    assert "2026-10" not in _changed(engine)  # October summed again
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM problem_events WHERE problem_id = (SELECT id FROM problems WHERE code = 'N02')"))
        conn.execute(text("DELETE FROM problems WHERE code = 'N02'"))
    assert _october(engine) == [2, 2, 2, 2, 0]
    with engine.begin() as conn:  # a problem reported on 15 Oct, imported late, still open
        conn.execute(text(
            "INSERT INTO problems (code, category, description, source, reported_at, deadline, status, lon, lat, geom, "
            "rework_count, deduction, revision, registered_at, grid_id, district_code) "
            "SELECT 'N99', category, description, source, :r, :d, '整改中', lon, lat, geom, 0, deduction, 1, :r, grid_id, "
            "district_code FROM problems WHERE code = 'N03'"), {"r": datetime(2026, 10, 15, 9), "d": datetime(2026, 10, 16, 9)})
    assert _october(engine) == [3, 3, 2, 2, 1]  # reported and due in October, not closed: 超期


def test_a_read_that_cannot_write_sums_the_rows_live(engine, database_url, backend_name):
    if backend_name == "postgis":  # a read replica answers reads only: a read-only session stands in for it
        from sqlalchemy import create_engine

        reader = create_engine(database_url, connect_args={"options": "-c default_transaction_read_only=on"})
        assert _october(reader) == [3, 3, 3, 2, 1]
        reader.dispose()
    else:  # another writer holds the SQLite file: the read does not wait for it
        with engine.begin() as writer:
            writer.execute(text("UPDATE problems SET description = description WHERE code = 'N01'"))
            started = datetime.now()
            assert _october(engine) == [3, 3, 3, 2, 1]
            assert (datetime.now() - started).total_seconds() < 30
    assert _stored(engine) == []


def test_migration_0018_goes_down_and_up_with_its_triggers(database_url):
    engine = get_engine(database_url)
    numbers_city.load(engine)
    migrate.downgrade(engine, "0017")
    with engine.connect() as conn:
        names = set(conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'" if engine.dialect.name == "sqlite"
            else "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert not {"problem_month_sums", "problem_months", "problem_month_changes"} & names
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM problem_month_changes"))
        conn.execute(text("UPDATE problems SET status = status WHERE code = 'N11'"))  # 30 Nov → 1 Dec
    assert _changed(engine) == ["2026-11", "2026-12"]


def _rolled_up_again(engine, table: str, key: str) -> tuple[list, list]:
    """(the rows of `table` rolled up by grid as stored, the same sums computed from `table` now)."""
    group = f"{key}, grid_id, district_code, source"
    cols = ", ".join(month_sums.SUM_COLUMNS)
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT {group}, {cols} FROM {month_sums.by_grid(table)} ORDER BY {group}")).all()
        summed = conn.execute(text(
            f"SELECT {group}, {', '.join(f'SUM({c})' for c in month_sums.SUM_COLUMNS)} FROM {table} "
            f"GROUP BY {group} ORDER BY {group}")).all()
    return [tuple(r) for r in stored], [tuple(r) for r in summed]


def test_a_grid_or_the_city_is_read_from_the_sums_rolled_up_by_grid(engine, monkeypatch):
    figures.counts(engine, _months())
    stored, summed = _rolled_up_again(engine, "problem_month_sums", "k")
    with engine.connect() as conn:
        fine = conn.execute(text("SELECT COUNT(*) FROM problem_month_sums")).scalar()
    assert stored == summed and len(stored) < fine
    with engine.begin() as conn:  # the rolled-up rows are what the city, a grid, a district, a source read …
        conn.execute(text(f"UPDATE {month_sums.by_grid('problem_month_sums')} SET reported = reported + 100 "
                          "WHERE k = '2026-10'"))
    rollup_rows = len([r for r in stored if r[0] == "2026-10"])
    for kw in ({"by": "city"}, {"by": "grid"}, {"by": "district"}, {"by": "city", "source": "暗访"},
               {"by": "city", "subdistrict": "古楼街道"}):
        got = figures.counts(engine, periods.month_rows(OCT, OCT, END_NOV), **kw)["reported"].sum()
        live = _live(engine, monkeypatch, periods.month_rows(OCT, OCT, END_NOV), **kw)["reported"].sum()
        assert got > live, kw
    assert figures.counts(engine, periods.month_rows(OCT, OCT, END_NOV))["reported"].sum() == 3 + 100 * rollup_rows
    for kw in ({"by": "unit"}, {"by": "city", "category": "占道经营"}):  # … a unit and a category the fine rows
        got = figures.counts(engine, periods.month_rows(OCT, OCT, END_NOV), **kw).reset_index(drop=True)
        live = _live(engine, monkeypatch, periods.month_rows(OCT, OCT, END_NOV), **kw).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, live, check_exact=False, check_dtype=False)


def test_a_month_summed_again_is_rolled_up_again(engine):
    assert _october(engine) == [3, 3, 3, 2, 1]
    with engine.begin() as conn:  # N02 gets a deadline in December: 按期 now
        conn.execute(text("UPDATE problems SET deadline = :d WHERE code = 'N02'"), {"d": datetime(2026, 12, 20)})
    assert _october(engine) == [3, 3, 3, 3, 0]
    stored, summed = _rolled_up_again(engine, "problem_month_sums", "k")
    assert stored == summed and {r[0] for r in stored} == {"2026-10"}


def test_migration_0023_rolls_up_what_is_stored_and_goes_down(database_url, monkeypatch):
    engine = get_engine(database_url)
    numbers_city.load(engine)
    figures.counts(engine, _months())
    migrate.downgrade(engine, "0022")
    assert "problem_month_grid_sums" not in set(inspect(engine).get_table_names())
    assert _stored(engine) == ["2026-10", "2026-11"]  # the fine sums stay, and serve every figure at 0022
    migrate.upgrade(engine)
    stored, summed = _rolled_up_again(engine, "problem_month_sums", "k")
    assert stored == summed and {r[0] for r in stored} == {"2026-10", "2026-11"}
    for by in ("city", "grid", "district"):
        got = figures.counts(engine, _months(), by).reset_index(drop=True)
        live = _live(engine, monkeypatch, _months(), by).reset_index(drop=True)
        pd.testing.assert_frame_equal(got, live, check_exact=False, check_dtype=False)


def test_the_days_sums_are_rolled_up_by_grid_with_them(engine, monkeypatch):
    mid = periods.month_rows(NOV, NOV, datetime(2026, 11, 18, 10))
    grid = figures.counts(engine, mid, "grid").reset_index(drop=True)
    stored, summed = _rolled_up_again(engine, "problem_day_sums", "k, day")
    assert stored == summed and {(r[0], str(r[1])[:10]) for r in stored} == {("2026-11", "2026-11-18")}
    with monkeypatch.context() as m:
        m.setattr("gis.metrics.day_sums.ready", lambda *_a, **_k: {})
        live = _live(engine, m, mid, "grid").reset_index(drop=True)
    pd.testing.assert_frame_equal(grid, live, check_exact=False, check_dtype=False)
