"""Email notifications against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from digipersona.config import Settings
from digipersona.notifications import outbox
from tests.conftest import Actor, make_settings
from tests.fakes.server import free_port
from tests.notifications.test_preferences import submit_post

SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-smtp-pass"


@dataclass
class Mailbox:
    """What the local SMTP server accepted: (envelope recipients, parsed message)."""

    messages: list[tuple[list[str], email.message.EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (SMTP_USER, SMTP_PASSWORD)
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    def by_recipient(self) -> dict[str, email.message.EmailMessage]:
        return {rcpt: msg for rcpts, msg in self.messages for rcpt in rcpts}


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        authenticator=box.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def settings(
    database_url: str,
    tmp_path: Path,
    mailbox: tuple[Mailbox, int],
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    # The password comes from a file, as an operator would mount a secret.
    secret = tmp_path / "smtp_password"
    secret.write_text(SMTP_PASSWORD + "\n")
    monkeypatch.setenv("DIGIPERSONA_SMTP_PASSWORD_FILE", str(secret))
    return make_settings(
        tmp_path,
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        smtp_username=SMTP_USER,
        smtp_from="robot@digipersona.test",
        smtp_security="none",
        smtp_timeout_seconds=5,
    )


def test_approval_request_mails_the_approvers(
    owner: Actor, make_member: Any, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    approver, editor = make_member("approver"), make_member("editor")
    submit_post(owner, "Our spring launch, please check")
    assert outbox.drain()
    mails = box.by_recipient()
    assert set(mails) == {owner.email, approver.email}
    assert editor.email not in mails
    assert box.logins == [SMTP_USER]  # one SMTP session for all recipients
    message = mails[approver.email]
    assert message["Subject"] == "[digipersona] Pushy: a post waits for your approval"
    assert message["From"] == "robot@digipersona.test"
    assert message["To"] == approver.email  # members never see each other's addresses
    text = message.get_content()
    assert "Our spring launch, please check" in text
    assert "Open: http://testserver/approvals" in text
    assert 'in the workspace "Acme"' in text
    assert "http://testserver/settings#notifications" in text


def test_nothing_is_sent_when_the_preference_is_off(
    owner: Actor, make_member: Any, mailbox: tuple[Mailbox, int]
) -> None:
    box, _ = mailbox
    approver = make_member("approver")
    for actor in (owner, approver):
        r = actor.request(
            "PUT",
            "/api/v1/notifications/preferences",
            json={"preferences": {"approval.requested": {"email": False}}},
        )
        assert r.status_code == 200
    submit_post(owner, "first")
    assert outbox.drain()
    assert box.messages == []
    # The same event with the approver's email back on reaches only them.
    approver.request(
        "PUT",
        "/api/v1/notifications/preferences",
        json={"preferences": {"approval.requested": {"email": True}}},
    )
    submit_post(owner, "second")
    assert outbox.drain()
    assert [rcpts for rcpts, _ in box.messages] == [[approver.email]]
    # In-app is independent of email.
    assert len(owner.get("/api/v1/notifications").json()) == 2


def test_a_down_mail_server_is_logged_and_breaks_nothing(
    owner: Actor, mailbox: tuple[Mailbox, int], app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.state.settings.smtp_port = free_port()  # nothing listens there
    with caplog.at_level("WARNING", logger="digipersona.notifications"):
        post_id = submit_post(owner)
        assert outbox.drain()
    assert owner.get(f"/api/v1/content/{post_id}").json()["status"] == "in_review"
    assert (
        "delivery by email failed (attempt 1, retried): "
        "The mail server could not be reached (ConnectionRefusedError)"
    ) in caplog.text
    assert SMTP_PASSWORD not in caplog.text
