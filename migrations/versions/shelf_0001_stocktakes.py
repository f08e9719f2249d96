"""shelf: stocktakes of a storage location and their per-device lines

Revision ID: shelf_0001
Revises: speed_0002
Create Date: 2026-12-01 21:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "shelf_0001"
down_revision = "speed_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stocktake",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("saved_at", sa.DateTime(), nullable=True),
        sa.Column("saved_by_id", sa.Integer(), nullable=True),
        sa.Column("moved_misplaced", sa.Boolean(), nullable=False),
        sa.Column("found_count", sa.Integer(), nullable=False),
        sa.Column("missing_count", sa.Integer(), nullable=False),
        sa.Column("misplaced_count", sa.Integer(), nullable=False),
        sa.Column("unknown_count", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'saved', 'cancelled')", name=op.f("ck_stocktake_status_known")
        ),
        sa.CheckConstraint("location <> ''", name=op.f("ck_stocktake_location_given")),
        sa.CheckConstraint(
            "status <> 'saved' OR saved_at IS NOT NULL", name=op.f("ck_stocktake_saved_has_time")
        ),
        sa.CheckConstraint(
            "found_count >= 0 AND missing_count >= 0 AND misplaced_count >= 0 "
            "AND unknown_count >= 0",
            name=op.f("ck_stocktake_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_stocktake_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["user.id"],
            name=op.f("fk_stocktake_started_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["saved_by_id"],
            ["user.id"],
            name=op.f("fk_stocktake_saved_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stocktake")),
    )
    with op.batch_alter_table("stocktake", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stocktake_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stocktake_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_stocktake_open_location",
            ["organisation_id", "location"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "stocktake_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stocktake_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("recorded_location", sa.String(length=100), nullable=False),
        sa.Column("recorded_status", sa.String(length=14), nullable=False),
        sa.Column("scanned_at", sa.DateTime(), nullable=False),
        sa.Column("moved", sa.Boolean(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('found', 'misplaced', 'missing', 'unknown')",
            name=op.f("ck_stocktake_line_outcome_known"),
        ),
        sa.CheckConstraint(
            "(outcome = 'unknown') = (device_id IS NULL)",
            name=op.f("ck_stocktake_line_unknown_has_no_device"),
        ),
        sa.CheckConstraint("code <> ''", name=op.f("ck_stocktake_line_code_given")),
        sa.CheckConstraint(
            "NOT moved OR outcome = 'misplaced'", name=op.f("ck_stocktake_line_only_misplaced_moved")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
            name=op.f("fk_stocktake_line_device_id_device"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_stocktake_line_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["stocktake_id"],
            ["stocktake.id"],
            name=op.f("fk_stocktake_line_stocktake_id_stocktake"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stocktake_line")),
        sa.UniqueConstraint("stocktake_id", "code", name="uq_stocktake_line_code"),
    )
    with op.batch_alter_table("stocktake_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stocktake_line_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stocktake_line_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_stocktake_line_stocktake_id"), ["stocktake_id"], unique=False
        )
        batch_op.create_index(
            "uq_stocktake_line_device",
            ["stocktake_id", "device_id"],
            unique=True,
            sqlite_where=sa.text("device_id IS NOT NULL"),
            postgresql_where=sa.text("device_id IS NOT NULL"),
        )


def downgrade():
    op.drop_table("stocktake_line")
    op.drop_table("stocktake")
