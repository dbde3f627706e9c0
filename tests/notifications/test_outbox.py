"""The notification outbox: retries by error class, dead letters with the reason, and no loss
when the process dies between the event's commit and the delivery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from digipersona.kit.time import utcnow
from digipersona.models import NotificationDelivery
from digipersona.notifications import delivery, outbox
from tests.cli.test_serve_shutdown import wait_for
from tests.conftest import Actor, make_settings, register_actor
from tests.fakes.server import free_port, serve
from tests.fakes.webhook_receiver import Reply, WebhookReceiver
from tests.notifications.test_preferences import submit_post
from tests.notifications.test_webhook import set_hook
from tests.web.test_shell import web_login

ROOT = Path(__file__).resolve().parents[2]


def rows(session_factory: Any, channel: str) -> list[NotificationDelivery]:
    with session_factory() as session:
        found = session.scalars(
            select(NotificationDelivery).where(NotificationDelivery.channel == channel)
        )
        return list(found)


def run_later(minutes: float) -> int:
    """One delivery pass as if ``minutes`` had passed (retries wait for their time)."""
    channels = delivery.configured()
    assert channels is not None
    now = utcnow() + timedelta(minutes=minutes)
    return outbox.deliver_due(channels, f"test:{uuid.uuid4().hex[:6]}", now=now)


def notifications_page(actor: Actor) -> str:
    assert web_login(actor.client, actor.email).status_code == 303
    text: str = actor.client.get("/notifications", headers={"accept": "text/html"}).text
    return text


# -- webhook ---------------------------------------------------------------------------------
def test_a_failing_webhook_is_retried_then_dead_lettered_with_the_reason(
    owner: Actor, session_factory: Any
) -> None:
    secret = set_hook(owner, "http://127.0.0.1:9/x")["secret"]
    receiver = WebhookReceiver(secret=secret)
    receiver.script += [Reply(status=503)] * delivery.MAX_ATTEMPTS
    with serve(receiver) as server:
        set_hook(owner, server.url + "/hook")
        submit_post(owner, "Webhook me")
        assert outbox.drain()
        [row] = rows(session_factory, "webhook")
        assert (row.state, row.attempts) == ("pending", 1)
        assert row.last_error == "The receiver answered 503."
        assert run_later(0) == 0  # not before its retry time
        minutes = 0.0
        for attempt in range(2, delivery.MAX_ATTEMPTS + 1):
            minutes += delivery.backoff(attempt - 1).total_seconds() / 60 + 0.01
            assert run_later(minutes) == 1
        [row] = rows(session_factory, "webhook")
    assert (row.state, row.attempts) == ("dead", delivery.MAX_ATTEMPTS)
    assert receiver.script == [] and receiver.deliveries == []
    page = notifications_page(owner)
    assert "Not delivered" in page and "The receiver answered 503." in page


def test_a_webhook_answering_4xx_is_dead_lettered_at_once_and_a_retry_can_succeed(
    owner: Actor, session_factory: Any
) -> None:
    secret = set_hook(owner, "http://127.0.0.1:9/x")["secret"]
    receiver = WebhookReceiver(secret=secret)
    receiver.script.append(Reply(status=400))
    with serve(receiver) as server:
        set_hook(owner, server.url + "/hook")
        submit_post(owner, "first")
        assert outbox.drain()
        [dead] = rows(session_factory, "webhook")
        assert (dead.state, dead.attempts, dead.last_error) == (
            "dead",
            1,
            "The receiver answered 400.",
        )
        receiver.script.append(Reply(status=502))
        submit_post(owner, "second")
        assert outbox.drain()
        assert run_later(delivery.backoff(1).total_seconds() / 60 + 0.01) == 1
    states = sorted((r.state, r.attempts) for r in rows(session_factory, "webhook"))
    assert states == [("dead", 1), ("delivered", 2)]
    assert [d.body["body"] for d in receiver.deliveries] == ["second"]
    # Kept a while, then forgotten: delivered rows after 7 days, dead letters after 30.
    channels = delivery.configured()
    assert channels is not None
    assert outbox.purge(channels, utcnow() + timedelta(days=8)) == 3  # with the two emails
    assert [r.state for r in rows(session_factory, "webhook")] == ["dead"]
    assert outbox.purge(channels, utcnow() + timedelta(days=31)) == 1
    assert rows(session_factory, "webhook") == []


# -- email -----------------------------------------------------------------------------------
class RefusingMailbox:
    """An SMTP server answering RCPT with the scripted codes, then accepting."""

    def __init__(self) -> None:
        self.rcpt_answers: list[str] = []
        self.accepted: list[str] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.accepted += envelope.rcpt_tos
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[RefusingMailbox, int]]:
    box, port = RefusingMailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: tuple[RefusingMailbox, int]) -> Any:
    return make_settings(
        tmp_path,
        database_url,
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_from="robot@digipersona.test",
        smtp_security="none",
        smtp_timeout_seconds=5,
    )


def test_smtp_4xx_is_retried_and_5xx_is_dead_lettered_with_the_reason(
    owner: Actor, smtp: tuple[RefusingMailbox, int], session_factory: Any, make_member: Any
) -> None:
    box, _ = smtp
    box.rcpt_answers.append("451 4.3.0 Try again later")
    submit_post(owner, "first")
    assert outbox.drain()
    [row] = rows(session_factory, "email")
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error == "The mail server refused 1 address(es) (451)."
    assert box.accepted == []
    assert run_later(delivery.backoff(1).total_seconds() / 60 + 0.01) == 1
    assert box.accepted == [owner.email]
    assert [r.state for r in rows(session_factory, "email")] == ["delivered"]

    box.rcpt_answers.append("550 5.1.1 No such user")
    submit_post(owner, "second")
    assert outbox.drain()
    dead = [r for r in rows(session_factory, "email") if r.state == "dead"]
    assert [(r.attempts, r.last_error) for r in dead] == [
        (1, "The mail server refused 1 address(es) (550).")
    ]
    assert dead[0].recipients == [owner.email]  # the dead letter keeps who it was for
    assert box.accepted == [owner.email]
    assert "The mail server refused 1 address(es) (550)." in notifications_page(owner)
    # Dead letters are for owners and admins: an editor's page does not list them.
    editor = make_member("editor")
    assert "Not delivered" not in notifications_page(editor)


def test_a_down_mail_server_is_retried_until_it_gives_up(
    owner: Actor, app: Any, session_factory: Any
) -> None:
    app.state.settings.smtp_port = free_port()  # nothing listens there
    submit_post(owner)
    assert outbox.drain()
    minutes = 0.0
    for attempt in range(2, delivery.MAX_ATTEMPTS + 1):
        minutes += delivery.backoff(attempt - 1).total_seconds() / 60 + 0.01
        assert run_later(minutes) == 1
    [row] = rows(session_factory, "email")
    assert (row.state, row.attempts) == ("dead", delivery.MAX_ATTEMPTS)
    assert row.last_error == "The mail server could not be reached (ConnectionRefusedError)."


# -- a real serve process, killed between the commit and the delivery ------------------------
def start_serve(tmp_path: Path, database_url: str, port: int, worker: bool) -> Any:
    env = {
        **os.environ,
        "DIGIPERSONA_DATA_DIR": str(tmp_path / "data"),
        "DIGIPERSONA_DATABASE_URL": database_url,
        "DIGIPERSONA_PORT": str(port),
        "DIGIPERSONA_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DIGIPERSONA_LOG_LEVEL": "WARNING",
        # The first process commits events but delivers nothing: the kill lands, every time,
        # after the commit and before any delivery.
        "DIGIPERSONA_EMBEDDED_WORKER": "true" if worker else "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "digipersona", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def outbox_states(database_url: str) -> list[str]:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(NotificationDelivery.state)))
    finally:
        engine.dispose()


def test_a_delivery_survives_sigkill_between_commit_and_send_and_goes_out_once(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    first = start_serve(tmp_path, database_url, port, worker=False)
    second = None
    try:
        assert wait_for(lambda: up(url) or first.poll() is not None, 60), "serve never started"
        with httpx.Client(base_url=url, timeout=30) as client:
            owner = register_actor(client, "owner", "Acme")  # type: ignore[arg-type]
            secret = set_hook(owner, "http://127.0.0.1:9/x")["secret"]
            receiver = WebhookReceiver(secret=secret)
            with serve(receiver) as hook:
                set_hook(owner, hook.url + "/hook")
                submit_post(owner, "Survive me")  # answered: the event and its outbox committed
                assert outbox_states(database_url) == ["pending"]
                os.kill(first.pid, signal.SIGKILL)
                first.wait(10)
                assert receiver.deliveries == []
                second = start_serve(tmp_path, database_url, port, worker=True)
                assert wait_for(lambda: outbox_states(database_url) == ["delivered"], 60)
                # Recorded as delivered after the send: nothing can send it again.
                assert len(receiver.deliveries) == 1
        assert receiver.deliveries[0].body["body"] == "Survive me"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
