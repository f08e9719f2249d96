"""speed: organisation.data_version, raised by every committed change to its rows

The reports' figures are cached under (organisation, data_version): see
inclusion/dataversion.py.

Revision ID: speed_0002
Revises: speed_0001
Create Date: 2026-12-01 20:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "speed_0002"
down_revision = "speed_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(
            sa.Column("data_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("data_version")
