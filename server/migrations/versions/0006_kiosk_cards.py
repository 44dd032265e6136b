"""Kiosk content cards (issue 6): text managers write for the waiting-area screen, with an optional
schedule and target (brand, plate type), in the attract loop and/or on the arrival screen.
Authored text only: no customer data.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosk_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title_zh", sa.String(length=40), nullable=False),
        sa.Column("title_en", sa.String(length=80), nullable=False),
        sa.Column("body_zh", sa.String(length=300), nullable=False),
        sa.Column("body_en", sa.String(length=600), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=True),
        sa.Column("plate_type", sa.String(length=20), nullable=True),
        sa.Column("in_loop", sa.Boolean(), nullable=False),
        sa.Column("on_arrival", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("kiosk_card") as batch_op:
        batch_op.create_index(batch_op.f("ix_kiosk_card_position"), ["position"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("kiosk_card") as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_card_position"))
    op.drop_table("kiosk_card")
