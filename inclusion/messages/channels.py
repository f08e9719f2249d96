"""The channels a message leaves by: SMS through GOV.UK Notify (its official client),
e-mail over SMTP, and the development outbox when neither is configured.

A channel's ``send(message)`` returns a :class:`Delivery`, or raises
:class:`TemporaryFailure` (worth another attempt: a timeout, a 5xx, a refused
connection) or :class:`PermanentFailure` (the provider said no: a number that is not a
mobile, an address the server refuses). ``TemporaryFailure(uncertain=True)`` means the
provider may have taken it (the answer never came): before sending again the worker
asks ``find_sent(message)``, so nothing goes out twice. Letters have no channel: they
are printed (``inclusion.messages.letters``).

Nothing here logs a number, an address or a text: only message ids.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, make_msgid

from flask import current_app
from markupsafe import Markup

from .models import DEVELOPMENT, EMAIL, SMS

#: Notify's statuses after which nothing changes any more.
FINAL_SMS_STATUSES = frozenset(
    {"delivered", "permanent-failure", "temporary-failure", "technical-failure", "sent"}
)


@dataclass(frozen=True)
class Delivery:
    provider: str
    provider_id: str = ""
    provider_status: str = ""


class TemporaryFailure(Exception):
    def __init__(self, reason: str, *, uncertain: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.uncertain = uncertain


class PermanentFailure(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def reference_of(message) -> str:
    """What the provider keeps with the message to find it again (no personal data)."""
    return f"inclusion-message-{message.id}"


# ---- development --------------------------------------------------------------------


class DevelopmentOutbox:
    """Keeps the message, marked "not sent: development" (as Django's console backend
    prints instead of sending): for ``make run`` and tests without a provider."""

    name = DEVELOPMENT

    def send(self, message) -> Delivery:
        return Delivery(DEVELOPMENT, f"dev-{message.id}", "not sent: development")

    def find_sent(self, message) -> Delivery | None:
        return None


# ---- SMS through GOV.UK Notify -------------------------------------------------------


class NotifySms:
    """GOV.UK Notify with one SMS template whose whole content is ``((message))``: the
    text is rendered here (the organisation edits it in inclusion) and sent as that
    placeholder, to the number in E.164."""

    name = "notify"

    def __init__(self, config):
        from notifications_python_client.notifications import NotificationsAPIClient

        self.template_id = config["NOTIFY_SMS_TEMPLATE_ID"]
        self.client = NotificationsAPIClient(
            config["NOTIFY_API_KEY"],
            base_url=config["NOTIFY_BASE_URL"],
            timeout=config["MESSAGE_TIMEOUT"],
        )

    def send(self, message) -> Delivery:
        try:
            answer = self.client.send_sms_notification(
                phone_number=message.address,
                template_id=self.template_id,
                personalisation={"message": message.body},
                reference=reference_of(message),
            )
        except Exception as err:  # noqa: BLE001 - the client raises HTTPError and requests' errors
            raise _notify_failure(err) from None
        return Delivery(self.name, str(answer.get("id", "")), "created")

    def find_sent(self, message) -> Delivery | None:
        """The notification Notify holds under this message's reference, if any."""
        try:
            answer = self.client.get_all_notifications(reference=reference_of(message))
        except Exception as err:  # noqa: BLE001
            raise _notify_failure(err, uncertain=True) from None
        found = answer.get("notifications") or []
        if not found:
            return None
        return Delivery(self.name, str(found[0].get("id", "")), found[0].get("status", ""))

    def status_of(self, notification_id: str) -> str:
        """What Notify says became of the notification ``notification_id``."""
        answer = self.client.get_notification_by_id(notification_id)
        return str(answer.get("status", ""))


def _notify_failure(err, *, uncertain: bool = False):
    from notifications_python_client.errors import HTTPError

    if isinstance(err, HTTPError) and err.response is not None:
        code = err.status_code
        if code == 429 or code >= 500:
            return TemporaryFailure(f"GOV.UK Notify answered {code}")
        return PermanentFailure(f"GOV.UK Notify refused it ({code}): {_notify_reason(err)}")
    cause = err.__cause__ or err.__context__ or err
    # No answer at all: the request may or may not have reached Notify.
    return TemporaryFailure(
        f"GOV.UK Notify did not answer ({type(cause).__name__})", uncertain=True
    )


def _notify_reason(err) -> str:
    message = err.message
    if isinstance(message, list):
        message = "; ".join(str(e.get("message", e)) for e in message if isinstance(e, dict))
    # Notify's reasons name the field, never echo a number back, but keep it short anyway.
    return re.sub(r"\+?\d[\d ]{6,}", "[number]", str(message))[:200]


# ---- e-mail over SMTP ----------------------------------------------------------------


class SmtpEmail:
    """SMTP with STARTTLS and credentials, one connection per message; multipart plain
    text and HTML, the organisation as the sender's name."""

    name = "smtp"

    def __init__(self, config):
        self.config = config

    def build(self, message) -> EmailMessage:
        sender = self.config["SMTP_FROM"] or self.config["SMTP_USERNAME"] or "inclusion@localhost"
        email = EmailMessage()
        email["Subject"] = message.subject
        email["From"] = formataddr((message.organisation_name, sender))
        email["To"] = formataddr((message.recipient_name, message.address))
        if message.organisation_email:
            email["Reply-To"] = formataddr((message.organisation_name, message.organisation_email))
        email["Message-ID"] = make_msgid(f"message-{message.id}")
        email.set_content(message.body)
        email.add_alternative(email_html(message), subtype="html")
        return email

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        server = smtplib.SMTP(
            config["SMTP_HOST"], config["SMTP_PORT"], timeout=config["MESSAGE_TIMEOUT"]
        )
        server.ehlo()
        if config["SMTP_STARTTLS"]:
            context = ssl.create_default_context(cafile=config["SMTP_CA_FILE"] or None)
            server.starttls(context=context)
            server.ehlo()
        if config["SMTP_USERNAME"]:
            server.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        return server

    def send(self, message) -> Delivery:
        email = self.build(message)
        try:
            server = self._connect()
        except smtplib.SMTPAuthenticationError as err:
            raise TemporaryFailure(
                f"The mail server refused the sign-in ({err.smtp_code})"
            ) from None
        except (OSError, smtplib.SMTPException) as err:
            raise TemporaryFailure(
                f"Could not reach the mail server ({type(err).__name__})"
            ) from None
        try:
            sender = email["From"].addresses[0].addr_spec
            code, _ = server.mail(sender)
            if code != 250:
                raise _smtp_refusal(code, "sender")
            code, _ = server.rcpt(message.address)
            if code not in (250, 251):
                raise _smtp_refusal(code, "recipient")
        except (OSError, smtplib.SMTPServerDisconnected) as err:
            # Nothing was handed over yet: safe to try again.
            raise TemporaryFailure(
                f"The mail server stopped answering ({type(err).__name__})"
            ) from None
        try:
            code, answer = server.data(email.as_bytes(policy=SMTP_POLICY))
            if code != 250:
                raise smtplib.SMTPDataError(code, answer)
        except smtplib.SMTPDataError as err:
            raise _smtp_refusal(err.smtp_code, "message") from None
        except (OSError, smtplib.SMTPException) as err:
            # The text was sent but the answer never came: it may have arrived.
            raise TemporaryFailure(
                f"The mail server did not confirm it ({type(err).__name__})", uncertain=True
            ) from None
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
        return Delivery(self.name, email["Message-ID"].strip("<>")[:64], "accepted")

    def find_sent(self, message) -> Delivery | None:
        # SMTP keeps no record we could ask: the message may or may not have arrived.
        raise PermanentFailure(
            "The mail server never confirmed an earlier attempt, so it may have arrived: "
            "check with them rather than sending it twice."
        )


def _smtp_refusal(code: int, what: str):
    if 400 <= code < 500:
        return TemporaryFailure(f"The mail server asked to try later ({code})")
    return PermanentFailure(f"The mail server refused the {what} ({code})")


_LINK = re.compile(r"(https?://[^\s<>\"]+)")


def email_html(message) -> str:
    """The HTML part: the plain text's paragraphs, its links made links."""
    paragraphs = []
    for part in re.split(r"\n\s*\n", message.body.strip()):
        escaped = html.escape(part)
        linked = _LINK.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', escaped)
        paragraphs.append(Markup(linked.replace("\n", "<br>\n")))
    # Straight from the environment: the worker has no request, so no page context.
    from ..i18n import DEFAULT, LANGUAGES, language_for_preference

    language = LANGUAGES[language_for_preference(getattr(message, "language", "")) or DEFAULT]
    template = current_app.jinja_env.get_template("messages/email.html")
    return template.render(message=message, paragraphs=paragraphs, language=language)


# ---- which channel ------------------------------------------------------------------


def sms_configured(config=None) -> bool:
    config = config or current_app.config
    return bool(config["NOTIFY_API_KEY"] and config["NOTIFY_SMS_TEMPLATE_ID"])


def email_configured(config=None) -> bool:
    config = config or current_app.config
    return bool(config["SMTP_HOST"])


def channel_available(channel: str, config=None) -> bool:
    """Can a message on ``channel`` go out here (or to the development outbox)?"""
    config = config or current_app.config
    if channel == SMS:
        return sms_configured(config) or config["MESSAGES_DEVELOPMENT_OUTBOX"]
    if channel == EMAIL:
        return email_configured(config) or config["MESSAGES_DEVELOPMENT_OUTBOX"]
    return True  # letters are printed


def sender_for(channel: str, config=None):
    """The channel object for ``channel``, or ``None`` when it is off."""
    config = config or current_app.config
    if channel == SMS and sms_configured(config):
        return NotifySms(config)
    if channel == EMAIL and email_configured(config):
        return SmtpEmail(config)
    if channel in (SMS, EMAIL) and config["MESSAGES_DEVELOPMENT_OUTBOX"]:
        return DevelopmentOutbox()
    return None
