"""The broken-link check of a website, as pure functions over plain data (``services.check_site_links`` loads the
pages and writes the findings; ``jobs.check_site_links`` runs it).

A link is *internal* when it is a path (``/about/``) or an address on the site's own hostname: it is broken when no
live page of the site has that path. Any other ``http(s)://`` link is *external*: a checker (a function from an
address to a reason, or None when it answers) says whether it is broken; by default :class:`HttpChecker` asks them
all with HEAD requests, a few at a time, minding each host's robots.txt.
``mailto:``, ``tel:`` and ``#anchors`` are not checked."""

from __future__ import annotations

import re
import socket
import threading
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils.translation import gettext_noop

#: The reason stored for an internal link (translated when shown: the catalogue has it).
NO_PAGE = gettext_noop("no live page at this address on the site")

HREF_RE = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
URL_KEYS = ("url",)  # the blocks' fields that hold an address (call to action, contact links, crisis banner)
MAX_LINKS = 500  # per site and run: a page stuffed with links does not make the job endless

Checker = Callable[[str], "str | Answer | None"]


@dataclass(frozen=True, slots=True)
class Finding:
    page_id: int
    url: str
    reason: str
    status: int | None = None  # the HTTP status an external address answered (None: internal, or no answer)
    kind: str = "internal"


@dataclass(frozen=True, slots=True)
class Answer:
    """What asking an external address gave: broken when ``reason`` is set; ``status`` when the server answered."""

    reason: str | None
    status: int | None = None


def _answer(value) -> Answer:
    return value if isinstance(value, Answer) else Answer(value or None)


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
                checker: Checker | None = None, http: HttpChecker | None = None) -> list[Finding]:
    """The broken links of ``pages`` (``(page id, raw body)``): internal paths no live page has, external addresses
    found broken. Each external address is asked once per run: by ``http`` all together (its own concurrency caps,
    timeouts and robots.txt), or one by one by ``checker`` (a function from an address to a reason or None)."""
    links: list[tuple[int, str, str]] = []
    for page_id, body in pages:
        for url in links_of(body):
            kind = kind_of(url, hostname)
            if kind == "skip":
                continue
            if len(links) >= MAX_LINKS:
                break
            links.append((page_id, url, kind))
    externals = list(dict.fromkeys(url for _page, url, kind in links if kind == "external"))
    if checker is not None:
        answers = {url: _answer(checker(url)) for url in externals}
    else:
        answers = (http or HttpChecker()).check_all(externals)
    findings: list[Finding] = []
    for page_id, url, kind in links:
        if kind == "internal":
            if internal_path(url) not in live_paths:
                findings.append(Finding(page_id, url, NO_PAGE))
            continue
        answer = answers.get(url)
        if answer is not None and answer.reason:
            findings.append(Finding(page_id, url, answer.reason, answer.status, "external"))
    return findings


USER_AGENT = "DandelionLinkCheck/1.0 (+https://dandelion.example/docs/websites)"


class HttpChecker:
    """Asks external addresses as a polite crawler: a HEAD request (a GET when the server refuses HEAD), ``timeout``
    seconds each; at most ``max_workers`` requests at once and ``per_host`` at once on one host; each host's
    ``/robots.txt`` read once per run: an address it disallows to our user agent is not asked (and not reported),
    and its ``Crawl-delay`` (at most ``max_delay`` seconds) is waited between two requests to that host."""

    def __init__(self, *, timeout: float = 5.0, max_workers: int = 8, per_host: int = 2, robots: bool = True,
                 max_delay: float = 5.0):
        self.timeout, self.max_workers, self.per_host = timeout, max_workers, per_host
        self.robots, self.max_delay = robots, max_delay
        self._lock = threading.Lock()
        self._hosts: dict[str, threading.Semaphore] = {}
        self._rules: dict[str, object] = {}
        self._last: dict[str, float] = {}
        self.skipped: list[str] = []  # disallowed by robots.txt

    def check_all(self, urls: Sequence[str]) -> dict[str, Answer]:
        if not urls:
            return {}
        with ThreadPoolExecutor(max_workers=max(1, min(self.max_workers, len(urls)))) as pool:
            return dict(zip(urls, pool.map(self.check, urls), strict=True))

    def _origin(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    def _robots(self, origin: str):
        with self._lock:
            if origin in self._rules:
                return self._rules[origin]
            rules = urllib.robotparser.RobotFileParser()
            try:  # read here with a timeout (RobotFileParser.read has none)
                request = urllib.request.Request(origin + "/robots.txt", headers={"User-Agent": USER_AGENT})
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    rules.parse(response.read(100_000).decode("utf-8", "replace").splitlines())
            except urllib.error.HTTPError as exc:
                rules.parse([] if exc.code >= 400 else ["User-agent: *", "Disallow: /"])
            except (urllib.error.URLError, TimeoutError, OSError, ValueError):
                rules.parse([])  # no robots.txt to read: everything may be asked
            self._rules[origin] = rules
            return rules

    def _wait_turn(self, origin: str, delay: float) -> None:
        if delay <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._last.get(origin, 0.0) + delay)
            self._last[origin] = start
        if start > now:
            time.sleep(start - now)

    def check(self, url: str) -> Answer:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return Answer("not an http(s) address")
        origin = self._origin(url)
        delay = 0.0
        if self.robots:
            rules = self._robots(origin)
            if not rules.can_fetch(USER_AGENT, url):
                with self._lock:
                    self.skipped.append(url)
                return Answer(None)
            delay = min(float(rules.crawl_delay(USER_AGENT) or 0), self.max_delay)
        with self._lock:
            gate = self._hosts.setdefault(origin, threading.Semaphore(1 if delay else self.per_host))
        with gate:
            self._wait_turn(origin, delay)
            return self._ask(url)

    def _ask(self, url: str) -> Answer:
        for method in ("HEAD", "GET"):
            request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return Answer(None, response.status)
            except urllib.error.HTTPError as exc:
                if method == "HEAD" and exc.code in (405, 501):  # refuses HEAD: ask again with GET
                    continue
                return Answer(f"HTTP {exc.code}", exc.code)
            except TimeoutError:
                return Answer(f"no answer within {self.timeout:g} s")
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                    return Answer(f"no answer within {self.timeout:g} s")
                return Answer(f"unreachable ({type(exc.reason).__name__})")
            except (OSError, ValueError) as exc:
                return Answer(f"unreachable ({type(exc).__name__})")
        return Answer(None)


def http_checker(url: str, *, timeout: float = 5.0) -> str | None:
    """One address asked alone (no robots.txt): None when it answers below 400, else why it is broken."""
    return HttpChecker(timeout=timeout, robots=False).check(url).reason
