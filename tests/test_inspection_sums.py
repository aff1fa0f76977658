"""测评月度汇总 (issue 17, migration 0024): a whole month's inspection sums are read from the database, equal to
the inspections summed live, and any write they depend on — an inspection, a standard's points, a dated version
of them, a grid's code — makes the month be summed again.

By hand (tests/numbers_city.py, November 2026): T-02 has one point, 许营村 DW-0004, checked 3, 7, 11 and 15 Nov
against 1.1.1, 1.2.1, 1.1.1, 1.2.1 (2 points each; only 7 Nov passed) and on 3 Nov also against 1.2.1 for 1 of
its 2 points: 4 visits (point-days), 2 + 1 = 3 of 10 points earned."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text

from gis.db import migrate
from gis.db.engine import get_engine
from gis.metrics import inspection_sums, scores
from tests import numbers_city
from tests.conftest import new_database_url

NOV = date(2026, 11, 1)
END_NOV = datetime(2026, 12, 1)
COLUMNS = ["inspections", "ok_points", "all_points"]


@pytest.fixture(scope="module")
def database_url(backend_name, tmp_path_factory) -> str:
    url = new_database_url(backend_name, tmp_path_factory, "inspection_sums")
    migrate.upgrade(get_engine(url))
    return url


@pytest.fixture
def engine(database_url):
    engine = get_engine(database_url)
    numbers_city.load(engine)
    return engine


def _t02(engine, as_of=END_NOV) -> list[float]:
    row = scores.score_inputs(engine, NOV, as_of).set_index("code").loc["T-02"]
    return [float(row[c]) for c in COLUMNS]


def _live(engine, monkeypatch) -> pd.DataFrame:
    with monkeypatch.context() as m:
        m.setattr(inspection_sums, "ready", lambda *_a, **_k: set())
        return scores.score_inputs(engine, NOV, END_NOV)


def _computed(engine) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text("SELECT k, district_code FROM inspection_months")))


def _stored_t02(engine) -> list[float]:
    with engine.connect() as conn:
        row = conn.execute(text(f"SELECT SUM(visits), SUM(ok_points), SUM(all_points) FROM {inspection_sums.TABLE} "
                                "WHERE k = '2026-11' AND code = 'T-02'")).one()
    return [float(v) for v in row]


def _write(engine, sql: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def test_a_whole_month_is_read_from_its_stored_sums_with_the_figures_of_the_inspections(engine, monkeypatch):
    assert _computed(engine) == []
    assert _t02(engine) == [4, 3.0, 10.0]
    assert ("2026-11", "371502") in _computed(engine) and _stored_t02(engine) == [4, 3.0, 10.0]
    pd.testing.assert_frame_equal(scores.score_inputs(engine, NOV, END_NOV), _live(engine, monkeypatch))
    scores.monthly_scores(engine, NOV, END_NOV, category="暴露垃圾")  # one category's standards: summed live
    with engine.begin() as conn:  # the stored row is what is read
        conn.execute(text(f"UPDATE {inspection_sums.TABLE} SET visits = 40 WHERE code = 'T-02'"))
    assert _t02(engine) == [40, 3.0, 10.0]


def test_a_month_in_progress_is_summed_live(engine):
    assert _t02(engine, datetime(2026, 11, 10)) == [2, 3.0, 6.0]  # 3 and 7 Nov: 2 visits, 2 + 1 of 6 points
    assert _computed(engine) == []


def test_any_write_to_an_inspection_of_a_stored_month_is_counted_at_the_next_read(engine, monkeypatch):
    assert _t02(engine) == [4, 3.0, 10.0]
    _write(engine, "UPDATE inspections SET passed = :f, score = 0 WHERE inspected_on = :d AND point_id = "
           "(SELECT id FROM points WHERE code = 'DW-0004')", f=False, d=date(2026, 11, 7))
    assert _t02(engine) == [4, 1.0, 10.0]  # 7 Nov failed now
    _write(engine, "INSERT INTO inspections (point_id, standard_code, inspected_on, passed, score, inspector, grid_id, "
           "district_code) SELECT point_id, standard_code, :d, :t, 2.0, inspector, grid_id, district_code "
           "FROM inspections WHERE inspected_on = :on AND standard_code = '1.1.1' AND point_id = "
           "(SELECT id FROM points WHERE code = 'DW-0004')", d=date(2026, 11, 20), t=True, on=date(2026, 11, 3))
    assert _t02(engine) == [5, 3.0, 12.0]  # a fifth visit, passed
    _write(engine, "DELETE FROM inspections WHERE score = 1.0")  # the partial credit of 3 Nov
    assert _t02(engine) == [5, 2.0, 10.0]  # 3 Nov is still a visit (1.1.1)
    pd.testing.assert_frame_equal(scores.score_inputs(engine, NOV, END_NOV), _live(engine, monkeypatch))


def test_a_change_of_points_or_of_a_grids_code_is_counted_at_the_next_read(engine, monkeypatch):
    assert _t02(engine) == [4, 3.0, 10.0]
    _write(engine, "UPDATE standards SET points = 4 WHERE code = '1.1.1'")  # 3 and 11 Nov, both failed
    assert _t02(engine) == [4, 3.0, 14.0]
    # 1.2.1 worth 5 from 5 Nov (规则按日期生效): 7 Nov (passed, scored 2) and 15 Nov; 3 Nov keeps 2 points
    _write(engine, "INSERT INTO standard_versions (code, valid_from, valid_to, points, negative) "
           "VALUES ('1.2.1', :d, NULL, 5.0, :f)", d=date(2026, 11, 5), f=False)
    assert _t02(engine) == [4, 3.0, 20.0]
    pd.testing.assert_frame_equal(scores.score_inputs(engine, NOV, END_NOV), _live(engine, monkeypatch))
    _write(engine, "UPDATE grids SET code = 'T-22' WHERE code = 'T-02'")
    inputs = scores.score_inputs(engine, NOV, END_NOV).set_index("code")
    assert "T-02" not in inputs.index and inputs.loc["T-22", COLUMNS].tolist() == [4, 3.0, 20.0]
    pd.testing.assert_frame_equal(scores.score_inputs(engine, NOV, END_NOV), _live(engine, monkeypatch))


def test_a_read_that_cannot_write_sums_the_inspections_live(engine, database_url, backend_name):
    if backend_name == "postgis":  # a read replica answers reads only: a read-only session stands in for it
        reader = create_engine(database_url, connect_args={"options": "-c default_transaction_read_only=on"})
        assert _t02(reader) == [4, 3.0, 10.0]
        reader.dispose()
    else:  # another writer holds the SQLite file: the read does not wait for it
        with engine.begin() as writer:
            writer.execute(text("UPDATE inspections SET inspector = inspector WHERE id = 1"))
            started = datetime.now()
            assert _t02(engine) == [4, 3.0, 10.0]
            assert (datetime.now() - started).total_seconds() < 30
    assert _computed(engine) == []


def test_migration_0024_goes_down_and_up_with_its_triggers(database_url):
    engine = get_engine(database_url)
    numbers_city.load(engine)
    migrate.downgrade(engine, "0023")
    assert not {"inspection_month_sums", "inspection_months", "inspection_month_changes"} & set(
        inspect(engine).get_table_names())
    migrate.upgrade(engine)
    _write(engine, "UPDATE inspections SET inspector = inspector WHERE inspected_on = :d", d=date(2026, 11, 15))
    with engine.connect() as conn:
        assert sorted(set(conn.execute(text("SELECT k FROM inspection_month_changes")).scalars())) == ["2026-11"]
    assert _t02(engine) == [4, 3.0, 10.0]
