"""Fault injection against the fake provider: every publication ends published or failed with
its reason, and nothing is published twice."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from digipersona.models import Connection, Notification, Post, Publication
from digipersona.platforms import errors, quotas
from digipersona.publishing import engine
from digipersona.publishing.engine import claim_due, execute, release_expired
from tests.publishing.conftest import World


def run_due(world: World, owner: str = "t") -> dict[uuid.UUID, str]:
    out = {}
    for pid in claim_due(world.engine, owner, 100):
        out[pid] = execute(world.engine, pid, owner)
    return out


def test_due_publication_is_published_once(world: World) -> None:
    pid = world.add_post()
    future = world.add_post(at=world.clock.now + timedelta(hours=1))
    assert run_due(world) == {pid: "published"}
    pub = world.pub(pid)
    assert pub.state == "published"
    assert pub.external_url == f"https://fake.example/{pub.idempotency_key}:0"
    assert pub.attempts == 1
    assert world.pub(future).state == "scheduled"
    assert run_due(world) == {}
    assert world.platform.total_posts() == 1
    with world.runtime.factory() as s:
        assert s.get(Post, pub.post_id).status == "published"


def test_claim_order_is_priority_then_time(world: World) -> None:
    now = world.clock.now
    late_low = world.add_post(at=now - timedelta(minutes=1), priority=0)
    early_low = world.add_post(at=now - timedelta(minutes=2), priority=0)
    high = world.add_post(at=now, priority=5)
    assert claim_due(world.engine, "a", 10) == [high, early_low, late_low]


def _claimed_by_three_at_once(
    world: World, claim: Callable[[str], list[uuid.UUID]]
) -> list[uuid.UUID]:
    """60 due rows claimed by three threads at once, batch by batch until none is left."""
    ids = {world.add_post() for _ in range(60)}
    got: dict[str, list[uuid.UUID]] = {"a": [], "b": [], "c": []}

    def run(owner: str) -> None:
        while batch := claim(owner):
            got[owner].extend(batch)

    threads = [threading.Thread(target=run, args=(o,)) for o in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [pid for batch in got.values() for pid in batch]
    assert sorted(claimed) == sorted(ids)
    return claimed


def test_two_claimers_never_share_a_row(world: World) -> None:
    claimed = _claimed_by_three_at_once(world, lambda owner: claim_due(world.engine, owner, 7))
    assert len(claimed) == len(set(claimed))


def test_dispatcher_cycles_claim_in_priority_order_and_never_share_a_row(world: World) -> None:
    now = world.clock.now
    late_low = world.add_post(at=now - timedelta(minutes=1), priority=0)
    early_low = world.add_post(at=now - timedelta(minutes=2), priority=0)
    high = world.add_post(at=now, priority=5)
    world.add_post(at=now + timedelta(minutes=1), priority=9)  # not due yet
    _recorded, prepared, states = engine.cycle(world.engine, "a", [], 10)
    assert [p.publication_id for p in prepared] == [high, early_low, late_low]
    assert states == dict.fromkeys([high, early_low, late_low], "sending")
    assert engine.cycle(world.engine, "b", [], 10) == ({}, [], {})

    def cycle(owner: str) -> list[uuid.UUID]:
        _recorded, prepared, _states = engine.cycle(world.engine, owner, [], 7)
        return [p.publication_id for p in prepared]

    claimed = _claimed_by_three_at_once(world, cycle)
    assert len(claimed) == len(set(claimed))
    with world.runtime.factory() as s:
        rows = s.scalars(select(Publication).where(Publication.id.in_(claimed))).all()
        assert {(row.state, row.attempts) for row in rows} == {("sending", 1)}


def test_transient_backs_off_then_publishes(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["transient", "transient"]
    assert run_due(world) == {pid: "retry"}
    first = world.pub(pid)
    assert first.state == "scheduled"
    assert first.next_attempt_at > world.clock.now
    assert first.error_class == "Transient"
    world.clock.advance(seconds=0.2)
    assert run_due(world) == {}  # backoff (at least half the base) not over yet
    world.clock.advance(minutes=10)
    assert run_due(world) == {pid: "retry"}
    world.clock.advance(minutes=10)
    assert run_due(world) == {pid: "published"}
    pub = world.pub(pid)
    assert pub.attempts == 3
    assert [e["class"] for e in pub.errors] == ["Transient", "Transient"]


def test_transient_gives_up_after_max_attempts(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["transient"] * 20
    for _ in range(world.runtime.settings.publish_max_attempts):
        run_due(world)
        world.clock.advance(minutes=5)
    pub = world.pub(pid)
    assert pub.state == "failed"
    assert "Gave up after 8 attempts" in (pub.last_error or "")
    with world.runtime.factory() as s:
        assert s.scalars(select(Notification.kind)).all() == ["publication.failed"]
    assert world.platform.total_posts() == 0


@pytest.mark.parametrize(("fault", "final"), [("permanent", "failed"), ("invalid", "failed")])
def test_permanent_errors_fail_with_reason(world: World, fault: str, final: str) -> None:
    pid = world.add_post()
    world.platform.faults = [fault]
    assert run_due(world) == {pid: final}
    assert world.pub(pid).last_error


def test_rate_limit_waits_for_the_reset(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["rate_limit"]
    assert run_due(world) == {pid: "rate_limited"}
    pub = world.pub(pid)
    assert pub.next_attempt_at == world.clock.now + timedelta(minutes=15)
    world.clock.advance(minutes=14)
    assert run_due(world) == {}
    world.clock.advance(minutes=2)
    assert run_due(world) == {pid: "published"}


def test_auth_expired_refreshes_once_and_stores_encrypted(world: World) -> None:
    pid = world.add_post()
    world.platform.valid_token = "token-2"  # our stored token-1 is expired
    assert run_due(world) == {pid: "published"}
    assert world.platform.refreshes == 1
    conn = world.connection()
    assert conn.token_version == 2
    assert "token-2" not in conn.access_token_enc
    assert world.runtime.cipher.decrypt(conn.access_token_enc) == "token-2"


def test_failed_refresh_pauses_connection_and_holds_then_resumes(world: World) -> None:
    from digipersona.connections.service import resume_connection

    pid = world.add_post()
    world.platform.valid_token = "token-2"
    world.platform.refresh_ok = False
    assert run_due(world) == {pid: "held"}
    conn = world.connection()
    assert conn.state == "needs_reconnect"
    other = world.add_post()
    assert run_due(world) == {other: "held"}  # held without calling the platform
    assert world.platform.calls.count("publish") == 1
    # Reconnect: new token, state active, held publications resume.
    with world.runtime.factory.begin() as s:
        row = s.get(Connection, world.connection_id)
        row.access_token_enc = world.runtime.cipher.encrypt("token-2")
        row.state = "active"
        row.token_version += 1
        assert resume_connection(s, row, world.clock.now) == 2
    assert sorted(run_due(world).values()) == ["published", "published"]


def test_unknown_after_write_is_reconciled_not_reposted(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["unknown_after"]
    assert run_due(world) == {pid: "unknown"}
    assert world.pub(pid).reconcile is True
    world.clock.advance(minutes=5)
    assert run_due(world) == {pid: "published"}
    assert world.platform.calls == ["publish", "lookup"]
    assert world.platform.duplicates() == 0
    assert world.platform.total_posts() == 1


def test_unknown_before_write_is_looked_up_then_sent(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["unknown_before"]
    run_due(world)
    world.clock.advance(minutes=5)
    assert run_due(world) == {pid: "published"}
    assert world.platform.calls == ["publish", "lookup", "publish"]
    assert world.platform.total_posts() == 1


def test_unexpected_exception_is_treated_as_unknown(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["boom"]
    assert run_due(world) == {pid: "unknown"}


def test_worker_death_mid_send_is_reconciled_after_lease(world: World) -> None:
    pid = world.add_post()
    [claimed] = claim_due(world.engine, "dead-worker", 10)
    [prepared], states = engine.prepare_batch(world.engine, [claimed], "dead-worker")
    assert states[claimed] == "sending"
    # The platform accepted the post, then the worker process died before recording it.
    world.engine.provider("fake").publish(prepared.credentials, prepared.request)
    assert world.pub(pid).state == "sending"
    assert run_due(world, "other") == {}  # in flight: nobody else touches it
    world.clock.advance(seconds=61)
    assert release_expired(world.engine) == (0, 1)
    assert world.pub(pid).state == "unknown"
    assert run_due(world, "other") == {pid: "published"}
    assert world.platform.duplicates() == 0
    assert world.platform.total_posts() == 1


def test_expired_claim_without_send_goes_back_to_queue(world: World) -> None:
    pid = world.add_post()
    claim_due(world.engine, "dead", 10)
    world.clock.advance(seconds=61)
    assert release_expired(world.engine) == (1, 0)
    assert run_due(world) == {pid: "published"}


def test_execute_twice_is_harmless(world: World) -> None:
    pid = world.add_post()
    [claimed] = claim_due(world.engine, "a", 10)
    assert execute(world.engine, claimed, "a") == "published"
    assert execute(world.engine, claimed, "a") == "lost"
    assert execute(world.engine, claimed, "intruder") == "lost"
    assert world.platform.total_posts() == 1
    assert world.pub(pid).attempts == 1


def test_retries_stop_at_the_lateness_limit(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["transient"]
    run_due(world)
    world.clock.advance(hours=7)
    assert run_due(world) == {pid: "missed"}


def test_late_publication_is_missed_and_notified(world: World) -> None:
    pid = world.add_post(at=world.clock.now - timedelta(hours=7))
    assert run_due(world) == {pid: "missed"}
    assert "gives up after 360 minutes" in (world.pub(pid).last_error or "")
    assert world.platform.calls == []
    with world.runtime.factory() as s:
        assert s.scalars(select(Notification.kind)).all() == ["publication.missed"]


def test_quota_defers_to_window_end(world: World, monkeypatch: Any) -> None:
    rule = quotas.QuotaRule("posts", "connection", 3600, 2)
    monkeypatch.setattr(quotas, "rules_for", lambda platform, settings: [rule])
    ids = [world.add_post() for _ in range(3)]
    results = run_due(world)
    assert sorted(results.values()) == ["deferred", "published", "published"]
    deferred = next(pid for pid, state in results.items() if state == "deferred")
    window_end = rule.window_start(world.clock.now) + timedelta(seconds=3600)
    assert world.pub(deferred).next_attempt_at == window_end
    assert world.pub(deferred).attempts == 0
    with world.runtime.factory() as s:
        assert quotas.usage(s, rule, "fake", world.connection_id, world.clock.now) == 2
    world.clock.now = window_end + timedelta(seconds=1)
    assert run_due(world) == {deferred: "published"}
    assert len(ids) == world.platform.total_posts()


def test_quota_exhausted_pauses_connection(world: World) -> None:
    pid = world.add_post()
    world.platform.faults = ["quota"]
    assert run_due(world) == {pid: "held"}
    assert world.connection().state == "paused"


def test_thread_resumes_from_last_published_part(world: World) -> None:
    pid = world.add_post(parts=["one", "two", "three"])
    world.platform.faults = ["unknown_after_part"]
    assert run_due(world) == {pid: "unknown"}
    assert [p["index"] for p in world.pub(pid).parts_published] == [0]
    world.clock.advance(minutes=5)
    assert run_due(world) == {pid: "published"}
    pub = world.pub(pid)
    assert [p["index"] for p in pub.parts_published] == [0, 1, 2]
    assert world.platform.duplicates() == 0
    assert world.platform.posts[pub.idempotency_key] == ["one", "two", "three"]


def test_dispatcher_publishes_due_work(world: World) -> None:
    from digipersona.worker.embedded import Dispatcher

    ids = [world.add_post() for _ in range(25)]
    dispatcher = Dispatcher(world.engine, threads=4, batch=10, poll_seconds=0.05)
    dispatcher.drain(timeout=60)
    assert {world.pub(pid).state for pid in ids} == {"published"}
    assert world.platform.duplicates() == 0
    dispatcher.stop()


def test_dispatcher_stop_sends_and_records_everything_it_prepared(world: World) -> None:
    # Stopping while publications wait on the send threads: each is still sent exactly once
    # and its result recorded, so no row is left "sending" for reconciliation.
    from digipersona.worker.embedded import Dispatcher

    world.platform.latency = 0.05
    ids = [world.add_post() for _ in range(30)]
    dispatcher = Dispatcher(world.engine, threads=2, batch=30, poll_seconds=0.05)
    dispatcher.start()
    deadline = time.monotonic() + 30
    while world.platform.total_posts() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    dispatcher.stop(timeout=30)
    states = [world.pub(pid).state for pid in ids]
    assert "sending" not in states and "claimed" not in states
    assert world.platform.total_posts() == states.count("published") > 0
    assert world.platform.duplicates() == 0
    assert dispatcher.inflight == 0


def test_monthly_budget_pauses_before_it_is_exceeded_and_resumes_next_month(
    world: World, monkeypatch: Any
) -> None:
    from tests.fakes.fake_provider import FakeProvider

    monkeypatch.setattr(FakeProvider, "estimate_cost_usd", lambda self, parts: 0.2, raising=False)
    with world.runtime.factory.begin() as s:
        s.get(Connection, world.connection_id).monthly_budget_usd = 0.5
    ids = [world.add_post() for _ in range(3)]
    results = run_due(world)
    assert sorted(results.values()) == ["held", "published", "published"]
    conn = world.connection()
    assert conn.state == "paused"
    assert "monthly budget of $0.50 would be exceeded" in (conn.state_reason or "")
    assert conn.spend_usd == pytest.approx(0.4)
    assert world.platform.total_posts() == 2
    # A new month: the pause ends and the held post goes out.
    world.clock.now = conn.paused_until + timedelta(minutes=1)  # type: ignore[operator]
    with world.runtime.factory.begin() as s:
        pub = s.get(Publication, next(i for i in ids if results[i] == "held"))
        pub.scheduled_at = world.clock.now  # still relevant: moved by a person
    assert engine.periodic_checks(world.engine)["resumed"] == 1
    assert world.connection().state == "active"
    assert sorted(run_due(world).values()) == ["published"]


def test_expiry_warnings_at_14_7_1_days(world: World) -> None:
    with world.runtime.factory.begin() as s:
        conn = s.get(Connection, world.connection_id)
        conn.refresh_token_enc = None  # LinkedIn-like: no refresh token
        conn.expires_at = world.clock.now + timedelta(days=13)
    assert engine.periodic_checks(world.engine)["warned"] == 1
    assert engine.periodic_checks(world.engine)["warned"] == 0  # once per threshold
    world.clock.advance(days=6, hours=1)
    assert engine.periodic_checks(world.engine)["warned"] == 1
    world.clock.advance(days=6)
    assert engine.periodic_checks(world.engine)["warned"] == 1
    world.clock.advance(days=2)
    engine.periodic_checks(world.engine)
    assert world.connection().state == "needs_reconnect"
    with world.runtime.factory() as s:
        kinds = list(s.scalars(select(Notification.kind).order_by(Notification.created_at)))
    assert kinds == ["connection.expiring"] * 3 + ["connection.expired"]


def test_execute_batch_publishes_a_chunk_once_and_settles_failures(world: World) -> None:
    ids = [world.add_post() for _ in range(6)]
    world.platform.faults = ["permanent"]  # whichever call comes first fails for good
    claimed = claim_due(world.engine, "chunk-owner", 100)
    assert sorted(claimed) == sorted(ids)
    states = engine.execute_batch(world.engine, claimed, "chunk-owner")
    assert sorted(states.values()) == ["failed"] + ["published"] * 5
    assert world.platform.total_posts() == 5
    calls = len(world.platform.calls)
    # A redelivered task (same ids, same owner) and an intruder change nothing.
    assert set(engine.execute_batch(world.engine, claimed, "chunk-owner").values()) == {"lost"}
    assert set(engine.execute_batch(world.engine, claimed, "intruder").values()) == {"lost"}
    assert len(world.platform.calls) == calls
    assert world.platform.duplicates() == 0
    for pid in ids:
        pub = world.pub(pid)
        assert pub.attempts == 1
        assert pub.lease_owner is None
        assert (pub.state == "failed") == bool(pub.last_error)
    with world.runtime.factory() as s:
        statuses = set(
            s.scalars(select(Post.status).where(Post.workspace_id == world.workspace_id))
        )
    assert statuses == {"published", "failed"}


def test_dispatcher_settles_missed_held_and_deferred_while_claiming(
    world: World, monkeypatch: Any
) -> None:
    from digipersona.worker.embedded import Dispatcher

    rule = quotas.QuotaRule("posts", "connection", 3600, 1)
    monkeypatch.setattr(quotas, "rules_for", lambda platform, settings: [rule])
    with world.runtime.factory.begin() as s:
        paused = Connection(
            workspace_id=world.workspace_id,
            persona_id=world.persona_id,
            platform="fake",
            account_id="fake-2",
            access_token_enc=world.runtime.cipher.encrypt("token-1"),
            state="paused",
            state_reason="Paused by the owner.",
        )
        s.add(paused)
        s.flush()
        paused_id = paused.id
    late = world.add_post(at=world.clock.now - timedelta(hours=7))
    held = world.add_post(connection_id=paused_id)
    first = world.add_post(at=world.clock.now - timedelta(seconds=2))
    second = world.add_post(at=world.clock.now - timedelta(seconds=1))
    dispatcher = Dispatcher(world.engine, threads=2, batch=10, poll_seconds=0.05)
    dispatcher.drain(timeout=60)
    dispatcher.stop()
    assert world.pub(late).state == "missed"
    assert world.pub(held).state == "held"
    assert world.pub(held).last_error == "Paused by the owner."
    assert world.pub(first).state == "published"
    deferred = world.pub(second)
    assert (deferred.state, deferred.attempts) == ("scheduled", 0)
    assert deferred.next_attempt_at == rule.window_start(world.clock.now) + timedelta(seconds=3600)
    assert world.platform.calls == ["publish"]
    with world.runtime.factory() as s:
        assert s.scalars(select(Notification.kind)).all() == ["publication.missed"]


def test_publication_left_waiting_past_half_its_lease_is_not_sent(world: World) -> None:
    # The embedded pool can hold prepared publications for a while; one that waited past half
    # its lease must not be sent, or its lease could expire mid-call and reconciliation (which
    # finds nothing yet) would publish it a second time.
    pid = world.add_post()
    [claimed] = claim_due(world.engine, "a", 10)
    [prepared], _states = engine.prepare_batch(world.engine, [claimed], "a")
    world.clock.advance(seconds=31)  # the lease is 60 s
    outcome = engine.call_provider(world.engine, prepared)
    assert isinstance(outcome, errors.Transient)
    assert "Not sent" in outcome.message
    assert world.platform.total_posts() == 0
    assert engine.record_outcomes(world.engine, [(prepared, outcome)], "a") == {claimed: "retry"}
    pub = world.pub(pid)
    assert pub.state == "scheduled" and pub.error_class == "Transient"
    world.clock.advance(minutes=10)
    assert run_due(world) == {pid: "published"}
    assert world.platform.total_posts() == 1
