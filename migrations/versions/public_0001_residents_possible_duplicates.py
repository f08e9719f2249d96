"""residents: possible duplicates of an open case, and "duplicate" as a closing outcome;
organisations: the postcode districts they serve

Revision ID: public_0001
Revises: erasure_0001
Create Date: 2026-12-01 18:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "public_0001"
down_revision = "erasure_0001"
branch_labels = None
depends_on = None

_OLD_OUTCOMES = (
    "'goals_met', 'partly_met', 'declined', 'no_contact', 'moved_away', 'referred_on', "
    "'died', 'other'"
)
_NEW_OUTCOMES = (
    "'goals_met', 'partly_met', 'declined', 'no_contact', 'moved_away', 'referred_on', "
    "'died', 'duplicate', 'other'"
)


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("areas", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.add_column(sa.Column("possible_duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("duplicate_resolution", sa.String(length=12), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_resident_possible_duplicate_of_id"),
            ["possible_duplicate_of_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_resident_possible_duplicate_of_id_resident"),
            "resident",
            ["possible_duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_resident_duplicate_resolution_known"),
            "duplicate_resolution IS NULL OR duplicate_resolution IN ('kept', 'closed')",
        )
        batch_op.drop_constraint(batch_op.f("ck_resident_outcome_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_resident_outcome_known"),
            f"outcome IS NULL OR outcome IN ({_NEW_OUTCOMES})",
        )


def downgrade():
    op.execute(
        "UPDATE resident SET outcome = 'other' WHERE outcome = 'duplicate'"
    )
    with op.batch_alter_table("resident", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_resident_outcome_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_resident_outcome_known"),
            f"outcome IS NULL OR outcome IN ({_OLD_OUTCOMES})",
        )
        batch_op.drop_constraint(
            batch_op.f("ck_resident_duplicate_resolution_known"), type_="check"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_resident_possible_duplicate_of_id_resident"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_resident_possible_duplicate_of_id"))
        batch_op.drop_column("duplicate_resolution")
        batch_op.drop_column("possible_duplicate_of_id")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("areas")
