"""Registration, login, token issuing and rotation, and resolving credentials to a Principal."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from digipersona import db
from digipersona.audit import service as audit
from digipersona.auth import repository
from digipersona.auth.permissions import permissions_for
from digipersona.auth.principal import Principal
from digipersona.auth.repository import (
    ApiTokenRepository,
    MembershipRepository,
    RefreshTokenRepository,
    UserRepository,
)
from digipersona.config import Settings
from digipersona.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
)
from digipersona.kit import security
from digipersona.kit.ratelimit import Limiter
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.kit.words import plural
from digipersona.models import Invitation, Membership, RefreshToken, Role, User, Workspace

logger = logging.getLogger(__name__)

REFRESH_PREFIX = "dp_rt_"
API_TOKEN_PREFIX = "dp_pat_"  # noqa: S105 (a prefix, not a secret)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    workspace_id: uuid.UUID


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_open_invitation(session: Session, token: str, *, email: str | None = None) -> Invitation:
    """The invitation behind a token, if it can still be used (by this email, when given)."""
    invitation = repository.invitation_by_hash(session, security.token_hash(token))
    if invitation is None or invitation.revoked_at is not None:
        raise NotFound("This invitation does not exist or was withdrawn.")
    if invitation.accepted_at is not None:
        raise Gone("This invitation was already used.")
    if ensure_utc(invitation.expires_at) <= utcnow():
        raise Gone("This invitation has expired: ask for a new one.")
    if email is not None and normalise_email(email) != invitation.email:
        raise BadRequest(f"This invitation is for {invitation.email}; register with that address.")
    return invitation


def register(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    workspace_name: str | None,
    display_name: str = "",
    invitation_token: str | None = None,
) -> tuple[User, Workspace, Membership]:
    """Create a user and their own workspace, or join the inviting workspace."""
    email = normalise_email(email)
    invitation = None
    if settings.registration == "closed":
        # Closed means closed: invitation links too (existing users can still accept one).
        raise Forbidden(
            "Registration is closed on this server, invitation links included. Ask an "
            "administrator to create your account."
        )
    if invitation_token:
        # Bound to the address it was sent to, so a forwarded or leaked link is useless.
        invitation = find_open_invitation(session, invitation_token, email=email)
    elif settings.registration == "invite_only":
        raise Forbidden(
            "Registration needs an invitation on this server: use your invitation link."
        )

    problem = security.password_problem(password, email)
    if problem:
        raise ValidationFailed(problem, errors=[{"field": "password", "message": problem}])
    users = UserRepository(session)
    if users.get_by_email(email) is not None:
        raise Conflict("An account with this email already exists. Log in instead.")
    user = User(
        email=email, password_hash=security.hash_password(password), display_name=display_name
    )
    try:
        with session.begin_nested():
            users.add(user)
    except IntegrityError as exc:
        raise Conflict("An account with this email already exists. Log in instead.") from exc

    memberships = MembershipRepository(session)
    if invitation is not None:
        workspace = session.get(Workspace, invitation.workspace_id)
        assert workspace is not None
        membership = memberships.add(
            Membership(workspace_id=workspace.id, user_id=user.id, role=invitation.role)
        )
        invitation.accepted_at = utcnow()
        audit.record(
            session,
            workspace_id=workspace.id,
            action="member.joined",
            object_type="user",
            object_id=user.id,
            actor_user_id=user.id,
            data={"role": invitation.role},
        )
    else:
        name = workspace_name or f"{display_name or email.split('@')[0]}'s workspace"
        workspace = Workspace(name=name)
        session.add(workspace)
        session.flush()
        membership = memberships.add(
            Membership(workspace_id=workspace.id, user_id=user.id, role=Role.owner.value)
        )
        audit.record(
            session,
            workspace_id=workspace.id,
            action="workspace.created",
            object_type="workspace",
            object_id=workspace.id,
            actor_user_id=user.id,
        )
    return user, workspace, membership


def authenticate(
    session: Session,
    settings: Settings,
    limiter: Limiter,
    *,
    email: str,
    password: str,
    ip: str,
) -> User:
    """Check a password, throttled per account and per IP."""
    email = normalise_email(email)
    window = settings.login_window_seconds
    account_key, ip_key = f"login:acct:{email}", f"login:ip:{ip}"
    if limiter.count(account_key, window) >= settings.login_max_failures_per_account:
        wait = limiter.retry_after(account_key, window)
        raise TooManyRequests(
            f"Too many failed logins for this account. Try again in {plural(wait, 'second')}.",
            wait,
        )
    if limiter.count(ip_key, window) >= settings.login_max_failures_per_ip:
        wait = limiter.retry_after(ip_key, window)
        raise TooManyRequests(
            f"Too many failed logins from your address. Try again in {plural(wait, 'second')}.",
            wait,
        )
    user = UserRepository(session).get_by_email(email)
    ok = security.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        limiter.hit(account_key, window)
        limiter.hit(ip_key, window)
        raise Unauthorized("Wrong email or password.")
    limiter.reset(account_key)
    user.last_login_at = utcnow()
    return user


def resolve_workspace(session: Session, user: User, workspace_id: uuid.UUID | None) -> Membership:
    """The membership to act in: the requested workspace, else the user's first."""
    memberships = MembershipRepository(session)
    if workspace_id is not None:
        membership = memberships.get_for(workspace_id, user.id)
        if membership is None:
            raise Forbidden("You are not a member of that workspace.")
        return membership
    membership = memberships.first_for_user(user.id)
    if membership is None:
        raise Forbidden("Your account belongs to no workspace. Ask an administrator to invite you.")
    return membership


def issue_tokens(
    session: Session,
    settings: Settings,
    user: User,
    workspace_id: uuid.UUID,
    *,
    family_id: uuid.UUID | None = None,
) -> TokenPair:
    """A new access token and a new refresh token (a new family unless rotating)."""
    access, _ = security.create_access_token(
        settings.secret_key_value(), user.id, workspace_id, settings.access_token_minutes
    )
    refresh = security.new_token(REFRESH_PREFIX)
    RefreshTokenRepository(session).add(
        RefreshToken(
            user_id=user.id,
            workspace_id=workspace_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=security.token_hash(refresh),
            expires_at=utcnow() + timedelta(days=settings.refresh_token_days),
        )
    )
    return TokenPair(access, refresh, settings.access_token_minutes * 60, workspace_id)


class RefreshReuse(Exception):
    """A rotated refresh token was presented again: the family was revoked."""


def rotate_refresh(session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair. Reuse of a rotated token revokes the family.

    The caller must commit even when this raises ``RefreshReuse``, so the revocation sticks.
    """
    repo = RefreshTokenRepository(session)
    row = repo.get_by_hash(security.token_hash(refresh_token))
    now = utcnow()
    if row is None:
        raise Unauthorized("Unknown refresh token: log in again.")
    if row.revoked_at is not None:
        raise Unauthorized("This refresh token was revoked: log in again.")
    if ensure_utc(row.expires_at) <= now:
        raise Unauthorized("This refresh token has expired: log in again.")
    if row.used_at is not None or not repo.mark_used(row.id, now):
        repo.revoke_family(row.family_id, now)
        raise RefreshReuse
    user = session.get(User, row.user_id)
    membership = MembershipRepository(session).get_for(row.workspace_id, row.user_id)
    if user is None or not user.is_active or membership is None:
        repo.revoke_family(row.family_id, now)
        raise Unauthorized("This account no longer has access: log in again.")
    return issue_tokens(session, settings, user, row.workspace_id, family_id=row.family_id)


def revoke_refresh(session: Session, refresh_token: str) -> None:
    """Log out: revoke the whole family of this refresh token (unknown tokens are ignored)."""
    repo = RefreshTokenRepository(session)
    row = repo.get_by_hash(security.token_hash(refresh_token))
    if row is not None:
        repo.revoke_family(row.family_id, utcnow())


def session_user(session: Session, user_id: object, session_version: object) -> User | None:
    """The active user a session cookie names, if the cookie's session was not ended since."""
    try:
        user = session.get(User, uuid.UUID(str(user_id)))
    except ValueError:
        return None
    if user is None or not user.is_active or session_version != user.session_version:
        return None
    return user


def end_sessions(session: Session, user: User) -> None:
    """Log ``user`` out of every browser: saved copies of their session cookie stop working."""
    UserRepository(session).bump_session_version(user)


def change_password(
    session: Session,
    settings: Settings,
    limiter: Limiter,
    principal: Principal,
    *,
    current_password: str,
    new_password: str,
) -> None:
    """Replace the password; every session and refresh token of the user ends with the old one.

    The caller's own web session is re-issued by the view (``user.session_version`` is current).
    A wrong current password counts as a failed login, so this cannot be used to guess it.
    """
    if principal.via not in ("session", "jwt"):
        raise Forbidden("Change your password while logged in, not with an API token.")
    user = principal.user
    window = settings.login_window_seconds
    key = f"login:acct:{user.email}"
    if limiter.count(key, window) >= settings.login_max_failures_per_account:
        wait = limiter.retry_after(key, window)
        raise TooManyRequests(
            f"Too many wrong passwords for this account. Try again in {plural(wait, 'second')}.",
            wait,
        )
    if not security.verify_password(user.password_hash, current_password):
        limiter.hit(key, window)
        message = "Your current password is wrong."
        raise ValidationFailed(message, errors=[{"field": "current_password", "message": message}])
    problem = security.password_problem(new_password, user.email)
    if problem is None and new_password == current_password:
        problem = "Choose a new password that differs from the current one."
    if problem:
        raise ValidationFailed(problem, errors=[{"field": "new_password", "message": problem}])
    user.password_hash = security.hash_password(new_password)
    end_sessions(session, user)
    RefreshTokenRepository(session).revoke_all_for_user(user.id, utcnow())
    audit.record(
        session,
        workspace_id=principal.workspace_id,
        action="user.password_changed",
        object_type="user",
        object_id=user.id,
        actor_user_id=user.id,
    )


def principal_for_user(
    session: Session,
    user: User,
    workspace_id: uuid.UUID,
    via: str,
    *,
    scopes: list[str] | None = None,
    token_id: uuid.UUID | None = None,
) -> Principal:
    membership = MembershipRepository(session).get_for(workspace_id, user.id)
    if membership is None or not user.is_active:
        raise Unauthorized("Your access to this workspace has ended: log in again.")
    role = Role(membership.role)
    return Principal(
        user=user,
        workspace_id=workspace_id,
        role=role,
        permissions=permissions_for(role, scopes),
        via=via,  # type: ignore[arg-type]
        token_id=token_id,
        token_scopes=tuple(scopes) if scopes is not None else None,
    )


TOKEN_STAMP_EVERY = timedelta(minutes=1)


def _stamp_after_commit(session: Session, token_id: uuid.UUID, now: datetime) -> None:
    """Record a token's use in its own short write, after the request's unit of work.

    Stamping inside a read request made it a writer: on SQLite a read transaction that then
    writes fails at once with "database is locked" when another writer committed meanwhile (a
    500 on a GET under load). The stamp is bookkeeping, so a failure is logged, never raised.
    """
    bind = session.get_bind()

    def stamp() -> None:
        try:
            with db.write_scope(db.make_sessionmaker(bind)) as own:  # type: ignore[arg-type]
                ApiTokenRepository(own).touch(token_id, now, every=TOKEN_STAMP_EVERY)
        except SQLAlchemyError as exc:
            logger.warning("could not record the use of API token %s: %s", token_id, exc)

    session.info.setdefault("after_commit", []).append(stamp)


def principal_from_bearer(
    session: Session, settings: Settings, token: str, workspace_override: uuid.UUID | None
) -> Principal:
    """Resolve a bearer credential: a personal API token or a JWT access token."""
    if token.startswith(API_TOKEN_PREFIX):
        row = ApiTokenRepository(session).get_by_hash(security.token_hash(token))
        now = utcnow()
        if row is None or row.revoked_at is not None:
            raise Unauthorized("Unknown or revoked API token.")
        if row.expires_at is not None and ensure_utc(row.expires_at) <= now:
            raise Unauthorized("This API token has expired: create a new one.")
        user = session.get(User, row.user_id)
        if user is None:
            raise Unauthorized("Unknown or revoked API token.")
        if row.last_used_at is None or now - ensure_utc(row.last_used_at) > TOKEN_STAMP_EVERY:
            _stamp_after_commit(session, row.id, now)
        return principal_for_user(
            session, user, row.workspace_id, "api_token", scopes=list(row.scopes), token_id=row.id
        )
    try:
        claims = security.decode_access_token(settings.secret_key_value(), token)
    except security.InvalidAccessToken as exc:
        raise Unauthorized(str(exc)) from exc
    user = session.get(User, claims.user_id)
    if user is None:
        raise Unauthorized("The access token is invalid.")
    workspace_id = workspace_override or claims.workspace_id
    if (
        workspace_override is not None
        and MembershipRepository(session).get_for(workspace_override, user.id) is None
    ):
        # Not a member: for this user the workspace does not exist.
        raise NotFound("No such workspace.")
    return principal_for_user(session, user, workspace_id, "jwt")
