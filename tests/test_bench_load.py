"""bench/load.py's arithmetic: refresh bursts (starts chained within 2 s) and percentiles."""

from __future__ import annotations

from bench.load import BURST_WINDOW_MS, Results, _bursts, _pct


def test_bursts_group_refreshes_that_start_together():
    synchronised = [(1000.0 + 100 * i, 5000.0) for i in range(20)]  # 20 walls within 2 s
    later = [(70_000.0 + 7000 * i, 900.0) for i in range(3)]  # drifted apart: one each
    assert _bursts(synchronised + later) == [20, 1, 1, 1]
    assert _bursts([(0.0, 1.0), (BURST_WINDOW_MS + 1.0, 1.0)]) == [1, 1]
    assert _bursts([]) == []


def test_percentiles_and_page_times():
    assert _pct([3.0, 1.0, 2.0], 0.5) == 2.0
    assert _pct([float(i) for i in range(1, 101)], 0.95) == 95.0
    res = Results()
    res.page("grid page", 1.5)
    res.page("grid page", 2.5)
    assert res.pages == {"grid page": [1.5, 2.5]}
