"""One clock (gis.clock): GRIDMAP_NOW is read once, validated, and used by every default — the ledger, the
figures (gis.metrics.periods) and the pages — while explicit `now` / `as_of` arguments still win."""

from __future__ import annotations

from datetime import datetime

import pytest

from gis import clock
from gis.metrics import periods
from gis.problems import ledger
from tests.apptools import captured_maps, run_app  # noqa: F401  (fixture)

EARLY = datetime(2026, 11, 19, 12, 0)  # small city: WT04's deadline (11-20 00:00) not passed yet
LATE = datetime(2026, 11, 20, 10, 0)


@pytest.fixture(autouse=True)
def fresh_clock(monkeypatch):
    import streamlit as st

    monkeypatch.delenv("GRIDMAP_NOW", raising=False)
    clock.reset()
    st.cache_data.clear()
    yield
    monkeypatch.delenv("GRIDMAP_NOW", raising=False)
    clock.reset()


def pin(monkeypatch, value: str) -> None:
    monkeypatch.setenv("GRIDMAP_NOW", value)
    clock.reset()


def test_parse_accepts_iso_and_refuses_the_rest():
    assert clock.parse_pinned(None) is None and clock.parse_pinned("  ") is None
    assert clock.parse_pinned("2026-11-20T10:00") == LATE
    assert clock.parse_pinned("2026-11-20 10:00:00.123") == LATE
    with pytest.raises(clock.ClockSettingError, match="GRIDMAP_NOW 的值“yesterday”不是有效的时间"):
        clock.parse_pinned("yesterday")
    with pytest.raises(clock.ClockSettingError, match="带有时区"):
        clock.parse_pinned("2026-11-20T10:00+08:00")


def test_now_is_pinned_read_once_and_real_otherwise(monkeypatch):
    before = datetime.now().replace(microsecond=0)
    assert before <= clock.now() <= datetime.now()
    pin(monkeypatch, "2026-11-20T10:00")
    assert clock.now() == LATE and clock.today() == LATE.date()
    monkeypatch.setenv("GRIDMAP_NOW", "2030-01-01T00:00")  # read once: a change needs a restart (or reset)
    assert clock.now() == LATE
    pin(monkeypatch, "not a time")
    with pytest.raises(clock.ClockSettingError, match="GRIDMAP_NOW"):
        clock.now()


def test_defaults_follow_the_clock_and_explicit_moments_win(city_engine, monkeypatch):
    early = ledger.ledger_counts(city_engine, "T-01", EARLY)
    late = ledger.ledger_counts(city_engine, "T-01", LATE)
    assert early["overdue"] != late["overdue"]  # the pin below is observable
    pin(monkeypatch, EARLY.isoformat())
    assert ledger.ledger_counts(city_engine, "T-01") == early
    assert ledger.ledger_counts(city_engine, "T-01", LATE) == late
    assert set(ledger.ledger(city_engine, "T-01", overdue=True)["code"]) == \
        set(ledger.ledger(city_engine, "T-01", overdue=True, now=EARLY)["code"])
    assert periods.as_of_moment(None) == EARLY
    assert periods.as_of_moment(LATE) == LATE


@pytest.mark.parametrize("moment", [EARLY, LATE])
def test_grid_page_shows_the_pinned_moment(city_url, city_engine, monkeypatch, captured_maps, moment):
    pin(monkeypatch, moment.isoformat())
    at = run_app(city_url, monkeypatch, page="pages/grid.py", query={"grid": "T-01"})
    assert not at.exception
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["已超期"] == f"{ledger.ledger_counts(city_engine, 'T-01', moment)['overdue']:,}"
