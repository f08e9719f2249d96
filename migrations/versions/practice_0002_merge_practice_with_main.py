"""merge practice with main

Revision ID: practice_0002
Revises: loans_0002, practice_0001
Create Date: 2026-11-23 10:33:54.889631

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'practice_0002'
down_revision = ('loans_0002', 'practice_0001')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
