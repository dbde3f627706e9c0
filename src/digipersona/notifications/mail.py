"""Email notifications over SMTP (stdlib smtplib): one message per recipient.

Settings: ``DIGIPERSONA_SMTP_HOST``/``_PORT``/``_USERNAME``/``_PASSWORD``(``_FILE``)/``_FROM``,
``_SECURITY`` (none, starttls, ssl) and ``_TIMEOUT_SECONDS``. Without a host, email is off.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from digipersona.config import Settings
from digipersona.notifications.delivery import Event

logger = logging.getLogger("digipersona.notifications")


def compose(settings: Settings, event: Event, recipient: str) -> EmailMessage:
    """The message one member receives for an event."""
    base = settings.public_base_url
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = recipient
    message["Subject"] = f"[digipersona] {event.title}"
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=event.id.hex, domain="digipersona")
    lines = [event.title, ""]
    if event.body:
        lines += [event.body, ""]
    lines += [
        f"Open: {base}{event.path}",
        "",
        "--",
        f'You receive this because of your notification settings in the workspace "'
        f'{event.workspace_name}". Change them at {base}/settings#notifications.',
    ]
    message.set_content("\n".join(lines))
    return message


def _connect(settings: Settings) -> smtplib.SMTP:
    host, port = settings.smtp_host or "", settings.smtp_port
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    client = smtplib.SMTP(host, port, timeout=timeout)
    if settings.smtp_security == "starttls":
        client.starttls(context=ssl.create_default_context())
    return client


def send(settings: Settings, event: Event, recipients: list[str]) -> int:
    """Send the event to each recipient over one SMTP session; returns how many were accepted."""
    if not settings.smtp_host or not recipients:
        return 0
    sent = 0
    with _connect(settings) as client:
        if settings.smtp_username and settings.smtp_password is not None:
            client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        for recipient in recipients:
            try:
                client.send_message(compose(settings, event, recipient))
                sent += 1
            except smtplib.SMTPRecipientsRefused:
                logger.warning("email notification %s: a recipient was refused", event.kind)
    return sent
