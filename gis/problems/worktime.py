"""Deadlines in working time (整改时限): 工作时, 工作日 and 自然时, on China's official calendar.

- 自然时: the report time plus the hours, day and night.
- 工作时: hours counted only inside the working hours (``GRIDMAP_WORK_HOURS``, default
  08:30–12:00 and 13:30–17:30) of working days. A report outside them starts the clock at the next
  working period; 4 工作时 from Friday 16:30 end on the next working day at 11:30.
- 工作日: whole working days after the day of the report (the day itself is not counted); the
  deadline is the end of the working hours of the last one (1 工作日 from Monday 10:00 → Tuesday
  17:30). A fractional number of days counts as that many working days' worth of 工作时.

Working days are Monday–Friday except the official holidays (法定节假日), plus the 调休 weekend
days that are worked, from the ``chinese-calendar`` package (maintained, one release per year
when the State Council publishes the next year's arrangement). A deadline that would need a
year the package does not cover is refused with `CalendarNotCovered` — never guessed.

Vectorised: `deadlines` computes many deadlines at once on a timeline of working periods
(cumulative working seconds, numpy searchsorted), for imports.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta

import chinese_calendar
import numpy as np
import pandas as pd

from gis.config import setting

WORK_HOURS, WORK_DAYS, NATURAL_HOURS = "工作时", "工作日", "自然时"
UNITS = (WORK_HOURS, WORK_DAYS, NATURAL_HOURS)
DEFAULT_WORK_HOURS = "08:30-12:00,13:30-17:30"
COVERED_YEARS = frozenset(d.year for d in chinese_calendar.holidays)


class CalendarNotCovered(ValueError):
    """A deadline needs a year whose holidays and 调休 days the calendar does not have (Chinese message)."""


class WorkHoursError(ValueError):
    """GRIDMAP_WORK_HOURS is not a valid list of periods (Chinese message)."""


def work_hours(text: str | None = None) -> tuple[tuple[time, time], ...]:
    """The daily working periods from `text` (default: GRIDMAP_WORK_HOURS), e.g.
    ``08:30-12:00,13:30-17:30``: increasing, non-overlapping, within one day."""
    raw = setting("GRIDMAP_WORK_HOURS", DEFAULT_WORK_HOURS) if text is None else text
    periods, last = [], time(0)
    for part in str(raw).split(","):
        m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*", part)
        if not m:
            raise WorkHoursError(f"GRIDMAP_WORK_HOURS 的时段“{part.strip()}”格式不对，应为 08:30-12:00,13:30-17:30。")
        h1, m1, h2, m2 = map(int, m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise WorkHoursError(f"GRIDMAP_WORK_HOURS 的时段“{part.strip()}”不是有效的时刻。")
        a, b = time(h1, m1), time(h2, m2)
        if not (last <= a < b):
            raise WorkHoursError(f"GRIDMAP_WORK_HOURS 的时段“{part.strip()}”须晚于前一时段且结束晚于开始。")
        periods.append((a, b))
        last = b
    return tuple(periods)


def is_workday(day: date) -> bool:
    """A working day on China's official calendar (调休 weekend days included)."""
    if day.year not in COVERED_YEARS:
        raise CalendarNotCovered(_not_covered(day.year))
    return bool(chinese_calendar.is_workday(day))


def _not_covered(year: int) -> str:
    return (f"{year} 年的法定节假日和调休安排尚未收录（chinese-calendar {chinese_calendar.__version__} 收录 "
            f"{min(COVERED_YEARS)}–{max(COVERED_YEARS)} 年），无法按工作时/工作日计算整改时限。"
            "请在国务院办公厅公布安排、chinese-calendar 发布新版本后升级，或暂将该问题类型的时限改为自然时。")


class _Timeline:
    """Working periods of the covered days in [first, last], as seconds since the epoch."""

    def __init__(self, first: date, last: date, periods):
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        days = [d for d in days if d.year in COVERED_YEARS and chinese_calendar.is_workday(d)]
        self.end_day = last
        starts, ends = [], []
        for d in days:
            for a, b in periods:
                starts.append(datetime.combine(d, a))
                ends.append(datetime.combine(d, b))
        self.days = np.array(days, dtype="datetime64[D]")
        self.day_end = np.array([datetime.combine(d, periods[-1][1]) for d in days], dtype="datetime64[s]")
        self.starts = np.array(starts, dtype="datetime64[s]").astype(np.int64)
        self.ends = np.array(ends, dtype="datetime64[s]").astype(np.int64)
        length = self.ends - self.starts
        self.cum_start = np.concatenate([[0], np.cumsum(length)[:-1]]) if len(length) else np.zeros(0, np.int64)
        self.cum_end = self.cum_start + length

    def to_work(self, ts: np.ndarray) -> np.ndarray:
        """Working seconds from the timeline's start to each moment."""
        i = np.searchsorted(self.starts, ts, side="right") - 1
        safe = np.clip(i, 0, None)
        within = np.clip(ts - self.starts[safe], 0, self.ends[safe] - self.starts[safe])
        return np.where(i < 0, 0, self.cum_start[safe] + within)

    def from_work(self, w: np.ndarray) -> np.ndarray:
        """The moment each amount of working seconds is used up (at a period's end, not the next start)."""
        j = np.searchsorted(self.cum_end, w, side="left")
        beyond = j >= len(self.cum_end)
        safe = np.clip(j, 0, max(len(self.cum_end) - 1, 0))
        return np.where(beyond, -1, self.starts[safe] + (w - self.cum_start[safe])), beyond


def deadlines(start, amount, unit, periods=None) -> pd.Series:
    """Vectorised `deadline`: Series (or arrays) of start moments, amounts and units (工作时 / 工作日
    / 自然时). Raises `CalendarNotCovered` when a working-time deadline needs an uncovered year."""
    start = pd.to_datetime(pd.Series(start)).reset_index(drop=True).astype("datetime64[s]")
    n = len(start)
    amount = pd.Series(np.broadcast_to(np.asarray(amount, dtype=np.float64), (n,)) if np.ndim(amount) == 0
                       else np.asarray(amount, dtype=np.float64))
    unit = pd.Series(np.broadcast_to(np.asarray(unit, dtype=object), (n,)) if np.ndim(unit) == 0
                     else np.asarray(unit, dtype=object))
    bad = ~unit.isin(UNITS)
    if bad.any():
        raise ValueError(f"时限单位“{unit[bad].iloc[0]}”无效，应为：{'、'.join(UNITS)}。")
    if (amount < 0).any() or amount.isna().any():
        raise ValueError("整改时限必须是非负数。")
    if start.isna().any():
        raise ValueError("计算整改时限需要上报时间。")
    out = (start + pd.to_timedelta(amount, unit="h")).astype("datetime64[s]")
    work = (unit != NATURAL_HOURS).to_numpy()
    if not work.any():
        return out
    periods = periods or work_hours()
    day_seconds = sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() for a, b in periods)
    as_days = (unit == WORK_DAYS).to_numpy() & (amount % 1 == 0).to_numpy()
    hours = np.where((unit == WORK_DAYS).to_numpy(), amount * day_seconds / 3600.0, amount.to_numpy())
    first_year = int(start[work].dt.year.min())
    if first_year not in COVERED_YEARS or int(start[work].dt.year.max()) not in COVERED_YEARS:
        year = next(y for y in sorted(set(start[work].dt.year)) if y not in COVERED_YEARS)
        raise CalendarNotCovered(_not_covered(int(year)))
    span = int(math.ceil(float(np.max(np.where(work, hours, 0))) * 3600 / max(day_seconds, 1) * 2)) + 40
    first = start[work].min().date()
    last = min(start[work].max().date() + timedelta(days=span), date(max(COVERED_YEARS), 12, 31))
    tl = _Timeline(first, last, periods)
    ts = start.to_numpy().astype(np.int64)
    result = out.to_numpy().astype(np.int64)
    # 工作时 (and fractional 工作日): along the timeline of working seconds
    wh = work & ~as_days
    if wh.any():
        moments, beyond = tl.from_work(tl.to_work(ts[wh]) + np.rint(hours[wh] * 3600).astype(np.int64))
        if beyond.any():
            raise CalendarNotCovered(_not_covered(max(COVERED_YEARS) + 1))
        result[wh] = moments
    # 工作日: the end of the N-th working day after the report day
    if as_days.any():
        day = start.dt.normalize().to_numpy().astype("datetime64[D]")[as_days]
        k = np.searchsorted(tl.days, day, side="right") - 1 + amount.to_numpy()[as_days].astype(np.int64)
        if (k >= len(tl.days)).any():
            raise CalendarNotCovered(_not_covered(max(COVERED_YEARS) + 1))
        k = np.maximum(k, 0)
        result[as_days] = tl.day_end[k].astype(np.int64)
    return pd.Series(result.astype("datetime64[s]"), name="deadline")


def deadline(start: datetime, amount: float, unit: str, periods=None) -> datetime:
    """The deadline of a problem reported (or 立案) at `start` with a limit of `amount` `unit`s."""
    if not isinstance(start, datetime):
        raise TypeError("start 必须是 datetime（上报时间）。")
    return deadlines([start], [amount], [unit], periods).iloc[0].to_pydatetime()
