"""Initial schema: the tables `create_all` made before migrations existed.

A database created that way is stamped at this revision by `server.migrate` and upgraded from here.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auditlog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("who", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auditlog_customer_id", "auditlog", ["customer_id"], unique=False)
    op.create_index("ix_auditlog_who", "auditlog", ["who"], unique=False)

    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("city", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("consent_greeting", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_customer_phone", "customer", ["phone"], unique=False)

    op.create_table(
        "staffuser",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staffuser_username", "staffuser", ["username"], unique=True)

    op.create_table(
        "vehicle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=9), nullable=False),
        sa.Column("plate_type", sa.String(length=20), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("brand", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=48), nullable=False),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("price_class", sa.String(length=16), nullable=False),
        sa.Column("purchase_date", sa.Date(), nullable=True),
        sa.Column("mileage_km", sa.Integer(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_vehicle_customer_id", "vehicle", ["customer_id"], unique=False)
    op.create_index("ix_vehicle_plate", "vehicle", ["plate"], unique=True)

    op.create_table(
        "arrival",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("site", sa.String(length=63), nullable=False),
        sa.Column("camera", sa.String(length=63), nullable=False),
        sa.Column("plate", sa.String(length=9), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("plate_color", sa.String(length=16), nullable=False),
        sa.Column("plate_type", sa.String(length=20), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("match", sa.String(length=8), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.Column("crop_jpeg_b64", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_arrival_captured_at", "arrival", ["captured_at"], unique=False)
    op.create_index("ix_arrival_event_id", "arrival", ["event_id"], unique=True)
    op.create_index("ix_arrival_plate", "arrival", ["plate"], unique=False)

    op.create_table(
        "claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_claim_vehicle_id", "claim", ["vehicle_id"], unique=False)

    op.create_table(
        "policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_no", sa.String(length=32), nullable=False),
        sa.Column("insurer", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("premium", sa.Float(), nullable=False),
        sa.Column("ncd_factor", sa.Float(), nullable=False),
        sa.Column("coverages", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_no"),
    )
    op.create_index("ix_policy_end_date", "policy", ["end_date"], unique=False)
    op.create_index("ix_policy_vehicle_id", "policy", ["vehicle_id"], unique=False)

    op.create_table(
        "servicevisit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("mileage", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["vehicle_id"],
            ["vehicle.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_servicevisit_vehicle_id", "servicevisit", ["vehicle_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_servicevisit_vehicle_id", table_name="servicevisit")

    op.drop_table("servicevisit")
    op.drop_index("ix_policy_vehicle_id", table_name="policy")
    op.drop_index("ix_policy_end_date", table_name="policy")

    op.drop_table("policy")
    op.drop_index("ix_claim_vehicle_id", table_name="claim")

    op.drop_table("claim")
    op.drop_index("ix_arrival_plate", table_name="arrival")
    op.drop_index("ix_arrival_event_id", table_name="arrival")
    op.drop_index("ix_arrival_captured_at", table_name="arrival")

    op.drop_table("arrival")
    op.drop_index("ix_vehicle_plate", table_name="vehicle")
    op.drop_index("ix_vehicle_customer_id", table_name="vehicle")

    op.drop_table("vehicle")
    op.drop_index("ix_staffuser_username", table_name="staffuser")

    op.drop_table("staffuser")
    op.drop_index("ix_customer_phone", table_name="customer")

    op.drop_table("customer")
    op.drop_index("ix_auditlog_who", table_name="auditlog")
    op.drop_index("ix_auditlog_customer_id", table_name="auditlog")

    op.drop_table("auditlog")
