"""The X provider: API v2 with OAuth 2.0 authorization code + PKCE (platform-apis section 1).

Threads are self-reply chains (``reply.in_reply_to_tweet_id``), which X still allows on
self-serve tiers; replies to other people's posts are allowed only when their author summoned
this account (1.3), and X's 403 comes back as ``InvalidContent`` with X's own words.

Retry safety (base.py contract; 1.8): X has no idempotency key. ``lookup`` reads the account's
own timeline (``GET /2/users/{id}/tweets``, from shortly before the publication was created)
and matches each part's exact text, the chain of replies for threads, with URLs compared as
URLs (X rewrites them to t.co) and HTML entities undone. Limits: the timeline holds only the
newest 3,200 posts and ``lookup`` reads at most ``lookup_pages`` pages of 100 (set through
``ProviderConfig.extra``); every post read is billed (1.6); an edited post no longer matches.

A 403 "duplicate content" during ``publish`` is resolved inside ``publish``: the earlier post is
looked up the same way and, when it belongs to this publication (same text, same reply parent,
created after the publication), taken as the published part, so a resumed thread never
re-posts a part that landed. When the duplicate is not found it is someone's older post with
the same text: ``InvalidContent`` (change the text), never a blind retry.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar
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
from digipersona.platforms.x import schemas
from digipersona.platforms.x.client import PLATFORM, DuplicateContent, XClient

# 1.6 pay-per-use prices (USD): a post with a URL costs about 13 times a plain one.
COST_POST = 0.015
COST_POST_WITH_URL = 0.20
ALT_TEXT_MAX = 1000
# Clock skew allowed between our created_at and X's, when matching our own posts.
_SKEW = timedelta(minutes=2)


def estimate_cost_usd(parts: Sequence[str]) -> float:
    """What publishing these parts costs on pay-per-use: $0.015 each, $0.20 with a URL."""
    return round(sum(COST_POST_WITH_URL if schemas.has_url(p) else COST_POST for p in parts), 6)


class XProvider(Provider):
    """X accounts through API v2 (user context, OAuth 2.0 + PKCE)."""

    name: ClassVar[str] = "x"
    display_name: ClassVar[str] = "X"
    auth_kind: ClassVar[AuthKind] = "oauth2_pkce"
    max_length: ClassVar[int] = 280
    length_unit: ClassVar[LengthUnit] = "weighted"
    max_images: ClassVar[int] = 4
    max_image_bytes: ClassVar[int] = 5 * 1024 * 1024
    image_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    supports_threads: ClassVar[bool] = True
    link_handling: ClassVar[LinkHandling] = "inline"
    scopes: ClassVar[tuple[str, ...]] = (
        "tweet.read",
        "tweet.write",
        "users.read",
        "offline.access",
        "media.write",
    )
    required_settings: ClassVar[tuple[str, ...]] = ("DIGIPERSONA_X_CLIENT_ID",)
    supports_interactions: ClassVar[bool] = True
    interactions_note: ClassVar[str] = (
        "X: mentions and replies from the mentions timeline (its newest 800 only); every post "
        "read is billed by X."
    )
    # The mentions timeline holds 800 posts: 8 pages of 100 reach all of them (1.5).
    mention_pages: ClassVar[int] = 8
    # Read-back (1.5): public_metrics on GET /2/tweets, up to 100 ids per call.
    supports_metrics: ClassVar[bool] = True
    metrics_fields: ClassVar[tuple[str, ...]] = (
        "likes",
        "reposts",
        "replies",
        "quotes",
        "impressions",
    )
    metrics_note: ClassVar[str] = (
        "X bills every post read ($0.005 per post returned, deduplicated per UTC day)."
    )
    metrics_batch_size: ClassVar[int] = 100
    # 1.6: $0.005 per post read (mentions and metrics alike), against the monthly budget.
    read_cost_usd: ClassVar[float] = 0.005

    def estimate_cost_usd(self, parts: Sequence[str]) -> float:
        """Pay-per-use price of these parts (platform-apis 1.6), for the monthly budget."""
        return estimate_cost_usd(parts)

    def __init__(self, config: ProviderConfig, http: httpx.Client) -> None:
        super().__init__(config, http)
        self.client = XClient(config, http)
        # 1.1: the spec renamed tweet.fields to post.fields; live payloads still use the old
        # name, and X rejects unknown parameters, so exactly one is sent.
        self.fields_param = str(config.extra.get("fields_param", "tweet.fields"))
        self.lookup_pages = int(config.extra.get("lookup_pages", 3))

    @classmethod
    def is_configured(cls, config: ProviderConfig) -> bool:
        """X needs a client id; the secret is only for confidential apps."""
        return bool(config.client_id)

    # -- connecting ---------------------------------------------------------------------------
    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        """X's consent page with an S256 PKCE challenge (PKCE is required, 1.2)."""
        if not code_challenge:
            raise ValueError("X requires PKCE: pass the S256 code_challenge")
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.config.client_id or "",
                "redirect_uri": redirect_uri,
                "scope": " ".join(self.scopes),
                "state": state,
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{self.config.authorize_url}?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """Exchange the code (valid 30 s) and the PKCE verifier for tokens."""
        if not code_verifier:
            raise ValueError("X requires PKCE: pass the code_verifier")
        body = self.client.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
            refreshing=False,
        )
        return self._tokens(body)

    def refresh(self, credentials: Credentials) -> TokenSet:
        """Refresh; X rotates refresh tokens, so the returned one replaces the old one (1.2)."""
        if not credentials.refresh_token:
            raise errors.AuthExpired(
                "The X connection has no refresh token (offline.access was not granted): "
                "reconnect the account.",
                platform=PLATFORM,
            )
        body = self.client.token(
            {"grant_type": "refresh_token", "refresh_token": credentials.refresh_token},
            refreshing=True,
        )
        return self._tokens(body)

    def revoke(self, credentials: Credentials) -> None:
        """Revoke the refresh token (if any) and the access token."""
        if credentials.refresh_token:
            self.client.revoke(credentials.refresh_token, "refresh_token")
        self.client.revoke(credentials.access_token, "access_token")

    def profile(self, credentials: Credentials) -> Profile:
        """The account behind the token (``GET /2/users/me``)."""
        body = self.client.call(
            "GET",
            "/2/users/me",
            credentials.access_token,
            params={"user.fields": "profile_image_url"},
            what="reading the account",
        )
        data = body.get("data") or {}
        username = str(data.get("username") or "")
        return Profile(
            account_id=str(data.get("id") or ""),
            handle=username,
            display_name=str(data.get("name") or ""),
            url=f"https://x.com/{username}" if username else None,
            avatar_url=str(data["profile_image_url"]) if data.get("profile_image_url") else None,
        )

    # -- publishing ---------------------------------------------------------------------------
    def publish(self, credentials: Credentials, request: PublishRequest) -> PublishResult:
        """Post part 0 (with images), then each later part as a reply to the one before."""
        self._validate(credentials, request)
        done = {part.index: part for part in request.already_published}
        previous = request.reply_to.parent_id if request.reply_to else None
        parts: list[PublishedPart] = []
        for index, text in enumerate(request.parts):
            part = done.get(index)
            if part is None:
                media_ids: list[str] = []
                if index == 0 and request.media:
                    media_ids = [self._upload(credentials, item) for item in request.media]
                part = self._create(credentials, request, index, text, previous, media_ids)
                if request.on_part_published is not None:
                    request.on_part_published(part)
            parts.append(part)
            previous = part.external_id
        return PublishResult(external_id=parts[0].external_id, url=parts[0].url, parts=parts)

    def lookup(self, credentials: Credentials, request: PublishRequest) -> PublishResult | None:
        """Find the whole post or thread in the account's timeline; ``None`` if incomplete."""
        done = {part.index: part for part in request.already_published}
        timeline: list[schemas.Tweet] | None = None
        previous = request.reply_to.parent_id if request.reply_to else None
        parts: list[PublishedPart] = []
        for index, text in enumerate(request.parts):
            part = done.get(index)
            if part is None:
                if timeline is None:
                    timeline = self._timeline(credentials, request.created_at)
                match = _match(timeline, text, previous, request.created_at)
                if match is None:
                    return None
                part = PublishedPart(index, match.id, self._url(credentials, match.id))
            parts.append(part)
            previous = part.external_id
        return PublishResult(external_id=parts[0].external_id, url=parts[0].url, parts=parts)

    def delete(self, credentials: Credentials, external_id: str) -> None:
        """Delete a post; one that is already gone counts as deleted."""
        try:
            self.client.call(
                "DELETE", f"/2/tweets/{external_id}", credentials.access_token, what="deleting"
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
        """Mentions (replies included) newer than ``cursor`` (a ``since_id``), oldest first.

        ``GET /2/users/:id/mentions`` with ``since_id``, paginated with ``pagination_token``;
        ``meta.newest_id`` of the first page is the next cursor (1.5). A ``since_id`` X refuses
        (400, e.g. too old or malformed) is dropped and the newest mentions are read again:
        storage is idempotent, so re-reading cannot duplicate anything.
        """
        if "tweet.read" not in credentials.scopes and credentials.scopes:
            raise ReadBackUnsupported(
                "This X connection was made without the tweet.read permission: reconnect it "
                "to read mentions."
            )
        try:
            return self._mentions(credentials, cursor, limit)
        except errors.InvalidContent as exc:
            if cursor is None or "since_id" not in exc.message:
                raise
            return self._mentions(credentials, None, limit)

    def _mentions(
        self, credentials: Credentials, cursor: str | None, limit: int
    ) -> InteractionPage:
        user_id = self._account_id(credentials)
        referenced = (
            "referenced_posts" if self.fields_param == "post.fields" else "referenced_tweets"
        )
        params = {
            "max_results": str(min(100, max(5, limit))),
            self.fields_param: (
                f"created_at,author_id,conversation_id,in_reply_to_user_id,{referenced}"
            ),
            "expansions": "author_id",
            "user.fields": "description,name,username",
        }
        if cursor:
            params["since_id"] = cursor
        items: list[InboundInteraction] = []
        newest: str | None = None
        for _ in range(self.mention_pages):
            body = self.client.call(
                "GET",
                f"/2/users/{user_id}/mentions",
                credentials.access_token,
                params=params,
                what="reading mentions",
            )
            meta = body.get("meta") or {}
            if newest is None and meta.get("newest_id"):
                newest = str(meta["newest_id"])
            users = {
                str(u.get("id")): u
                for u in (body.get("includes") or {}).get("users") or []
                if isinstance(u, dict)
            }
            for data in body.get("data") or []:
                if isinstance(data, dict) and data.get("id"):
                    items.append(self._interaction(data, users, user_id))
            token = meta.get("next_token")
            # Every page is read: stopping early and advancing since_id would skip the rest.
            if not token:
                break
            params = {**params, "pagination_token": str(token)}
        items.sort(key=lambda i: (len(i.external_id), i.external_id))
        return InteractionPage(items=items, cursor=newest or cursor)

    def _interaction(
        self, data: dict[str, object], users: dict[str, dict[str, object]], me: str
    ) -> InboundInteraction:
        post_id = str(data["id"])
        author_id = str(data.get("author_id") or "")
        # An author missing from includes.users is a deleted or suspended account (1.5).
        author = users.get(author_id) or {}
        refs = data.get("referenced_tweets") or data.get("referenced_posts") or []
        kind: str = "mention"
        subject: str | None = None
        for ref in refs if isinstance(refs, list) else []:
            if not isinstance(ref, dict):
                continue
            if ref.get("type") == "quoted":
                kind, subject = "quote", str(ref.get("id"))
            elif ref.get("type") == "replied_to" and kind != "quote":
                subject = str(ref.get("id"))
                kind = "reply" if str(data.get("in_reply_to_user_id") or "") == me else kind
        handle = str(author.get("username") or "")
        return InboundInteraction(
            external_id=post_id,
            kind="quote" if kind == "quote" else "reply" if kind == "reply" else "mention",
            text=html.unescape(str(data.get("text") or "")),
            created_at=schemas.parse_time(data.get("created_at")) or utcnow(),
            author_id=author_id,
            author_handle=handle,
            author_name=str(author.get("name") or ("" if author else "deleted account")),
            author_bio=str(author.get("description") or ""),
            url=f"https://x.com/{handle or 'i'}/status/{post_id}",
            subject_external_id=subject,
            reply_target=ReplyTarget(parent_id=post_id),
        )

    # -- reading back: metrics (1.5) ----------------------------------------------------------
    def fetch_metrics(
        self, credentials: Credentials, external_ids: Sequence[str]
    ) -> Sequence[MetricsReading]:
        """``public_metrics`` of up to 100 posts per call; a deleted post reads ``deleted``.

        X answers partial failures as 200 with both ``data`` and ``errors``: an id whose
        problem type is ``resource-not-found`` is gone; other per-id errors (a suspended or
        protected author) give no reading for that id this time.
        """
        wanted = list(dict.fromkeys(i for i in external_ids if i))
        readings: list[MetricsReading] = []
        # Ids are digit strings of up to 19 characters; anything else would 400 the batch.
        valid = [i for i in wanted if i.isdigit() and len(i) <= 19]
        for start in range(0, len(valid), self.metrics_batch_size):
            batch = valid[start : start + self.metrics_batch_size]
            body = self.client.call(
                "GET",
                "/2/tweets",
                credentials.access_token,
                params={
                    "ids": ",".join(batch),
                    self.fields_param: "public_metrics,created_at,conversation_id",
                },
                what="reading post metrics",
            )
            for item in body.get("data") or []:
                if isinstance(item, dict) and item.get("id"):
                    readings.append(_reading(item))
            for error in body.get("errors") or []:
                if not isinstance(error, dict):
                    continue
                problem = schemas.parse_problem(200, error)
                resource = str(error.get("resource_id") or error.get("value") or "")
                if problem.type_is("resource-not-found") and resource in batch:
                    readings.append(MetricsReading(external_id=resource, deleted=True))
        return readings

    # -- internals ----------------------------------------------------------------------------
    def _tokens(self, body: dict[str, object]) -> TokenSet:
        refresh = body.get("refresh_token")
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(refresh) if refresh else None,
            expires_at=platform_http.expires_at(body.get("expires_in")),
            scopes=schemas.scopes_from(body.get("scope")),
        )

    def _url(self, credentials: Credentials, post_id: str) -> str:
        username = credentials.extra.get("username") or "i"
        return f"https://x.com/{username}/status/{post_id}"

    def _validate(self, credentials: Credentials, request: PublishRequest) -> None:
        # X Premium accounts may post longer text; the limit is per account (1.4).
        limit = int(credentials.extra.get("max_length") or self.max_length)
        if not request.parts:
            raise errors.InvalidContent("Nothing to post: the post has no text.", platform=PLATFORM)
        for index, text in enumerate(request.parts):
            length = schemas.weighted_length(text)
            if length > limit:
                raise errors.InvalidContent(
                    f"Part {index + 1} is {length} characters as X counts them (URLs 23, most "
                    f"non-Latin characters and emoji 2); the limit is {limit}. Shorten it.",
                    platform=PLATFORM,
                )
            if not text.strip() and not (index == 0 and request.media):
                raise errors.InvalidContent(
                    f"Part {index + 1} is empty; X needs text or an image.", platform=PLATFORM
                )
        self._validate_media(request.media)

    def _validate_media(self, media: Sequence[MediaItem]) -> None:
        if len(media) > self.max_images:
            raise errors.InvalidContent(
                f"X takes at most {self.max_images} images per post; this one has {len(media)}.",
                platform=PLATFORM,
            )
        for number, item in enumerate(media, start=1):
            if item.mime_type not in self.image_types:
                raise errors.InvalidContent(
                    f"Image {number} is {item.mime_type}; X takes {', '.join(self.image_types)}.",
                    platform=PLATFORM,
                )
            if len(item.data) > self.max_image_bytes:
                raise errors.InvalidContent(
                    f"Image {number} is larger than 5 MB, X's limit for images.",
                    platform=PLATFORM,
                )
            if len(item.alt_text) > ALT_TEXT_MAX:
                raise errors.InvalidContent(
                    f"The alt text of image {number} is {len(item.alt_text)} characters; X "
                    f"takes at most {ALT_TEXT_MAX}.",
                    platform=PLATFORM,
                )

    def _upload(self, credentials: Credentials, item: MediaItem) -> str:
        # An upload attaches to nothing until a post names it, so repeating it is harmless.
        body = self.client.call(
            "POST",
            "/2/media/upload",
            credentials.access_token,
            files={"media": (item.filename, item.data, item.mime_type)},
            data={"media_category": "tweet_image"},
            what="uploading an image",
        )
        media_id = str((body.get("data") or {}).get("id") or "")
        if not media_id:
            raise errors.Transient("X's media upload answer had no id.", platform=PLATFORM)
        if item.alt_text:
            self.client.call(
                "POST",
                "/2/media/metadata",
                credentials.access_token,
                json={"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}},
                what="setting alt text",
            )
        return media_id

    def _create(
        self,
        credentials: Credentials,
        request: PublishRequest,
        index: int,
        text: str,
        previous: str | None,
        media_ids: list[str],
    ) -> PublishedPart:
        body: dict[str, object] = {"text": text}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        if previous:
            body["reply"] = {"in_reply_to_tweet_id": previous}
        try:
            answer = self.client.call(
                "POST",
                "/2/tweets",
                credentials.access_token,
                json=body,
                write=True,
                what=f"posting part {index + 1}",
            )
        except DuplicateContent as duplicate:
            timeline = self._timeline(credentials, request.created_at)
            match = _match(timeline, text, previous, request.created_at)
            if match is None:
                raise errors.InvalidContent(
                    f"X refused part {index + 1} as a duplicate of an earlier post this "
                    "publication did not make. Change the text.",
                    platform=PLATFORM,
                    status_code=403,
                ) from duplicate
            post_id = match.id
        else:
            post_id = str((answer.get("data") or {}).get("id") or "")
            if not post_id:
                raise errors.UnknownOutcome(
                    "X accepted the post but its answer had no id.", platform=PLATFORM
                )
        return PublishedPart(index, post_id, self._url(credentials, post_id))

    def _account_id(self, credentials: Credentials) -> str:
        return credentials.account_id or self.profile(credentials).account_id

    def _timeline(self, credentials: Credentials, since: datetime) -> list[schemas.Tweet]:
        """The account's posts created since shortly before ``since``, newest first."""
        user_id = self._account_id(credentials)
        start = (since - _SKEW).strftime("%Y-%m-%dT%H:%M:%SZ")
        referenced = (
            "referenced_posts" if self.fields_param == "post.fields" else ("referenced_tweets")
        )
        params = {
            "max_results": "100",
            "start_time": start,
            self.fields_param: f"created_at,conversation_id,{referenced}",
        }
        tweets: list[schemas.Tweet] = []
        for _ in range(max(1, self.lookup_pages)):
            body = self.client.call(
                "GET",
                f"/2/users/{user_id}/tweets",
                credentials.access_token,
                params=params,
                what="reading the account's recent posts",
            )
            tweets.extend(
                schemas.parse_tweet_object(item)
                for item in body.get("data") or []
                if isinstance(item, dict)
            )
            token = (body.get("meta") or {}).get("next_token")
            if not token:
                break
            params = {**params, "pagination_token": str(token)}
        return tweets


def _reading(item: dict[str, object]) -> MetricsReading:
    """A post object's ``public_metrics`` (either spelling of the repost count, 1.1)."""
    metrics = schemas.public_metrics(item)
    return MetricsReading(
        external_id=str(item["id"]),
        likes=metrics.get("like_count"),
        reposts=metrics.get("repost_count"),
        replies=metrics.get("reply_count"),
        quotes=metrics.get("quote_count"),
        impressions=metrics.get("impression_count"),
    )


def _match(
    timeline: list[schemas.Tweet], text: str, replied_to: str | None, since: datetime
) -> schemas.Tweet | None:
    """The oldest post with this text and reply parent, created since the publication."""
    wanted = schemas.comparable_text(text, from_x=False)
    candidates = [
        tweet
        for tweet in timeline
        if tweet.replied_to == replied_to
        and (tweet.created_at is None or tweet.created_at >= since - _SKEW)
        and schemas.comparable_text(tweet.text, from_x=True) == wanted
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda t: (t.created_at or since, len(t.id), t.id))
