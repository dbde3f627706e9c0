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
from digipersona.notifications.delivery import DeliveryFailed, Event, permanent, transient

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


def deliver(settings: Settings, event: Event, recipients: list[str]) -> None:
    """Send the event to each recipient over one SMTP session.

    Raises ``DeliveryFailed``: transient for network trouble, timeouts and SMTP 4xx answers,
    permanent for SMTP 5xx answers (a refused address among them); ``done`` lists who got it.
    """
    if not settings.smtp_host:
        raise permanent("Email is off on this server (no SMTP host).")
    done: list[str] = []
    refused: dict[str, int] = {}
    try:
        with _connect(settings) as client:
            if settings.smtp_username and settings.smtp_password is not None:
                client.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            for recipient in recipients:
                try:
                    client.send_message(compose(settings, event, recipient))
                    done.append(recipient)
                except smtplib.SMTPRecipientsRefused as exc:
                    refused[recipient] = min(code for code, _ in exc.recipients.values())
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, f"The mail server answered {exc.smtp_code}.", done) from exc
    except (OSError, smtplib.SMTPException) as exc:
        reason = f"The mail server could not be reached ({type(exc).__name__})."
        raise transient(reason, tuple(done)) from exc
    _raise_refused(refused, done)


def _by_code(code: int, reason: str, done: list[str]) -> DeliveryFailed:
    if 400 <= code < 500:
        return transient(reason, tuple(done))
    return permanent(reason, tuple(done))


def _raise_refused(refused: dict[str, int], done: list[str]) -> None:
    """Refused addresses: a 4xx one is retried (alone), a 5xx one is given up."""
    if not refused:
        return
    logger.warning("email notification: %d recipient(s) refused", len(refused))
    retry = [r for r, code in refused.items() if 400 <= code < 500]
    codes = ", ".join(str(code) for code in sorted(set(refused.values())))
    reason = f"The mail server refused {len(refused)} address(es) ({codes})."
    gave_up = [r for r in refused if r not in retry]
    if retry:  # only the retried addresses stay on the row
        raise transient(reason, tuple(done + gave_up))
    raise permanent(reason, tuple(done))  # the dead letter keeps the refused addresses
