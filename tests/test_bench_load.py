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


def test_summary_of_several_server_processes():
    """Through a cluster (--cluster-dir / --base-url, --pids): memory summed, CPU per process."""
    from argparse import Namespace

    from bench.load import summary

    args = Namespace(walls=2, managers=0, import_rows=0, seconds=60, app_dir="http://127.0.0.1:8080 (already served)",
                     database="postgresql+psycopg://postgres@127.0.0.1:5432/gridmap", refresh=60)
    res = Results(first_loads=[3.0, 4.0], rss=[(2.0, 600.0), (4.0, 700.0)], cpu_seconds={101: 12.4, 102: 9.6})
    text = summary(args, res, ((1.0, 1.0, 1.0), (2.0, 2.0, 2.0)))
    assert "server RSS MB (sum of 2 processes): start 600, max 700, end 700" in text
    assert "server CPU seconds during the run: pid 101 12 s, pid 102 10 s" in text
