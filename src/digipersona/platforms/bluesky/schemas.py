"""Shapes of the atproto records and responses the Bluesky provider reads and writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

POST_COLLECTION = "app.bsky.feed.post"
PROFILE_COLLECTION = "app.bsky.actor.profile"
POST_TYPE = "app.bsky.feed.post"
EMBED_IMAGES = "app.bsky.embed.images"
EMBED_EXTERNAL = "app.bsky.embed.external"
# The service id of the PDS in a DID document (platform-apis 2.1).
PDS_SERVICE_ID = "#atproto_pds"


@dataclass(frozen=True)
class StrongRef:
    """``com.atproto.repo.strongRef``: a record's at-uri plus the cid of that exact version."""

    uri: str
    cid: str

    def as_json(self) -> dict[str, str]:
        """The lexicon JSON form."""
        return {"uri": self.uri, "cid": self.cid}


@dataclass(frozen=True)
class AtUri:
    """``at://<repo>/<collection>/<rkey>``."""

    repo: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, value: str) -> AtUri:
        """Parse an at-uri naming one record; raises ``ValueError`` otherwise."""
        if not value.startswith("at://"):
            raise ValueError(f"not an at:// URI: {value!r}")
        pieces = value[len("at://") :].split("/")
        if len(pieces) != 3 or not all(pieces):
            raise ValueError(f"not a record at:// URI: {value!r}")
        return cls(pieces[0], pieces[1], pieces[2])

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


@dataclass(frozen=True)
class Session:
    """What ``createSession`` / ``refreshSession`` returned."""

    access_jwt: str
    refresh_jwt: str
    did: str
    handle: str
    did_doc: Mapping[str, Any] | None

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> Session:
        """Read the response body; raises ``KeyError``/``TypeError`` on a malformed one."""
        did_doc = body.get("didDoc")
        return cls(
            access_jwt=str(body["accessJwt"]),
            refresh_jwt=str(body["refreshJwt"]),
            did=str(body["did"]),
            handle=str(body.get("handle") or body["did"]),
            did_doc=did_doc if isinstance(did_doc, Mapping) else None,
        )


def pds_endpoint(did_doc: Mapping[str, Any] | None) -> str | None:
    """The ``#atproto_pds`` service endpoint of a DID document, if it names one."""
    if not did_doc:
        return None
    services = did_doc.get("service")
    if not isinstance(services, list):
        return None
    did = str(did_doc.get("id", ""))
    for service in services:
        if not isinstance(service, Mapping):
            continue
        if service.get("id") in (PDS_SERVICE_ID, f"{did}{PDS_SERVICE_ID}"):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
                return endpoint.rstrip("/")
    return None


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a session JWT, read without verifying (only the PDS can verify them)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def jwt_expiry(token: str) -> datetime | None:
    """When a session JWT expires (its ``exp`` claim), if it says."""
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, int | float):
        return datetime.fromtimestamp(exp, UTC)
    return None


def post_url(handle_or_did: str, rkey: str) -> str:
    """The bsky.app web address of a post (platform-apis 2.3)."""
    return f"https://bsky.app/profile/{handle_or_did}/post/{rkey}"
