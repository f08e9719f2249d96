"""speed: a resident's progress reads its checkpoints from one index

``ix_report_checkpoint_progress`` (organisation, resident, task, recorded on, id, level)
served the reports' skill gains; a resident's progress page reads the same rows and also
their session, so it went to the table for each of them (5,000 for a long history). The
index now ends with ``session_id`` too: both read it alone, in the same order as before.

Revision ID: speed_0004
Revises: speed_0003
Create Date: 2026-12-02 03:05:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "speed_0004"
down_revision = "speed_0003"
branch_labels = None
depends_on = None

NAME, TABLE = "ix_report_checkpoint_progress", "skill_checkpoint"
BEFORE = ["organisation_id", "resident_id", "task_id", "recorded_on", "id", "level"]


def upgrade():
    op.drop_index(NAME, table_name=TABLE)
    op.create_index(NAME, TABLE, [*BEFORE, "session_id"])


def downgrade():
    op.drop_index(NAME, table_name=TABLE)
    op.create_index(NAME, TABLE, BEFORE)
