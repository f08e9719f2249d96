"""lend: loan_signature, the resident's signature drawn on screen for a loan agreement

Revision ID: lend_0001
Revises: visits_0001
Create Date: 2026-12-01 21:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "lend_0001"
down_revision = "visits_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "loan_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "png IS NULL OR length(png) BETWEEN 1 AND 200000",
            name=op.f("ck_loan_signature_png_size"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loan.id"],
            name=op.f("fk_loan_signature_loan_id_loan"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_loan_signature_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_signature")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_loan_signature_loan_id")),
    )
    with op.batch_alter_table("loan_signature", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_loan_signature_organisation_id"), ["organisation_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("loan_signature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_loan_signature_organisation_id"))
    op.drop_table("loan_signature")
