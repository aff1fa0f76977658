"""Token districts (issue 17): a ``district_code`` on the wall-screen tokens (kiosk_tokens) and the Open311 API
keys (api_keys). A district's 管理员 creates, lists and revokes only their district's; a token of a district opens
that district's wall only, a key of a district reports problems inside it only (`gis.people.kiosk`,
`gis.people.apikeys`). Existing rows stay NULL: city-level, as they were (every district).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TABLES = ("kiosk_tokens", "api_keys")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("district_code", sa.String(length=12), nullable=True))
        op.create_index(f"ix_{table}_district_code", table, ["district_code"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_district_code", table_name=table)
        op.drop_column(table, "district_code")
