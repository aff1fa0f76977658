"""Deadlines in working time (gis/problems/worktime.py), worked out by hand on the 2026 calendar.

Working hours 08:30–12:00 and 13:30–17:30 (7.5 h a day). 1–7 October 2026: National Day holiday;
Saturday 10 October: a 调休 working day. 2027 is not in chinese-calendar 1.11.0.
"""

from __future__ import annotations

from datetime import datetime as d

import pandas as pd
import pytest
from sqlalchemy import func, select

from gis.db import migrate
from gis.db.engine import get_engine
from gis.db.models import Problem
from gis.people.permissions import Actor
from gis.problems import workflow, worktime
from tests import numbers_city
from tests.conftest import new_database_url


def test_work_hours_skip_the_holiday_and_count_the_tiaoxiu_saturday():
    # Wed 30 Sep 16:00: 1.5 h that day, 1–7 Oct off, 2.5 h on Thu 8 Oct → 11:00
    assert worktime.deadline(d(2026, 9, 30, 16), 4, "工作时") == d(2026, 10, 8, 11)
    # Fri 9 Oct 16:30: 1 h, then Saturday 10 Oct is worked (调休): 3 h → 11:30
    assert worktime.deadline(d(2026, 10, 9, 16, 30), 4, "工作时") == d(2026, 10, 10, 11, 30)
    # Fri 27 Nov 17:00: 0.5 h, weekend off, Mon 08:30 + 3.5 h = 12:00 (the end of the period, not 13:30)
    assert worktime.deadline(d(2026, 11, 27, 17), 4, "工作时") == d(2026, 11, 30, 12)
    # Sat 28 Nov 09:00 (an ordinary weekend): the clock starts Mon 08:30 → 3.5 h + 0.5 h = 14:00
    assert worktime.deadline(d(2026, 11, 28, 9), 4, "工作时") == d(2026, 11, 30, 14)


def test_working_days_and_natural_hours():
    # 20 工作日 after Wed 30 Sep: 8, 9, 10 (调休) Oct, then 12–16, 19–23, 26–30 Oct, 2, 3 Nov → 3 Nov 17:30
    assert worktime.deadline(d(2026, 9, 30, 16), 20, "工作日") == d(2026, 11, 3, 17, 30)
    # the numbers city: N03 (Tue 20 Oct) and N04 (Mon 12 Oct)
    assert worktime.deadline(d(2026, 10, 20, 9), 20, "工作日") == d(2026, 11, 17, 17, 30)
    assert worktime.deadline(d(2026, 10, 12, 9), 20, "工作日") == d(2026, 11, 9, 17, 30)
    # a report on a holiday: 1 工作日 is the first working day after it
    assert worktime.deadline(d(2026, 10, 3, 10), 1, "工作日") == d(2026, 10, 8, 17, 30)
    assert worktime.deadline(d(2026, 10, 3, 10), 24, "自然时") == d(2026, 10, 4, 10)


def test_vectorised_deadlines_match_one_by_one():
    rows = numbers_city.problems()
    rows = rows[rows["category"] != "占道经营"]
    cats = numbers_city.categories().set_index("name")
    got = worktime.deadlines(rows["reported_at"], rows["category"].map(cats["time_limit"]),
                             rows["category"].map(cats["time_unit"]))
    one = [worktime.deadline(r.reported_at.to_pydatetime(), cats.at[r.category, "time_limit"],
                             cats.at[r.category, "time_unit"]) for r in rows.itertuples()]
    assert list(got) == one
    # and they are the deadlines written into the numbers city (N04 kept its first one)
    written = rows["original_deadline"].fillna(rows["deadline"])
    assert list(got) == list(pd.to_datetime(written))


def test_work_hours_setting(monkeypatch):
    monkeypatch.setenv("GRIDMAP_WORK_HOURS", "09:00-17:00")
    # Fri 9 Oct 16:30: 0.5 h, Sat 10 Oct (调休) 09:00 + 3.5 h
    assert worktime.deadline(d(2026, 10, 9, 16, 30), 4, "工作时") == d(2026, 10, 10, 12, 30)
    for bad in ("8:30-12:00;13:30-17:30", "13:30-17:30,08:30-12:00", "08:30-25:00"):
        monkeypatch.setenv("GRIDMAP_WORK_HOURS", bad)
        with pytest.raises(worktime.WorkHoursError, match="GRIDMAP_WORK_HOURS"):
            worktime.deadline(d(2026, 10, 9, 16, 30), 4, "工作时")


def test_a_year_the_calendar_does_not_cover_is_refused_not_guessed():
    with pytest.raises(worktime.CalendarNotCovered, match="2027 年的法定节假日和调休安排尚未收录"):
        worktime.deadline(d(2026, 12, 10, 9), 20, "工作日")  # runs into January 2027
    with pytest.raises(worktime.CalendarNotCovered, match="2027 年"):
        worktime.deadline(d(2027, 1, 5, 9), 4, "工作时")
    assert worktime.deadline(d(2027, 1, 5, 9), 4, "自然时") == d(2027, 1, 5, 13)  # natural time needs no calendar
    with pytest.raises(ValueError, match="时限单位"):
        worktime.deadline(d(2026, 10, 9), 4, "小时")


@pytest.fixture
def numbers_rw(backend_name, tmp_path_factory):
    url = new_database_url(backend_name, tmp_path_factory, "worktime")
    engine = get_engine(url)
    migrate.upgrade(engine)
    numbers_city.load(engine)
    yield engine
    engine.dispose()  # the next test recreates this database: no pooled connection may hold it


def test_a_new_problem_gets_its_deadline_in_working_time(numbers_rw):
    chief = Actor("chief1", "网格长", "T-01")
    made = workflow.create_problem(numbers_rw, chief, "暴露垃圾", "垃圾桶满溢", *numbers_city.T01,
                                   now=d(2026, 10, 9, 16, 30))
    assert made["deadline"] == d(2026, 10, 10, 11, 30)
    with numbers_rw.connect() as conn:
        before = conn.execute(select(func.count()).select_from(Problem)).scalar()
    with pytest.raises(workflow.WorkflowError, match="2027 年的法定节假日和调休安排尚未收录"):
        workflow.create_problem(numbers_rw, chief, "私搭乱建", "违建", *numbers_city.T01, now=d(2026, 12, 10, 9))
    with numbers_rw.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Problem)).scalar() == before


def test_an_imported_problem_without_a_deadline_gets_it_in_working_time(numbers_rw, tmp_path):
    from gis.io import importer

    csv = tmp_path / "热线.csv"
    csv.write_text("问题编号,问题类型,问题描述,上报时间,经度,纬度,来源\n"
                   f"IM01,暴露垃圾,垃圾满溢,2026-10-09 16:30,{numbers_city.T01[0]},{numbers_city.T01[1]},暗访\n"
                   f"IM02,私搭乱建,违建,2026-12-10 09:00,{numbers_city.T01[0]},{numbers_city.T01[1]},暗访\n",
                   encoding="utf-8")
    bad = importer.import_file(numbers_rw, Actor.system(), "problems", csv)
    assert not bad.ok and not bad.written
    assert bad.errors.astype(str).apply(lambda c: c.str.contains("2027 年的法定节假日和调休安排尚未收录")).any().any()
    csv.write_text(csv.read_text(encoding="utf-8").splitlines()[0] + "\n" + csv.read_text(encoding="utf-8").splitlines()[1]
                   + "\n", encoding="utf-8")
    importer.import_file(numbers_rw, Actor.system(), "problems", csv)
    with numbers_rw.connect() as conn:
        got = conn.execute(select(Problem.deadline).where(Problem.code == "IM01")).scalar_one()
    assert got == d(2026, 10, 10, 11, 30)  # 4 工作时 over the 调休 Saturday
