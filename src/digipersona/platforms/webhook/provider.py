"""The webhook target: POST each post as a signed JSON document to a URL the user controls.

Request (one per publication, ``Content-Type: application/json``, UTF-8)::

    POST <connection url>
    User-Agent: digipersona/<version> webhook
    X-Digipersona-Event: post.published            (or post.deleted)
    X-Digipersona-Timestamp: <unix seconds>
    X-Digipersona-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">
    X-Digipersona-Idempotency-Key: <the publication's key, identical on every retry>

The HMAC key is the connection's secret (``credentials.access_token``, shown once when the
connection is made). Receivers check it with ``verify_signature`` (constant-time, with a
timestamp tolerance against replays).

Body of ``post.published``: the engine's post document (``request.document``: post id, persona,
body, tags, ...) plus ``event``, ``parts``, ``idempotency_key``, ``created_at``, ``link`` and
``media`` (each with ``filename``, ``mime_type``, ``alt_text``, ``width``, ``height`` and the bytes
as ``data_base64``). ``post.deleted`` carries ``event``, ``external_id`` and ``deleted_at``.

Answers: any 2xx means published; a JSON object reply may name the receiver's ``id`` (used as
the external id, else the idempotency key is) and ``url``. ``429`` with ``Retry-After`` ->
``RateLimited``; ``408``/``5xx``/refused connection -> ``Transient``; a timeout after the request
was sent -> ``UnknownOutcome``; other ``4xx`` -> ``Permanent`` with the receiver's message.

Retry contract: a receiver cannot be asked whether a delivery arrived, so ``lookup`` returns only
what the engine recorded (``already_published``) and otherwise ``None``: after an unknown outcome
the engine delivers again with the same key. **Receivers must
deduplicate on ``X-Digipersona-Idempotency-Key``** (answer 2xx, ideally with the same ``id``,
for a key they have already processed). That is the documented contract of this target.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from digipersona import __version__
from digipersona.kit.time import isoformat_z, utcnow
from digipersona.platforms import errors
from digipersona.platforms.base import (
    Credentials,
    Profile,
    Provider,
    PublishedPart,
    PublishRequest,
    PublishResult,
    TokenSet,
)
from digipersona.platforms.http import json_or_none, send

PLATFORM = "webhook"
USER_AGENT = f"digipersona/{__version__} webhook"
TIMESTAMP_HEADER = "X-Digipersona-Timestamp"
SIGNATURE_HEADER = "X-Digipersona-Signature"
IDEMPOTENCY_HEADER = "X-Digipersona-Idempotency-Key"
EVENT_HEADER = "X-Digipersona-Event"
SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300
# A 429 without Retry-After: wait a minute rather than hammer the receiver.
_DEFAULT_RETRY_AFTER = timedelta(seconds=60)
_MESSAGE_LIMIT = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Digipersona-Signature`` value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
) -> bool:
    """For receivers: whether ``signature`` is valid for ``body`` and ``timestamp`` is recent."""
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    if not signature.startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), signature.strip())


def _retry_at(response: httpx.Response) -> datetime:
    value = response.headers.get("retry-after", "").strip()
    now = utcnow()
    if value:
        try:
            return now + timedelta(seconds=max(0.0, float(value)))
        except ValueError:
            try:
                return parsedate_to_datetime(value).astimezone(UTC)
            except (TypeError, ValueError):
                pass
    return now + _DEFAULT_RETRY_AFTER


def _receiver_message(response: httpx.Response) -> str:
    body = json_or_none(response)
    if isinstance(body, Mapping):
        for key in ("message", "error", "detail", "title"):
            if isinstance(body.get(key), str) and body[key].strip():
                return str(body[key]).strip()[:_MESSAGE_LIMIT]
    text = response.text.strip() if response.content else ""
    return (text[:_MESSAGE_LIMIT] or response.reason_phrase or "no message").replace("\n", " ")


class WebhookProvider(Provider):
    """Deliver posts to the user's own endpoint, signed, for any tool that can take a POST."""

    name: ClassVar[str] = "webhook"
    display_name: ClassVar[str] = "Webhook"
    auth_kind = "webhook"
    max_length: ClassVar[int] = 100_000
    length_unit = "chars"
    # The same limits as posts/variants.py; images travel inline as base64.
    max_images: ClassVar[int] = 20
    max_image_bytes: ClassVar[int] = 10_000_000
    supports_threads: ClassVar[bool] = False
    link_handling = "payload"
    # The URL is the user's: requests go through the outbound guard (platforms/factory.py).
    user_chosen_urls: ClassVar[bool] = True

    @staticmethod
    def _url(credentials: Credentials) -> str:
        url = credentials.extra.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise errors.Permanent(
                "This webhook connection has no URL; reconnect it with the receiver's URL.",
                platform=PLATFORM,
            )
        return url

    def refresh(self, credentials: Credentials) -> TokenSet:
        """Nothing expires: the signing secret stays until the user replaces it."""
        return TokenSet(access_token=credentials.access_token, extra=dict(credentials.extra))

    def profile(self, credentials: Credentials) -> Profile:
        """The receiver, named by its host."""
        url = self._url(credentials)
        return Profile(account_id=url, handle=urlsplit(url).netloc, url=url)

    def publish(self, credentials: Credentials, request: PublishRequest) -> PublishResult:
        """Deliver the post document once; see the module docstring for the retry contract."""
        total = sum(len(part) for part in request.parts)
        if total > self.max_length:
            raise errors.InvalidContent(
                f"The post is {total} characters; the webhook target takes at most "
                f"{self.max_length}.",
                platform=PLATFORM,
            )
        payload: dict[str, Any] = {
            **dict(request.document),
            "event": "post.published",
            "parts": list(request.parts),
            "idempotency_key": request.idempotency_key,
            "created_at": isoformat_z(request.created_at),
            "link": request.link,
            "language": request.language,
            "media": [
                {
                    "filename": item.filename,
                    "mime_type": item.mime_type,
                    "alt_text": item.alt_text,
                    "width": item.width,
                    "height": item.height,
                    "data_base64": base64.b64encode(item.data).decode("ascii"),
                }
                for item in request.media
            ],
        }
        response = self._deliver(
            credentials, payload, event="post.published", key=request.idempotency_key
        )
        body = json_or_none(response)
        external_id, url = request.idempotency_key, None
        if isinstance(body, Mapping):
            if body.get("id") not in (None, ""):
                external_id = str(body["id"])
            if isinstance(body.get("url"), str) and body["url"]:
                url = str(body["url"])
        # One delivery carries every part; later parts are addressed as "<id>#<index>".
        parts = [
            PublishedPart(
                index=i, external_id=external_id if i == 0 else f"{external_id}#{i}", url=url
            )
            for i in range(len(request.parts))
        ]
        if request.on_part_published is not None:
            for part in parts:
                request.on_part_published(part)
        return PublishResult(external_id=external_id, url=url, parts=parts)

    def lookup(self, credentials: Credentials, request: PublishRequest) -> PublishResult | None:
        """Only what the engine already recorded: a receiver cannot be asked (module docstring).

        Returns the recorded parts when ``already_published`` covers every part, else ``None``,
        so the engine delivers again and the receiver dedupes on the idempotency key.
        """
        done = sorted(request.already_published, key=lambda part: part.index)
        if not done or [part.index for part in done] != list(range(len(request.parts))):
            return None
        return PublishResult(external_id=done[0].external_id, url=done[0].url, parts=done)

    def delete(self, credentials: Credentials, external_id: str) -> None:
        """Tell the receiver a post was deleted (a signed ``post.deleted`` event)."""
        payload = {
            "event": "post.deleted",
            "external_id": external_id,
            "deleted_at": isoformat_z(utcnow()),
        }
        # Missing posts count as deleted: a 404 from the receiver is success.
        self._deliver(
            credentials,
            payload,
            event="post.deleted",
            key=f"delete:{external_id}",
            not_found_ok=True,
        )

    def _deliver(
        self,
        credentials: Credentials,
        payload: Mapping[str, Any],
        *,
        event: str,
        key: str,
        not_found_ok: bool = False,
    ) -> httpx.Response:
        url = self._url(credentials)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode(
            "utf-8"
        )
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: event,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(credentials.access_token, timestamp, body),
            IDEMPOTENCY_HEADER: key,
        }
        response = send(
            self.http,
            "POST",
            url,
            platform=PLATFORM,
            write=True,
            timeout_seconds=self.config.timeout_seconds,
            what=f"the {event} delivery",
            content=body,
            headers=headers,
        )
        status = response.status_code
        if response.is_success or (not_found_ok and status in (404, 410)):
            return response
        message = _receiver_message(response)
        if status == 429:
            retry_at = _retry_at(response)
            raise errors.RateLimited(
                f"The webhook receiver asked to slow down ({message}).",
                retry_at,
                platform=PLATFORM,
                status_code=status,
            )
        if status == 408 or status >= 500:
            # The receiver answered, so it saw the request; it dedupes on the key, so a retry
            # is safe (module docstring).
            raise errors.Transient(
                f"The webhook receiver failed ({status}: {message}).",
                platform=PLATFORM,
                status_code=status,
            )
        if 300 <= status < 400:
            raise errors.Permanent(
                f"The webhook receiver redirected to {response.headers.get('location', '?')}; "
                "update the connection's URL to the final address.",
                platform=PLATFORM,
                status_code=status,
            )
        hint = (
            " Check that the receiver uses this connection's signing secret."
            if status in (401, 403)
            else ""
        )
        raise errors.Permanent(
            f"The webhook receiver refused the post ({status}: {message}).{hint}",
            platform=PLATFORM,
            status_code=status,
        )
