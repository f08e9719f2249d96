"""sessions: a session generation per user, revoked invitation links

Revision ID: sessions_0001
Revises: reports_0001
Create Date: 2026-12-01 18:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "sessions_0001"
down_revision = "reports_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
    # Links issued before this revision: only the newest unused one of each user stays valid.
    op.execute(
        """
        UPDATE invitation SET revoked_at = CURRENT_TIMESTAMP
        WHERE used_at IS NULL
          AND id < (SELECT MAX(i2.id) FROM invitation i2 WHERE i2.user_id = invitation.user_id)
        """
    )


def downgrade():
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
