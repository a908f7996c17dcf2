"""A local HTTP feed server (``http.server`` in a thread) for the RSS connector's tests and benchmark.

``FeedServer`` serves whatever ``routes`` holds: ``routes["/feed.xml"] = Route(body, etag=..., modified=...)``
honours ``If-None-Match`` / ``If-Modified-Since`` with a 304; a ``Route`` may instead redirect (``status=301`` and
``location``) or fail (``status=404``, ``500`` with ``retry_after``...). Every request is counted in ``hits``.
"""

from __future__ import annotations

import gzip
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    modified: str | None = None
    location: str | None = None
    retry_after: str | None = None
    gzip: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                if route.status in (301, 302, 307, 308):
                    self.send_response(route.status)
                    self.send_header("Location", route.location or "/")
                    self.end_headers()
                    return
                if route.status != 200:
                    self.send_response(route.status)
                    if route.retry_after:
                        self.send_header("Retry-After", route.retry_after)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag_hit = route.etag and self.headers.get("If-None-Match") == route.etag
                date_hit = route.modified and self.headers.get("If-Modified-Since") == route.modified
                if etag_hit or (date_hit and not route.etag):
                    server.not_modified[self.path] += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                body = gzip.compress(route.body) if route.gzip else route.body
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(body)))
                if route.gzip:
                    self.send_header("Content-Encoding", "gzip")
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.modified:
                    self.send_header("Last-Modified", route.modified)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(items: list[tuple[str, str]], *, title: str = "Tech News", extra_item: str = "") -> bytes:
    """An RSS 2.0 document whose items are ``(guid, title)``, newest first (an hour apart, from 20:00)."""
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{text}</title><link>https://news.test/{guid}</link>"
        f"<description>&lt;p&gt;About &lt;b&gt;Acme&lt;/b&gt; {text}&lt;/p&gt;&lt;script&gt;evil()&lt;/script&gt;"
        f"</description><pubDate>Thu, 03 Dec 2026 {(20 - i) % 24:02d}:00:00 GMT</pubDate><author>ed@news.test (Ed)</author>"
        f"</item>"
        for i, (guid, text) in enumerate(items)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://news.test/</link><description>d</description>{entries}{extra_item}</channel></rss>"
            ).encode()
