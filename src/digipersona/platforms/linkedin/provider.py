"""The LinkedIn provider: a member's personal profile through the Posts API (platform-apis 3).

What an ordinary app gets (3.1, 3.6): write-only posting as the member (``w_member_social``) and
the OpenID ``userinfo``; no read access to the member's posts, and no refresh token (the member
reconnects every 60 days, 3.2).

Threads: LinkedIn has none. ``parts[1:]`` become follow-up comments on the post (plain text,
at most 1,250 characters, never little text; 3.4), in order.

Retry safety (base.py contract; 3.9): LinkedIn has no idempotency key, and a personal profile
cannot list its posts, so ``lookup`` cannot search. It returns a result only when it can prove
the post exists: the engine recorded its URN in ``request.already_published`` (and, for
comments, either recorded them too or the token can read comments with ``r_member_social``).
Otherwise it returns ``None`` and the engine calls ``publish`` again, which is safe here:
LinkedIn answers an identical commentary with ``422 DUPLICATE_POST`` naming the existing URN,
and ``publish`` returns that URN as the result instead of posting twice. Two known limits:
after a deletion LinkedIn can keep naming the deleted ("ghost") URN for 24-48 h, and a comment
whose create timed out may be posted twice (comments have no duplicate check and cannot be read
without ``r_member_social``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from digipersona.kit.time import utcnow
from digipersona.platforms import errors
from digipersona.platforms import http as platform_http
from digipersona.platforms.base import (
    AuthKind,
    Credentials,
    InboundInteraction,
    InteractionPage,
    LengthUnit,
    LinkHandling,
    MediaItem,
    MetricsReading,
    Profile,
    Provider,
    ProviderConfig,
    PublishedPart,
    PublishRequest,
    PublishResult,
    ReadBackUnsupported,
    ReplyTarget,
    TokenSet,
)
from digipersona.platforms.linkedin import littletext, schemas
from digipersona.platforms.linkedin.client import (
    PLATFORM,
    DuplicatePost,
    LinkedInClient,
    encode_urn,
)

COMMENT_MAX_LENGTH = 1250
# How many comments one page of GET /rest/socialActions/{urn}/comments asks for, and how many
# pages per post one poll reads at most.
COMMENTS_PAGE = 100
COMMENTS_PAGES = 5
READ_SCOPES = ("r_member_social", "r_member_social_feed")
COMMENTS_NOTE = (
    "LinkedIn lets apps read comments on a personal profile's posts only with the restricted "
    "r_member_social permission (granted to select developers); without it the inbox shows no "
    "LinkedIn comments. LinkedIn has no mentions feed for personal profiles."
)
ANALYTICS_SCOPE = "r_member_postAnalytics"
# queryType of memberCreatorPostAnalytics -> MetricsReading field (3.6).
ANALYTICS_QUERIES = (
    ("IMPRESSION", "impressions"),
    ("REACTION", "likes"),
    ("COMMENT", "replies"),
    ("RESHARE", "reposts"),
)
# LinkedIn's documented image limit is in pixels (images API); bytes are our own cap.
MAX_PIXELS = 36_152_320


def _analytics_entity(urn: str) -> str | None:
    """``(share:urn%3Ali%3Ashare%3A1)`` or ``(ugc:...)`` for a post URN; ``None`` otherwise."""
    if urn.startswith("urn:li:share:"):
        return f"(share:{encode_urn(urn)})"
    if urn.startswith("urn:li:ugcPost:"):
        return f"(ugc:{encode_urn(urn)})"
    return None


class LinkedInProvider(Provider):
    """LinkedIn personal profiles (Share on LinkedIn + Sign In with LinkedIn using OIDC)."""

    name: ClassVar[str] = "linkedin"
    display_name: ClassVar[str] = "LinkedIn"
    auth_kind: ClassVar[AuthKind] = "oauth2"
    max_length: ClassVar[int] = 3000
    length_unit: ClassVar[LengthUnit] = "utf16"
    max_images: ClassVar[int] = 20
    max_image_bytes: ClassVar[int] = 20 * 1024 * 1024
    image_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png", "image/gif")
    supports_threads: ClassVar[bool] = False
    link_handling: ClassVar[LinkHandling] = "card"
    scopes: ClassVar[tuple[str, ...]] = ("openid", "profile", "email", "w_member_social")
    required_settings: ClassVar[tuple[str, ...]] = (
        "DIGIPERSONA_LINKEDIN_CLIENT_ID",
        "DIGIPERSONA_LINKEDIN_CLIENT_SECRET",
    )

    supports_interactions: ClassVar[bool] = True
    interactions_note: ClassVar[str] = COMMENTS_NOTE

    # Read-back (3.6): personal profiles get metrics only through Member Post Analytics.
    supports_metrics: ClassVar[bool] = True
    metrics_fields: ClassVar[tuple[str, ...]] = ("likes", "reposts", "replies", "impressions")
    metrics_note: ClassVar[str] = (
        "LinkedIn gives ordinary apps no metrics for personal profiles. Impressions, "
        "reactions, comments and reshares need LinkedIn's Member Post Analytics product "
        f"(scope {ANALYTICS_SCOPE}), which LinkedIn grants on approval; reconnect the account "
        "after the app has it. LinkedIn has no quote posts."
    )
    # Four calls per post (one per queryType), against daily per-member limits (3.7).
    metrics_batch_size: ClassVar[int] = 10
    metrics_requests_per_post: ClassVar[int] = len(ANALYTICS_QUERIES)

    def __init__(self, config: ProviderConfig, http: httpx.Client) -> None:
        super().__init__(config, http)
        self.client = LinkedInClient(config, http)

    @classmethod
    def is_configured(cls, config: ProviderConfig) -> bool:
        """LinkedIn web apps need both the client id and the client secret (no PKCE)."""
        return bool(config.client_id and config.client_secret)

    # -- connecting ---------------------------------------------------------------------------
    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        """LinkedIn's consent page; web apps use the client secret, so no PKCE (3.2)."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id or "",
                "redirect_uri": redirect_uri,
                "state": state,
                "scope": " ".join(self.scopes),
            }
        )
        return f"{self.config.oauth_url.rstrip('/')}/authorization?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """Exchange the code for a 60-day access token (refresh token for partner apps only)."""
        body = self.client.token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            refreshing=False,
        )
        return self._tokens(body, previous_refresh=None)

    def refresh(self, credentials: Credentials) -> TokenSet:
        """Refresh with a partner refresh token; ordinary apps must reconnect (3.2)."""
        if not credentials.refresh_token:
            raise errors.AuthExpired(
                "LinkedIn gives ordinary apps no refresh token: reconnect the account "
                "(LinkedIn access tokens last 60 days).",
                platform=PLATFORM,
            )
        body = self.client.token(
            {"grant_type": "refresh_token", "refresh_token": credentials.refresh_token},
            refreshing=True,
        )
        return self._tokens(body, previous_refresh=credentials.refresh_token)

    def revoke(self, credentials: Credentials) -> None:
        """Revoke the access token at LinkedIn."""
        self.client.revoke(credentials.access_token)

    def profile(self, credentials: Credentials) -> Profile:
        """The member behind the token, from OpenID ``userinfo`` (``/v2/me`` needs old scopes)."""
        info = self.client.userinfo(credentials.access_token)
        sub = str(info.get("sub") or "")
        if not sub:
            raise errors.Permanent("LinkedIn userinfo has no 'sub'.", platform=PLATFORM)
        name = str(info.get("name") or "")
        return Profile(
            account_id=schemas.member_urn(sub),
            handle=name or str(info.get("email") or sub),
            display_name=name,
            url=None,
            avatar_url=str(info["picture"]) if info.get("picture") else None,
        )

    # -- publishing ---------------------------------------------------------------------------
    def publish(self, credentials: Credentials, request: PublishRequest) -> PublishResult:
        """Create the post (or comment, for a reply), then the follow-up comments, in order."""
        self._validate(request)
        token = credentials.access_token
        author = credentials.account_id or self.profile(credentials).account_id
        done = {part.index: part for part in request.already_published}
        first = done.get(0)
        if first is None:
            if request.reply_to is not None:
                first = self._reply(token, author, request)
            else:
                first = self._create_post(token, author, request)
            self._announce(request, first)
        parts = [first]
        post_urn = first.external_id
        for index, text in enumerate(request.parts[1:], start=1):
            part = done.get(index)
            if part is None:
                target = post_urn if request.reply_to is None else self._reply_object(request)
                part = self._comment(token, author, target, text, index)
                self._announce(request, part)
            parts.append(part)
        return PublishResult(external_id=first.external_id, url=first.url, parts=parts)

    def lookup(self, credentials: Credentials, request: PublishRequest) -> PublishResult | None:
        """Prove a previous attempt landed from recorded URNs; see the module docstring."""
        done = {part.index: part for part in request.already_published}
        first = done.get(0)
        if first is None:
            return None
        parts: list[PublishedPart] = [first]
        missing = [i for i in range(1, len(request.parts)) if i not in done]
        found = self._read_comments(credentials, first.external_id, request, missing)
        if found is None:
            return None
        for index in range(1, len(request.parts)):
            parts.append(done.get(index) or found[index])
        return PublishResult(external_id=first.external_id, url=first.url, parts=parts)

    def delete(self, credentials: Credentials, external_id: str) -> None:
        """Delete a post; one that is already gone counts as deleted."""
        try:
            self.client.rest(
                "DELETE",
                f"posts/{encode_urn(external_id)}",
                credentials.access_token,
                what="deleting the post",
            )
        except errors.Permanent as exc:
            if exc.status_code != 404:
                raise

    # -- reading back -------------------------------------------------------------------------
    def fetch_interactions(
        self,
        credentials: Credentials,
        *,
        cursor: str | None,
        recent_posts: Sequence[str] = (),
        limit: int = 100,
    ) -> InteractionPage:
        """Comments by others on ``recent_posts`` made at or after ``cursor`` (epoch ms).

        LinkedIn can only be asked per post (``GET /rest/socialActions/{urn}/comments``, 3.6)
        and has no "since" parameter, so the cursor is the newest ``created.time`` seen and
        comments at that same millisecond are read again (storage is idempotent). A 403 means
        the app lacks ``r_member_social``: ``ReadBackUnsupported`` with the reason; a 404 is a
        post without comments.
        """
        if credentials.scopes and not set(READ_SCOPES) & set(credentials.scopes):
            # The member granted no read scope: asking would only spend the request budget.
            raise ReadBackUnsupported(COMMENTS_NOTE)
        since = int(cursor) if cursor and cursor.isdigit() else 0
        newest = since
        items: list[InboundInteraction] = []
        for post_urn in recent_posts:
            for element in self._comments(credentials, post_urn):
                created = int((element.get("created") or {}).get("time") or 0)
                actor = str(element.get("actor") or "")
                urn = str(element.get("commentUrn") or "")
                if not urn or created < since or actor == credentials.account_id:
                    continue
                newest = max(newest, created)
                parent = element.get("parentComment")
                items.append(
                    InboundInteraction(
                        external_id=urn,
                        kind="comment",
                        text=str((element.get("message") or {}).get("text") or ""),
                        created_at=datetime.fromtimestamp(created / 1000, UTC)
                        if created
                        else utcnow(),
                        author_id=actor,
                        # Personal profiles cannot look up other members: the URN is all we get.
                        author_handle=actor,
                        url=f"{schemas.post_url(post_urn)}?{urlencode({'commentUrn': urn})}",
                        subject_external_id=post_urn,
                        # Threads are two levels deep: a reply names the top-level comment.
                        reply_target=ReplyTarget(
                            parent_id=str(parent) if parent else urn, root_id=post_urn
                        ),
                    )
                )
        items.sort(key=lambda i: i.created_at)
        return InteractionPage(
            items=items[:limit] if limit else items, cursor=str(newest) if newest else cursor
        )

    def _comments(self, credentials: Credentials, post_urn: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in range(COMMENTS_PAGES):
            try:
                response = self.client.rest(
                    "GET",
                    f"socialActions/{encode_urn(post_urn)}/comments",
                    credentials.access_token,
                    params={"count": str(COMMENTS_PAGE), "start": str(page * COMMENTS_PAGE)},
                    what="reading comments",
                )
            except errors.Permanent as exc:
                if exc.status_code == 404:
                    return found
                if exc.status_code == 403:
                    raise ReadBackUnsupported(COMMENTS_NOTE) from exc
                raise
            body = platform_http.json_object(response)
            elements = [e for e in body.get("elements") or [] if isinstance(e, dict)]
            found.extend(elements)
            total = (body.get("paging") or {}).get("total")
            if len(elements) < COMMENTS_PAGE or (isinstance(total, int) and len(found) >= total):
                break
        return found

    # -- reading back: metrics (3.6) ----------------------------------------------------------
    def fetch_metrics(
        self, credentials: Credentials, external_ids: Sequence[str]
    ) -> Sequence[MetricsReading]:
        """TOTAL impressions, reactions, comments and reshares per post (Member Post Analytics).

        Without ``r_member_postAnalytics`` LinkedIn offers personal profiles no read access at
        all (3.6): ``ReadBackUnsupported`` with the note, never zeros. A deleted post answers
        404. Comment URNs (replies we published) have no analytics: no reading for them.
        """
        if ANALYTICS_SCOPE not in credentials.scopes:
            raise ReadBackUnsupported(self.metrics_note)
        readings: list[MetricsReading] = []
        for urn in dict.fromkeys(external_ids):
            entity = _analytics_entity(urn)
            if entity is None:
                continue
            figures: dict[str, int | None] = {}
            try:
                for query_type, field_name in ANALYTICS_QUERIES:
                    figures[field_name] = self._analytics_total(credentials, entity, query_type)
            except errors.Permanent as exc:
                if exc.status_code == 404:
                    readings.append(MetricsReading(external_id=urn, deleted=True))
                    continue
                if exc.status_code == 403:
                    raise ReadBackUnsupported(self.metrics_note) from exc
                raise
            readings.append(
                MetricsReading(
                    external_id=urn,
                    likes=figures["likes"],
                    reposts=figures["reposts"],
                    replies=figures["replies"],
                    impressions=figures["impressions"],
                )
            )
        return readings

    def _analytics_total(
        self, credentials: Credentials, entity: str, query_type: str
    ) -> int | None:
        # Rest.li: the entity's parentheses and "share:" stay literal, the URN inside is
        # percent-encoded (3.3), so the query string is built here rather than by httpx.
        path = (
            f"memberCreatorPostAnalytics?q=entity&entity={entity}"
            f"&queryType={query_type}&aggregation=TOTAL"
        )
        response = self.client.rest(
            "GET", path, credentials.access_token, what="reading post analytics"
        )
        elements = platform_http.json_object(response).get("elements") or []
        for element in elements:
            if isinstance(element, dict):
                value = element.get("value", element.get("count"))
                if isinstance(value, int):
                    return value
        # No element: LinkedIn reported no figure for this queryType (stored as "not provided").
        return None

    # -- internals ----------------------------------------------------------------------------
    def _tokens(self, body: dict[str, Any], *, previous_refresh: str | None) -> TokenSet:
        extra: dict[str, Any] = {}
        refresh_expiry = platform_http.expires_at(body.get("refresh_token_expires_in"))
        if refresh_expiry is not None:
            extra["refresh_token_expires_at"] = refresh_expiry.isoformat()
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"])
            if body.get("refresh_token")
            else previous_refresh,
            expires_at=platform_http.expires_at(body.get("expires_in")),
            scopes=schemas.scopes_from(body.get("scope")),
            extra=extra,
        )

    def _validate(self, request: PublishRequest) -> None:
        if not request.parts:
            raise errors.InvalidContent("Nothing to post: the post has no text.", platform=PLATFORM)
        first_limit = self.max_length
        first_length = littletext.commentary_length(request.parts[0])
        if request.reply_to is not None:
            first_limit = COMMENT_MAX_LENGTH
            first_length = littletext.utf16_length(request.parts[0])
            if request.media:
                raise errors.InvalidContent(
                    "LinkedIn comments cannot carry images; remove them from the reply.",
                    platform=PLATFORM,
                )
        if first_length > first_limit:
            raise errors.InvalidContent(
                f"The LinkedIn post is {first_length} characters after escaping; the limit is "
                f"{first_limit}. Shorten it.",
                platform=PLATFORM,
            )
        for index, text in enumerate(request.parts[1:], start=1):
            length = littletext.utf16_length(text)
            if length > COMMENT_MAX_LENGTH:
                raise errors.InvalidContent(
                    f"Part {index + 1} becomes a LinkedIn comment of {length} characters; "
                    f"comments take at most {COMMENT_MAX_LENGTH}. Shorten it.",
                    platform=PLATFORM,
                )
        self._validate_media(request.media)

    def _validate_media(self, media: Sequence[MediaItem]) -> None:
        if len(media) > self.max_images:
            raise errors.InvalidContent(
                f"LinkedIn takes at most {self.max_images} images per post; this one has "
                f"{len(media)}.",
                platform=PLATFORM,
            )
        for number, item in enumerate(media, start=1):
            if item.mime_type not in self.image_types:
                raise errors.InvalidContent(
                    f"Image {number} is {item.mime_type}; LinkedIn takes "
                    f"{', '.join(self.image_types)}.",
                    platform=PLATFORM,
                )
            if len(item.data) > self.max_image_bytes:
                raise errors.InvalidContent(
                    f"Image {number} is larger than {self.max_image_bytes // (1024 * 1024)} MB.",
                    platform=PLATFORM,
                )
            if item.width and item.height and item.width * item.height > MAX_PIXELS:
                raise errors.InvalidContent(
                    f"Image {number} has {item.width}x{item.height} pixels; LinkedIn takes at "
                    f"most {MAX_PIXELS} pixels (e.g. 6000x6000).",
                    platform=PLATFORM,
                )

    def _announce(self, request: PublishRequest, part: PublishedPart) -> None:
        if request.on_part_published is not None:
            request.on_part_published(part)

    def _upload(self, token: str, owner: str, item: MediaItem) -> schemas.ImageRef:
        # Uploading an image attaches it to nothing, so repeating it is harmless: write=False.
        response = self.client.rest(
            "POST",
            "images",
            token,
            params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": owner}},
            what="starting an image upload",
        )
        value = platform_http.json_object(response).get("value") or {}
        upload_url, image_urn = value.get("uploadUrl"), value.get("image")
        if not upload_url or not image_urn:
            raise errors.Transient(
                "LinkedIn's initializeUpload answer had no uploadUrl/image.", platform=PLATFORM
            )
        self.client.put_upload(str(upload_url), token, item.data, item.mime_type)
        return schemas.ImageRef(urn=str(image_urn), alt_text=item.alt_text)

    def _create_post(self, token: str, author: str, request: PublishRequest) -> PublishedPart:
        images = [self._upload(token, author, item) for item in request.media]
        article = None
        if request.link and not images:
            article = schemas.Article(
                source=request.link,
                title=request.link_title or request.link,
                description=request.link_description,
            )
        body = schemas.post_body(
            author=author,
            commentary=littletext.escape(request.parts[0]),
            images=images,
            article=article,
        )
        try:
            response = self.client.rest(
                "POST", "posts", token, json=body, write=True, what="creating the post"
            )
        except DuplicatePost as duplicate:
            # 3.9: the earlier attempt landed; this is its URN. Not an error.
            urn = duplicate.urn
        else:
            # 3.4: 201 with an empty body; the id is only in this header.
            urn = response.headers.get("x-restli-id", "")
            if not urn:
                raise errors.UnknownOutcome(
                    "LinkedIn accepted the post but sent no x-restli-id.", platform=PLATFORM
                )
        return PublishedPart(index=0, external_id=urn, url=schemas.post_url(urn))

    def _reply_object(self, request: PublishRequest) -> str:
        target = request.reply_to
        assert target is not None
        if target.root_id:
            return target.root_id
        if target.parent_id.startswith("urn:li:comment:("):
            # urn:li:comment:(urn:li:activity:123,456): the post is the activity inside.
            return target.parent_id[len("urn:li:comment:(") :].split(",", 1)[0]
        return target.parent_id

    def _reply(self, token: str, author: str, request: PublishRequest) -> PublishedPart:
        target = request.reply_to
        assert target is not None
        obj = self._reply_object(request)
        parent = target.parent_id if target.parent_id.startswith("urn:li:comment:") else None
        return self._comment(token, author, obj, request.parts[0], 0, parent_comment=parent)

    def _comment(
        self,
        token: str,
        author: str,
        post_urn: str,
        text: str,
        index: int,
        *,
        parent_comment: str | None = None,
    ) -> PublishedPart:
        body = schemas.comment_body(actor=author, post_urn=post_urn, text=text)
        if parent_comment:
            # Comment threads are two levels deep: replies name the top-level comment (3.4).
            body["parentComment"] = parent_comment
        response = self.client.rest(
            "POST",
            f"socialActions/{encode_urn(post_urn)}/comments",
            token,
            json=body,
            write=True,
            what="adding a comment",
        )
        data = platform_http.json_object(response)
        urn = str(data.get("commentUrn") or response.headers.get("x-restli-id") or "")
        if not urn:
            raise errors.UnknownOutcome(
                "LinkedIn accepted the comment but named no comment URN.", platform=PLATFORM
            )
        url = f"{schemas.post_url(post_urn)}?{urlencode({'commentUrn': urn})}"
        return PublishedPart(index=index, external_id=urn, url=url, extra={"post_urn": post_urn})

    def _read_comments(
        self,
        credentials: Credentials,
        post_urn: str,
        request: PublishRequest,
        missing: list[int],
    ) -> dict[int, PublishedPart] | None:
        """Find unrecorded follow-up comments; ``None`` when they cannot all be proven."""
        if not missing:
            return {}
        try:
            response = self.client.rest(
                "GET",
                f"socialActions/{encode_urn(post_urn)}/comments",
                credentials.access_token,
                params={"count": "100"},
                what="reading comments",
            )
        except errors.Permanent:
            # 403 without r_member_social (3.6), 404 when there are no comments yet.
            return None
        elements = platform_http.json_object(response).get("elements") or []
        mine = [
            e for e in elements if isinstance(e, dict) and e.get("actor") == credentials.account_id
        ]
        found: dict[int, PublishedPart] = {}
        used: set[int] = set()
        for index in missing:
            for position, element in enumerate(mine):
                text = (element.get("message") or {}).get("text")
                if position not in used and text == request.parts[index]:
                    used.add(position)
                    urn = str(element.get("commentUrn") or element.get("id") or "")
                    found[index] = PublishedPart(
                        index=index,
                        external_id=urn,
                        url=f"{schemas.post_url(post_urn)}?{urlencode({'commentUrn': urn})}",
                        extra={"post_urn": post_urn},
                    )
                    break
            else:
                return None
        return found
