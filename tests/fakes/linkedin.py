"""A contract-faithful fake of LinkedIn's OAuth and REST APIs (platform-apis section 3), on loopback.

What it enforces, as the real service does:

- OAuth (3.2): ``GET /oauth/v2/authorization`` consents at once and redirects with a code;
  ``POST /oauth/v2/accessToken`` checks client id/secret, single-use codes that expire after
  30 minutes, the redirect URI; answers ``scope`` comma-separated, ``expires_in`` 60 days and a
  refresh token only in ``partner`` mode; ``POST /oauth/v2/revoke``.
- ``GET /v2/userinfo`` (3.1) for ``openid profile``.
- Every ``/rest/*`` call needs a valid bearer (401 ``serviceErrorCode`` 65600), a
  ``LinkedIn-Version`` inside the active window (426 ``NONEXISTENT_VERSION`` otherwise) and
  ``X-Restli-Protocol-Version: 2.0.0`` (3.3); URNs in paths must be percent-encoded.
- ``POST /rest/posts`` (3.4): 201 with an empty body and ``x-restli-id``; the commentary is read
  as little text and silently truncated at the first unescaped reserved character that starts
  no construct; a repeated commentary answers 422 ``DUPLICATE_POST`` naming the URN (3.8, 3.9);
  403 without ``w_member_social``; 429 without headers past the member's daily budget (3.7).
- Images (3.4): ``initializeUpload`` -> ``PUT`` upload URL -> ``content.media``/``multiImage``;
  attaching an image that was never uploaded is a 400.
- Comments: plain text, at most 1,250 characters; reading them
  (``GET /rest/socialActions/{urn}/comments?count=&start=`` -> ``elements[] {commentUrn, actor,
  message.text, created.time, parentComment?}`` with ``paging``) needs ``r_member_social`` or
  ``r_member_social_feed`` (403 otherwise) and a post without comments answers 404 (3.6).
  ``add_comment`` lets tests make another member comment.
- Member Post Analytics (3.6): ``GET /rest/memberCreatorPostAnalytics?q=entity&entity=
  (share:<urn>)&queryType=...&aggregation=TOTAL`` needs ``r_member_postAnalytics`` (403
  otherwise), answers 404 for a deleted post; tests set figures with ``set_post_analytics`` and
  delete with ``delete_post``.

Knobs: ``fail_next(status)``, ``delay_next(seconds, when="before"|"after")`` (the write is
applied before or after the pause), ``rate_limit_next()``, ``expire_token(token)``; each fault
can be limited to a method and path prefix. ``posts``, ``comments``, ``images`` and ``requests``
are the in-memory store tests inspect. ``HttpFake`` (the tiny request/response layer) is shared
with ``tests/fakes/x.py``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.fakes.server import serve

Headers = dict[str, str]


@dataclass
class FakeRequest:
    """One request as the fake saw it (kept in ``requests`` for assertions)."""

    method: str
    raw_path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes

    @property
    def path(self) -> str:
        """The percent-decoded path."""
        return unquote(self.raw_path)

    def header(self, name: str) -> str | None:
        """A request header, case-insensitively."""
        value = self.headers.get(name)
        return str(value) if value is not None else None

    def arg(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when it is not JSON)."""
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def form(self) -> dict[str, str]:
        """The body parsed as application/x-www-form-urlencoded."""
        return {k: v[0] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def multipart(self) -> dict[str, tuple[bytes, str | None]]:
        """multipart/form-data fields: name -> (bytes, content type of the part)."""
        ctype = self.header("Content-Type") or ""
        if not ctype.startswith("multipart/form-data"):
            return {}
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body
        )
        fields: dict[str, tuple[bytes, str | None]] = {}
        for part in message.iter_parts():  # type: ignore[attr-defined]
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = (payload, part.get_content_type())
        return fields


@dataclass
class Reply:
    """What a handler answers."""

    status: int
    body: bytes = b""
    headers: Headers = field(default_factory=dict)


def json_reply(
    status: int, obj: Any, headers: Headers | None = None, content_type: str = "application/json"
) -> Reply:
    """A JSON answer."""
    return Reply(
        status, json.dumps(obj).encode(), {"Content-Type": content_type, **(headers or {})}
    )


@dataclass
class Fault:
    """One injected misbehaviour of the next matching request."""

    kind: str  # "status" | "delay" | "rate_limit"
    method: str | None = None
    path: str | None = None
    status: int = 500
    seconds: float = 0.0
    when: str = "after"  # for delays: pause "before" or "after" applying the request

    def matches(self, request: FakeRequest) -> bool:
        """Whether this fault applies to ``request``."""
        if self.method and request.method != self.method:
            return False
        return not (self.path and not request.path.startswith(self.path))


class HttpFake:
    """A loopback HTTP fake: raw paths, sync handlers under one lock, fault knobs, a log."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.requests: list[FakeRequest] = []
        self.url = ""
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._stop = threading.Event()

    # -- knobs --------------------------------------------------------------------------------
    def fail_next(self, status: int = 500, *, method: str | None = None, path: str | None = None):
        """The next matching request fails with ``status`` without being applied."""
        self.faults.append(Fault("status", method, path, status=status))

    def delay_next(
        self,
        seconds: float,
        *,
        when: str = "after",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Pause the next matching request ``before`` or ``after`` it is applied."""
        self.faults.append(Fault("delay", method, path, seconds=seconds, when=when))

    def rate_limit_next(self, *, method: str | None = None, path: str | None = None) -> None:
        """The next matching request gets the platform's 429."""
        self.faults.append(Fault("rate_limit", method, path))

    def now(self) -> datetime:
        """The fake's clock (tests may replace ``clock``)."""
        return self.clock()

    # -- running ------------------------------------------------------------------------------
    @contextmanager
    def running(self) -> Iterator[Any]:
        """Serve on 127.0.0.1 until the block exits; ``url`` is set meanwhile."""
        with serve(self.handler_class()) as server:
            self.url = server.url
            try:
                yield self
            finally:
                self._stop.set()

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        """A request-handler class bound to this fake."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self) -> None:
                fake._serve(self)

            def do_POST(self) -> None:
                fake._serve(self)

            def do_PUT(self) -> None:
                fake._serve(self)

            def do_DELETE(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = FakeRequest(
            handler.command, parts.path, parse_qs(parts.query), handler.headers, body
        )
        with self.lock:
            self.requests.append(request)
            fault = next((f for f in self.faults if f.matches(request)), None)
            if fault is not None:
                self.faults.remove(fault)
        reply = self._apply(request, fault)
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            # The client timed out while we were "slow": exactly what the fault simulates.
            return

    def _apply(self, request: FakeRequest, fault: Fault | None) -> Reply:
        if fault is not None and fault.kind == "status":
            return self.server_error(fault.status)
        if fault is not None and fault.kind == "rate_limit":
            return self.rate_limited(request)
        if fault is not None and fault.when == "before":
            self._stop.wait(fault.seconds)
        with self.lock:
            reply = self.handle(request)
        if fault is not None and fault.when == "after":
            self._stop.wait(fault.seconds)
        return reply

    # -- to override --------------------------------------------------------------------------
    def handle(self, request: FakeRequest) -> Reply:
        """Answer one request (called under ``lock``)."""
        raise NotImplementedError

    def server_error(self, status: int) -> Reply:
        """The platform's 5xx body."""
        raise NotImplementedError

    def rate_limited(self, request: FakeRequest) -> Reply:
        """The platform's 429."""
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# LinkedIn
# ---------------------------------------------------------------------------------------------

RESERVED = set("\\|{}@[]()<>#*_~")
_MENTION = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:(?:person|organization):[^)\s]+)\)")
_TEMPLATE = re.compile(r"\{hashtag\|\\#\|(\w+)\}")
_HASHTAG = re.compile(r"#(\w+)")
_ESCAPED = re.compile(r"\\(.)")
CODE_TTL = timedelta(minutes=30)
TOKEN_TTL_SECONDS = 5183999
REFRESH_TTL_SECONDS = 31536000
POST_FIELDS = {
    "author",
    "commentary",
    "visibility",
    "distribution",
    "lifecycleState",
    "isReshareDisabledByAuthor",
    "content",
    "contentLandingPage",
    "contentCallToActionLabel",
    "reshareContext",
    "container",
}


def read_little_text(commentary: str) -> tuple[str, str]:
    """How LinkedIn reads commentary: (the raw prefix it keeps, the text a reader sees).

    Reading stops, silently, at the first unescaped reserved character that does not start a
    hashtag, a mention or a hashtag template (platform-apis 3.4).
    """
    shown: list[str] = []
    index = 0
    while index < len(commentary):
        char = commentary[index]
        if char == "\\":
            if index + 1 >= len(commentary):
                break
            shown.append(commentary[index + 1])
            index += 2
            continue
        if char in RESERVED:
            hashtag = _HASHTAG.match(commentary, index)
            mention = _MENTION.match(commentary, index)
            template = _TEMPLATE.match(commentary, index)
            if hashtag:
                shown.append(hashtag.group(0))
                index = hashtag.end()
            elif mention:
                shown.append(_ESCAPED.sub(r"\1", mention.group(1)))
                index = mention.end()
            elif template:
                shown.append("#" + template.group(1))
                index = template.end()
            else:
                break
            continue
        shown.append(char)
        index += 1
    return commentary[:index], "".join(shown)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


ANALYTICS_QUERY_TYPES = (
    "IMPRESSION",
    "MEMBERS_REACHED",
    "REACTION",
    "COMMENT",
    "RESHARE",
    "POST_SAVE",
    "POST_SEND",
)
_METRIC_TYPE_KEY = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"


@dataclass
class Member:
    """A LinkedIn member who can consent."""

    sub: str
    name: str
    email: str

    @property
    def urn(self) -> str:
        """``urn:li:person:{sub}``."""
        return f"urn:li:person:{self.sub}"


class FakeLinkedIn(HttpFake):
    """Stateful fake of LinkedIn for one app; see the module docstring."""

    def __init__(
        self,
        *,
        client_id: str = "li-client",
        client_secret: str = "li-secret",
        min_version: str = "202510",
        max_version: str = "202609",
        partner: bool = False,
        member_daily_posts: int = 150,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.min_version = min_version
        self.max_version = max_version
        self.partner = partner
        self.member_daily_posts = member_daily_posts
        self.members: dict[str, Member] = {}
        self.consenting = self.add_member("782bbtaQ", "Ada Lovelace", "ada@example.com")
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, str] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self._ids = 7141138937766391808
        self._activities: dict[str, str] = {}
        # Member Post Analytics (3.6): TOTAL figures per post URN and queryType.
        self.post_analytics: dict[str, dict[str, int]] = {}

    # -- test helpers -------------------------------------------------------------------------
    def add_member(self, sub: str, name: str, email: str) -> Member:
        """Register a member."""
        member = Member(sub, name, email)
        self.members[sub] = member
        return member

    def issue_token(
        self,
        member: Member | None = None,
        scopes: tuple[str, ...] = ("openid", "profile", "email", "w_member_social"),
    ) -> str:
        """A valid access token without going through OAuth."""
        token = "AQ" + secrets.token_urlsafe(24)
        self.tokens[token] = {
            "sub": (member or self.consenting).sub,
            "scopes": set(scopes),
            "expires_at": self.now() + timedelta(seconds=TOKEN_TTL_SECONDS),
            "revoked": False,
        }
        return token

    def expire_token(self, token: str) -> None:
        """Make ``token`` expired from now on."""
        with self.lock:
            self.tokens[token]["expires_at"] = self.now() - timedelta(seconds=1)

    def live_posts(self) -> list[dict[str, Any]]:
        """Posts that are not deleted, oldest first."""
        return [p for p in self.posts.values() if not p["deleted"]]

    def add_comment(
        self, post_urn: str, member: Member, text: str, *, parent: str | None = None
    ) -> str:
        """Someone comments on a post (a reply to a comment names its ``parent``); its URN."""
        with self.lock:
            activity = self._activities[post_urn]
            comment_id = str(self._next_id())
            urn = f"urn:li:comment:(urn:li:activity:{activity},{comment_id})"
            self.comments[urn] = {
                "actor": member.urn,
                "object": post_urn,
                "message": {"text": text},
                "commentUrn": urn,
                "id": comment_id,
                "parentComment": parent,
                "created": {"actor": member.urn, "time": int(self.now().timestamp() * 1000)},
            }
            return urn

    def comments_on(self, post_urn: str) -> list[dict[str, Any]]:
        """Comments on a post, in the order they were made."""
        return [c for c in self.comments.values() if c["object"] == post_urn]

    # -- error bodies (3.8) -------------------------------------------------------------------
    @staticmethod
    def error(status: int, message: str, **extra: Any) -> Reply:
        """LinkedIn's error shape."""
        return json_reply(status, {"message": message, "status": status, **extra})

    def server_error(self, status: int) -> Reply:
        """A 5xx with LinkedIn's error shape."""
        return self.error(status, "Internal Server Error" if status == 500 else "Service error")

    def rate_limited(self, request: FakeRequest) -> Reply:
        """3.7: a 429 with no rate-limit headers and no Retry-After."""
        return self.error(
            429,
            "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
        )

    def _oauth_error(self, status: int, error: str, description: str) -> Reply:
        return json_reply(status, {"error": error, "error_description": description})

    # -- routing ------------------------------------------------------------------------------
    def handle(self, request: FakeRequest) -> Reply:
        """Route one request."""
        method, raw = request.method, request.raw_path
        if method == "GET" and raw == "/oauth/v2/authorization":
            return self._authorize(request)
        if method == "POST" and raw == "/oauth/v2/accessToken":
            return self._access_token(request)
        if method == "POST" and raw == "/oauth/v2/revoke":
            return self._revoke(request)
        if method == "GET" and raw == "/v2/userinfo":
            return self._userinfo(request)
        if method == "PUT" and raw.startswith("/dms-uploads/"):
            return self._upload(request)
        if raw.startswith("/rest/"):
            return self._rest(request)
        return self.error(404, f"No route for {method} {raw}")

    # -- OAuth --------------------------------------------------------------------------------
    def _authorize(self, request: FakeRequest) -> Reply:
        redirect = request.arg("redirect_uri") or ""
        if request.arg("client_id") != self.client_id or not redirect:
            return self.error(400, "Invalid client_id or redirect_uri")
        if request.arg("response_type") != "code":
            return self.error(400, "response_type must be code")
        state = request.arg("state") or ""
        scopes = set((request.arg("scope") or "").split())
        unknown = scopes - {"openid", "profile", "email", "w_member_social", "r_member_social"}
        if unknown:
            query = {
                "error": "unauthorized_scope_error",
                "error_description": f"Scope {sorted(unknown)[0]} is not authorized",
                "state": state,
            }
            return Reply(302, headers={"Location": f"{redirect}?{urlencode(query)}"})
        code = "AQT" + secrets.token_urlsafe(16)
        self.codes[code] = {
            "sub": self.consenting.sub,
            "redirect_uri": redirect,
            "scopes": scopes,
            "issued_at": self.now(),
            "used": False,
        }
        query = {"code": code, "state": state}
        return Reply(302, headers={"Location": f"{redirect}?{urlencode(query)}"})

    def _client_ok(self, form: dict[str, str]) -> bool:
        return (
            form.get("client_id") == self.client_id
            and form.get("client_secret") == self.client_secret
        )

    def _new_tokens(self, sub: str, scopes: set[str], refresh: str | None) -> dict[str, Any]:
        token = "AQ" + secrets.token_urlsafe(24)
        self.tokens[token] = {
            "sub": sub,
            "scopes": set(scopes),
            "expires_at": self.now() + timedelta(seconds=TOKEN_TTL_SECONDS),
            "revoked": False,
        }
        body: dict[str, Any] = {
            "access_token": token,
            "expires_in": TOKEN_TTL_SECONDS,
            # 3.2: comma-separated, unlike the space-separated request.
            "scope": ",".join(sorted(scopes)),
            "token_type": "Bearer",
            "id_token": "eyJhbGciOiJSUzI1NiJ9.e30.fake",
        }
        if self.partner:
            if refresh is None:
                refresh = "AQX" + secrets.token_urlsafe(24)
                self.refresh_tokens[refresh] = {
                    "sub": sub,
                    "scopes": set(scopes),
                    "expires_at": self.now() + timedelta(seconds=REFRESH_TTL_SECONDS),
                }
            left = self.refresh_tokens[refresh]["expires_at"] - self.now()
            body["refresh_token"] = refresh
            body["refresh_token_expires_in"] = int(left.total_seconds())
        return body

    def _access_token(self, request: FakeRequest) -> Reply:
        form = request.form()
        if not self._client_ok(form):
            return self._oauth_error(401, "invalid_client", "Client authentication failed")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.get(form.get("code", ""))
            bad = (
                code is None
                or code["used"]
                or self.now() - code["issued_at"] > CODE_TTL
                or code["redirect_uri"] != form.get("redirect_uri")
            )
            if code is not None:
                code["used"] = True
            if bad or code is None:
                return self._oauth_error(
                    400,
                    "invalid_request",
                    "Unable to retrieve access token: appid/redirect uri/code verifier does "
                    "not match authorization code. Or authorization code expired. Or external "
                    "member binding exists",
                )
            return json_reply(200, self._new_tokens(code["sub"], code["scopes"], None))
        if grant == "refresh_token":
            refresh = form.get("refresh_token", "")
            row = self.refresh_tokens.get(refresh)
            if not self.partner or row is None or row["expires_at"] <= self.now():
                return self._oauth_error(
                    400, "invalid_request", "The provided refresh token is invalid"
                )
            return json_reply(200, self._new_tokens(row["sub"], row["scopes"], refresh))
        return self._oauth_error(400, "unsupported_grant_type", f"Unsupported grant {grant}")

    def _revoke(self, request: FakeRequest) -> Reply:
        form = request.form()
        if not self._client_ok(form):
            return self._oauth_error(401, "invalid_client", "Client authentication failed")
        row = self.tokens.get(form.get("token", ""))
        if row is not None:
            row["revoked"] = True
        return Reply(200)

    # -- auth and headers ---------------------------------------------------------------------
    def _bearer(self, request: FakeRequest) -> tuple[dict[str, Any] | None, Reply | None]:
        header = request.header("Authorization") or ""
        row = self.tokens.get(header.removeprefix("Bearer ").strip())
        if row is None or row["revoked"]:
            return None, self.error(401, "Invalid access token", serviceErrorCode=65600)
        if row["expires_at"] <= self.now():
            return None, self.error(
                401, "The token used in the request has expired", serviceErrorCode=65601
            )
        return row, None

    def _forbidden(self, what: str) -> Reply:
        return self.error(403, f"Not enough permissions to access: {what}", serviceErrorCode=100)

    def _userinfo(self, request: FakeRequest) -> Reply:
        row, problem = self._bearer(request)
        if problem is not None or row is None:
            return problem or self.error(401, "Invalid access token")
        if not {"openid", "profile"} <= row["scopes"]:
            return self._forbidden("userinfo.GET.NO_VERSION")
        member = self.members[row["sub"]]
        given, _, family = member.name.partition(" ")
        return json_reply(
            200,
            {
                "sub": member.sub,
                "name": member.name,
                "given_name": given,
                "family_name": family,
                "picture": f"https://media.licdn.com/dms/image/{member.sub}.jpg",
                "locale": {"country": "US", "language": "en"},
                "email": member.email,
                "email_verified": True,
            },
        )

    def _version_problem(self, request: FakeRequest) -> Reply | None:
        version = request.header("LinkedIn-Version")
        if not version:
            # [U] observed name for a missing version header.
            return json_reply(
                400,
                {
                    "status": 400,
                    "code": "VERSION_MISSING",
                    "message": "A version must be present. Please specify a version by adding "
                    "the LinkedIn-Version header.",
                },
            )
        base = version.split(".", 1)[0]
        if not (re.fullmatch(r"\d{6}", base) and self.min_version <= base <= self.max_version):
            return json_reply(
                426,
                {
                    "status": 426,
                    "code": "NONEXISTENT_VERSION",
                    "message": f"Requested version {base}01 is not active",
                },
            )
        if request.header("X-Restli-Protocol-Version") != "2.0.0":
            return self.error(
                400, "This request requires the X-Restli-Protocol-Version: 2.0.0 header"
            )
        return None

    # -- /rest --------------------------------------------------------------------------------
    def _rest(self, request: FakeRequest) -> Reply:
        row, problem = self._bearer(request)
        if problem is not None or row is None:
            return problem or self.error(401, "Invalid access token")
        problem = self._version_problem(request)
        if problem is not None:
            return problem
        member = self.members[row["sub"]]
        raw = request.raw_path.removeprefix("/rest")
        if ":" in raw:
            # 3.3: URNs in paths must be percent-encoded.
            return self.error(400, f"Syntax exception in path variables: {raw}")
        if request.method == "POST" and raw == "/posts":
            return self._create_post(request, row, member)
        if request.method == "DELETE" and raw.startswith("/posts/"):
            return self._delete_post(unquote(raw.removeprefix("/posts/")), row, member)
        if request.method == "POST" and raw == "/images":
            return self._initialize_upload(request, row, member)
        match = re.fullmatch(r"/socialActions/([^/]+)/comments", raw)
        if match and request.method == "POST":
            return self._create_comment(request, unquote(match.group(1)), row, member)
        if match and request.method == "GET":
            return self._list_comments(request, unquote(match.group(1)), row)
        if request.method == "GET" and raw == "/memberCreatorPostAnalytics":
            return self._member_post_analytics(request, row, member)
        return self.error(404, f"No resource {request.method} /rest{raw}")

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _posts_today(self, member: Member) -> int:
        today = self.now().date()
        return sum(
            1 for p in self.posts.values() if p["author"] == member.urn and p["at"].date() == today
        )

    def _content_problem(self, content: Any, member: Member) -> Reply | None:
        if content is None:
            return None
        if not isinstance(content, dict) or len(content) != 1:
            return self.error(400, "content must have exactly one of media, multiImage, article")
        kind, value = next(iter(content.items()))
        if kind == "article":
            if not isinstance(value, dict) or not value.get("source") or not value.get("title"):
                return self.error(400, "/content/article requires source and title")
            return None
        if kind == "media":
            images = [value]
        elif kind == "multiImage":
            images = value.get("images") if isinstance(value, dict) else None
            if not isinstance(images, list) or not 2 <= len(images) <= 20:
                return self.error(400, "/content/multiImage/images must have 2 to 20 images")
        else:
            return self.error(400, f"Unsupported content type {kind}")
        for image in images:
            urn = image.get("id") if isinstance(image, dict) else None
            stored = self.images.get(str(urn))
            if stored is None or stored["owner"] != member.urn:
                return self.error(400, f"Media {urn} does not exist or is not owned by author")
            if stored["status"] != "AVAILABLE":
                return self.error(400, f"Cannot use media {urn}: MEDIA_ASSET_WAITING_UPLOAD")
        return None

    def _create_post(self, request: FakeRequest, row: dict[str, Any], member: Member) -> Reply:
        if "w_member_social" not in row["scopes"]:
            return self._forbidden("partnerApiPostsExternal.CREATE.20260901")
        body = request.json()
        if not isinstance(body, dict):
            return self.error(400, "Request body is not valid JSON")
        unknown = set(body) - POST_FIELDS
        if unknown:
            return self.error(422, f"Unrecognized field /{sorted(unknown)[0]}")
        if body.get("author") != member.urn:
            return self._forbidden(f"partnerApiPostsExternal.CREATE author {body.get('author')}")
        commentary = body.get("commentary", "")
        if not isinstance(commentary, str):
            return self.error(400, "/commentary must be a string")
        if body.get("visibility") not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"):
            return self.error(400, "/visibility is invalid")
        if body.get("lifecycleState") != "PUBLISHED":
            return self.error(400, "/lifecycleState must be PUBLISHED")
        distribution = body.get("distribution")
        if not isinstance(distribution, dict) or "feedDistribution" not in distribution:
            return self.error(400, "/distribution/feedDistribution is required")
        if _utf16(commentary) > 3000:
            return self.error(422, "/commentary exceeds the maximum length of 3000")
        problem = self._content_problem(body.get("content"), member)
        if problem is not None:
            return problem
        for urn, post in self.posts.items():
            if (
                post["author"] == member.urn
                and not post["deleted"]
                and (post["commentary"] == commentary)
            ):
                return json_reply(
                    422,
                    {
                        "errorDetailType": "com.linkedin.common.error.BadRequest",
                        "message": "com.linkedin.content.common.exception."
                        f"BadRequestResponseException: Content is a duplicate of {urn}",
                        "errorDetails": {
                            "inputErrors": [
                                {
                                    "description": "Duplicate post is detected",
                                    "input": {},
                                    "code": "DUPLICATE_POST",
                                }
                            ]
                        },
                        "status": 422,
                    },
                )
        if self._posts_today(member) >= self.member_daily_posts:
            return self.rate_limited(request)
        kept, shown = read_little_text(commentary)
        urn = f"urn:li:share:{self._next_id()}"
        self._activities[urn] = str(self._next_id())
        self.posts[urn] = {
            "urn": urn,
            "author": member.urn,
            "commentary": commentary,
            "stored_commentary": kept,
            "text": shown,
            "content": body.get("content"),
            "at": self.now(),
            "deleted": False,
        }
        return Reply(201, headers={"x-restli-id": urn})

    def _delete_post(self, urn: str, row: dict[str, Any], member: Member) -> Reply:
        post = self.posts.get(urn)
        if post is None or post["deleted"]:
            return self.error(404, f"Post {urn} not found")
        if post["author"] != member.urn:
            return self._forbidden("partnerApiPostsExternal.DELETE")
        post["deleted"] = True
        return Reply(204)

    def _initialize_upload(
        self, request: FakeRequest, row: dict[str, Any], member: Member
    ) -> Reply:
        if request.arg("action") != "initializeUpload":
            return self.error(400, "Unsupported action")
        if "w_member_social" not in row["scopes"]:
            return self._forbidden("images.ACTION.initializeUpload")
        body = request.json() or {}
        owner = (body.get("initializeUploadRequest") or {}).get("owner")
        if owner != member.urn:
            return self._forbidden(f"images owner {owner}")
        urn = f"urn:li:image:C4D{secrets.token_hex(8)}"
        ticket = secrets.token_urlsafe(12)
        self.images[urn] = {"owner": owner, "status": "WAITING_UPLOAD", "data": b"", "mime": None}
        self.uploads[ticket] = urn
        expires = int((self.now() + timedelta(days=1)).timestamp() * 1000)
        return json_reply(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": expires,
                    "uploadUrl": f"{self.url}/dms-uploads/{ticket}",
                    "image": urn,
                }
            },
        )

    def _upload(self, request: FakeRequest) -> Reply:
        _, problem = self._bearer(request)
        if problem is not None:
            return problem
        urn = self.uploads.pop(request.raw_path.removeprefix("/dms-uploads/"), None)
        if urn is None:
            return self.error(404, "Upload URL not found or already used")
        self.images[urn].update(
            status="AVAILABLE", data=request.body, mime=request.header("Content-Type")
        )
        return Reply(201)

    def _create_comment(
        self, request: FakeRequest, target: str, row: dict[str, Any], member: Member
    ) -> Reply:
        if "w_member_social" not in row["scopes"]:
            return self._forbidden("socialActions.comments.CREATE")
        post = self.posts.get(target)
        if post is None or post["deleted"]:
            return self.error(404, f"Unable to obtain activity for {target}")
        body = request.json() or {}
        text = (body.get("message") or {}).get("text")
        if body.get("actor") != member.urn or body.get("object") != target:
            return self.error(400, "actor must be the member and object the post in the path")
        if not isinstance(text, str) or not text:
            return self.error(400, "/message/text is required")
        if _utf16(text) > 1250:
            return self.error(422, "/message/text exceeds the maximum length of 1250")
        activity = self._activities[target]
        comment_id = str(self._next_id())
        urn = f"urn:li:comment:(urn:li:activity:{activity},{comment_id})"
        comment = {
            "actor": member.urn,
            "object": target,
            "message": {"text": text},
            "commentUrn": urn,
            "id": comment_id,
            "parentComment": body.get("parentComment"),
            "created": {"actor": member.urn, "time": int(self.now().timestamp() * 1000)},
        }
        self.comments[urn] = comment
        return json_reply(201, comment, headers={"x-restli-id": urn})

    def _list_comments(self, request: FakeRequest, target: str, row: dict[str, Any]) -> Reply:
        if not {"r_member_social", "r_member_social_feed"} & row["scopes"]:
            return self._forbidden("socialActions.comments.GET")
        found = [
            {k: v for k, v in c.items() if k != "parentComment" or v}
            for c in self.comments_on(target)
        ]
        if not found:
            return self.error(404, f"No comments on {target}")
        count = int(request.arg("count") or "10")
        start = int(request.arg("start") or "0")
        page = found[start : start + count]
        return json_reply(
            200,
            {"elements": page, "paging": {"count": count, "start": start, "total": len(found)}},
        )

    # -- read-back: Member Post Analytics (3.6) -----------------------------------------------
    def set_post_analytics(self, urn: str, **counts: int) -> None:
        """Set a post's TOTAL figures by queryType (``IMPRESSION=120, REACTION=4``)."""
        with self.lock:
            current = self.post_analytics.setdefault(urn, dict.fromkeys(ANALYTICS_QUERY_TYPES, 0))
            for name, value in counts.items():
                if name not in ANALYTICS_QUERY_TYPES:
                    raise ValueError(f"unknown queryType {name}")
                current[name] = value

    def delete_post(self, urn: str) -> None:
        """Delete a post as the member would on linkedin.com."""
        with self.lock:
            self.posts[urn]["deleted"] = True

    def _member_post_analytics(
        self, request: FakeRequest, row: dict[str, Any], member: Member
    ) -> Reply:
        """``GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:<urn>)&queryType=..&
        aggregation=TOTAL``: needs ``r_member_postAnalytics`` (3.1, 3.6); the element's
        ``value`` and union-typed ``metricType`` follow what peers parse [P]."""
        if "r_member_postAnalytics" not in row["scopes"]:
            return self._forbidden("memberCreatorPostAnalytics.FINDER-entity.20260901")
        if request.arg("q") != "entity":
            return self.error(400, "Only the q=entity finder is supported for a single post")
        query_type = request.arg("queryType") or ""
        if query_type not in ANALYTICS_QUERY_TYPES:
            return self.error(400, f"Invalid value for param queryType: {query_type}")
        if request.arg("aggregation") not in ("TOTAL", "DAILY"):
            return self.error(400, "Invalid value for param aggregation")
        entity = re.fullmatch(
            r"\((share|ugc):(urn:li:(?:share|ugcPost):\d+)\)", request.arg("entity") or ""
        )
        if entity is None:
            return self.error(400, f"Invalid value for param entity: {request.arg('entity')}")
        urn = entity.group(2)
        post = self.posts.get(urn)
        if post is None or post["deleted"]:
            return self.error(404, f"Post {urn} not found")
        if post["author"] != member.urn:
            return self._forbidden("memberCreatorPostAnalytics entity not authored by the member")
        value = self.post_analytics.get(urn, {}).get(query_type, 0)
        element = {
            "metricType": {_METRIC_TYPE_KEY: query_type},
            "value": value,
            "entity": {entity.group(1): urn},
        }
        return json_reply(
            200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": [element]}
        )
