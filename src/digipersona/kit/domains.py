"""Domain names in text: links and bare mentions of the domains a persona blocks.

Shared by the post guardrails (which report them) and the AI layer (which removes them from
drafts). An entry may be written ``spam.example``, ``*.spam.example`` or as a URL; a subdomain
of a blocked domain is blocked too; IDNs compare in their punycode form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from digipersona.kit.richtext import find_entities


def ascii_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain  # not a valid IDN: compare as written


def readable(domain: str) -> str:
    """The Unicode form of a punycode name, for messages."""
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain


def clean_blocked(entry: str) -> str:
    """``spam.example`` from entries like ``https://Spam.example/path`` or ``*.spam.example``."""
    entry = entry.strip()
    if "://" in entry:
        entry = urlsplit(entry).hostname or ""
    entry = entry.split("/")[0].split(":")[0].lstrip("*").lstrip(".")
    return ascii_domain(entry)


def hosts_in(body: str, domains: Sequence[str]) -> list[str]:
    """Hosts of the links in ``body``, plus bare mentions of the blocked domains themselves.

    The second scan catches names whose TLD the link detector does not know (``spam.example``).
    """
    hosts: list[str] = []
    for entity in find_entities(body):
        if entity.kind == "url":
            url = entity.value if "://" in entity.value else "https://" + entity.value
            try:
                host = urlsplit(url).hostname
            except ValueError:  # e.g. an invalid IPv6 literal
                continue
            if host:
                hosts.append(ascii_domain(host))
    lowered = body.lower()
    for domain in domains:
        for form in {domain, readable(domain)}:
            pattern = r"(?<![\w.@-])((?:[\w-]+\.)*" + re.escape(form) + r")(?![\w-]|\.[\w-])"
            hosts.extend(ascii_domain(m.group(1)) for m in re.finditer(pattern, lowered))
    return hosts


def blocked_hosts(body: str, blocked: Sequence[str]) -> list[tuple[str, str]]:
    """(host, blocked domain) for each blocked domain linked or named in ``body``, once each."""
    domains = [d for d in dict.fromkeys(clean_blocked(b) for b in blocked) if d]
    if not domains:
        return []
    out: list[tuple[str, str]] = []
    reported: set[str] = set()
    for host in hosts_in(body, domains):
        for domain in domains:
            if (host == domain or host.endswith("." + domain)) and domain not in reported:
                reported.add(domain)
                out.append((host, domain))
    return out
