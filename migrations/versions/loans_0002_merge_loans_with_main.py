"""merge loans with main

Revision ID: loans_0002
Revises: devices_0002, loans_0001
Create Date: 2026-11-23 10:26:53.492304

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'loans_0002'
down_revision = ('devices_0002', 'loans_0001')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
