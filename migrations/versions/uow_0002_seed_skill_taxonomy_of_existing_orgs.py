"""uow: seed the skill taxonomy of organisations created before it was seeded at creation

Revision ID: uow_0002
Revises: uow_0001
Create Date: 2026-12-01 18:40:00

Until now the framework's tasks were seeded on the first page load that needed them;
now an organisation gets them when it is created. Organisations that exist already get
the tasks they lack here (by key; a task whose name an organisation already uses is
left out), each with its audit event naming the system actor ``migration``. The task
list is frozen here as it was when this revision was written.
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'uow_0002'
down_revision = 'uow_0001'
branch_labels = None
depends_on = None

SEED_TASKS = [
    ("unlock", "foundation", "Switch on and unlock a device"),
    ("wifi", "foundation", "Connect to Wi-Fi"),
    ("apps", "foundation", "Open, close and update an app"),
    ("settings", "foundation", "Make text bigger and change the volume"),
    ("passwords", "foundation", "Keep passwords safe and change a password"),
    ("message_photo", "communicating", "Send a message with a photo"),
    ("video_call", "communicating", "Make a video call"),
    ("email", "communicating", "Read and send an email"),
    ("group_chat", "communicating", "Join a group chat with family or friends"),
    ("search", "information", "Search and judge a result"),
    ("bookmark", "information", "Save a web page or bookmark"),
    ("photos", "information", "Take, find and delete photos"),
    ("cloud", "information", "Back up photos and files"),
    ("gp", "transacting", "Book a GP appointment or order a repeat prescription online"),
    ("nhs_app", "transacting", "Use the NHS App"),
    ("pay_bill", "transacting", "Pay a bill online"),
    ("online_form", "transacting", "Fill in an online form"),
    ("shop", "transacting", "Buy something online safely"),
    ("find_help", "problem_solving", "Find help online to solve a problem"),
    ("bus_times", "problem_solving", "Check bus times or plan a journey"),
    ("troubleshoot", "problem_solving", "Fix a simple problem (restart, no sound, no internet)"),
    ("appointment_reminder", "problem_solving", "Set a reminder or alarm"),
    ("scam", "safety", "Spot a scam message"),
    ("privacy", "safety", "Check privacy settings"),
    ("updates", "safety", "Keep the device updated and locked"),
    ("report", "safety", "Block and report a contact"),
]

skill_task = sa.table(
    'skill_task',
    sa.column('id', sa.Integer),
    sa.column('organisation_id', sa.Integer),
    sa.column('area', sa.String),
    sa.column('key', sa.String),
    sa.column('name', sa.String),
    sa.column('position', sa.Integer),
    sa.column('created_at', sa.DateTime),
)
audit_event = sa.table(
    'audit_event',
    sa.column('at', sa.DateTime),
    sa.column('system_actor', sa.String),
    sa.column('organisation_id', sa.Integer),
    sa.column('action', sa.String),
    sa.column('entity_type', sa.String),
    sa.column('entity_id', sa.Integer),
    sa.column('changed', sa.JSON),
)


def upgrade():
    bind = op.get_bind()
    at = datetime.now(timezone.utc).replace(tzinfo=None)
    org_ids = bind.execute(sa.text('SELECT id FROM organisation ORDER BY id')).scalars().all()
    for org_id in org_ids:
        rows = bind.execute(
            sa.select(skill_task.c.key, skill_task.c.name).where(
                skill_task.c.organisation_id == org_id
            )
        ).all()
        keys = {key for key, _ in rows}
        names = {name for _, name in rows}
        for position, (key, area, name) in enumerate(SEED_TASKS):
            if key in keys or name in names:
                continue
            task_id = bind.execute(
                skill_task.insert()
                .values(
                    organisation_id=org_id,
                    area=area,
                    key=key,
                    name=name,
                    position=position,
                    created_at=at,
                )
                .returning(skill_task.c.id)
            ).scalar_one()
            bind.execute(
                audit_event.insert().values(
                    at=at,
                    system_actor='migration',
                    organisation_id=org_id,
                    action='skill_task.seeded',
                    entity_type='SkillTask',
                    entity_id=task_id,
                    changed=['area', 'name'],
                )
            )


def downgrade():
    # Seeded tasks may have checkpoints by now and audit events are append-only:
    # the tasks stay (the previous code would have seeded them on first use anyway).
    pass
