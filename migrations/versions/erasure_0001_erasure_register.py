"""erasure register: which residents were erased and when, so a restore erases them again

Revision ID: erasure_0001
Revises: uow_0002
Create Date: 2026-12-01 18:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "erasure_0001"
down_revision = "uow_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "erasure_register",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_erasure_register_organisation_id_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_register")),
        sa.UniqueConstraint(
            "organisation_id", "reference", name="uq_erasure_register_org_reference"
        ),
    )
    with op.batch_alter_table("erasure_register", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_erasure_register_organisation_id"), ["organisation_id"], unique=False
        )
    # Residents anonymised before the register existed are erasures too.
    op.execute(
        "INSERT INTO erasure_register (organisation_id, reference, erased_at) "
        "SELECT organisation_id, reference, anonymised_at FROM resident "
        "WHERE anonymised_at IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("erasure_register", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_erasure_register_organisation_id"))
    op.drop_table("erasure_register")
