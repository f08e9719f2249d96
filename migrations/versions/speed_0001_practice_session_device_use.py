"""speed: sessions held on a device found by (device_id, organisation_id, minutes)

The donor impact figures count the sessions held on a donation's devices and add up their
minutes. With only single-column indexes SQLite (which keeps no planner statistics unless
ANALYZE runs) chose the organisation_id index - every session of the organisation - for
each donation: 49 s for one donor at a tenth of the benchmark size. One index on device_id,
organisation_id and minutes answers the count and the sum from the index alone and replaces
the plain device_id index (its prefix).

Revision ID: speed_0001
Revises: languages_0001
Create Date: 2026-12-01 19:50:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "speed_0001"
down_revision = "languages_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("practice_session") as batch:
        batch.create_index(
            "ix_practice_session_device_use", ["device_id", "organisation_id", "minutes"]
        )
        batch.drop_index("ix_practice_session_device_id")


def downgrade():
    with op.batch_alter_table("practice_session") as batch:
        batch.create_index("ix_practice_session_device_id", ["device_id"])
        batch.drop_index("ix_practice_session_device_use")
