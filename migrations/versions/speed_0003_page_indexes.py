"""speed: indexes the main pages read through (organisation first, then filter and order)

Every scoped query says ``organisation_id = ?``; without statistics (SQLite without
ANALYZE) the planner then often picks the single-column organisation index and reads the
whole organisation. Each of these leads with organisation_id and goes on with what a page
filters and orders by, so that one index finds a page's rows in order: the dashboard's
counts, the loans, call list and waiting list, a resident's and a device's histories,
loans and bundles, a buddy's residents, and a donor's impact figures.

Revision ID: speed_0003
Revises: desk_0001
Create Date: 2026-12-01 21:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "speed_0003"
down_revision = "desk_0001"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_resident_org_status", "resident", ["organisation_id", "status"]),
    (
        "ix_resident_org_search",
        "resident",
        ["organisation_id", "referral_date", "id", "first_name", "last_name", "reference", "postcode"],
    ),
    (
        "ix_resident_status_change_org_resident",
        "resident_status_change",
        ["organisation_id", "resident_id", "at", "id"],
    ),
    ("ix_device_org_created", "device", ["organisation_id", "created_at", "id"]),
    ("ix_device_org_donation", "device", ["organisation_id", "donation_id", "status"]),
    (
        "ix_device_status_change_org_device",
        "device_status_change",
        ["organisation_id", "device_id", "at", "id"],
    ),
    ("ix_wipe_org_device", "wipe", ["organisation_id", "device_id", "wiped_at", "id"]),
    ("ix_donation_org_donor", "donation", ["organisation_id", "donor_id"]),
    (
        "ix_data_bundle_org_resident",
        "data_bundle",
        ["organisation_id", "resident_id", "issued_at", "id"],
    ),
    ("ix_data_bundle_org_loan", "data_bundle", ["organisation_id", "loan_id", "issued_at"]),
    (
        "ix_data_bundle_org_status",
        "data_bundle",
        ["organisation_id", "status", "expires_on", "id"],
    ),
    ("ix_loan_org_device", "loan", ["organisation_id", "device_id", "lent_at", "id"]),
    ("ix_loan_org_resident", "loan", ["organisation_id", "resident_id", "lent_at", "id"]),
    (
        "ix_reminder_call_org_resident",
        "reminder_call",
        ["organisation_id", "resident_id", "called_at"],
    ),
    (
        "ix_waiting_list_org_queue",
        "waiting_list_entry",
        ["organisation_id", "status", "priority", "joined_on", "id"],
    ),
    ("ix_buddy_match_org_resident", "buddy_match", ["organisation_id", "resident_id", "status"]),
    (
        "ix_practice_session_org_resident",
        "practice_session",
        ["organisation_id", "resident_id", "held_on"],
    ),
]

ALERTS_SQLITE = "safeguarding_concern = 1 AND safeguarding_actioned_at IS NULL"
ALERTS_POSTGRESQL = "safeguarding_concern = true AND safeguarding_actioned_at IS NULL"


def _alerts_index(columns):
    op.create_index(
        "ix_practice_session_open_alerts",
        "practice_session",
        columns,
        sqlite_where=sa.text(ALERTS_SQLITE),
        postgresql_where=sa.text(ALERTS_POSTGRESQL),
    )


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.create_index(
        "ix_loan_org_open_due",
        "loan",
        ["organisation_id", "due_on", "id"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    # The open safeguarding alerts, oldest first, from the index.
    op.drop_index("ix_practice_session_open_alerts", table_name="practice_session")
    _alerts_index(["organisation_id", "recorded_at", "id"])


def downgrade():
    op.drop_index("ix_practice_session_open_alerts", table_name="practice_session")
    _alerts_index(["organisation_id"])
    op.drop_index("ix_loan_org_open_due", table_name="loan")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
