"""What accounts say by e-mail: the invitation and the password reset link (one place
per purpose, so the languages work can translate them)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _

from ..messages.texts import Purpose, Text

INVITATION = Purpose(
    key="account.invitation",
    label="Invitation to an account",
    audience="user",
    placeholders={
        "name": ("Their name", "Bartholomew Featherstonehaugh-Smith"),
        "link": ("The one-time link to set a password", "https://inclusion.example.org/x"),
        "days": ("Days the link works", "7"),
    },
    required=("link",),
    texts={
        "email": Text(
            subject=_("Your account with ((organisation))"),
            body=_(
                "Hello ((name)),\n\n"
                "((organisation)) has made you an account on inclusion. To start, choose a "
                "password with this link (it works once, for ((days)) days):\n\n"
                "((link))\n\n"
                "If you did not expect this, you can ignore this e-mail or call us on "
                "((organisation_phone))."
            ),
        )
    },
)

PASSWORD_RESET = Purpose(
    key="account.password_reset",
    label="Password reset link",
    audience="user",
    placeholders={
        "name": ("Their name", "Bartholomew Featherstonehaugh-Smith"),
        "link": ("The one-time link to choose a new password", "https://inclusion.example.org/x"),
        "minutes": ("Minutes the link works", "60"),
    },
    required=("link",),
    texts={
        "email": Text(
            subject=_("Reset your password"),
            body=_(
                "Hello ((name)),\n\n"
                "Someone asked to reset the password of your inclusion account. If it was "
                "you, choose a new password with this link (it works once, for ((minutes)) "
                "minutes):\n\n"
                "((link))\n\n"
                "If it was not you, ignore this e-mail: your password stays as it is."
            ),
        )
    },
)

PURPOSES = (INVITATION, PASSWORD_RESET)
