"""The MCP server through the SDK's own client: Streamable HTTP at /mcp and stdio.

Both transports serve one ``Server``; the HTTP tests cover each tool, the scope refusals, bad
input and other workspaces' ids, and the stdio test proves the same over a subprocess.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import select

from digipersona.config import Settings
from digipersona.kit.time import utcnow
from digipersona.models import AuditEvent, Interaction, Post
from tests.mcp.conftest import PYTHON, Agents, stdio_env

DRAFTING_AND_READING = {
    "list_personas",
    "get_persona",
    "list_connections",
    "generate_drafts",
    "create_draft",
    "update_draft",
    "list_posts",
    "get_post",
    "submit_for_review",
    "next_free_slots",
    "get_queue",
    "get_post_analytics",
    "list_interactions",
    "draft_reply",
    "score_lead",
}


def run_async(main: Callable[[], Awaitable[Any]]) -> Any:
    """``anyio.run`` on a thread of its own: after the browser tests, Playwright's sync API keeps
    an event loop running on the main thread, where a second loop cannot start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, main).result()


def over_http(url: str, token: str, body: Callable[[Client], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            return await body(client)

    return run_async(main)


def data_of(result: Any) -> Any:
    assert not result.is_error, result.content[0].text
    return json.loads(result.content[0].text)


def error_of(result: Any) -> str:
    assert result.is_error, result.content[0].text
    return str(result.content[0].text)


def test_a_drafts_token_sees_only_drafting_and_reading_tools(mcp_url: str, agents: Agents) -> None:
    async def names(client: Client) -> set[str]:
        return {t.name for t in (await client.list_tools()).tools}

    assert over_http(mcp_url, agents.drafts, names) == DRAFTING_AND_READING
    assert over_http(mcp_url, agents.full, names) == DRAFTING_AND_READING | {
        "approve_post",
        "schedule_post",
    }
    reading = over_http(mcp_url, agents.reader, names)
    assert "generate_drafts" not in reading and "list_posts" in reading


def test_every_tool_works_for_a_full_token(
    mcp_url: str, agents: Agents, session_factory: Any, owner: Any
) -> None:
    with session_factory.begin() as s:
        lead = Interaction(
            workspace_id=owner.workspace_id,
            persona_id=uuid.UUID(agents.persona_id),
            connection_id=uuid.UUID(agents.x_connection_id),
            platform="x",
            external_id="42",
            kind="mention",
            reply_target={"parent_id": "42", "root_id": None, "extra": {}},
            text="We need this for our 40 person team, what does it cost?",
            author_name="Buyer",
            received_at=utcnow(),
            lead_score=80,
            is_lead=True,
        )
        s.add(lead)
        s.flush()
        interaction_id = str(lead.id)

    async def flow(client: Client) -> dict[str, Any]:
        seen: dict[str, Any] = {}

        async def call(name: str, args: dict[str, Any]) -> Any:
            seen[name] = data_of(await client.call_tool(name, args))
            return seen[name]

        personas = await call("list_personas", {})
        assert [p["name"] for p in personas["items"]] == ["Dana"]
        persona = await call("get_persona", {"persona_id": agents.persona_id})
        assert persona["topics"] == ["hiring", "remote work"] and persona["slots_described"]
        connections = await call("list_connections", {"persona_id": agents.persona_id})
        assert {c["handle"] for c in connections} == {"dana-hook", "dana"}
        assert not any("token" in key for c in connections for key in c)
        drafts = await call(
            "generate_drafts",
            {
                "persona_id": agents.persona_id,
                "brief": "Why we hire remotely",
                "platforms": ["x"],
                "count": 2,
            },
        )
        assert len(drafts["items"]) == 2 and drafts["items"][0]["status"] == "draft"
        post = await call(
            "create_draft",
            {
                "persona_id": agents.persona_id,
                "body": "Remote hiring, done right.",
                "platforms": ["webhook"],
            },
        )
        post = await call(
            "update_draft",
            {"post_id": post["id"], "body": "Remote hiring, done well.", "version": 1},
        )
        assert post["body"] == "Remote hiring, done well."
        listed = await call("list_posts", {"persona_id": agents.persona_id, "q": "done well"})
        assert [p["id"] for p in listed["items"]] == [post["id"]]
        full = await call("get_post", {"post_id": post["id"]})
        assert full["variants"][0]["lengths"] and "schedule" in full
        assert (await call("submit_for_review", {"post_id": post["id"]}))["status"] == "in_review"
        assert (await call("approve_post", {"post_id": post["id"]}))["status"] == "approved"
        slots = await call("next_free_slots", {"persona_id": agents.persona_id, "count": 3})
        hook = next(c for c in slots["connections"] if c["platform"] == "webhook")
        assert len(hook["slots"]) == 3
        scheduled = await call("schedule_post", {"post_id": post["id"]})
        assert scheduled["status"] == "scheduled"
        assert scheduled["publications"][0]["slot_at"] == hook["slots"][0]
        queue = await call("get_queue", {"days": 30})
        assert post["id"] in {e["post_id"] for e in queue["items"]}
        analytics = await call("get_post_analytics", {"post_id": post["id"]})
        assert "publications" in analytics
        inbox = await call("list_interactions", {"is_lead": True})
        assert inbox["items"][0]["id"] == interaction_id
        reply = await call(
            "draft_reply", {"interaction_id": interaction_id, "text": "Happy to help!"}
        )
        assert reply["post_id"]
        score = await call("score_lead", {"text": "Can I get a quote for 50 seats?"})
        assert score["score"] >= 0 and score["reasons"] is not None
        return seen

    seen = over_http(mcp_url, agents.full, flow)
    assert set(seen) == DRAFTING_AND_READING | {"approve_post", "schedule_post"}

    with session_factory() as s:
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "mcp.tool_called")))
    assert {e.data["tool"] for e in events} == set(seen)
    assert {e.data["token"] for e in events} == {"ops-bot"}


def test_a_drafts_token_cannot_approve_or_schedule(
    mcp_url: str, agents: Agents, session_factory: Any, owner: Any
) -> None:
    post = owner.post(
        "/api/v1/content",
        json={"persona_id": agents.persona_id, "body": "Ship it", "platforms": ["webhook"]},
    ).json()
    owner.post(f"/api/v1/content/{post['id']}/submit")

    async def attempts(client: Client) -> list[str]:
        return [
            error_of(await client.call_tool("approve_post", {"post_id": post["id"]})),
            error_of(await client.call_tool("schedule_post", {"post_id": post["id"]})),
            # The session goes on after refusals.
            str(data_of(await client.call_tool("get_post", {"post_id": post["id"]}))["status"]),
        ]

    approve, schedule, status = over_http(mcp_url, agents.drafts, attempts)
    assert "'approve' scope" in approve
    assert "'publish' scope" in schedule
    assert status == "in_review"
    # Nor through REST with the same token.
    bearer = {"Authorization": f"Bearer {agents.drafts}"}
    base = mcp_url.removesuffix("/mcp")
    assert (
        httpx.post(f"{base}/api/v1/content/{post['id']}/approve", headers=bearer).status_code == 403
    )
    assert (
        httpx.post(f"{base}/api/v1/content/{post['id']}/schedule", headers=bearer).status_code
        == 403
    )
    with session_factory() as s:
        assert s.get(Post, uuid.UUID(post["id"])).status == "in_review"  # type: ignore[union-attr]
        refused = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "mcp.tool_called")))
    assert {(e.data["tool"], e.data["token"], e.data["outcome"]) for e in refused} >= {
        ("approve_post", "claude-drafts", "refused:403"),
        ("schedule_post", "claude-drafts", "refused:403"),
    }


def test_bad_input_is_a_tool_error_that_says_what_to_fix(mcp_url: str, agents: Agents) -> None:
    async def attempts(client: Client) -> list[str]:
        out = []
        for args in (
            {"persona_id": agents.persona_id, "brief": "  ", "platforms": ["x"]},
            {"persona_id": agents.persona_id, "brief": "Hi", "platforms": ["myspace"]},
            {"persona_id": agents.persona_id, "brief": "Hi", "platforms": ["x"], "count": 9},
            {"persona_id": "not-a-uuid", "brief": "Hi", "platforms": ["x"]},
            {"brief": "Hi", "platforms": ["x"], "surprise": 1},
        ):
            out.append(error_of(await client.call_tool("generate_drafts", args)))
        out.append(error_of(await client.call_tool("no_such_tool", {})))
        out.append(str(len(data_of(await client.call_tool("list_personas", {}))["items"])))
        return out

    empty, platform, count, bad_id, missing, unknown, still_alive = over_http(
        mcp_url, agents.drafts, attempts
    )
    assert "brief" in empty and "say what the post should be about" in empty
    assert "platforms.0" in platform
    assert "count" in count and "5" in count
    assert "persona_id" in bad_id
    assert "persona_id" in missing and "surprise" in missing
    assert "no tool named 'no_such_tool'" in unknown
    assert still_alive == "1"


def test_another_workspaces_ids_answer_not_found(mcp_url: str, agents: Agents) -> None:
    async def attempts(client: Client) -> list[str]:
        return [
            error_of(await client.call_tool("get_post", {"post_id": agents.outsider_post_id})),
            error_of(
                await client.call_tool(
                    "update_draft", {"post_id": agents.outsider_post_id, "body": "mine now"}
                )
            ),
            error_of(
                await client.call_tool("get_persona", {"persona_id": agents.outsider_persona_id})
            ),
            error_of(
                await client.call_tool(
                    "create_draft",
                    {"persona_id": agents.outsider_persona_id, "body": "x", "platforms": ["x"]},
                )
            ),
            error_of(
                await client.call_tool(
                    "next_free_slots", {"persona_id": agents.outsider_persona_id}
                )
            ),
        ]

    for message in over_http(mcp_url, agents.drafts, attempts):
        assert message.startswith("No such"), message

    async def theirs(client: Client) -> Any:
        return data_of(await client.call_tool("list_posts", {}))

    assert over_http(mcp_url, agents.outsider, theirs)["items"][0]["body"] == "Their secret plan"
    assert over_http(mcp_url, agents.drafts, theirs)["items"] == []


def test_persona_resources_and_prompts(mcp_url: str, agents: Agents) -> None:
    async def read(client: Client) -> tuple[Any, ...]:
        resources = (await client.list_resources()).resources
        profile = await client.read_resource(str(resources[0].uri))
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        plan = await client.get_prompt("plan_week", {"persona": "Dana"})
        try:
            await client.read_resource(f"digipersona://personas/{agents.outsider_persona_id}")
            foreign = "read"
        except Exception as exc:
            foreign = str(exc)
        return resources, profile, prompts, plan, foreign

    resources, profile, prompts, plan, foreign = over_http(mcp_url, agents.drafts, read)
    assert [str(r.uri) for r in resources] == [f"digipersona://personas/{agents.persona_id}"]
    assert json.loads(profile.contents[0].text)["name"] == "Dana"
    assert prompts == {"plan_week", "answer_leads"}
    assert "Dana" in plan.messages[0].content.text
    assert "No such persona" in foreign


def test_http_needs_a_valid_bearer_token(mcp_url: str, agents: Agents, owner: Any) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    assert httpx.post(mcp_url, json=ping).status_code == 401
    bad = httpx.post(mcp_url, json=ping, headers={"Authorization": "Bearer dp_nope"})
    assert bad.status_code == 401 and "token" in bad.json()["detail"]
    tokens = owner.get("/api/v1/tokens").json()
    drafts_id = next(t["id"] for t in tokens if t["name"] == "claude-drafts")
    assert owner.delete(f"/api/v1/tokens/{drafts_id}").status_code == 204
    revoked = httpx.post(mcp_url, json=ping, headers={"Authorization": f"Bearer {agents.drafts}"})
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_stdio_serves_the_same_tools(settings: Settings, agents: Agents) -> None:
    params = StdioServerParameters(
        command=PYTHON, args=["-m", "digipersona", "mcp"], env=stdio_env(settings, agents.drafts)
    )

    async def main() -> tuple[Any, ...]:
        async with Client(params, read_timeout_seconds=60) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            personas = data_of(await client.call_tool("list_personas", {}))
            drafts = data_of(
                await client.call_tool(
                    "generate_drafts",
                    {"persona_id": agents.persona_id, "brief": "Hiring", "platforms": ["bluesky"]},
                )
            )
            refused = error_of(
                await client.call_tool("schedule_post", {"post_id": str(uuid.uuid4())})
            )
            foreign = error_of(
                await client.call_tool("get_post", {"post_id": agents.outsider_post_id})
            )
            return names, personas, drafts, refused, foreign

    names, personas, drafts, refused, foreign = run_async(main)
    assert names == DRAFTING_AND_READING
    assert [p["id"] for p in personas["items"]] == [agents.persona_id]
    assert drafts["items"][0]["variants"][0]["platform"] == "bluesky"
    assert "'publish' scope" in refused
    assert foreign.startswith("No such post")


def test_stdio_without_a_token_says_how_to_get_one(settings: Settings) -> None:
    import subprocess

    env = stdio_env(settings, "")
    done = subprocess.run(
        [PYTHON, "-m", "digipersona", "mcp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "DIGIPERSONA_API_TOKEN" in done.stderr


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
