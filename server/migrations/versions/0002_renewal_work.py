"""Renewal work: coverages as rows, tasks, contact log, quotes, appointments, consent, plate aliases;
import keys (claim and repair-order numbers), repair-order detail, a fuller audit log.

Policy coverages move from a JSON column into the `coverage` table (data migrated both ways).
Columns added NOT NULL to tables that may hold rows get a server default ('' for text).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_policy = sa.table("policy", sa.column("id", sa.Integer()), sa.column("coverages", sa.JSON()))
_coverage = sa.table(
    "coverage",
    sa.column("policy_id", sa.Integer()),
    sa.column("code", sa.String()),
    sa.column("sum_insured", sa.Float()),
)


def _fk(col: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [target])


def _timestamps(*names: str) -> list[sa.Column]:
    return [sa.Column(n, sa.DateTime(timezone=True), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "coverage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("sum_insured", sa.Float(), nullable=True),
        sa.Column("premium", sa.Float(), nullable=True),
        _fk("policy_id", "policy.id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("policy_id", "code", name="uq_coverage_policy_code"),
    )
    op.create_index("ix_coverage_policy_id", "coverage", ["policy_id"], unique=False)
    conn = op.get_bind()
    rows = []
    for policy_id, covers in conn.execute(sa.select(_policy.c.id, _policy.c.coverages)):
        seen: set[str] = set()
        for c in covers or []:
            if c.get("code") and c["code"] not in seen:
                seen.add(c["code"])
                rows.append({"policy_id": policy_id, "code": c["code"], "sum_insured": c.get("sum_insured")})
    if rows:
        op.bulk_insert(_coverage, rows)
    with op.batch_alter_table("policy") as batch_op:
        batch_op.drop_column("coverages")

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        *_timestamps("created_at"),
        _fk("advisor_id", "staffuser.id"),
        _fk("customer_id", "customer.id"),
        _fk("vehicle_id", "vehicle.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appointment_customer_id", "appointment", ["customer_id"], unique=False)
    op.create_index("ix_appointment_scheduled_at", "appointment", ["scheduled_at"], unique=False)
    op.create_index("ix_appointment_vehicle_id", "appointment", ["vehicle_id"], unique=False)

    op.create_table(
        "renewal_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("arrival_id", sa.Integer(), nullable=True),
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        *_timestamps("created_at", "updated_at"),
        _fk("arrival_id", "arrival.id"),
        _fk("assigned_to", "staffuser.id"),
        _fk("customer_id", "customer.id"),
        _fk("policy_id", "policy.id"),
        _fk("vehicle_id", "vehicle.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("assigned_to", "customer_id", "due_date", "status", "vehicle_id"):
        op.create_index(f"ix_renewal_task_{col}", "renewal_task", [col], unique=False)

    op.create_table(
        "contact_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("lapse_reason", sa.String(length=16), nullable=True),
        sa.Column("competitor_premium", sa.Float(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        *_timestamps("at"),
        _fk("customer_id", "customer.id"),
        _fk("staff_id", "staffuser.id"),
        _fk("task_id", "renewal_task.id"),
        _fk("vehicle_id", "vehicle.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    for col in ("at", "customer_id", "vehicle_id"):
        op.create_index(f"ix_contact_log_{col}", "contact_log", [col], unique=False)

    op.create_table(
        "quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("package", sa.String(length=16), nullable=False),
        sa.Column("coverages", sa.JSON(), nullable=False),
        sa.Column("premium", sa.Float(), nullable=False),
        sa.Column("ncd_factor", sa.Float(), nullable=False),
        sa.Column("deductible", sa.Integer(), nullable=True),
        sa.Column("insurer", sa.String(length=16), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        *_timestamps("created_at"),
        _fk("created_by", "staffuser.id"),
        _fk("customer_id", "customer.id"),
        _fk("vehicle_id", "vehicle.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_quote_vehicle_id", "quote", ["vehicle_id"], unique=False)

    op.create_table(
        "consent_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=24), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded_by", sa.String(length=32), nullable=False),
        *_timestamps("at"),
        _fk("customer_id", "customer.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_flag_customer_id", "consent_flag", ["customer_id"], unique=False)

    op.create_table(
        "plate_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=9), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("arrival_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        *_timestamps("created_at"),
        _fk("arrival_id", "arrival.id"),
        _fk("vehicle_id", "vehicle.id"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_plate_alias_alias", "plate_alias", ["alias"], unique=True)
    op.create_index("ix_plate_alias_vehicle_id", "plate_alias", ["vehicle_id"], unique=False)

    with op.batch_alter_table("auditlog") as batch_op:
        batch_op.add_column(sa.Column("role", sa.String(length=16), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("vehicle_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("detail", sa.String(length=200), nullable=False, server_default=""))
    op.create_index("ix_auditlog_at", "auditlog", ["at"], unique=False)

    with op.batch_alter_table("claim") as batch_op:
        batch_op.add_column(sa.Column("claim_no", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint("uq_claim_claim_no", ["claim_no"])

    with op.batch_alter_table("servicevisit") as batch_op:
        batch_op.add_column(sa.Column("order_no", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("items", sa.String(length=500), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("out_date", sa.Date(), nullable=True))
        batch_op.create_unique_constraint("uq_servicevisit_order_no", ["order_no"])

    op.create_index("ix_vehicle_vin", "vehicle", ["vin"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_vehicle_vin", table_name="vehicle")
    with op.batch_alter_table("servicevisit") as batch_op:
        batch_op.drop_constraint("uq_servicevisit_order_no", type_="unique")
        batch_op.drop_column("out_date")
        batch_op.drop_column("items")
        batch_op.drop_column("order_no")
    with op.batch_alter_table("claim") as batch_op:
        batch_op.drop_constraint("uq_claim_claim_no", type_="unique")
        batch_op.drop_column("claim_no")
    op.drop_index("ix_auditlog_at", table_name="auditlog")
    with op.batch_alter_table("auditlog") as batch_op:
        batch_op.drop_column("detail")
        batch_op.drop_column("vehicle_id")
        batch_op.drop_column("role")
    for table in ("plate_alias", "consent_flag", "quote", "contact_log", "renewal_task", "appointment"):
        op.drop_table(table)  # their indexes go with them

    with op.batch_alter_table("policy") as batch_op:
        batch_op.add_column(sa.Column("coverages", sa.JSON(), nullable=False, server_default="[]"))
    conn = op.get_bind()
    covers: dict[int, list[dict[str, object]]] = {}
    for policy_id, code, sum_insured in conn.execute(
        sa.select(_coverage.c.policy_id, _coverage.c.code, _coverage.c.sum_insured)
    ):
        covers.setdefault(policy_id, []).append({"code": code, "sum_insured": sum_insured})
    for policy_id, items in covers.items():
        conn.execute(sa.update(_policy).where(_policy.c.id == policy_id).values(coverages=items))
    op.drop_table("coverage")
