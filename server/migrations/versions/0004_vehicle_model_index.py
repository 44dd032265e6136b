"""Index cars by brand and model: every arrival counts the cars of its model (the kiosk's claim
statistics), a table scan on a dealer group's 300,000 cars (`dealergate bench server`).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_vehicle_brand_model", "vehicle", ["brand", "model"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_vehicle_brand_model", table_name="vehicle")
