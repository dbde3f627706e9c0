"""The Bluesky provider: app-password sessions and posts written to the account's own PDS.

Connecting (``BlueskyProvider.connect``, an extra instance method the connections service calls):
the user gives a handle and an **app password** (``xxxx-xxxx-xxxx-xxxx``). Anything else is
refused before it is sent, and a session that turns out to be a main-password session is
deleted and refused too. One ``createSession`` at the entryway (``bsky.social`` by default)
returns the JWT pair and the DID document; posts go to the ``#atproto_pds`` service it names
(platform-apis 2.1; checklist 12). The session is persisted and refreshed with
``refreshSession``: the provider never logs in per post, because ``createSession`` is limited to
30 per 5 minutes (platform-apis 2.2, 2.6).

Credentials: ``access_token``/``refresh_token`` are the access and refresh JWTs; ``extra`` holds
``did``, ``handle``, ``pds_url`` and ``service_url``; ``account_id`` is the DID.

Publishing and retry safety (platform-apis 2.8; checklist 13, 21): every part gets a
client-chosen record key, a TID derived from ``request.created_at``, the idempotency key and the
part index (``tid.deterministic_tid``). A repeated attempt therefore writes to the same key, and
the PDS refuses it (with a bare 500) instead of posting twice. After an ambiguous failure the
provider reads the key back with ``getRecord``: a record holding the same text is the earlier
attempt and is adopted. ``lookup`` does the same for every part, so a thread interrupted after
part k is completed from part k+1 rather than started over. ``external_id`` is the post's
``at://`` URI.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from PIL import Image, UnidentifiedImageError

from digipersona.exceptions import ValidationFailed
from digipersona.kit import outbound
from digipersona.kit.richtext import grapheme_length, utf8_length
from digipersona.kit.time import ensure_utc, utcnow
from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    InboundInteraction,
    InteractionPage,
    MediaItem,
    MetricsReading,
    Profile,
    Provider,
    PublishedPart,
    PublishRequest,
    PublishResult,
    ReadBackUnsupported,
    ReplyTarget,
    TokenSet,
)
from digipersona.platforms.bluesky import readback
from digipersona.platforms.bluesky.client import (
    PLATFORM,
    XrpcClient,
    XrpcError,
    to_platform_error,
)
from digipersona.platforms.bluesky.facets import build_facets
from digipersona.platforms.bluesky.schemas import (
    EMBED_EXTERNAL,
    EMBED_IMAGES,
    POST_COLLECTION,
    POST_TYPE,
    PROFILE_COLLECTION,
    AtUri,
    Session,
    StrongRef,
    jwt_claims,
    jwt_expiry,
    pds_endpoint,
    post_url,
)
from digipersona.platforms.bluesky.tid import deterministic_tid

DEFAULT_SERVICE_URL = "https://bsky.social"
APP_PASSWORD_RE = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")
LOGIN_ADVICE = (
    "Use an app password from Settings > Privacy and security > App passwords, "
    "never your main password."
)
RECONNECT_MESSAGE = (
    "The Bluesky session has ended (the app password was revoked or the session expired). "
    "Reconnect the account with a new app password."
)
# The JWT scope of a session made with the account's main password (PDS auth-scope.ts).
_FULL_ACCESS_SCOPE = "com.atproto.access"
_SESSION_TOKEN_ERRORS = frozenset(
    {"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"}
)


def _timestamp(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds and a trailing Z (lexicon datetime; checklist 10)."""
    return ensure_utc(value).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _aspect_ratio(item: MediaItem) -> dict[str, int] | None:
    if item.width and item.height and item.width > 0 and item.height > 0:
        return {"width": item.width, "height": item.height}
    try:
        with Image.open(io.BytesIO(item.data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return None  # aspectRatio is optional; clients then guess from the image
    return {"width": width, "height": height} if width > 0 and height > 0 else None


class BlueskyProvider(Provider):
    """Bluesky via atproto XRPC (lexicons ``com.atproto.*`` and ``app.bsky.feed.post``)."""

    name: ClassVar[str] = "bluesky"
    display_name: ClassVar[str] = "Bluesky"
    auth_kind = "app_password"
    # Both limits apply to the text: 300 graphemes and 3000 UTF-8 bytes (platform-apis 2.4).
    max_length: ClassVar[int] = 300
    max_bytes: ClassVar[int] = 3000
    length_unit = "graphemes"
    max_images: ClassVar[int] = 4
    # The current lexicon allows 2,000,000 bytes per image (platform-apis 2.3). Older PDS builds
    # (0.4.x, self-hosted) still enforce 1,000,000 at createRecord: that comes back as
    # BlobTooLarge -> InvalidContent naming the server's limit.
    max_image_bytes: ClassVar[int] = 2_000_000
    supports_threads: ClassVar[bool] = True
    link_handling = "facet"
    # The entryway is the user's choice and the PDS is whatever the account's DID document names:
    # requests go through the outbound guard (platforms/factory.py).
    user_chosen_urls: ClassVar[bool] = True
    # Reading back (platform-apis 2.5): notifications and postView counts, through the PDS.
    supports_interactions: ClassVar[bool] = True
    interactions_note: ClassVar[str] = (
        "Replies, mentions and quotes from Bluesky notifications (likes, reposts and follows "
        "are counted in analytics, not listed)."
    )
    supports_metrics: ClassVar[bool] = True
    metrics_fields: ClassVar[tuple[str, ...]] = ("likes", "reposts", "replies", "quotes")
    metrics_note: ClassVar[str] = (
        "Bluesky reports likes, reposts, replies and quotes; it has no impressions or views."
    )
    metrics_batch_size: ClassVar[int] = 25
    # Pages of listNotifications read per poll at most (each up to 100 notifications).
    max_notification_pages: ClassVar[int] = 10

    # -- plumbing -------------------------------------------------------------------------
    def _xrpc(self, base_url: str) -> XrpcClient:
        return XrpcClient(self.http, base_url, timeout_seconds=self.config.timeout_seconds)

    def _service_url(self, service_url: str | None = None) -> str:
        return (service_url or self.config.api_url or DEFAULT_SERVICE_URL).rstrip("/")

    def _pds(self, credentials: Credentials) -> XrpcClient:
        pds_url = credentials.extra.get("pds_url") or credentials.extra.get("service_url")
        return self._xrpc(str(pds_url) if pds_url else self._service_url())

    @staticmethod
    def _did(credentials: Credentials) -> str:
        did = str(credentials.extra.get("did") or credentials.account_id)
        if not did.startswith("did:"):
            raise errors.AuthExpired(
                "The Bluesky connection has no account DID. " + RECONNECT_MESSAGE,
                platform=PLATFORM,
            )
        return did

    @staticmethod
    def _handle(credentials: Credentials) -> str:
        return str(credentials.extra.get("handle") or BlueskyProvider._did(credentials))

    # -- connecting -----------------------------------------------------------------------
    def connect(
        self, handle: str, app_password: str, service_url: str | None = None
    ) -> tuple[Credentials, Profile]:
        """Log in once with an app password; returns the session to persist and the profile.

        Raises ``ValidationFailed`` for a value that is not an app password (nothing is sent)
        and ``Permanent`` when Bluesky rejects the handle/password pair.
        """
        identifier = handle.strip().lstrip("@")
        password = app_password.strip()
        if not identifier:
            raise ValidationFailed(
                "Give the Bluesky handle (for example alice.bsky.social).",
                errors=[{"field": "handle", "message": "required"}],
            )
        if not APP_PASSWORD_RE.match(password):
            raise ValidationFailed(
                "That is not an app password (four groups of four lowercase letters or digits, "
                f"like abcd-1234-efgh-5678). {LOGIN_ADVICE}",
                errors=[{"field": "app_password", "message": "not an app password"}],
            )
        service = self._service_url(service_url)
        entryway = self._xrpc(service)
        try:
            body = entryway.call_raw(
                "POST",
                "com.atproto.server.createSession",
                json={"identifier": identifier, "password": password},
            )
        except XrpcError as exc:
            if exc.error == "AuthFactorTokenRequired":
                raise errors.Permanent(
                    f"Bluesky asked for a sign-in code: that is not an app password. "
                    f"{LOGIN_ADVICE}",
                    platform=PLATFORM,
                    status_code=exc.status_code,
                ) from None
            if exc.status_code == 401 and exc.error not in ("AccountTakedown",):
                raise errors.Permanent(
                    f"Bluesky did not accept the handle {identifier!r} with this app password. "
                    "Check the handle, or create a new app password in Settings > Privacy and "
                    "security > App passwords.",
                    platform=PLATFORM,
                    status_code=exc.status_code,
                ) from None
            raise to_platform_error(exc, operation="login", ambiguous=False) from None
        session = self._session(body)
        if jwt_claims(session.access_jwt).get("scope") == _FULL_ACCESS_SCOPE:
            # The value looked like an app password but is the main password: end the session
            # we just made so it does not linger, and refuse it.
            with contextlib.suppress(errors.PlatformError):
                entryway.call("POST", "com.atproto.server.deleteSession", token=session.refresh_jwt)
            raise ValidationFailed(
                f"That is the account's main password. {LOGIN_ADVICE}",
                errors=[{"field": "app_password", "message": "main password"}],
            )
        pds_url = pds_endpoint(session.did_doc) or service
        try:
            # The DID document is the account's to write: its PDS gets the same outbound check
            # as a URL the user typed, before anything is saved.
            outbound.check_client_url(self.http, pds_url)
        except outbound.OutboundRefused as exc:
            raise ValidationFailed(
                f"The account's DID document names the server {pds_url}, which cannot be "
                f"used. {exc}",
                errors=[{"field": "service_url", "message": str(exc)}],
            ) from None
        credentials = Credentials(
            access_token=session.access_jwt,
            refresh_token=session.refresh_jwt,
            expires_at=jwt_expiry(session.access_jwt),
            account_id=session.did,
            extra={
                "did": session.did,
                "handle": session.handle,
                "pds_url": pds_url,
                "service_url": service,
            },
        )
        profile = self._profile(self._xrpc(pds_url), session.did, session.handle)
        return credentials, profile

    @staticmethod
    def _session(body: Any) -> Session:
        try:
            return Session.from_json(body)
        except (KeyError, TypeError, AttributeError):
            raise errors.Transient(
                "Bluesky answered the login with an unexpected body; try again.",
                platform=PLATFORM,
            ) from None

    def refresh(self, credentials: Credentials) -> TokenSet:
        """Exchange the refresh JWT for a new pair (``refreshSession``); never logs in again."""
        if not credentials.refresh_token:
            raise errors.AuthExpired(RECONNECT_MESSAGE, platform=PLATFORM)
        try:
            body = self._pds(credentials).call_raw(
                "POST", "com.atproto.server.refreshSession", token=credentials.refresh_token
            )
        except XrpcError as exc:
            # A revoked or expired refresh JWT: 400 ExpiredToken "Token has been revoked".
            if exc.error in _SESSION_TOKEN_ERRORS or exc.status_code == 401:
                raise errors.AuthExpired(
                    RECONNECT_MESSAGE, platform=PLATFORM, status_code=exc.status_code
                ) from None
            raise to_platform_error(exc, operation="session refresh", ambiguous=False) from None
        session = self._session(body)
        extra: dict[str, Any] = {"did": session.did, "handle": session.handle}
        pds_url = pds_endpoint(session.did_doc)
        if pds_url:
            extra["pds_url"] = pds_url  # the account moved to another PDS
        return TokenSet(
            access_token=session.access_jwt,
            refresh_token=session.refresh_jwt,
            expires_at=jwt_expiry(session.access_jwt),
            extra=extra,
        )

    def profile(self, credentials: Credentials) -> Profile:
        """The account behind the session (``getSession``, plus the profile record's name)."""
        pds = self._pds(credentials)
        body = pds.call("GET", "com.atproto.server.getSession", token=credentials.access_token)
        return self._profile(pds, str(body["did"]), str(body.get("handle") or body["did"]))

    def _profile(self, pds: XrpcClient, did: str, handle: str) -> Profile:
        display_name = ""
        # The profile record lives in the repo, so this works without an AppView; a missing or
        # unreadable profile is not a reason to fail a login.
        try:
            found = self._get_record(pds, did, PROFILE_COLLECTION, "self")
        except errors.PlatformError:
            found = None
        if found is not None:
            display_name = str(found[1].get("displayName") or "")
        return Profile(
            account_id=did,
            handle=handle,
            display_name=display_name,
            url=f"https://bsky.app/profile/{handle}",
        )

    def revoke(self, credentials: Credentials) -> None:
        """End the session at the PDS (the app password itself is revoked in Bluesky's app)."""
        if not credentials.refresh_token:
            return None
        with contextlib.suppress(errors.AuthExpired):  # already gone
            self._pds(credentials).call(
                "POST", "com.atproto.server.deleteSession", token=credentials.refresh_token
            )
        return None

    # -- publishing -----------------------------------------------------------------------
    def publish(self, credentials: Credentials, request: PublishRequest) -> PublishResult:
        """Publish the post (and thread parts) with client-chosen rkeys; see the module doc."""
        self._validate(request)
        pds = self._pds(credentials)
        did = self._did(credentials)
        handle = self._handle(credentials)
        token = credentials.access_token
        done = {part.index: part for part in request.already_published}
        refs: dict[int, StrongRef] = {}

        def ref_of(index: int) -> StrongRef:
            if index not in refs:
                refs[index] = self._ref_of_published(pds, done[index])
            return refs[index]

        conversation: tuple[StrongRef, StrongRef] | None = None
        if request.reply_to is not None and 0 not in done:
            conversation = self._reply_refs(pds, token, request.reply_to)

        def thread_root() -> StrongRef:
            # In a reply thread the root stays the conversation's root (platform-apis 2.3).
            if conversation is not None:
                return conversation[0]
            if request.reply_to is None:
                return ref_of(0)
            if "root" not in refs_by_name:
                refs_by_name["root"] = self._root_of(pds, ref_of(0))
            return refs_by_name["root"]

        refs_by_name: dict[str, StrongRef] = {}
        resolve = self._handle_resolver(pds)
        published: list[PublishedPart] = []
        for index, text in enumerate(request.parts):
            if index in done:
                published.append(done[index])
                continue
            record: dict[str, Any] = {
                "$type": POST_TYPE,
                "text": text,
                "createdAt": _timestamp(utcnow()),
            }
            if request.language:
                record["langs"] = [request.language]
            facets = build_facets(text, resolve)
            if facets:
                record["facets"] = facets
            if index == 0:
                if conversation is not None:
                    root, parent = conversation
                    record["reply"] = {"root": root.as_json(), "parent": parent.as_json()}
                embed = self._embed(pds, token, request)
                if embed is not None:
                    record["embed"] = embed
            else:
                record["reply"] = {
                    "root": thread_root().as_json(),
                    "parent": ref_of(index - 1).as_json(),
                }
            rkey = deterministic_tid(request.created_at, request.idempotency_key, index)
            ref = self._create_post(pds, token, did, rkey, record)
            refs[index] = ref
            part = PublishedPart(
                index=index,
                external_id=ref.uri,
                url=post_url(handle, rkey),
                extra={"uri": ref.uri, "cid": ref.cid, "rkey": rkey},
            )
            published.append(part)
            if request.on_part_published is not None:
                request.on_part_published(part)
        first = published[0]
        return PublishResult(external_id=first.external_id, url=first.url, parts=published)

    def _root_of(self, pds: XrpcClient, first: StrongRef) -> StrongRef:
        """The conversation root recorded in a reply we published earlier."""
        found = self._get_post(pds, AtUri.parse(first.uri))
        if found is not None:
            root = _strong_ref(found[1].get("reply", {}).get("root"))
            if root is not None:
                return root
        return first

    def lookup(self, credentials: Credentials, request: PublishRequest) -> PublishResult | None:
        """Read back each part's rkey (``getRecord``); complete a partially published thread.

        Returns ``None`` only when the first part was never written. When parts 0..k exist and
        the rest do not, the remaining parts are published (resuming the thread) and the
        result describes the whole thread.
        """
        pds = self._pds(credentials)
        did = self._did(credentials)
        handle = self._handle(credentials)
        done = {part.index: part for part in request.already_published}
        found: list[PublishedPart] = []
        for index, text in enumerate(request.parts):
            if index in done:
                found.append(done[index])
                continue
            rkey = deterministic_tid(request.created_at, request.idempotency_key, index)
            existing = self._get_post(pds, AtUri(did, POST_COLLECTION, rkey))
            if existing is None:
                break
            ref, value = existing
            self._check_same_post(value, text, rkey)
            part = PublishedPart(
                index=index,
                external_id=ref.uri,
                url=post_url(handle, rkey),
                extra={"uri": ref.uri, "cid": ref.cid, "rkey": rkey},
            )
            found.append(part)
            if request.on_part_published is not None:
                request.on_part_published(part)
        if not found:
            return None
        if len(found) < len(request.parts):
            return self.publish(credentials, dataclasses.replace(request, already_published=found))
        return PublishResult(external_id=found[0].external_id, url=found[0].url, parts=found)

    def delete(self, credentials: Credentials, external_id: str) -> None:
        """Delete a post by its at:// URI (``deleteRecord``; a missing record counts as deleted)."""
        try:
            uri = AtUri.parse(external_id)
        except ValueError:
            raise errors.Permanent(
                f"{external_id!r} is not a Bluesky post id (expected an at:// URI).",
                platform=PLATFORM,
            ) from None
        pds = self._pds(credentials)
        try:
            pds.call_raw(
                "POST",
                "com.atproto.repo.deleteRecord",
                token=credentials.access_token,
                json={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
            )
        except XrpcError as exc:
            if exc.error == "RecordNotFound":
                return None
            raise to_platform_error(exc, operation="deleteRecord", ambiguous=False) from None
        return None

    # -- helpers --------------------------------------------------------------------------
    def _validate(self, request: PublishRequest) -> None:
        # Checked before anything is written, so a thread never stops half way on length.
        if not request.parts:
            raise errors.InvalidContent("The post has no text.", platform=PLATFORM)
        for number, text in enumerate(request.parts, start=1):
            graphemes, size = grapheme_length(text), utf8_length(text)
            if graphemes > self.max_length or size > self.max_bytes:
                raise errors.InvalidContent(
                    f"Part {number} is {graphemes} characters ({size} bytes); Bluesky allows "
                    f"{self.max_length} characters and {self.max_bytes} bytes. Shorten it or "
                    "split it into a thread.",
                    platform=PLATFORM,
                )
        if len(request.media) > self.max_images:
            raise errors.InvalidContent(
                f"Bluesky takes at most {self.max_images} images per post; this one has "
                f"{len(request.media)}.",
                platform=PLATFORM,
            )
        for item in request.media:
            if item.mime_type not in self.image_types:
                raise errors.InvalidContent(
                    f"Bluesky does not take {item.mime_type} images ({item.filename}); use JPEG, "
                    "PNG, GIF or WebP.",
                    platform=PLATFORM,
                )
            if len(item.data) > self.max_image_bytes:
                raise errors.InvalidContent(
                    f"The image {item.filename} is {len(item.data) / 1_000_000:.1f} MB; Bluesky "
                    f"takes at most {self.max_image_bytes / 1_000_000:.0f} MB per image.",
                    platform=PLATFORM,
                )

    def _handle_resolver(self, pds: XrpcClient) -> Callable[[str], str | None]:
        cache: dict[str, str | None] = {}

        def resolve(handle: str) -> str | None:
            if handle not in cache:
                try:
                    body = pds.call_raw(
                        "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
                    )
                except XrpcError as exc:
                    # 400 "Unable to resolve handle": not an account, so the text stays plain.
                    if exc.status_code == 400:
                        cache[handle] = None
                        return None
                    raise to_platform_error(
                        exc, operation="resolveHandle", ambiguous=False
                    ) from None
                did = body.get("did") if isinstance(body, Mapping) else None
                cache[handle] = str(did) if did else None
            return cache[handle]

        return resolve

    def _embed(self, pds: XrpcClient, token: str, request: PublishRequest) -> dict[str, Any] | None:
        if request.media:
            images = []
            for item in request.media:
                body = pds.call(
                    "POST",
                    "com.atproto.repo.uploadBlob",
                    token=token,
                    content=item.data,
                    content_type=item.mime_type,
                )
                # alt is required by the lexicon, even when empty (checklist 10).
                image: dict[str, Any] = {"image": body["blob"], "alt": item.alt_text or ""}
                ratio = _aspect_ratio(item)
                if ratio is not None:
                    image["aspectRatio"] = ratio
                images.append(image)
            return {"$type": EMBED_IMAGES, "images": images}
        if request.link:
            # Bluesky does not scrape link previews: the card is built from what we know.
            return {
                "$type": EMBED_EXTERNAL,
                "external": {
                    "uri": request.link,
                    "title": request.link_title or request.link,
                    "description": request.link_description or "",
                },
            }
        return None

    def _create_post(
        self, pds: XrpcClient, token: str, did: str, rkey: str, record: dict[str, Any]
    ) -> StrongRef:
        try:
            body = pds.call(
                "POST",
                "com.atproto.repo.createRecord",
                token=token,
                json={"repo": did, "collection": POST_COLLECTION, "rkey": rkey, "record": record},
                ambiguous=True,
            )
        except errors.UnknownOutcome as outcome:
            # Either the write landed before the failure, or the rkey already holds an earlier
            # attempt (the PDS answers a taken key with a bare 500, platform-apis 2.8 and
            # verified on PDS 0.4.184). Reading the key back settles it.
            try:
                existing = self._get_post(pds, AtUri(did, POST_COLLECTION, rkey))
            except errors.PlatformError:
                raise outcome from None
            if existing is None:
                raise
            self._check_same_post(existing[1], str(record["text"]), rkey)
            return existing[0]
        try:
            return StrongRef(uri=str(body["uri"]), cid=str(body["cid"]))
        except (KeyError, TypeError):
            raise errors.UnknownOutcome(
                "Bluesky accepted the post but did not say where it is.", platform=PLATFORM
            ) from None

    @staticmethod
    def _check_same_post(value: Mapping[str, Any], text: str, rkey: str) -> None:
        if value.get("text") != text:
            raise errors.Permanent(
                f"The Bluesky record key {rkey} already holds a different post, so this one was "
                "not published. Reschedule it (a new schedule gets a new key).",
                platform=PLATFORM,
            )

    def _get_record(
        self, pds: XrpcClient, repo: str, collection: str, rkey: str
    ) -> tuple[StrongRef, Mapping[str, Any]] | None:
        try:
            body = pds.call_raw(
                "GET",
                "com.atproto.repo.getRecord",
                params={"repo": repo, "collection": collection, "rkey": rkey},
            )
        except XrpcError as exc:
            if exc.error == "RecordNotFound" or exc.status_code == 404:
                return None
            raise to_platform_error(exc, operation="getRecord", ambiguous=False) from None
        ref = _strong_ref(body)
        value = body.get("value") if isinstance(body, Mapping) else None
        if ref is None or not isinstance(value, Mapping):
            raise errors.Transient(
                "Bluesky answered getRecord without a record.", platform=PLATFORM
            )
        return ref, value

    def _get_post(self, pds: XrpcClient, uri: AtUri) -> tuple[StrongRef, Mapping[str, Any]] | None:
        return self._get_record(pds, uri.repo, uri.collection, uri.rkey)

    def _ref_of_published(self, pds: XrpcClient, part: PublishedPart) -> StrongRef:
        uri = str(part.extra.get("uri") or part.external_id)
        cid = part.extra.get("cid")
        if cid:
            return StrongRef(uri, str(cid))
        found = self._get_post(pds, AtUri.parse(uri))
        if found is None:
            raise errors.Permanent(
                f"Part {part.index + 1} of the thread ({uri}) was deleted on Bluesky, so the "
                "thread cannot continue.",
                platform=PLATFORM,
            )
        return found[0]

    def _reply_refs(
        self, pds: XrpcClient, token: str, target: ReplyTarget
    ) -> tuple[StrongRef, StrongRef]:
        """``(root, parent)`` strong refs for a reply to ``target`` (platform-apis 2.3)."""
        try:
            parent_uri = AtUri.parse(target.parent_id)
        except ValueError:
            raise errors.Permanent(
                f"Cannot reply to {target.parent_id!r}: not a Bluesky post (at:// URI).",
                platform=PLATFORM,
            ) from None
        # Read the parent even when the interaction carries its refs: the PDS accepts a reply
        # to a post deleted since (verified on the local network), which would publish an
        # orphan nobody sees under the conversation. Raises Permanent when the parent is gone.
        parent, value = self._fetch_post_anywhere(pds, token, parent_uri)
        root_cid = target.extra.get("root_cid")
        if target.root_id and root_cid:
            return StrongRef(target.root_id, str(root_cid)), parent
        root = _strong_ref(value.get("reply", {}).get("root")) or parent
        return root, parent

    def _fetch_post_anywhere(
        self, pds: XrpcClient, token: str, uri: AtUri
    ) -> tuple[StrongRef, Mapping[str, Any]]:
        # Our PDS serves its own repos; a post on another PDS is read through the AppView.
        try:
            found = self._get_post(pds, uri)
        except errors.Permanent:
            found = None
        if found is not None:
            return found
        body = pds.call("GET", "app.bsky.feed.getPosts", token=token, params={"uris": str(uri)})
        posts = body.get("posts") if isinstance(body, Mapping) else None
        if posts:
            ref = _strong_ref(posts[0])
            record = posts[0].get("record")
            if ref is not None and isinstance(record, Mapping):
                return ref, record
        raise errors.Permanent(
            f"The post being replied to ({uri}) no longer exists on Bluesky (it was deleted), "
            "so the reply was not published.",
            platform=PLATFORM,
        )

    # -- reading back ---------------------------------------------------------------------
    def _read(
        self,
        credentials: Credentials,
        nsid: str,
        params: Sequence[tuple[str, str]],
    ) -> Mapping[str, Any]:
        """An ``app.bsky.*`` read through the account's PDS (proxied to its AppView)."""
        try:
            body = self._pds(credentials).call_raw(
                "GET", nsid, token=credentials.access_token, params=params
            )
        except XrpcError as exc:
            # A PDS without an AppView (a bare self-hosted one) cannot answer app.bsky reads.
            if exc.status_code in (400, 501) and exc.message.startswith("No service configured"):
                raise ReadBackUnsupported(
                    "This Bluesky server has no AppView configured, so it cannot list "
                    f"notifications or post counts ({exc.message})."
                ) from None
            raise to_platform_error(exc, operation=nsid, ambiguous=False) from None
        if not isinstance(body, Mapping):
            raise errors.Transient(
                f"Bluesky answered {nsid} with an unexpected body; try again.", platform=PLATFORM
            )
        return body

    def fetch_interactions(
        self,
        credentials: Credentials,
        *,
        cursor: str | None,
        recent_posts: Sequence[str] = (),
        limit: int = 100,
    ) -> InteractionPage:
        """Replies, mentions and quotes (``listNotifications``) newer than ``cursor``.

        The first poll returns the newest page; later polls page back until they reach what the
        previous poll saw (the cursor rules are in ``readback``), at most
        ``max_notification_pages`` pages of ``limit`` (1..100). Oldest first.
        """
        did = self._did(credentials)
        previous = readback.NotificationCursor.decode(cursor)
        page_size = str(max(1, min(100, limit)))
        fresh: list[tuple[str, datetime]] = []
        found: list[InboundInteraction] = []
        api_cursor: str | None = None
        for _ in range(self.max_notification_pages if previous else 1):
            params = [("reasons", reason) for reason in readback.REASONS]
            params.append(("limit", page_size))
            if api_cursor:
                params.append(("cursor", api_cursor))
            body = self._read(credentials, "app.bsky.notification.listNotifications", params)
            notifications = body.get("notifications")
            if not isinstance(notifications, list):
                raise errors.Transient(
                    "Bluesky answered listNotifications without notifications; try again.",
                    platform=PLATFORM,
                )
            reached = False
            for notification in notifications:
                if not isinstance(notification, Mapping):
                    continue
                uri = str(notification.get("uri") or "")
                indexed_at = readback.parse_time(notification.get("indexedAt"))
                if not uri or indexed_at is None:
                    continue
                if previous is not None and indexed_at < previous.horizon():
                    reached = True
                    break
                if previous is not None and previous.is_seen(uri, indexed_at):
                    continue
                fresh.append((uri, indexed_at))
                item = readback.to_interaction(notification, did)
                if item is not None:
                    found.append(item)
            api_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if reached or not api_cursor or not notifications:
                break
        new_cursor = readback.next_cursor(previous, fresh)
        items = readback.dedupe(list(reversed(found)))
        return InteractionPage(items=items, cursor=new_cursor.encode() if new_cursor else None)

    def fetch_metrics(
        self, credentials: Credentials, external_ids: Sequence[str]
    ) -> Sequence[MetricsReading]:
        """Counts of up to 25 posts (``getPosts``); a post gone from its repo is ``deleted``.

        The AppView is eventually consistent: a post it does not know *yet* (still in the
        repo, per ``getRecord``) gets a reading with no figures rather than ``deleted``.
        """
        if len(external_ids) > self.metrics_batch_size:
            raise ValueError(f"at most {self.metrics_batch_size} posts per getPosts call")
        readings: dict[str, MetricsReading] = {}
        valid: list[str] = []
        for external_id in external_ids:
            try:
                AtUri.parse(external_id)
            except ValueError:
                readings[external_id] = MetricsReading(external_id=external_id, deleted=True)
            else:
                valid.append(external_id)
        views: dict[str, Mapping[str, Any]] = {}
        if valid:
            body = self._read(
                credentials,
                "app.bsky.feed.getPosts",
                [("uris", uri) for uri in dict.fromkeys(valid)],
            )
            posts = body.get("posts")
            if not isinstance(posts, list):
                raise errors.Transient(
                    "Bluesky answered getPosts without posts; try again.", platform=PLATFORM
                )
            for view in posts:
                if isinstance(view, Mapping) and isinstance(view.get("uri"), str):
                    views[str(view["uri"])] = view
        pds = self._pds(credentials)
        for external_id in valid:
            view = views.get(external_id)
            if view is not None:
                readings[external_id] = readback.to_metrics(external_id, view)
            elif self._get_post(pds, AtUri.parse(external_id)) is None:
                readings[external_id] = MetricsReading(external_id=external_id, deleted=True)
            else:
                readings[external_id] = MetricsReading(external_id=external_id)
        return [readings[external_id] for external_id in external_ids]


def _strong_ref(value: Any) -> StrongRef | None:
    if isinstance(value, Mapping) and value.get("uri") and value.get("cid"):
        return StrongRef(str(value["uri"]), str(value["cid"]))
    return None
