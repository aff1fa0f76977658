"""People's names (姓名) where a username is stored: histories, the audit log, a problem's reporter.

Writes keep the username (it is the key: unique, never renamed); readers show the person's display
name in its place. A stored name with no user behind it (``命令行``, ``示范数据``, ``接口``, a citizen
reporting through the API) is shown as it is.
"""

from __future__ import annotations

from sqlalchemy import func, select

from gis.db.models import User


def name_of(username_column):
    """SQL expression: the display name of the user with this username, else the stored text itself."""
    u = User.__table__
    shown = select(func.nullif(u.c.display_name, "")).where(u.c.username == username_column).scalar_subquery()
    return func.coalesce(shown, username_column)
