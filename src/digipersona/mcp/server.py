"""The MCP server: digipersona's tools, persona resources and prompts for AI assistants.

One ``mcp.server.Server`` serves both transports: stdio (``digipersona mcp``, the token given
once for the process) and Streamable HTTP at ``/mcp`` (the token of each HTTP request's
``Authorization: Bearer`` header). Every request resolves the token again, as a REST call does,
so a revoked token stops working at once and a token sees only its own workspace.

A refusal (missing scope, unknown id, bad input) is a tool error the model can read and act on,
never a protocol error that ends the session. Every tool call, allowed or not, is one audit
event naming the token.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from digipersona import __version__
from digipersona.audit import service as audit
from digipersona.auth import service as auth
from digipersona.auth.principal import Principal
from digipersona.config import Settings
from digipersona.db import write_scope
from digipersona.exceptions import DigipersonaError, Unauthorized
from digipersona.mcp import tools
from digipersona.models import ApiToken

logger = logging.getLogger("digipersona.mcp")

PERSONA_URI = "digipersona://personas/{persona_id}"
INSTRUCTIONS = (
    "digipersona drafts, schedules and publishes social posts for personas (voices). Start "
    "with list_personas and get_persona; write with generate_drafts or create_draft, check "
    "get_post's variants (valid=false means a problem to fix), then submit_for_review. "
    "People approve and publish unless this token has the approve or publish scope."
)

# The token of a request: the process's (stdio) or the HTTP request's bearer.
TokenSource = Callable[[ServerRequestContext[Any]], str | None]


def bearer_of(ctx: ServerRequestContext[Any]) -> str | None:
    """The bearer token of the HTTP request behind ``ctx`` (None on stdio)."""
    request = ctx.request
    headers = getattr(request, "headers", None)
    if headers is None:
        return None
    scheme, _, token = str(headers.get("authorization", "")).partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def validation_message(exc: ValidationError) -> str:
    """Pydantic's errors as lines a model can act on: which field, what to fix."""
    lines = []
    for error in exc.errors()[:10]:
        where = ".".join(str(part) for part in error["loc"]) or "input"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"- {where}: {message}")
    return "The input is not valid; fix these fields and call again:\n" + "\n".join(lines)


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


class DigipersonaMCP:
    """The tools, resources and prompts over one database, for any transport."""

    def __init__(
        self, factory: sessionmaker[Session], settings: Settings, token_source: TokenSource
    ) -> None:
        self.runtime = tools.Runtime(factory=factory, settings=settings)
        self.token_source = token_source
        self.server: Server[Any] = Server(
            "digipersona",
            version=__version__,
            instructions=INSTRUCTIONS,
            on_list_tools=self.list_tools,
            on_call_tool=self.call_tool,
            on_list_resources=self.list_resources,
            on_list_resource_templates=self.list_resource_templates,
            on_read_resource=self.read_resource,
            on_list_prompts=self.list_prompts,
            on_get_prompt=self.get_prompt,
        )

    # -- authentication -------------------------------------------------------------------

    def _principal_sync(self, token: str | None) -> tuple[Principal, str]:
        if not token:
            raise Unauthorized(
                "No API token: set DIGIPERSONA_API_TOKEN (stdio) or send "
                "'Authorization: Bearer <token>' (HTTP)."
            )
        with write_scope(self.runtime.factory) as session:
            principal = auth.principal_from_bearer(session, self.runtime.settings, token, None)
            name = "session"
            if principal.token_id is not None:
                row = session.get(ApiToken, principal.token_id)
                name = row.name if row is not None else "?"
            return principal, name

    async def principal(self, ctx: ServerRequestContext[Any]) -> tuple[Principal, str]:
        """The token's principal and name; a refusal is a protocol error with its reason."""
        token = self.token_source(ctx)
        try:
            return await anyio.to_thread.run_sync(self._principal_sync, token)
        except DigipersonaError as exc:
            raise MCPError(types.INVALID_REQUEST, exc.message) from None

    # -- tools ----------------------------------------------------------------------------

    async def list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        principal, _ = await self.principal(ctx)
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=t.name,
                    title=t.title,
                    description=t.description,
                    input_schema=t.input.model_json_schema(),
                    annotations=types.ToolAnnotations(
                        title=t.title, read_only_hint=t.read_only, open_world_hint=False
                    ),
                )
                for t in tools.visible(principal)
            ]
        )

    def _call_sync(
        self, principal: Principal, token_name: str, name: str, arguments: dict[str, Any]
    ) -> types.CallToolResult:
        tool = tools.BY_NAME.get(name)
        outcome = "ok"
        try:
            if tool is None:
                outcome = "unknown_tool"
                return _error(
                    f"There is no tool named '{name}'. List the tools to see what exists."
                )
            principal.require(tool.permission)
            try:
                args = tool.input.model_validate(arguments)
            except ValidationError as exc:
                outcome = "invalid_input"
                return _error(validation_message(exc))
            data = tool.handler(self.runtime, principal, args)
            return types.CallToolResult(
                content=[types.TextContent(text=_json(data))],
                structured_content=data if isinstance(data, dict) else {"items": data},
            )
        except ValidationError as exc:
            outcome = "invalid_input"
            return _error(validation_message(exc))
        except DigipersonaError as exc:
            outcome = f"refused:{exc.status_code}"
            return _error(exc.message)
        except Exception:
            outcome = "error"
            logger.exception("MCP tool %s failed", name)
            return _error(f"The tool '{name}' failed on the server; the error is logged.")
        finally:
            self._audit(principal, token_name, name, outcome)

    def _audit(self, principal: Principal, token_name: str, name: str, outcome: str) -> None:
        try:
            with write_scope(self.runtime.factory) as session:
                audit.record_by(
                    session,
                    principal,
                    "mcp.tool_called",
                    object_type="mcp_tool",
                    object_id=None,
                    data={"tool": name[:100], "token": token_name, "outcome": outcome},
                )
        except Exception:  # the answer must not depend on the audit write
            logger.exception("could not record the MCP call to %s", name)

    async def call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            principal, token_name = await self.principal(ctx)
        except MCPError as exc:
            return _error(exc.error.message)
        return await anyio.to_thread.run_sync(
            self._call_sync, principal, token_name, params.name, dict(params.arguments or {})
        )

    # -- resources: persona profiles ------------------------------------------------------

    async def list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        principal, _ = await self.principal(ctx)
        refs = await anyio.to_thread.run_sync(tools.persona_refs, self.runtime, principal)
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=PERSONA_URI.format(persona_id=pid),
                    name=f"persona-{name}",
                    title=f"Persona: {name}",
                    description=f"The profile of the persona {name}: voice, topics, slots.",
                    mime_type="application/json",
                )
                for pid, name in refs
            ]
        )

    async def list_resource_templates(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=PERSONA_URI,
                    name="persona",
                    description="A persona's profile by id (see list_personas).",
                    mime_type="application/json",
                )
            ]
        )

    async def read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        principal, _ = await self.principal(ctx)
        uri = str(params.uri)
        prefix = PERSONA_URI.split("{", 1)[0]
        if not uri.startswith(prefix):
            raise MCPError(
                types.INVALID_PARAMS, f"Unknown resource {uri}: personas are {PERSONA_URI}."
            )
        try:
            persona_id = uuid.UUID(uri.removeprefix(prefix))
        except ValueError:
            raise MCPError(types.INVALID_PARAMS, f"{uri}: the persona id must be a UUID.") from None
        try:
            data = await anyio.to_thread.run_sync(
                tools.persona_profile, self.runtime, principal, persona_id
            )
        except DigipersonaError as exc:
            raise MCPError(types.INVALID_PARAMS, exc.message) from None
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=uri, mime_type="application/json", text=_json(data))
            ]
        )

    # -- prompts --------------------------------------------------------------------------

    async def list_prompts(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListPromptsResult:
        return types.ListPromptsResult(prompts=list(PROMPTS.values()))

    async def get_prompt(
        self, ctx: ServerRequestContext[Any], params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        arguments = params.arguments or {}
        if params.name == "plan_week":
            persona = arguments.get("persona", "").strip()
            if not persona:
                raise MCPError(
                    types.INVALID_PARAMS,
                    "The 'persona' argument is required: a persona name or id.",
                )
            text = PLAN_WEEK.format(persona=persona[:200])
        elif params.name == "answer_leads":
            text = ANSWER_LEADS
        else:
            raise MCPError(
                types.INVALID_PARAMS,
                f"No prompt named '{params.name}': use plan_week or answer_leads.",
            )
        return types.GetPromptResult(
            description=PROMPTS[params.name].description,
            messages=[types.PromptMessage(role="user", content=types.TextContent(text=text))],
        )


PROMPTS = {
    "plan_week": types.Prompt(
        name="plan_week",
        title="Plan a week of posts for a persona",
        description="Draft a week of posts for one persona, one per free slot, and submit them.",
        arguments=[
            types.PromptArgument(name="persona", description="Persona name or id", required=True)
        ],
    ),
    "answer_leads": types.Prompt(
        name="answer_leads",
        title="Answer my leads",
        description="Draft replies to the inbox's likely sales leads, for review.",
        arguments=[],
    ),
}

PLAN_WEEK = (
    "Plan next week's posts for the persona '{persona}' in digipersona.\n"
    "1. Find the persona with list_personas and read it with get_persona (voice, topics, "
    "banned phrases, example posts).\n"
    "2. Call next_free_slots to see how many posting slots the coming week has.\n"
    "3. For each slot, pick a different topic and write a draft with generate_drafts (a "
    "precise brief) or create_draft. Vary the angle: a story, a how-to, an opinion, a "
    "question.\n"
    "4. Read each draft with get_post; fix any variant with valid=false using update_draft.\n"
    "5. submit_for_review each draft, then summarise the week: slot, topic, first line."
)
ANSWER_LEADS = (
    "Answer my sales leads in digipersona.\n"
    "1. Call list_interactions with is_lead=true and status='new'.\n"
    "2. For each lead, read what they wrote and who they are; use get_persona for the voice "
    "of the persona they wrote to.\n"
    "3. draft_reply for each: helpful, specific to their message, one clear next step, no "
    "hard sell. Replies are drafts for people to review; nothing is sent by you.\n"
    "4. Summarise: who, what they asked, and the reply you drafted."
)
