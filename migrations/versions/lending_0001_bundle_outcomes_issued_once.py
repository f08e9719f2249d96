"""lending: what became of a loan's data bundle, a lost/cancelled bundle status, and the
database refusing to issue an issued bundle a second time

Revision ID: lending_0001
Revises: public_0001
Create Date: 2026-12-01 18:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "lending_0001"
down_revision = "public_0001"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('in_stock', 'issued', 'expired')"
NEW_STATUSES = "status IN ('in_stock', 'issued', 'expired', 'cancelled')"
BUNDLE_OUTCOME = (
    "bundle_outcome IS NULL OR (ended_at IS NOT NULL "
    "AND bundle_outcome IN ('kept', 'returned_unused', 'cancelled'))"
)
MESSAGE = "data bundle is already issued: it cannot be issued again before it comes back"


def _issued_once_up():
    """An issued bundle keeps its resident and its loan until it leaves *issued*: a second
    desk issuing it from a stale page is refused by the database, whatever the code does.
    (Correcting the issue date stays possible; a deleted loan may still set loan_id null.)"""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION data_bundle_issued_once() RETURNS trigger AS $$ BEGIN "
            "IF OLD.status = 'issued' AND NEW.status = 'issued' AND "
            "(NEW.resident_id IS DISTINCT FROM OLD.resident_id "
            "OR (NEW.loan_id IS NOT NULL AND NEW.loan_id IS DISTINCT FROM OLD.loan_id)) THEN "
            f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; "
            "END IF; RETURN NEW; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER data_bundle_issued_once BEFORE UPDATE ON data_bundle "
            "FOR EACH ROW EXECUTE FUNCTION data_bundle_issued_once()"
        )
    else:
        op.execute(
            "CREATE TRIGGER data_bundle_issued_once BEFORE UPDATE ON data_bundle "
            "WHEN OLD.status = 'issued' AND NEW.status = 'issued' AND "
            "(NEW.resident_id IS NOT OLD.resident_id "
            "OR (NEW.loan_id IS NOT NULL AND NEW.loan_id IS NOT OLD.loan_id)) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )


def _issued_once_down():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS data_bundle_issued_once ON data_bundle")
        op.execute("DROP FUNCTION IF EXISTS data_bundle_issued_once()")
    else:
        op.execute("DROP TRIGGER IF EXISTS data_bundle_issued_once")


def upgrade():
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bundle_outcome", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(op.f("ck_loan_bundle_outcome_known"), BUNDLE_OUTCOME)
    # Loans that ended before the question was asked left their data with the resident
    # (the rule then): record that decision, so no ended loan has an undecided bundle.
    op.execute(
        "UPDATE loan SET bundle_outcome = 'kept' WHERE ended_at IS NOT NULL AND EXISTS "
        "(SELECT 1 FROM data_bundle WHERE data_bundle.loan_id = loan.id "
        "AND data_bundle.status = 'issued')"
    )
    with op.batch_alter_table("data_bundle", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_data_bundle_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_data_bundle_status_known"), NEW_STATUSES)
    # After the batch: rebuilding a table on SQLite drops its triggers.
    _issued_once_up()


def downgrade():
    _issued_once_down()
    op.execute("UPDATE data_bundle SET status = 'expired' WHERE status = 'cancelled'")
    with op.batch_alter_table("data_bundle", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_data_bundle_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_data_bundle_status_known"), OLD_STATUSES)
    with op.batch_alter_table("loan", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_loan_bundle_outcome_known"), type_="check")
        batch_op.drop_column("bundle_outcome")
