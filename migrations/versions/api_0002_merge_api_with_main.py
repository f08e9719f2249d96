"""merge api with main

Revision ID: api_0002
Revises: api_0001, practice_0003
Create Date: 2026-11-23 11:42:03.341809

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'api_0002'
down_revision = ('api_0001', 'practice_0003')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
