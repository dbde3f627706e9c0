"""Settings page: the workspace, members and roles, invitations, API tokens."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from digipersona.auth import service as auth
from digipersona.auth.dependencies import WebPrincipal, check_csrf
from digipersona.auth.permissions import TOKEN_SCOPE_IMPLIES, Permission
from digipersona.db import SessionDep
from digipersona.exceptions import DigipersonaError
from digipersona.kit.security import PASSWORD_RULE
from digipersona.models import Role
from digipersona.notifications import views as notification_views
from digipersona.web.forms import CheckedForm
from digipersona.web.templating import flash, render
from digipersona.workspaces import service

router = APIRouter(prefix="/settings")


@router.get("")
def page(request: Request, principal: WebPrincipal, session: SessionDep) -> Response:
    is_admin = principal.can(Permission.admin)
    return render(
        request,
        "workspaces/settings.html",
        {
            "active": "settings",
            "workspace": service.get_workspace(session, principal),
            "members": service.list_members(session, principal),
            "invitations": service.list_invitations(session, principal) if is_admin else [],
            "tokens": service.list_api_tokens(session, principal),
            "roles": [r.value for r in Role],
            "scopes": sorted(TOKEN_SCOPE_IMPLIES),
            "is_admin": is_admin,
            "password_rule": PASSWORD_RULE,
            "me": principal.user_id,
            "new_token": request.session.pop("new_token", None),
            "new_invite": request.session.pop("new_invite", None),
            **notification_views.settings_context(request, session, principal),
        },
    )


def _run(request: Request, session: Any, action: Any, ok: str) -> Response:
    try:
        action()
        flash(request, ok)
    except DigipersonaError as exc:
        session.rollback()
        flash(request, exc.message, "error")
    return RedirectResponse("/settings", status_code=303)


@router.post("/workspace")
def rename(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    principal.require(Permission.admin)
    name = data.get("name", "").strip()[:200]
    if not name:
        flash(request, "Give the workspace a name.", "error")
        return RedirectResponse("/settings", status_code=303)
    request.session["wname"] = name
    return _run(
        request, session, lambda: service.rename(session, principal, name), "Workspace renamed."
    )


@router.post("/password")
def change_password(
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    current_password: str = Form(default="", max_length=256),
    new_password: str = Form(default="", max_length=256),
    csrf_token: str = Form(default=""),
) -> Response:
    # A plain def (run in the threadpool): Argon2 verifies and hashes here.
    check_csrf(request, csrf_token)

    def change() -> None:
        auth.change_password(
            session,
            request.app.state.settings,
            request.app.state.limiter,
            principal,
            current_password=current_password,
            new_password=new_password,
        )
        # This browser stays logged in; every other session of the user ended.
        request.session["sv"] = principal.user.session_version

    return _run(
        request,
        session,
        change,
        "Password changed. Your other browsers and apps were signed out.",
    )


@router.post("/members/{member_id}")
def change_role(
    member_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    data: CheckedForm,
) -> Response:
    principal.require(Permission.admin)
    if "remove" in data:
        return _run(
            request,
            session,
            lambda: service.remove_member(session, principal, member_id),
            "Member removed.",
        )
    try:
        role = Role(data.get("role"))
    except ValueError:
        flash(request, "Choose a role.", "error")
        return RedirectResponse("/settings", status_code=303)
    return _run(
        request,
        session,
        lambda: service.change_role(session, principal, member_id, role),
        "Role changed.",
    )


@router.post("/invitations")
def invite(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    from pydantic import EmailStr, TypeAdapter, ValidationError

    principal.require(Permission.admin)
    email = data.get("email", "").strip()
    try:
        TypeAdapter(EmailStr).validate_python(email)
        role = Role(data.get("role", "editor"))
    except (ValidationError, ValueError):
        flash(request, f"{email or 'That'} is not a valid email address.", "error")
        return RedirectResponse("/settings", status_code=303)

    def make() -> None:
        _invitation, token = service.invite(session, principal, email, role)
        request.session["new_invite"] = (
            f"{request.app.state.settings.public_base_url}/register?invitation={token}"
        )

    return _run(
        request,
        session,
        make,
        f"Invitation for {email} created: share the link below (shown once).",
    )


@router.post("/tokens")
def create_token(
    request: Request, principal: WebPrincipal, session: SessionDep, data: CheckedForm
) -> Response:
    name = data.get("name", "").strip()[:100] or "token"
    scopes = [s for s in data.getlist("scopes") if s in TOKEN_SCOPE_IMPLIES]
    if not scopes:
        flash(request, "Choose at least one scope.", "error")
        return RedirectResponse("/settings", status_code=303)

    def make() -> None:
        _, token = service.create_api_token(
            session, principal, name=name, scopes=scopes, expires_in_days=None
        )
        request.session["new_token"] = token

    return _run(request, session, make, "API token created: copy it now, it is shown once.")


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    token_id: uuid.UUID,
    request: Request,
    principal: WebPrincipal,
    session: SessionDep,
    _csrf: CheckedForm,
) -> Response:
    return _run(
        request,
        session,
        lambda: service.revoke_api_token(session, principal, token_id),
        "Token revoked.",
    )
