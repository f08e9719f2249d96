"""desk: a pledge line keeps make and model apart (donation_item.make, .model)

"iPad 9th gen" was split at its first space into make "iPad" and model "9th gen". Lines
pledged before keep what was typed whole, as the model.

Revision ID: desk_0001
Revises: lend_0001
Create Date: 2026-12-01 21:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "desk_0001"
down_revision = "lend_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("donation_item") as batch:
        batch.add_column(sa.Column("make", sa.String(length=100), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("model", sa.String(length=100), nullable=False, server_default="")
        )
    op.execute("UPDATE donation_item SET model = substr(make_model, 1, 100)")
    with op.batch_alter_table("donation_item") as batch:
        batch.drop_column("make_model")


def downgrade():
    with op.batch_alter_table("donation_item") as batch:
        batch.add_column(
            sa.Column("make_model", sa.String(length=200), nullable=False, server_default="")
        )
    op.execute(
        "UPDATE donation_item SET make_model = trim(make || ' ' || model)"
    )
    with op.batch_alter_table("donation_item") as batch:
        batch.drop_column("make")
        batch.drop_column("model")
