"""The provider interface every network implements (CONVENTIONS.md rule 7).

A provider is a declarative class: capabilities are class attributes, behaviour is a handful of
methods, failures are the typed errors of ``errors.py``. Providers never touch the database:
they receive credentials and a request, and return results. The engine owns persistence,
locking and retries.

Retry-safety contract: ``publish`` may be called again for the same ``idempotency_key`` only
after ``lookup`` returned ``None`` for it (the engine guarantees this). Each provider documents
how ``lookup`` finds a previous attempt (Bluesky: ``getRecord`` on the client-chosen rkey;
LinkedIn: the ``DUPLICATE_POST`` URN; X: the account's recent posts).

Every URL a provider hands back (a post's, a profile's, an interaction's) passes through
``kit.urls.http_url`` when its result object is built: a link that is not http(s) is dropped
there, so no platform answer can put a ``javascript:`` link on a page.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

import httpx

from digipersona.kit.urls import http_url
from digipersona.platforms.errors import DemoConnection

AuthKind = Literal["oauth2", "oauth2_pkce", "app_password", "webhook"]
LengthUnit = Literal["weighted", "graphemes", "utf16", "chars"]
LinkHandling = Literal["inline", "facet", "card", "payload"]


@dataclass(frozen=True)
class ProviderConfig:
    """Operator configuration of one provider (base URLs, app credentials, API version)."""

    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = ""
    oauth_url: str = ""
    authorize_url: str = ""
    api_version: str | None = None
    timeout_seconds: float = 30.0
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Credentials:
    """Decrypted credentials of one connection, handed to the provider for one call."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    account_id: str = ""
    # Provider-specific, non-secret facts: Bluesky did/handle/pds_url, webhook url, X username.
    extra: Mapping[str, Any] = field(default_factory=dict)


def is_demo(credentials: Credentials) -> bool:
    """Whether these are a demo connection's credentials (``extra["demo"]``, set only by
    ``digipersona demo``): such a connection never talks to its platform."""
    return credentials.extra.get(DEMO_MARK) is True


# The mark a demo connection carries in ``Connection.extra``, and every provider method that
# takes credentials (each one that can reach a platform): ``Provider.__init_subclass__`` makes
# them refuse a demo connection's credentials before the subclass's code runs.
DEMO_MARK = "demo"
_CREDENTIAL_METHODS = (
    "refresh",
    "profile",
    "publish",
    "lookup",
    "delete",
    "fetch_interactions",
    "fetch_metrics",
    "revoke",
)


def _offline_for_demo(platform_method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(platform_method)
    def guarded(self: Provider, credentials: Credentials, *args: Any, **kwargs: Any) -> Any:
        if is_demo(credentials):
            raise DemoConnection(
                f"This is a demo {self.display_name} connection: digipersona never sends "
                f"anything to {self.display_name} or reads from it for a demo workspace.",
                platform=self.name,
            )
        return platform_method(self, credentials, *args, **kwargs)

    return guarded


@dataclass(frozen=True)
class TokenSet:
    """What an authorization-code exchange or a refresh returned."""

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    """The account behind a connection."""

    account_id: str
    handle: str
    display_name: str = ""
    url: str | None = None
    avatar_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", http_url(self.url))
        object.__setattr__(self, "avatar_url", http_url(self.avatar_url))


@dataclass(frozen=True)
class MediaItem:
    """An image to attach to the first part of a post."""

    data: bytes
    mime_type: str
    alt_text: str = ""
    width: int | None = None
    height: int | None = None
    filename: str = "image"


@dataclass(frozen=True)
class ReplyTarget:
    """Where a reply goes: the platform id of the parent (and root, for Bluesky strong refs)."""

    parent_id: str
    root_id: str | None = None
    # Bluesky needs cids for strong refs; LinkedIn needs the activity/share URN of the post.
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishedPart:
    """One published part of a post or thread."""

    index: int
    external_id: str
    url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", http_url(self.url))


@dataclass(frozen=True)
class PublishRequest:
    """Everything needed to publish one post (or thread) to one connection.

    ``parts[0]`` is the post; later parts are thread continuations (X/Bluesky replies, LinkedIn
    follow-up comments). ``already_published`` lists parts a previous attempt completed, so a
    thread resumes after a crash instead of starting over. ``on_part_published`` is called after
    each part is accepted so the engine can persist progress before the next part is sent.
    """

    parts: Sequence[str]
    idempotency_key: str
    created_at: datetime
    media: Sequence[MediaItem] = ()
    link: str | None = None
    link_title: str | None = None
    link_description: str | None = None
    language: str | None = None
    reply_to: ReplyTarget | None = None
    already_published: Sequence[PublishedPart] = ()
    on_part_published: Callable[[PublishedPart], None] | None = None
    # The webhook target sends the whole post document; other providers ignore it.
    document: Mapping[str, Any] = field(default_factory=dict)


InteractionKind = Literal["mention", "reply", "comment", "quote"]


@dataclass(frozen=True)
class InboundInteraction:
    """A mention, reply, comment or quote read from a platform (stored once per external_id)."""

    external_id: str
    kind: InteractionKind
    text: str
    created_at: datetime
    author_id: str
    author_handle: str
    author_name: str = ""
    author_bio: str = ""
    url: str | None = None
    # The external id of our post it answers or quotes, when the platform says so.
    subject_external_id: str | None = None
    # How to answer it through ``publish(..., PublishRequest(reply_to=...))``.
    reply_target: ReplyTarget | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", http_url(self.url))


@dataclass(frozen=True)
class InteractionPage:
    """New interactions since ``cursor``; ``cursor`` is what to pass next time."""

    items: Sequence[InboundInteraction]
    cursor: str | None


@dataclass(frozen=True)
class MetricsReading:
    """Engagement numbers of one published post; ``None`` where the platform gives no figure."""

    external_id: str
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    impressions: int | None = None
    # The post no longer exists at the platform (metrics stop, history is kept).
    deleted: bool = False


class ReadBackUnsupported(Exception):
    """The platform (or this connection's permissions) offers no such read; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PublishResult:
    """The outcome of a publish (or of a successful lookup)."""

    external_id: str
    url: str | None
    parts: Sequence[PublishedPart] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", http_url(self.url))


class Provider(abc.ABC):
    """One social network. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    auth_kind: ClassVar[AuthKind]
    max_length: ClassVar[int]
    length_unit: ClassVar[LengthUnit]
    max_images: ClassVar[int]
    max_image_bytes: ClassVar[int]
    image_types: ClassVar[tuple[str, ...]] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    supports_threads: ClassVar[bool]
    link_handling: ClassVar[LinkHandling]
    scopes: ClassVar[tuple[str, ...]] = ()
    # The settings an operator must set before this provider can be used, for "not configured".
    required_settings: ClassVar[tuple[str, ...]] = ()
    # Reading back (platform-apis.md 1.5, 2.5, 3.6). What a platform does not provide is said in
    # the note, which the UI shows instead of zeros.
    supports_interactions: ClassVar[bool] = False
    interactions_note: ClassVar[str] = ""
    supports_metrics: ClassVar[bool] = False
    metrics_fields: ClassVar[tuple[str, ...]] = ()
    metrics_note: ClassVar[str] = ""
    metrics_batch_size: ClassVar[int] = 25
    # USD the platform bills per post read back (interactions polling and metrics sync add it
    # to the connection's monthly spend); 0.0 for platforms whose reads are free.
    read_cost_usd: ClassVar[float] = 0.0
    # HTTP requests ``fetch_metrics`` makes per post, for request quotas (LinkedIn's daily app
    # requests are counted by the metrics sync before it reads).
    metrics_requests_per_post: ClassVar[int] = 1
    # Whether people choose the hosts it calls (a webhook URL, a self-hosted PDS): then
    # ``platforms/factory.py`` gives it the outbound guard's client (``kit/outbound.py``), never
    # the operator's unguarded one. Providers whose hosts only the operator sets leave it False.
    user_chosen_urls: ClassVar[bool] = False

    def __init__(self, config: ProviderConfig, http: httpx.Client) -> None:
        self.config = config
        self.http = http

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # One gate for every network, present and future: a demo connection's credentials are
        # refused by each method that takes credentials before it can make a request.
        super().__init_subclass__(**kwargs)
        for name in _CREDENTIAL_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and callable(method):
                setattr(cls, name, _offline_for_demo(method))

    @classmethod
    def is_configured(cls, config: ProviderConfig) -> bool:
        """Whether the operator configured what this provider needs (app credentials)."""
        return True

    # -- connecting -------------------------------------------------------------------------
    def authorization_url(
        self, *, state: str, redirect_uri: str, code_challenge: str | None
    ) -> str:
        """The URL to send the user to for consent (OAuth providers only)."""
        raise NotImplementedError(f"{self.name} does not use an OAuth redirect")

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str | None) -> TokenSet:
        """Exchange an authorization code for tokens (OAuth providers only)."""
        raise NotImplementedError(f"{self.name} does not use an OAuth redirect")

    @abc.abstractmethod
    def refresh(self, credentials: Credentials) -> TokenSet:
        """Get fresh tokens; raises ``AuthExpired`` when the user must reconnect."""

    @abc.abstractmethod
    def profile(self, credentials: Credentials) -> Profile:
        """Read the account behind the credentials."""

    # -- publishing -------------------------------------------------------------------------
    @abc.abstractmethod
    def publish(self, credentials: Credentials, request: PublishRequest) -> PublishResult:
        """Publish a post or thread; see the module docstring for the retry-safety contract."""

    @abc.abstractmethod
    def lookup(self, credentials: Credentials, request: PublishRequest) -> PublishResult | None:
        """Find what a previous attempt of ``request`` published, or ``None`` if nothing."""

    @abc.abstractmethod
    def delete(self, credentials: Credentials, external_id: str) -> None:
        """Delete a published post (missing posts count as deleted)."""

    # -- reading back -----------------------------------------------------------------------
    def fetch_interactions(
        self,
        credentials: Credentials,
        *,
        cursor: str | None,
        recent_posts: Sequence[str] = (),
        limit: int = 100,
    ) -> InteractionPage:
        """Mentions, replies, comments and quotes newer than ``cursor`` (oldest first).

        ``cursor`` is the opaque value a previous call returned (``None`` on the first poll);
        ``recent_posts`` are external ids of this connection's recent posts, for platforms that
        can only be asked per post (LinkedIn comments). Raises ``ReadBackUnsupported`` when the
        platform or the connection's scopes allow no such read.
        """
        raise ReadBackUnsupported(self.interactions_note or f"{self.display_name} offers no inbox")

    def fetch_metrics(
        self, credentials: Credentials, external_ids: Sequence[str]
    ) -> Sequence[MetricsReading]:
        """Current engagement numbers of up to ``metrics_batch_size`` published posts."""
        raise ReadBackUnsupported(self.metrics_note or f"{self.display_name} offers no metrics")

    def estimate_cost_usd(self, parts: Sequence[str]) -> float:
        """What publishing these parts is billed by the platform (0 for free APIs)."""
        return 0.0

    def revoke(self, credentials: Credentials) -> None:
        """Revoke the credentials at the platform where it allows it (default: nothing to do)."""
        return None
