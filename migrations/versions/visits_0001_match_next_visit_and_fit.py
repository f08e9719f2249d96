"""visits: a match's next planned visit, and how well the pair fits (0–100)

The buddy's home lists their residents by the next planned visit; matching says
"how well they fit: 59 of 100" instead of a bare score.

Revision ID: visits_0001
Revises: shelf_0001
Create Date: 2026-12-01 21:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "visits_0001"
down_revision = "shelf_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("buddy_match") as batch:
        batch.add_column(sa.Column("fit", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_visit_on", sa.Date(), nullable=True))
        batch.create_check_constraint(
            batch.f("ck_buddy_match_fit_range"), "fit IS NULL OR fit BETWEEN 0 AND 100"
        )
        batch.create_check_constraint(
            batch.f("ck_buddy_match_next_visit_only_active"),
            "status = 'active' OR next_visit_on IS NULL",
        )


def downgrade():
    with op.batch_alter_table("buddy_match") as batch:
        batch.drop_constraint(batch.f("ck_buddy_match_next_visit_only_active"), type_="check")
        batch.drop_constraint(batch.f("ck_buddy_match_fit_range"), type_="check")
        batch.drop_column("next_visit_on")
        batch.drop_column("fit")
