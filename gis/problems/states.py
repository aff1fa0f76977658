"""A problem's states and time rules (问题状态与时限规则) — the one place they are defined.

Everything is computed at a moment t, never stored. ``deadline`` is the deadline in force: an
approved 延期 replaces it (the first one is kept in ``original_deadline``).

- 已立案 registered: any status but 待立案 / 不予立案 (those count in no figure).
- 已结案 closed at t: status 已结案 and verified by t (a closed row without ``verified_at``, as
  imported ledgers have, counts as closed from its report). The closing moment is ``verified_at``.
- 未结案 open at t: registered, reported by t, not closed at t.
- 缓办 deferred at t: 缓办 approved by t (``deferred_at`` ≤ t). Still open, but out of 应结案
  and never 超期.
- 超期 overdue at t: open, not deferred, and past its deadline (deadline < t).
- 按期 on time: closed (rectified and verified) by its deadline: verified ≤ deadline.
- 超期结案 closed late: closed, after its deadline.
- 应结案 due in a period [a, b) at t: registered, not deferred, and its **due moment** — the
  closing moment when it closed before its deadline, else the deadline — lies in [a, b) and has
  passed at t. Each case therefore falls in exactly one period: the one its deadline falls in,
  or the one it was closed early in (CJ/T 292's 应结案数).

Each rule is a Python predicate on a DataFrame of problems (or one row as a dict; columns
status, reported_at, deadline, verified_at, deferred_at) and a SQL expression builder on a table
alias and a SQL moment (`*_sql`), used by gis.metrics, the ledger, the workflow and the exports.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd

from gis.db.models import STATUS_CLOSED, STATUS_PENDING, STATUS_REJECTED

NOT_REGISTERED = (STATUS_PENDING, STATUS_REJECTED)
STATE_COLUMNS = ("status", "reported_at", "deadline", "verified_at", "deferred_at")

# ---------------------------------------------------------------------------------------------
# Python predicates (vectorised over a DataFrame; a dict gives a bool)


def _frame(p) -> tuple[pd.DataFrame, bool]:
    if isinstance(p, pd.DataFrame):
        df = p
        scalar = False
    elif isinstance(p, Mapping):
        df = pd.DataFrame([{c: p.get(c) for c in STATE_COLUMNS}])
        scalar = True
    else:
        raise TypeError("问题状态规则需要一个问题表（DataFrame）或一条问题（dict）。")
    missing = [c for c in ("status", "deadline") if c not in df.columns]
    if missing:
        raise ValueError(f"问题表缺少列：{'、'.join(missing)}")
    return df, scalar


def _ts(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[us]")
    return pd.to_datetime(df[col]).astype("datetime64[us]")


def _out(values, scalar: bool):
    arr = np.asarray(values, dtype=bool)
    return bool(arr[0]) if scalar else arr


def _closed(df: pd.DataFrame, t) -> np.ndarray:
    t = pd.Timestamp(t)
    at = _ts(df, "verified_at").fillna(_ts(df, "reported_at"))
    return ((df["status"] == STATUS_CLOSED) & ~(at > t)).to_numpy()


def _deferred(df: pd.DataFrame, t) -> np.ndarray:
    return (_ts(df, "deferred_at") <= pd.Timestamp(t)).to_numpy()


def _registered(df: pd.DataFrame) -> np.ndarray:
    return (~df["status"].isin(NOT_REGISTERED)).to_numpy()


def is_registered(p):
    df, scalar = _frame(p)
    return _out(_registered(df), scalar)


def is_closed(p, t: datetime):
    """已结案 at t."""
    df, scalar = _frame(p)
    return _out(_closed(df, t), scalar)


def is_open(p, t: datetime):
    """未结案 at t: registered, reported by t, not closed."""
    df, scalar = _frame(p)
    reported = ~(_ts(df, "reported_at") > pd.Timestamp(t)).to_numpy()
    return _out(_registered(df) & reported & ~_closed(df, t), scalar)


def is_deferred(p, t: datetime):
    """缓办 approved by t."""
    df, scalar = _frame(p)
    return _out(_deferred(df, t), scalar)


def is_overdue(p, t: datetime):
    """超期 at t: open, not 缓办, deadline (in force) < t."""
    df, scalar = _frame(p)
    open_ = np.asarray(is_open(df, t))
    past = (_ts(df, "deadline") < pd.Timestamp(t)).to_numpy()
    return _out(open_ & ~_deferred(df, t) & past, scalar)


def is_on_time(p, t: datetime):
    """按期: closed at t, and closed by its deadline."""
    df, scalar = _frame(p)
    at = _ts(df, "verified_at").fillna(_ts(df, "reported_at"))
    return _out(_closed(df, t) & (at <= _ts(df, "deadline")).to_numpy(), scalar)


def is_closed_late(p, t: datetime):
    """超期结案: closed at t, after its deadline."""
    df, scalar = _frame(p)
    at = _ts(df, "verified_at").fillna(_ts(df, "reported_at"))
    return _out(_closed(df, t) & (at > _ts(df, "deadline")).to_numpy(), scalar)


def due_moment(p, t: datetime):
    """When the case falls due for 应结案: the closing moment if closed (by t) before its deadline,
    else the deadline."""
    df, scalar = _frame(p)
    at = _ts(df, "verified_at").fillna(_ts(df, "reported_at"))
    dl = _ts(df, "deadline")
    out = dl.where(~(_closed(df, t) & (at < dl).to_numpy()), at)
    return out.iloc[0] if scalar else out


def is_due_in(p, start: datetime, end: datetime, t: datetime):
    """应结案 in [start, end) at t: registered, not 缓办, its due moment in the period and past at t."""
    df, scalar = _frame(p)
    key = due_moment(df, t)
    inside = ((key >= pd.Timestamp(start)) & (key < pd.Timestamp(end))).to_numpy()
    passed = _closed(df, t) | (_ts(df, "deadline") < pd.Timestamp(t)).to_numpy()
    return _out(_registered(df) & ~_deferred(df, t) & inside & passed, scalar)


# ---------------------------------------------------------------------------------------------
# SQL builders: `a` is the problems table alias, `t` a SQL expression of the moment (a bound
# parameter, a column of a months CTE …). Portable between SQLite and PostgreSQL.

_CLOSED = f"'{STATUS_CLOSED}'"
_NOT_REGISTERED = ", ".join(f"'{s}'" for s in NOT_REGISTERED)


def registered_sql(a: str = "p") -> str:
    return f"({a}.status NOT IN ({_NOT_REGISTERED}))"


def closed_at_sql(a: str = "p") -> str:
    """The closing moment of a closed case."""
    return f"COALESCE({a}.verified_at, {a}.reported_at)"


def closed_sql(a: str = "p", t: str = "m.t") -> str:
    """已结案 at t."""
    return f"({a}.status = {_CLOSED} AND {closed_at_sql(a)} <= {t})"


def open_sql(a: str = "p", t: str = "m.t") -> str:
    """未结案 at t."""
    return f"({registered_sql(a)} AND {a}.reported_at <= {t} AND NOT {closed_sql(a, t)})"


def deferred_sql(a: str = "p", t: str = "m.t") -> str:
    """缓办 approved by t."""
    return f"({a}.deferred_at IS NOT NULL AND {a}.deferred_at <= {t})"


def overdue_sql(a: str = "p", t: str = "m.t") -> str:
    """超期 at t."""
    return f"({open_sql(a, t)} AND {a}.deadline < {t} AND NOT {deferred_sql(a, t)})"


def on_time_sql(a: str = "p", t: str = "m.t") -> str:
    """按期 (closed at t, by its deadline)."""
    return f"({closed_sql(a, t)} AND {closed_at_sql(a)} <= {a}.deadline)"


def closed_late_sql(a: str = "p", t: str = "m.t") -> str:
    """超期结案."""
    return f"({closed_sql(a, t)} AND {closed_at_sql(a)} > {a}.deadline)"


def due_moment_sql(a: str = "p", t: str = "m.t") -> str:
    return (f"(CASE WHEN {closed_sql(a, t)} AND {closed_at_sql(a)} < {a}.deadline "
            f"THEN {closed_at_sql(a)} ELSE {a}.deadline END)")


def due_in_sql(a: str, start: str, end: str, t: str) -> str:
    """应结案 in [start, end) at t. The first term is a prefilter on index ranges (deadline,
    verified_at, or reported_at of a closed row without verified_at) that the exact test implies."""
    key = due_moment_sql(a, t)
    prefilter = (f"(({a}.deadline >= {start} AND {a}.deadline < {end}) OR ({a}.verified_at >= {start} "
                 f"AND {a}.verified_at < {end}) OR ({a}.verified_at IS NULL AND {a}.reported_at >= {start} "
                 f"AND {a}.reported_at < {end}))")
    return (f"({prefilter} AND {registered_sql(a)} AND NOT {deferred_sql(a, t)} AND {key} >= {start} "
            f"AND {key} < {end} AND ({closed_sql(a, t)} OR {a}.deadline < {t}))")


#: 12345 回访 answers that count as satisfied: 满意率 = (满意 + 基本满意) ÷ 回访数.
SATISFIED = ("满意", "基本满意")
