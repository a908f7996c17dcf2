"""The broken-link check of a website, as pure functions over plain data (``services.check_site_links`` loads the
pages and writes the findings; ``jobs.check_site_links`` runs it).

A link is *internal* when it is a path (``/about/``) or an address on the site's own hostname: it is broken when no
live page of the site has that path. Any other ``http(s)://`` link is *external*: a checker (a function from an
address to a reason, or None when it answers) says whether it is broken; the default one asks with a HEAD request.
``mailto:``, ``tel:`` and ``#anchors`` are not checked."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext_noop

#: The reason stored for an internal link (translated when shown: the catalogue has it).
NO_PAGE = gettext_noop("no live page at this address on the site")

HREF_RE = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
URL_KEYS = ("url",)  # the blocks' fields that hold an address (call to action, contact links, crisis banner)
MAX_LINKS = 500  # per site and run: a page stuffed with links does not make the job endless

Checker = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class Finding:
    page_id: int
    url: str
    reason: str


def links_of(body_raw) -> list[str]:
    """Every address a StreamField's raw data links to: rich text's ``href``s and the blocks' ``url`` fields, in
    order, each once."""
    found: list[str] = []

    def walk(node, key: str = "") -> None:
        if isinstance(node, str):
            if key in URL_KEYS and node.strip():
                found.append(node.strip())
            found.extend(h.strip() for h in HREF_RE.findall(node))
        elif isinstance(node, Mapping):
            for k, item in node.items():
                if k not in ("type", "id"):
                    walk(item, str(k))
        elif isinstance(node, Sequence):  # lists, and a StreamValue's RawDataView
            for item in node:
                walk(item, key)

    walk(body_raw)
    return list(dict.fromkeys(found))


def kind_of(url: str, hostname: str) -> str:
    """``internal``, ``external`` or ``skip``."""
    if url.startswith("#") or url.lower().startswith(("mailto:", "tel:")):
        return "skip"
    if url.startswith("/") and not url.startswith("//"):
        return "internal"
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        return "internal" if parts.hostname.lower() == hostname else "external"
    return "external"  # a malformed or odd-scheme address: the checker says it is broken


def internal_path(url: str) -> str:
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path + "/"


def find_broken(pages: Iterable[tuple[int, object]], *, hostname: str, live_paths: set[str],
                checker: Checker) -> list[Finding]:
    """The broken links of ``pages`` (``(page id, raw body)``): internal paths no live page has, external addresses
    the checker finds broken. Each external address is asked once per run."""
    findings: list[Finding] = []
    answers: dict[str, str | None] = {}
    seen = 0
    for page_id, body in pages:
        for url in links_of(body):
            kind = kind_of(url, hostname)
            if kind == "skip":
                continue
            seen += 1
            if seen > MAX_LINKS:
                return findings
            if kind == "internal":
                if internal_path(url) not in live_paths:
                    findings.append(Finding(page_id, url, NO_PAGE))
                continue
            if url not in answers:
                answers[url] = checker(url)
            if answers[url]:
                findings.append(Finding(page_id, url, answers[url]))
    return findings


def http_checker(url: str, *, timeout: float = 5.0) -> str | None:
    """Ask ``url`` with a HEAD request: None when it answers below 400, else why it is broken."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) address"
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "Dandelion link check"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return None if response.status < 400 else f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        if exc.code == 405:  # a server refusing HEAD answers; it is not a broken link
            return None
        return f"HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return f"unreachable ({type(exc).__name__})"
