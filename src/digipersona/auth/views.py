"""Web pages for logging in, registering and logging out (session cookie + CSRF)."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from digipersona.auth import schemas, service
from digipersona.auth.dependencies import SettingsDep, check_csrf, client_ip
from digipersona.auth.repository import MembershipRepository
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.security import PASSWORD_RULE
from digipersona.models import User, Workspace
from digipersona.web.templating import flash, render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only same-site relative paths, so ``next`` cannot send users elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/dashboard"


def start_session(request: Request, user: User, workspace: Workspace) -> None:
    request.session.clear()
    request.session.update(
        {
            "uid": str(user.id),
            "wid": str(workspace.id),
            "email": user.email,
            "wname": workspace.name,
            "sv": user.session_version,
            "csrf": secrets.token_urlsafe(32),
        }
    )


@router.get("/")
def root(request: Request) -> Response:
    return RedirectResponse("/dashboard" if request.session.get("uid") else "/login", 303)


@router.get("/login")
def login_page(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    return render(
        request,
        "auth/login.html",
        {"next": safe_next(next), "email": "", "registration": settings.registration},
    )


@router.post("/login")
def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: str = Form(default="", max_length=320),
    password: str = Form(default="", max_length=256),
    csrf_token: str = Form(default=""),
    next: str = Form(default=""),
) -> Response:
    check_csrf(request, csrf_token)
    context: dict[str, Any] = {
        "next": safe_next(next),
        "email": email,
        "registration": settings.registration,
    }
    try:
        user = service.authenticate(
            session,
            settings,
            request.app.state.limiter,
            email=email,
            password=password,
            ip=client_ip(request),
        )
        membership = service.resolve_workspace(session, user, None)
    except DigipersonaError as exc:
        context["error"] = exc.message
        return render(request, "auth/login.html", context, status_code=exc.status_code)
    workspace = session.get(Workspace, membership.workspace_id)
    assert workspace is not None
    start_session(request, user, workspace)
    return RedirectResponse(safe_next(next), status_code=303)


@router.get("/register")
def register_page(request: Request, invitation: str | None = None) -> Response:
    return render(
        request,
        "auth/register.html",
        {"form": {}, "errors": {}, "invitation": invitation, "password_rule": PASSWORD_RULE},
    )


@router.post("/register")
def register_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: str = Form(default="", max_length=320),
    password: str = Form(default="", max_length=256),
    workspace_name: str = Form(default="", max_length=200),
    invitation_token: str = Form(default="", max_length=200),
    csrf_token: str = Form(default=""),
) -> Response:
    check_csrf(request, csrf_token)
    form = {"email": email, "workspace_name": workspace_name}
    context: dict[str, Any] = {
        "form": form,
        "errors": {},
        "invitation": invitation_token or None,
        "password_rule": PASSWORD_RULE,
    }
    try:
        body = schemas.RegisterIn(
            email=email,
            password=password,
            workspace_name=workspace_name or None,
            invitation_token=invitation_token or None,
        )
    except ValidationError as exc:
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "email"
            context["errors"][field] = str(err["msg"]).removeprefix("Value error, ")
        return render(request, "auth/register.html", context, status_code=422)
    try:
        with session.begin_nested():
            user, workspace, membership = service.register(
                session,
                settings,
                email=body.email,
                password=body.password,
                workspace_name=body.workspace_name,
                invitation_token=body.invitation_token,
            )
    except DigipersonaError as exc:
        field_errors = {e["field"]: e["message"] for e in exc.errors if "field" in e}
        context["errors"] = field_errors
        if not field_errors:
            context["error"] = exc.message
        return render(request, "auth/register.html", context, status_code=exc.status_code)
    start_session(request, user, workspace)
    flash(request, _welcome(workspace.name, membership.role, joined=bool(body.invitation_token)))
    return RedirectResponse("/dashboard", status_code=303)


def _welcome(workspace: str, role: str, *, joined: bool) -> str:
    """A new workspace's owner starts with a persona; a member joins one that has its own."""
    if not joined:
        return f"Welcome! Your workspace “{workspace}” is ready. Start by creating a persona."
    return f"Welcome to “{workspace}”! You joined as {role}: {_JOINED_NEXT.get(role, '')}".strip()


# What a member who just joined can do first, by role.
_JOINED_NEXT = {
    "owner": "its personas, posts and settings are yours to manage.",
    "admin": "its personas, posts and settings are yours to manage.",
    "editor": "draft posts for its personas under Content.",
    "approver": "posts waiting for you are under Approvals.",
    "viewer": "follow its posts on the dashboard and the calendar.",
}


@router.post("/logout")
def logout(request: Request, session: SessionDep, csrf_token: str = Form(default="")) -> Response:
    """End the session server-side: every copy of this user's session cookie stops working."""
    check_csrf(request, csrf_token)
    user = service.session_user(session, request.session.get("uid"), request.session.get("sv"))
    if user is not None:
        service.end_sessions(session, user)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/workspace/switch")
def switch_workspace(
    request: Request,
    session: SessionDep,
    workspace_id: str = Form(default=""),
    csrf_token: str = Form(default=""),
) -> Response:
    check_csrf(request, csrf_token)
    uid = request.session.get("uid")
    if not uid:
        return RedirectResponse("/login", status_code=303)
    for workspace, _membership in MembershipRepository(session).workspaces_of(_uuid(uid)):
        if str(workspace.id) == workspace_id:
            request.session["wid"], request.session["wname"] = str(workspace.id), workspace.name
            break
    return RedirectResponse("/dashboard", status_code=303)


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)
