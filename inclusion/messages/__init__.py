"""Messages: the one outbox through which every text, e-mail and letter goes.

Features contribute what they send through the registry: ``add_message_purpose`` (the
kinds of message and their texts) and ``add_reminder_source`` (what ``flask inclusion
queue-reminders`` runs each day). The core names no feature.
"""

from __future__ import annotations


def init_app(app) -> None:
    """Register the blueprint, navigation, commands, the resident section and the
    personal data the outbox holds."""
    from inclusion.registry import registry

    from . import models  # noqa: F401
    from .cli import queue_reminders_command, send_messages_command
    from .views import bp, contact_preference_of, messages_of_resident

    app.register_blueprint(bp)
    reg = registry(app)
    reg.add_navigation("messages.manage", "messages.index", "Messages", group="reports")
    reg.add_navigation("message_texts.manage", "messages.texts", "Message texts", admin=True)
    reg.add_resident_section("messages/_resident_section.html")
    reg.add_template_helper("contact_preference_of", contact_preference_of)
    reg.add_template_helper("messages_of_resident", messages_of_resident)
    reg.add_command(send_messages_command)
    reg.add_command(queue_reminders_command)
    _declare_personal_data(app)


def anonymise_message(message) -> list[str]:
    """An erased person's messages keep their purpose, channel, status and dates (the
    counts), and lose who and where they went to."""
    message.recipient_name, message.address, message.subject = "", "", ""
    message.secret = None
    return ["recipient_name", "address", "subject", "secret"]


def anonymise_preference(pref) -> list[str]:
    pref.postal_address = ""
    return ["postal_address"]


def _declare_personal_data(app) -> None:
    from inclusion.personal_data import declare, name_of

    from .models import ContactPreference, Message, MessageText

    declare(
        app,
        Message,
        resident_column="resident_id",
        free_text=("body",),
        not_free_text=("address", "recipient_name", "subject", "failure_reason"),
        export="messages",
        export_extra=lambda m: {"resolved_by": name_of(m.resolved_by), "secret": None},
        order_by=("created_at", "id"),
        anonymise=anonymise_message,
    )
    declare(
        app,
        ContactPreference,
        resident_column="resident_id",
        not_free_text=("postal_address",),
        export="contact_preferences",
        export_extra=lambda p: {"updated_by": name_of(p.updated_by)},
        anonymise=anonymise_preference,
    )
    declare(app, MessageText, free_text=("body",), not_free_text=("subject",))
