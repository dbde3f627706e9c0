"""A contract-faithful fake of X API v2 and its OAuth 2.0 + PKCE flow (platform-apis section 1).

What it enforces, as the real service does:

- OAuth (1.2): ``GET /i/oauth2/authorize`` requires a PKCE challenge and redirects with a code;
  ``POST /2/oauth2/token`` checks client auth (Basic for a confidential app, ``client_id`` in the
  body for a public one), the verifier against the challenge (S256 or plain), a code used once
  and within 30 s, and rotates refresh tokens (a used one answers 400 ``invalid_request``);
  ``offline.access`` is what earns a refresh token; ``POST /2/oauth2/revoke``.
- ``POST /2/tweets`` (1.3): ``additionalProperties: false`` on the body (unknown keys 400),
  twitter-text weighted length <= 280, media ids owned by the poster (1-4), replies only to the
  poster's own posts or to posts that mention the poster (403 otherwise), 403 on duplicate
  content, 201 ``{"data": {id, text, edit_history_tweet_ids}}`` with ids as strings and URLs
  rewritten to t.co in the returned text.
- Media (1.3): ``POST /2/media/upload`` multipart (``media`` + ``media_category`` required),
  ``POST /2/media/metadata`` alt text <= 1000.
- Mentions (1.5): ``GET /2/users/:id/mentions`` newest first (800 most recent), ``since_id``
  (400 when malformed), ``pagination_token``, ``meta.newest_id``, ``expansions=author_id`` with
  ``includes.users`` (a deleted author is missing there and named in ``errors``); replies to the
  user's posts appear because they carry the @handle. ``add_mention``/``delete_user`` seed them.
- Reading (1.5): ``GET /2/users/me``; ``GET /2/users/:id/tweets`` with ``max_results`` 5..100,
  ``start_time``, ``pagination_token`` and one fields parameter: ``tweet.fields`` (the default,
  classic mode) or ``post.fields`` (``spec="2.167"``); unknown query parameters are a 400.
- Limits (1.6): ``x-rate-limit-*`` on every API answer (15-minute windows per user and
  endpoint), ``x-user-limit-24hour-*``/``x-app-limit-24hour-*`` on post creation; a 24-hour cap
  hit answers 429 with ``x-user-limit-24hour-remaining: 0``. ``credits_depleted`` gives 402,
  ``usage_capped`` the monthly-cap 429. Errors are v2 problem JSON (1.7).

Metrics (1.5): ``GET /2/tweets?ids=`` (1..100 numeric ids) answers 200 with ``data`` for live
posts (``public_metrics`` when asked: ``retweet_count`` or, in 2.167 mode, ``repost_count``) and
``errors`` with a ``resource-not-found`` problem per deleted or unknown id. Tests set figures with
``set_metrics(post_id, like_count=...)`` and delete with ``delete_post(post_id)``.

Knobs (from ``HttpFake``): ``fail_next(status)``, ``delay_next(seconds, when=...)``,
``rate_limit_next()``, ``expire_token(token)``. ``tweets``, ``media`` and ``requests`` are the
in-memory store tests inspect.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from twitter_text import extract_urls_with_indices, parse_tweet

from tests.fakes.linkedin import FakeRequest, HttpFake, Reply, json_reply

CODE_TTL = timedelta(seconds=30)
TOKEN_TTL = 7200
WINDOW = timedelta(minutes=15)
PUBLIC_METRICS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)
INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"
POST_KEYS = {
    "text",
    "media",
    "reply",
    "quote_tweet_id",
    "poll",
    "reply_settings",
    "for_super_followers_only",
    "community_id",
    "share_with_followers",
    "nullcast",
    "geo",
    "card_uri",
    "made_with_ai",
    "paid_partnership",
    "edit_options",
    "direct_message_deep_link",
}
NESTED_KEYS = {
    "media": {"media_ids", "tagged_user_ids"},
    "reply": {"in_reply_to_tweet_id", "exclude_reply_user_ids"},
}
WINDOW_LIMITS = {
    "POST /2/tweets": 100,
    "DELETE /2/tweets": 50,
    "GET /2/users/me": 75,
    "GET /2/users/tweets": 900,
    "GET /2/users/mentions": 300,
    "POST /2/media/upload": 500,
    "POST /2/media/metadata": 500,
    "GET /2/tweets": 5000,
}
SCOPES_NEEDED = {
    "POST /2/tweets": {"tweet.read", "tweet.write", "users.read"},
    "DELETE /2/tweets": {"tweet.read", "tweet.write", "users.read"},
    "GET /2/users/me": {"tweet.read", "users.read"},
    "GET /2/users/tweets": {"tweet.read", "users.read"},
    "GET /2/users/mentions": {"tweet.read", "users.read"},
    "POST /2/media/upload": {"media.write"},
    "POST /2/media/metadata": {"media.write"},
    "GET /2/tweets": {"tweet.read", "users.read"},
}


@dataclass
class User:
    """An X account."""

    id: str
    username: str
    name: str
    description: str = ""
    deleted: bool = False


def problem(
    status: int, title: str, detail: str, type_: str = "about:blank", **extra: Any
) -> Reply:
    """A v2 problem body (1.7)."""
    body = {"title": title, "detail": detail, "type": type_, "status": status, **extra}
    return json_reply(status, body, content_type="application/problem+json")


def invalid_request(message: str, parameters: dict[str, list[str]] | None = None) -> Reply:
    """The v2 400 invalid-request shape."""
    error: dict[str, Any] = {"message": message}
    if parameters is not None:
        error["parameters"] = parameters
    return json_reply(
        400,
        {
            "errors": [error],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID_REQUEST_TYPE,
        },
    )


def _b64url_sha256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class FakeX(HttpFake):
    """Stateful fake of X for one app; see the module docstring."""

    def __init__(
        self,
        *,
        client_id: str = "x-client",
        client_secret: str | None = None,
        spec: str = "classic",
        duplicate_window: timedelta = timedelta(hours=24),
        user_daily_posts: int = 2400,
        app_daily_posts: int = 10000,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.spec = spec
        self.duplicate_window = duplicate_window
        self.user_daily_posts = user_daily_posts
        self.app_daily_posts = app_daily_posts
        self.credits_depleted = False
        self.usage_capped = False
        self.users: dict[str, User] = {}
        self._ids = 1880028106020515840
        self.me = self.add_user("persona_one", "Persona One")
        self.codes: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self._calls: dict[tuple[str, str], list[datetime]] = {}
        # Read-back (1.5): public_metrics per post id, set by tests through ``set_metrics``.
        self.metrics: dict[str, dict[str, int]] = {}

    # -- test helpers -------------------------------------------------------------------------
    def _next_id(self) -> str:
        self._ids += 1 + secrets.randbelow(4096)
        return str(self._ids)

    def add_user(self, username: str, name: str) -> User:
        """Register an account."""
        user = User(self._next_id(), username, name)
        self.users[user.id] = user
        return user

    def issue_token(
        self,
        user: User | None = None,
        scopes: tuple[str, ...] = (
            "tweet.read",
            "tweet.write",
            "users.read",
            "offline.access",
            "media.write",
        ),
    ) -> str:
        """A valid access token without going through OAuth."""
        return str(self._new_tokens((user or self.me).id, set(scopes))["access_token"])

    def expire_token(self, token: str) -> None:
        """Make ``token`` expired from now on."""
        with self.lock:
            self.tokens[token]["expires_at"] = self.now() - timedelta(seconds=1)

    def seed_post(self, user: User, text: str) -> str:
        """A post by someone (e.g. a stranger to reply to); returns its id."""
        with self.lock:
            return str(self._store(user, text, None, [])["id"])

    def add_mention(
        self,
        author: User,
        text: str,
        *,
        reply_to: str | None = None,
        quote_of: str | None = None,
    ) -> str:
        """A post by ``author`` mentioning someone, optionally replying to or quoting a post.

        A reply starts with the parent author's @handle, as X clients write it, so it shows
        in the parent author's mentions timeline (1.5).
        """
        with self.lock:
            parent = self.tweets[reply_to] if reply_to else None
            if parent is not None:
                handle = "@" + self.users[parent["author_id"]].username
                if handle.lower() not in text.lower():
                    text = f"{handle} {text}"
            tweet = self._store(author, text, parent, [])
            tweet["quoted"] = quote_of
            return str(tweet["id"])

    def delete_user(self, user: User) -> None:
        """The account is deleted: its posts stay in timelines, the expansion finds no user."""
        with self.lock:
            user.deleted = True

    def live_posts(self, user: User | None = None) -> list[dict[str, Any]]:
        """Posts that are not deleted (of ``user`` if given), oldest first."""
        return [
            t
            for t in self.tweets.values()
            if not t["deleted"] and (user is None or t["author_id"] == user.id)
        ]

    # -- bodies -------------------------------------------------------------------------------
    def server_error(self, status: int) -> Reply:
        """A 5xx problem body."""
        title = {500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Error")
        return problem(status, title, title)

    def rate_limited(self, request: FakeRequest) -> Reply:
        """The live 429 body (1.6) with the window exhausted."""
        reset = int((self._window_start() + WINDOW).timestamp())
        headers = {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        }
        reply = problem(429, "Too Many Requests", "Too Many Requests")
        reply.headers.update(headers)
        return reply

    def render(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """Text as X returns it: HTML-escaped, URLs rewritten to t.co; plus URL entities."""
        pieces: list[str] = []
        entities: list[dict[str, Any]] = []
        last = 0
        for found in extract_urls_with_indices(text):
            start, end = found["indices"]
            pieces.append(html.escape(text[last:start], quote=False))
            url = found["url"]
            short = "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]
            position = len("".join(pieces))
            expanded = url if "://" in url else f"http://{url}"
            entities.append(
                {
                    "start": position,
                    "end": position + len(short),
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": url.split("://", 1)[-1],
                }
            )
            pieces.append(short)
            last = end
        pieces.append(html.escape(text[last:], quote=False))
        return "".join(pieces), entities

    # -- routing ------------------------------------------------------------------------------
    def handle(self, request: FakeRequest) -> Reply:
        """Route one request."""
        method, path = request.method, request.raw_path
        if method == "GET" and path == "/i/oauth2/authorize":
            return self._authorize(request)
        if method == "POST" and path == "/2/oauth2/token":
            return self._token(request)
        if method == "POST" and path == "/2/oauth2/revoke":
            return self._revoke(request)
        key, arg = self._endpoint(method, path)
        if key is None:
            return problem(404, "Not Found Error", f"No route {method} {path}")
        user, reply = self._authenticate(request, key)
        if reply is not None or user is None:
            return reply or problem(401, "Unauthorized", "Unauthorized")
        if self.credits_depleted and key != "GET /2/users/me":
            return problem(
                402,
                "Payment Required",
                "credits depleted",
                "https://api.x.com/2/problems/credits-depleted",
            )
        if self.usage_capped:
            return problem(
                429,
                "UsageCapExceeded",
                "Usage cap exceeded: Monthly product cap",
                "https://api.twitter.com/2/problems/usage-capped",
                period="Monthly",
                scope="Product",
            )
        window = self._count(user, key)
        if window["x-rate-limit-remaining"] == "-1":
            window["x-rate-limit-remaining"] = "0"
            reply = problem(429, "Too Many Requests", "Too Many Requests")
        elif key == "POST /2/tweets":
            reply = self._create(request, user)
        elif key == "DELETE /2/tweets":
            reply = self._delete(user, arg)
        elif key == "GET /2/users/me":
            reply = self._me(request, user)
        elif key == "GET /2/users/tweets":
            reply = self._timeline(request, user, arg)
        elif key == "GET /2/users/mentions":
            reply = self._mentions(request, user, arg)
        elif key == "POST /2/media/upload":
            reply = self._upload(request, user)
        elif key == "GET /2/tweets":
            reply = self._lookup_posts(request)
        else:
            reply = self._metadata(request, user)
        reply.headers.update(window)
        if key == "POST /2/tweets":
            reply.headers.update(self._daily_headers(user))
        return reply

    def _endpoint(self, method: str, path: str) -> tuple[str | None, str]:
        if method == "POST" and path == "/2/tweets":
            return "POST /2/tweets", ""
        if method == "DELETE" and path.startswith("/2/tweets/"):
            return "DELETE /2/tweets", path.rsplit("/", 1)[1]
        if method == "GET" and path == "/2/users/me":
            return "GET /2/users/me", ""
        if method == "GET" and path.startswith("/2/users/") and path.endswith("/tweets"):
            return "GET /2/users/tweets", path.split("/")[3]
        if method == "GET" and path.startswith("/2/users/") and path.endswith("/mentions"):
            return "GET /2/users/mentions", path.split("/")[3]
        if method == "POST" and path == "/2/media/upload":
            return "POST /2/media/upload", ""
        if method == "GET" and path == "/2/tweets":
            return "GET /2/tweets", ""
        if method == "POST" and path == "/2/media/metadata":
            return "POST /2/media/metadata", ""
        return None, ""

    # -- OAuth (1.2) --------------------------------------------------------------------------
    def _authorize(self, request: FakeRequest) -> Reply:
        redirect = request.arg("redirect_uri") or ""
        state = request.arg("state") or ""
        challenge = request.arg("code_challenge")
        method = request.arg("code_challenge_method") or "plain"
        if request.arg("client_id") != self.client_id or not redirect:
            return Reply(400, b"Something went wrong: invalid client or redirect_uri")
        if request.arg("response_type") != "code" or not challenge or len(state) > 500:
            return Reply(400, b"Something went wrong: PKCE challenge and state are required")
        if method not in ("S256", "plain"):
            return Reply(400, b"Something went wrong: unsupported code_challenge_method")
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "user_id": self.me.id,
            "redirect_uri": redirect,
            "challenge": challenge,
            "method": method,
            "scopes": set((request.arg("scope") or "").split()),
            "issued_at": self.now(),
            "used": False,
        }
        query = urlencode({"state": state, "code": code})
        return Reply(302, headers={"Location": f"{redirect}?{query}"})

    def _client_problem(self, request: FakeRequest, form: dict[str, str]) -> Reply | None:
        if self.client_secret:
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode())
            if request.header("Authorization") != "Basic " + expected.decode():
                return json_reply(
                    401,
                    {
                        "error": "unauthorized_client",
                        "error_description": "Missing valid authorization header",
                    },
                )
            return None
        if form.get("client_id") != self.client_id:
            return json_reply(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Missing required parameter [client_id].",
                },
            )
        return None

    def _new_tokens(self, user_id: str, scopes: set[str]) -> dict[str, Any]:
        access = secrets.token_urlsafe(32)
        self.tokens[access] = {
            "user_id": user_id,
            "scopes": set(scopes),
            "expires_at": self.now() + timedelta(seconds=TOKEN_TTL),
            "revoked": False,
        }
        body: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": TOKEN_TTL,
            "access_token": access,
            "scope": " ".join(sorted(scopes)),
        }
        if "offline.access" in scopes:
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = {"user_id": user_id, "scopes": scopes, "used": False}
            body["refresh_token"] = refresh
        return body

    def _token(self, request: FakeRequest) -> Reply:
        form = request.form()
        client = self._client_problem(request, form)
        if client is not None:
            return client
        invalid = json_reply(
            400,
            {
                "error": "invalid_request",
                "error_description": "Value passed for the token was invalid.",
            },
        )
        if form.get("grant_type") == "authorization_code":
            code = self.codes.get(form.get("code", ""))
            if code is None or code["used"]:
                return invalid
            code["used"] = True
            verifier = form.get("code_verifier", "")
            proof = _b64url_sha256(verifier) if code["method"] == "S256" else verifier
            if (
                self.now() - code["issued_at"] > CODE_TTL
                or code["redirect_uri"] != form.get("redirect_uri")
                or not verifier
                or proof != code["challenge"]
            ):
                return invalid
            return json_reply(200, self._new_tokens(code["user_id"], code["scopes"]))
        if form.get("grant_type") == "refresh_token":
            row = self.refresh_tokens.get(form.get("refresh_token", ""))
            if row is None or row["used"]:
                return invalid
            row["used"] = True  # 1.2: rotating; the old refresh token dies on use
            return json_reply(200, self._new_tokens(row["user_id"], row["scopes"]))
        return invalid

    def _revoke(self, request: FakeRequest) -> Reply:
        form = request.form()
        client = self._client_problem(request, form)
        if client is not None:
            return client
        token = form.get("token", "")
        if token in self.tokens:
            self.tokens[token]["revoked"] = True
        if token in self.refresh_tokens:
            self.refresh_tokens[token]["used"] = True
        return json_reply(200, {"revoked": True})

    # -- auth, limits -------------------------------------------------------------------------
    def _authenticate(self, request: FakeRequest, key: str) -> tuple[User | None, Reply | None]:
        header = request.header("Authorization") or ""
        row = self.tokens.get(header.removeprefix("Bearer ").strip())
        if row is None or row["revoked"] or row["expires_at"] <= self.now():
            return None, problem(401, "Unauthorized", "Unauthorized")
        missing = SCOPES_NEEDED[key] - row["scopes"]
        if missing:
            return None, problem(
                403,
                "Forbidden",
                f"Missing scope(s) {', '.join(sorted(missing))} for this endpoint.",
            )
        return self.users[row["user_id"]], None

    def _window_start(self) -> datetime:
        now = self.now()
        seconds = int(now.timestamp()) // int(WINDOW.total_seconds()) * int(WINDOW.total_seconds())
        return datetime.fromtimestamp(seconds, now.tzinfo)

    def _count(self, user: User, key: str) -> dict[str, str]:
        start = self._window_start()
        calls = [t for t in self._calls.get((user.id, key), []) if t >= start]
        limit = WINDOW_LIMITS[key]
        over = len(calls) >= limit
        if not over:
            calls.append(self.now())
        self._calls[(user.id, key)] = calls
        return {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": "-1" if over else str(limit - len(calls)),
            "x-rate-limit-reset": str(int((start + WINDOW).timestamp())),
        }

    def _recent_posts(self, user: User | None) -> list[dict[str, Any]]:
        since = self.now() - timedelta(hours=24)
        return [
            t
            for t in self.tweets.values()
            if t["created_at"] >= since and (user is None or t["author_id"] == user.id)
        ]

    def _daily_headers(self, user: User) -> dict[str, str]:
        headers: dict[str, str] = {}
        for prefix, who, limit in (
            ("x-user-limit-24hour", user, self.user_daily_posts),
            ("x-app-limit-24hour", None, self.app_daily_posts),
        ):
            recent = self._recent_posts(who)
            oldest = min((t["created_at"] for t in recent), default=self.now())
            headers[f"{prefix}-limit"] = str(limit)
            headers[f"{prefix}-remaining"] = str(max(0, limit - len(recent)))
            headers[f"{prefix}-reset"] = str(int((oldest + timedelta(hours=24)).timestamp()))
        return headers

    # -- posts --------------------------------------------------------------------------------
    def _store(
        self, user: User, text: str, parent: dict[str, Any] | None, media_ids: list[str]
    ) -> dict[str, Any]:
        post_id = self._next_id()
        tweet = {
            "id": post_id,
            "author_id": user.id,
            "text": text,
            "created_at": self.now(),
            "conversation_id": parent["conversation_id"] if parent else post_id,
            "in_reply_to_user_id": parent["author_id"] if parent else None,
            "replied_to": parent["id"] if parent else None,
            "media_ids": media_ids,
            "deleted": False,
        }
        self.tweets[post_id] = tweet
        return tweet

    def _create(self, request: FakeRequest, user: User) -> Reply:
        body = request.json()
        if not isinstance(body, dict):
            return invalid_request("Request body must be a JSON object")
        for key in body:
            if key not in POST_KEYS:
                return invalid_request(
                    f"$.{key}: is not defined in the schema and the schema does not allow "
                    "additional properties"
                )
        for outer, allowed in NESTED_KEYS.items():
            value = body.get(outer)
            if value is None:
                continue
            if not isinstance(value, dict):
                return invalid_request(f"$.{outer}: object expected")
            for key in value:
                if key not in allowed:
                    return invalid_request(
                        f"$.{outer}.{key}: is not defined in the schema and the schema does "
                        "not allow additional properties"
                    )
        text = body.get("text", "")
        media_ids = [str(m) for m in (body.get("media") or {}).get("media_ids") or []]
        if not isinstance(text, str) or (not text and not media_ids):
            return invalid_request("$.text: text or media is required")
        if text and parse_tweet(text).weightedLength > 280:
            # [O/U] the live answer to an over-long text.
            return problem(
                403,
                "Forbidden",
                "Your Tweet text is too long. For more information on how Twitter determines "
                "text length, see https://github.com/twitter/twitter-text.",
            )
        if len(media_ids) > 4 or any(
            self.media.get(m, {}).get("owner") != user.id for m in media_ids
        ):
            return invalid_request("Your media IDs are invalid.")
        parent = None
        reply = body.get("reply")
        if reply is not None:
            parent = self.tweets.get(str(reply.get("in_reply_to_tweet_id")))
            if parent is None or parent["deleted"]:
                return invalid_request("$.reply.in_reply_to_tweet_id: the post does not exist")
            summoned = f"@{user.username}".lower() in parent["text"].lower()
            if parent["author_id"] != user.id and not summoned:
                return problem(
                    403,
                    "Forbidden",
                    "Reply to this conversation is not allowed because you have not been "
                    "mentioned or otherwise engaged by the author of the post you are "
                    "replying to.",
                )
        since = self.now() - self.duplicate_window
        for tweet in self.tweets.values():
            if (
                tweet["author_id"] == user.id
                and not tweet["deleted"]
                and tweet["text"] == text
                and tweet["created_at"] >= since
            ):
                return problem(
                    403,
                    "Forbidden",
                    "You are not allowed to create a Tweet with duplicate content.",
                )
        if len(self._recent_posts(user)) >= self.user_daily_posts:
            return problem(429, "Too Many Requests", "Too Many Requests")
        tweet = self._store(user, text, parent, media_ids)
        shown, _ = self.render(text)
        history = "edit_history_post_ids" if self.spec == "2.167" else "edit_history_tweet_ids"
        return json_reply(201, {"data": {"id": tweet["id"], "text": shown, history: [tweet["id"]]}})

    def _delete(self, user: User, post_id: str) -> Reply:
        tweet = self.tweets.get(post_id)
        if tweet is None or tweet["deleted"]:
            return problem(
                404,
                "Not Found Error",
                f"Could not find tweet with id: [{post_id}].",
                "https://api.x.com/2/problems/resource-not-found",
            )
        if tweet["author_id"] != user.id:
            return problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
        tweet["deleted"] = True
        return json_reply(200, {"data": {"deleted": True}})

    def _unknown_params(self, request: FakeRequest, allowed: set[str]) -> Reply | None:
        unknown = sorted(set(request.query) - allowed)
        if unknown:
            return invalid_request(
                f"The query parameters [{','.join(unknown)}] is not one of "
                f"[{','.join(sorted(allowed))}]",
                {name: request.query[name] for name in unknown},
            )
        return None

    def _me(self, request: FakeRequest, user: User) -> Reply:
        problem_reply = self._unknown_params(request, {"user.fields", "expansions", "tweet.fields"})
        if problem_reply is not None:
            return problem_reply
        data: dict[str, Any] = {"id": user.id, "name": user.name, "username": user.username}
        if "profile_image_url" in (request.arg("user.fields") or "").split(","):
            data["profile_image_url"] = f"https://pbs.twimg.com/profile_images/{user.id}.jpg"
        return json_reply(200, {"data": data})

    def _post_object(self, tweet: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        shown, entities = self.render(tweet["text"])
        renamed = self.spec == "2.167"
        history = "edit_history_post_ids" if renamed else "edit_history_tweet_ids"
        data: dict[str, Any] = {"id": tweet["id"], "text": shown, history: [tweet["id"]]}
        if "created_at" in fields:
            data["created_at"] = tweet["created_at"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
        if "conversation_id" in fields:
            data["conversation_id"] = tweet["conversation_id"]
        if "author_id" in fields:
            data["author_id"] = tweet["author_id"]
        if "in_reply_to_user_id" in fields and tweet["in_reply_to_user_id"]:
            data["in_reply_to_user_id"] = tweet["in_reply_to_user_id"]
        referenced = "referenced_posts" if renamed else "referenced_tweets"
        refs = []
        if tweet["replied_to"]:
            refs.append({"type": "replied_to", "id": tweet["replied_to"]})
        if tweet.get("quoted"):
            refs.append({"type": "quoted", "id": tweet["quoted"]})
        if referenced in fields and refs:
            data[referenced] = refs
        if "entities" in fields and entities:
            data["entities"] = {"urls": entities}
        return data

    def _timeline(self, request: FakeRequest, user: User, user_id: str) -> Reply:
        fields_param = "post.fields" if self.spec == "2.167" else "tweet.fields"
        allowed = {
            "max_results",
            "pagination_token",
            "start_time",
            "end_time",
            "since_id",
            "until_id",
            "exclude",
            "expansions",
            fields_param,
            "media.fields",
            "user.fields",
            "place.fields",
            "poll.fields",
        }
        problem_reply = self._unknown_params(request, allowed)
        if problem_reply is not None:
            return problem_reply
        known_fields = {
            "created_at",
            "conversation_id",
            "author_id",
            "in_reply_to_user_id",
            "entities",
            "public_metrics",
            "referenced_posts" if self.spec == "2.167" else "referenced_tweets",
        }
        fields = set(filter(None, (request.arg(fields_param) or "").split(",")))
        if fields - known_fields:
            bad = sorted(fields - known_fields)[0]
            return invalid_request(
                f"The `{fields_param}` query parameter value [{bad}] is not one of "
                f"[{','.join(sorted(known_fields))}]",
                {fields_param: [bad]},
            )
        max_results = int(request.arg("max_results") or "10")
        if not 5 <= max_results <= 100:
            return invalid_request(
                f"The `max_results` query parameter value [{max_results}] is not between 5 and 100",
                {"max_results": [str(max_results)]},
            )
        if user_id not in self.users:
            return problem(
                404,
                "Not Found Error",
                f"Could not find user with id: [{user_id}].",
                "https://api.x.com/2/problems/resource-not-found",
            )
        posts = [t for t in self.tweets.values() if t["author_id"] == user_id and not t["deleted"]]
        start = request.arg("start_time")
        if start:
            since = datetime.fromisoformat(start.replace("Z", "+00:00"))
            posts = [t for t in posts if t["created_at"] >= since]
        posts.sort(key=lambda t: int(t["id"]), reverse=True)
        offset = int((request.arg("pagination_token") or "p0").removeprefix("p"))
        page = posts[offset : offset + max_results]
        if not page:
            return json_reply(200, {"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
        }
        if offset + max_results < len(posts):
            meta["next_token"] = f"p{offset + max_results}"
        return json_reply(200, {"data": [self._post_object(t, fields) for t in page], "meta": meta})

    def _mentions(self, request: FakeRequest, user: User, user_id: str) -> Reply:
        """``GET /2/users/:id/mentions`` (1.5): newest first, ``since_id``, 800 most recent."""
        fields_param = "post.fields" if self.spec == "2.167" else "tweet.fields"
        allowed = {
            "max_results",
            "pagination_token",
            "start_time",
            "end_time",
            "since_id",
            "until_id",
            "expansions",
            fields_param,
            "media.fields",
            "user.fields",
            "place.fields",
            "poll.fields",
        }
        problem_reply = self._unknown_params(request, allowed)
        if problem_reply is not None:
            return problem_reply
        fields = set(filter(None, (request.arg(fields_param) or "").split(",")))
        max_results = int(request.arg("max_results") or "10")
        if not 5 <= max_results <= 100:
            return invalid_request(
                f"The `max_results` query parameter value [{max_results}] is not between 5 and 100",
                {"max_results": [str(max_results)]},
            )
        since_id = request.arg("since_id")
        if since_id is not None and not (since_id.isdigit() and len(since_id) <= 19):
            return invalid_request(
                f"The `since_id` query parameter value [{since_id}] is not valid",
                {"since_id": [since_id]},
            )
        target = self.users.get(user_id)
        if target is None:
            return problem(
                404,
                "Not Found Error",
                f"Could not find user with id: [{user_id}].",
                "https://api.x.com/2/problems/resource-not-found",
            )
        handle = f"@{target.username}".lower()
        posts = [
            t
            for t in self.tweets.values()
            if not t["deleted"]
            and t["author_id"] != user_id
            and (handle in t["text"].lower() or t["in_reply_to_user_id"] == user_id)
        ]
        posts.sort(key=lambda t: int(t["id"]), reverse=True)
        posts = posts[:800]
        if since_id is not None:
            posts = [t for t in posts if int(t["id"]) > int(since_id)]
        offset = int((request.arg("pagination_token") or "p0").removeprefix("p"))
        page = posts[offset : offset + max_results]
        if not page:
            return json_reply(200, {"meta": {"result_count": 0}})
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0]["id"],
            "oldest_id": page[-1]["id"],
        }
        if offset + max_results < len(posts):
            meta["next_token"] = f"p{offset + max_results}"
        body: dict[str, Any] = {"data": [self._post_object(t, fields) for t in page], "meta": meta}
        if "author_id" in (request.arg("expansions") or "").split(","):
            user_fields = set((request.arg("user.fields") or "").split(","))
            users, errors = [], []
            for author_id in dict.fromkeys(t["author_id"] for t in page):
                author = self.users[author_id]
                if author.deleted:
                    errors.append(
                        {
                            "value": author_id,
                            "detail": f"Could not find user with author_id: [{author_id}].",
                            "title": "Not Found Error",
                            "resource_type": "user",
                            "parameter": "author_id",
                            "resource_id": author_id,
                            "type": "https://api.twitter.com/2/problems/resource-not-found",
                        }
                    )
                    continue
                entry = {"id": author.id, "name": author.name, "username": author.username}
                if "description" in user_fields:
                    entry["description"] = author.description
                users.append(entry)
            body["includes"] = {"users": users}
            if errors:
                body["errors"] = errors
        return json_reply(200, body)

    # -- media --------------------------------------------------------------------------------
    def _upload(self, request: FakeRequest, user: User) -> Reply:
        fields = request.multipart()
        if "media" not in fields or "media_category" not in fields:
            missing = "media_category" if "media" in fields else "media"
            return invalid_request(f"The `{missing}` field is required")
        category = fields["media_category"][0].decode()
        if category not in ("tweet_image", "tweet_gif", "tweet_video", "dm_image", "subtitles"):
            return invalid_request(f"The `media_category` value [{category}] is invalid")
        data, mime = fields["media"]
        if category == "tweet_image" and len(data) > 5 * 1024 * 1024:
            return invalid_request("Image files must be smaller than 5 MB")
        media_id = self._next_id()
        self.media[media_id] = {"owner": user.id, "data": data, "mime": mime, "alt_text": None}
        return json_reply(
            200,
            {
                "data": {
                    "id": media_id,
                    "media_key": f"3_{media_id}",
                    "size": len(data),
                    "expires_after_secs": 86400,
                    "image": {"image_type": mime, "w": 1, "h": 1},
                }
            },
        )

    def _metadata(self, request: FakeRequest, user: User) -> Reply:
        body = request.json()
        if not isinstance(body, dict) or set(body) - {"id", "metadata"}:
            return invalid_request("Body must be {id, metadata}")
        media = self.media.get(str(body.get("id")))
        if media is None or media["owner"] != user.id:
            return invalid_request(f"Media id [{body.get('id')}] is invalid")
        text = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if not isinstance(text, str) or len(text) > 1000:
            return invalid_request("$.metadata.alt_text.text must be at most 1000 characters")
        media["alt_text"] = text
        return json_reply(
            200, {"data": {"id": body["id"], "associated_metadata": {"alt_text": {"text": text}}}}
        )

    # -- read-back: post lookup with public_metrics (1.5) ------------------------------------
    def set_metrics(self, post_id: str, **counts: int) -> None:
        """Set a post's public metrics (``like_count=3, impression_count=120``...); the rest
        stay as they were (0 for a new post)."""
        with self.lock:
            current = self.metrics.setdefault(post_id, dict.fromkeys(PUBLIC_METRICS, 0))
            for name, value in counts.items():
                if name not in PUBLIC_METRICS:
                    raise ValueError(f"unknown public metric {name}")
                current[name] = value

    def delete_post(self, post_id: str) -> None:
        """Delete a post as its author would on x.com (lookups then answer not-found)."""
        with self.lock:
            self.tweets[post_id]["deleted"] = True

    def _public_metrics(self, post_id: str) -> dict[str, int]:
        counts = dict(self.metrics.get(post_id) or dict.fromkeys(PUBLIC_METRICS, 0))
        if self.spec == "2.167":
            counts["repost_count"] = counts.pop("retweet_count")
        return counts

    def _lookup_posts(self, request: FakeRequest) -> Reply:
        """``GET /2/tweets?ids=``: 200 with ``data`` for live posts and ``errors`` for the rest."""
        fields_param = "post.fields" if self.spec == "2.167" else "tweet.fields"
        allowed = {"ids", "expansions", fields_param, "media.fields", "user.fields"}
        allowed |= {"place.fields", "poll.fields"}
        problem_reply = self._unknown_params(request, allowed)
        if problem_reply is not None:
            return problem_reply
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return invalid_request(
                f"The number of values in the `ids` query parameter list [{len(ids)}] is not "
                "between 1 and 100",
                {"ids": [request.arg("ids") or ""]},
            )
        bad = [i for i in ids if not (i.isdigit() and len(i) <= 19)]
        if bad:
            return invalid_request(
                f"The `ids` query parameter value [{bad[0]}] does not match ^[0-9]{{1,19}}$",
                {"ids": [bad[0]]},
            )
        known_fields = {
            "created_at",
            "conversation_id",
            "author_id",
            "in_reply_to_user_id",
            "entities",
            "public_metrics",
            "referenced_posts" if self.spec == "2.167" else "referenced_tweets",
        }
        fields = set(filter(None, (request.arg(fields_param) or "").split(",")))
        if fields - known_fields:
            bad_field = sorted(fields - known_fields)[0]
            return invalid_request(
                f"The `{fields_param}` query parameter value [{bad_field}] is not one of "
                f"[{','.join(sorted(known_fields))}]",
                {fields_param: [bad_field]},
            )
        data: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for post_id in ids:
            tweet = self.tweets.get(post_id)
            if tweet is None or tweet["deleted"]:
                errors.append(
                    {
                        "value": post_id,
                        "detail": f"Could not find tweet with id: [{post_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": post_id,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                )
                continue
            item = self._post_object(tweet, fields)
            if "public_metrics" in fields:
                item["public_metrics"] = self._public_metrics(post_id)
            data.append(item)
        body: dict[str, Any] = {}
        if data:
            body["data"] = data
        if errors:
            body["errors"] = errors
        return json_reply(200, body)
