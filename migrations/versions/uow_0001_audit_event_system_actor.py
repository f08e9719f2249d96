"""uow: audit events name a system actor when no person acted

Revision ID: uow_0001
Revises: sessions_0001
Create Date: 2026-12-01 18:50:00

A plain ADD COLUMN on both databases (no batch rebuild on SQLite), so the
append-only triggers on audit_event stay in place.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'uow_0001'
down_revision = 'sessions_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_event', sa.Column('system_actor', sa.String(length=40), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite >= 3.35 drops a column in place, keeping the table's triggers.
        op.execute('ALTER TABLE audit_event DROP COLUMN system_actor')
    else:
        op.drop_column('audit_event', 'system_actor')
