"""languages: the languages an organisation offers its residents besides English

Revision ID: languages_0001
Revises: messages_0001
Create Date: 2026-12-01 19:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "languages_0001"
down_revision = "messages_0001"
branch_labels = None
depends_on = None

# Existing organisations offer every shipped language, as new ones do.
ALL_CODES = "cy,pl,ro,pa,bn,ur,ar"


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "languages", sa.String(length=100), server_default=ALL_CODES, nullable=False
            )
        )


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("languages")
