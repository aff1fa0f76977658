"""网格台账's counts (`gis.problems.ledger.ledger_counts`) agree with the ledger's own rows for every status
filter — including the page's default (the open statuses), which is counted with one statement."""

from __future__ import annotations

from datetime import datetime

import pytest

from gis.db.models import OPEN_STATUSES, STATUS_CLOSED
from gis.problems import ledger

LATE = datetime(2026, 11, 20, 10, 0)  # small city: WT04 past its deadline (11-20 00:00), still open


def _from_rows(rows) -> dict[str, int]:
    is_open = rows["status"].isin(OPEN_STATUSES)
    return {"total": len(rows), "open": int(is_open.sum()), "overdue": int((is_open & rows["overdue"]).sum())}


@pytest.mark.parametrize("status", [None, list(OPEN_STATUSES), [OPEN_STATUSES[0]], [STATUS_CLOSED],
                                    [STATUS_CLOSED, OPEN_STATUSES[-1]]],
                         ids=["all", "open", "one-open", "closed", "closed+one-open"])
def test_counts_match_the_ledger_rows(city_engine, status):
    for grid in ("T-01", "T-02"):
        rows = ledger.ledger(city_engine, grid, status=status, now=LATE)
        assert ledger.ledger_counts(city_engine, grid, LATE, status=status) == _from_rows(rows), (grid, status)


def test_the_small_city_has_what_the_counts_are_checked_on(city_engine):
    rows = ledger.ledger(city_engine, "T-01", now=LATE)
    counts = _from_rows(rows)
    assert counts["total"] > counts["open"] > 0 and counts["overdue"] > 0, counts
