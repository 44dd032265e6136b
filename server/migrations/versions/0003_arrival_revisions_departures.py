"""Arrival corrections and departures: the applied revision of the edge event, and when the car
drove out (with the departure event that said so).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("arrival") as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("departed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("departure_event_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("departure_revision", sa.Integer(), nullable=True))
        batch_op.create_index("ix_arrival_departure_event_id", ["departure_event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("arrival") as batch_op:
        batch_op.drop_index("ix_arrival_departure_event_id")
        batch_op.drop_column("departure_revision")
        batch_op.drop_column("departure_event_id")
        batch_op.drop_column("departed_at")
        batch_op.drop_column("revision")
