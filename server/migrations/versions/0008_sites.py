"""Sites: the dealership's stores as a table instead of a bare string. `site` holds one row per store
(code as in the MQTT topics and `settings.site`, names, brands, address, phone, active), seeded with
every site an arrival already names (the advisor tasks' site is their arrival's); customers and
vehicles gain the store that holds their file (所属门店) and staff users the store they work at,
all nullable: rows filed before this revision belong to the server's own store.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILED_AT = ("customer", "vehicle", "staffuser")
"""Tables that gain a `site` column referring to `site.code`."""


def _seed_referenced_sites() -> None:
    """A site row, named by its code until an admin names it, for each site arrivals name."""
    codes = (
        op.get_bind()
        .execute(
            sa.text("SELECT DISTINCT site FROM arrival WHERE site IS NOT NULL AND site <> '' ORDER BY site")
        )
        .scalars()
        .all()
    )
    if not codes:
        return
    site = sa.table(
        "site",
        sa.column("code", sa.String()),
        sa.column("name_zh", sa.String()),
        sa.column("name_en", sa.String()),
        sa.column("brands", sa.JSON()),
        sa.column("address", sa.String()),
        sa.column("phone", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    # SQLite stores naive UTC (server.db.UtcDateTime), PostgreSQL an aware timestamp
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    named_by_code = {
        "brands": [],
        "address": "",
        "phone": "",
        "active": True,
        "created_at": now,
        "updated_at": now,
    }
    op.bulk_insert(site, [{"code": c, "name_zh": c[:64], "name_en": c, **named_by_code} for c in codes])


def upgrade() -> None:
    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=63), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("brands", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_site_code", "site", ["code"], unique=True)
    _seed_referenced_sites()
    for table in _FILED_AT:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("site", sa.String(length=63), nullable=True))
            batch_op.create_foreign_key(f"fk_{table}_site", "site", ["site"], ["code"])


def downgrade() -> None:
    for table in reversed(_FILED_AT):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_site", type_="foreignkey")
            batch_op.drop_column("site")
    op.drop_index("ix_site_code", table_name="site")
    op.drop_table("site")
