"""Helpers for end-to-end tests against the full local Bluesky network (PDS + real AppView):
an app wired to the network, a persona's account connected through the API with an app
password, and posts published through the approval workflow and the publishing engine."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from digipersona.kit.time import utcnow
from digipersona.publishing.engine import claim_due, execute
from digipersona.worker.runtime import build_runtime
from tests.interactions.conftest import Env, running_env
from tests.interactions.test_replies import _approve_and_schedule, _run_engine
from tests.peers.bsky_network import BskyNetwork, PostRef
from tests.peers.pds_harness import Account


@dataclass
class Sky:
    """The app (``env``), the network, and the persona's connected Bluesky account."""

    env: Env
    net: BskyNetwork
    account: Account
    connection_id: uuid.UUID


@contextmanager
def bluesky_env(net: BskyNetwork, database_url: str, tmp_path: Any) -> Iterator[Sky]:
    """The app pointed at the network's PDS, with the owner's persona connected through
    ``POST /api/v1/integrations/bluesky/connect`` (handle + app password)."""
    with running_env(database_url, tmp_path, bluesky_service_url=net.pds_url) as env:
        account = net.create_account("persona", display_name="Dana")
        r = env.owner.post(
            "/api/v1/integrations/bluesky/connect",
            json={
                "persona_id": env.persona_id,
                "handle": account.handle,
                "app_password": net.create_app_password(account),
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["account_id"] == account.did
        yield Sky(env, net, account, uuid.UUID(r.json()["id"]))


def publish_post(sky: Sky, text: str) -> tuple[str, dict[str, Any], PostRef]:
    """Write, approve and schedule a post, run the engine; (post id, publication, its ref)
    once the AppView has indexed it."""
    owner = sky.env.owner
    r = owner.post(
        "/api/v1/content",
        json={"persona_id": sky.env.persona_id, "body": text, "platforms": ["bluesky"]},
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    assert owner.post(f"/api/v1/content/{post_id}/submit").status_code == 200
    assert owner.post(f"/api/v1/content/{post_id}/approve").status_code == 200
    # Due in a second and run on the real clock, so published_at is a real time (the
    # analytics page's window ends now).
    at = (utcnow() + timedelta(seconds=1)).isoformat()
    r = owner.post(f"/api/v1/content/{post_id}/schedule", json={"at": at})
    assert r.status_code == 200, r.text
    time.sleep(1.1)
    built = build_runtime(sky.env.settings, factory=sky.env.factory)
    try:
        claimed = claim_due(built.engine, "e2e", 10)
        assert [execute(built.engine, pid, "e2e") for pid in claimed] == ["published"]
    finally:
        built.http.close()
    [pub] = owner.get(f"/api/v1/content/{post_id}/schedule").json()["publications"]
    assert pub["state"] == "published", (pub["last_error"], pub["errors"])
    uri = str(pub["external_id"])
    assert uri.startswith(f"at://{sky.account.did}/app.bsky.feed.post/")
    view = sky.net.wait_until(lambda: sky.net.appview_posts([uri]).get(uri), what=f"our post {uri}")
    return post_id, pub, PostRef(uri, str(view["cid"]))


def run_engine(sky: Sky) -> dict[uuid.UUID, str]:
    """Run the publishing engine once over everything due (a clock two minutes ahead)."""
    return _run_engine(sky.env)


def approve_and_schedule(sky: Sky, post_id: str) -> None:
    _approve_and_schedule(sky.env, post_id)


def expire_session(sky: Sky) -> int:
    """Replace the stored access JWT by one the PDS refuses (as after its 2 h lifetime); the
    refresh JWT stays valid. Returns the connection's token version before."""
    from digipersona.models import Connection

    with sky.env.factory.begin() as s:
        connection = s.get(Connection, sky.connection_id)
        assert connection is not None
        connection.access_token_enc = sky.env.cipher.encrypt("expired-access-jwt")
        return connection.token_version


def stored_access_token(sky: Sky) -> tuple[str, int]:
    """The connection's decrypted access token and its token version."""
    from digipersona.models import Connection

    with sky.env.factory() as s:
        connection = s.get(Connection, sky.connection_id)
        assert connection is not None
        return sky.env.cipher.decrypt(connection.access_token_enc), connection.token_version
