"""Text length limits, defined once: what any entry — import, the closed loop, planning — accepts.

Short fields take their limit from the model (``String(n)`` in `gis.db.models`); the free-text
fields of problems (``Text`` columns) have `PROBLEM_TEXT`. Every entry checks with `too_long`
(or the vectorised check in `gis.io.validate`) and says which field, how long, and the limit.
"""

from __future__ import annotations

from sqlalchemy import Column, String

from gis.db.models import Grid, Person, Problem, ProblemEvent, Unit

PROBLEM_TEXT = 2000  # 问题描述, and every note of the closed loop (派遣说明、整改说明、退回理由 …)
TEXT_COLUMNS = {Problem.__table__.c.description: PROBLEM_TEXT, ProblemEvent.__table__.c.note: PROBLEM_TEXT}
GRID_CODE = Grid.__table__.c.code.type.length
GRID_NAME = Grid.__table__.c.name.type.length
GRID_SUBDISTRICT = Grid.__table__.c.subdistrict.type.length
# import fields that are not a column of the table they are imported into
REFERENCE_COLUMNS = {"unit_code": Unit.__table__.c.code, "unit_name": Unit.__table__.c.name,
                     "person_code": Person.__table__.c.code, "person_name": Person.__table__.c.name,
                     "target_code": Grid.__table__.c.code}


def max_chars(column: Column) -> int | None:
    """The most characters `column` takes: its String length, the text limit, or None (not text)."""
    if column in TEXT_COLUMNS:
        return TEXT_COLUMNS[column]
    if isinstance(column.type, String) and column.type.length:
        return int(column.type.length)
    return None


def too_long(value: str | None, limit: int, label: str) -> str | None:
    """The Chinese message when `value` is longer than `limit`, else None."""
    if value is not None and len(value) > limit:
        return f"{label}过长（{len(value):,} 字），最多 {limit:,} 字。"
    return None
