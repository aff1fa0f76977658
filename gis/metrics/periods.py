"""Months and evaluation moments: a month is evaluated as of its end, or as of ``as_of`` if earlier.

Every figure takes ``as_of`` (default: now) so that results are reproducible.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from gis import clock




def month_start(d: date | datetime) -> date:
    return date(d.year, d.month, 1)


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    return date(y, m + 1, 1)


def as_of_moment(as_of: datetime | None) -> datetime:
    if as_of is None:
        return clock.now()  # GRIDMAP_NOW when pinned
    if not isinstance(as_of, datetime):  # a date means the end of that day
        return datetime.combine(as_of, datetime.min.time()) + timedelta(days=1)
    return as_of


def month_end_as_of(month: date, as_of: datetime | None = None) -> datetime:
    """The moment `month` is evaluated at: the end of that month, or `as_of` (default now) if earlier."""
    return min(as_of_moment(as_of), datetime.combine(add_months(month_start(month), 1), datetime.min.time()))


def current_month(t: datetime) -> date:
    """The month `t` falls in (midnight on the 1st still belongs to the month before)."""
    return month_start(t - timedelta(microseconds=1))


def month_rows(first: date, last: date, as_of: datetime) -> list[dict]:
    """One row per month from `first` to `last`: key, start, end, evaluation moment t."""
    rows, m = [], month_start(first)
    while m <= last:
        nxt = add_months(m, 1)
        t = min(as_of, datetime.combine(nxt, datetime.min.time()))
        rows.append({"k": m.strftime("%Y-%m"), "m0": datetime.combine(m, datetime.min.time()),
                     "m1": datetime.combine(nxt, datetime.min.time()), "t": t,
                     "d0": m, "d1": nxt, "dt": t.date()})
        m = nxt
    return rows


#: The first days of a month on which the wall shows last month, complete, instead of a month
#: that has barely begun.
FULL_MONTH_DAYS = 3


def wall_month(t: datetime) -> tuple[date, bool]:
    """The month the wall shows at t, and whether it is last month shown complete (on the first
    FULL_MONTH_DAYS days of a month)."""
    this = current_month(t)
    if (t - datetime.combine(this, datetime.min.time())) < timedelta(days=FULL_MONTH_DAYS):
        return add_months(this, -1), True
    return this, False
