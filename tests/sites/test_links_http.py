"""The broken-link check against a real local HTTP server (``http.server`` in a thread): statuses stored, HEAD
refused then GET, timeouts, robots.txt minded (a disallowed address is never asked), at most ``per_host`` requests
at once on one host, each address asked once per run; the findings in the site's page and the cross-site report."""

from __future__ import annotations

import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.urls import reverse

from dandelion.core.actors import SYSTEM
from dandelion.sites import linkcheck, services
from dandelion.sites.models import BrokenLink
from tests.conftest import org  # noqa: F401


class LinkServer:
    """Answers ``/ok`` 200, ``/missing`` 404, ``/error`` 500, ``/nohead`` 405 to HEAD and 200 to GET, ``/slow`` after
    1.5 s, ``/busy/<n>`` 200 after 0.3 s; ``robots.txt`` disallows ``/private/``. Counts requests and the most
    seen at once."""

    ROBOTS = b"User-agent: *\nDisallow: /private/\n"

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.user_agents: set[str] = set()
        self.active = 0
        self.max_active = 0
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, method: str) -> None:
                path = self.path
                with lock:
                    server.hits[f"{method} {path}"] += 1
                    server.user_agents.add(self.headers.get("User-Agent", ""))
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    if path == "/robots.txt":
                        status, body = 200, server.ROBOTS
                    elif path == "/ok":
                        status, body = 200, b"ok"
                    elif path == "/error":
                        status, body = 500, b""
                    elif path == "/nohead":
                        status, body = (405, b"") if method == "HEAD" else (200, b"ok")
                    elif path == "/slow":
                        time.sleep(1.5)
                        status, body = 200, b"late"
                    elif path.startswith("/busy/"):
                        time.sleep(0.3)
                        status, body = 200, b"ok"
                    else:
                        status, body = 404, b""
                    try:
                        self.send_response(status)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        if method == "GET":
                            self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):  # the checker gave up (timeout)
                        pass
                finally:
                    with lock:
                        server.active -= 1

            def do_HEAD(self) -> None:
                self._answer("HEAD")

            def do_GET(self) -> None:
                self._answer("GET")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with LinkServer() as running:
        yield running


def test_the_http_checker_against_a_local_server(server):
    base = server.base
    checker = linkcheck.HttpChecker(timeout=0.5, max_workers=8, per_host=2)
    busy = checker.check_all([f"{base}/busy/{n}" for n in range(6)])  # 8 workers, but one host: 2 at once
    assert set(busy.values()) == {linkcheck.Answer(None, 200)} and server.max_active == 2
    urls = [f"{base}/ok", f"{base}/missing", f"{base}/error", f"{base}/nohead", f"{base}/slow",
            f"{base}/private/secret"]
    answers = checker.check_all(urls)
    assert answers[f"{base}/ok"] == linkcheck.Answer(None, 200)
    assert answers[f"{base}/missing"] == linkcheck.Answer("HTTP 404", 404)
    assert answers[f"{base}/error"] == linkcheck.Answer("HTTP 500", 500)
    assert answers[f"{base}/nohead"] == linkcheck.Answer(None, 200)  # HEAD refused (405), GET answers
    assert server.hits["GET /nohead"] == 1
    assert answers[f"{base}/slow"].reason == "no answer within 0.5 s" and answers[f"{base}/slow"].status is None
    assert answers[f"{base}/private/secret"] == linkcheck.Answer(None)  # robots.txt: not asked, not reported
    assert not any("/private/" in hit for hit in server.hits) and checker.skipped == [f"{base}/private/secret"]
    assert server.hits["GET /robots.txt"] == 1  # once per host and run
    assert server.user_agents == {linkcheck.USER_AGENT}


def test_an_unreachable_host_is_broken_and_a_robots_txt_crawl_delay_is_waited(server):
    closed = linkcheck.HttpChecker(timeout=0.5).check("http://127.0.0.1:9/nothing")  # nothing listens on port 9
    assert closed.reason.startswith("unreachable") and closed.status is None
    server.ROBOTS = b"User-agent: *\nCrawl-delay: 1\n"
    checker = linkcheck.HttpChecker(timeout=2, max_workers=4, per_host=4)
    started = time.monotonic()
    answers = checker.check_all([f"{server.base}/ok", f"{server.base}/missing", f"{server.base}/error"])
    assert time.monotonic() - started >= 2  # three requests, 1 s apart, one at a time
    assert server.max_active == 1 and [a.status for a in answers.values()] == [200, 404, 500]


def test_a_sites_check_stores_statuses_and_shows_them_in_the_site_page_and_the_report(org, server, client_for,
                                                                                     capsys):
    website = services.create_site(actor=org.users.hub_admin, unit=org.france, template="corporate",
                                   hostname="fr.localhost")
    about = website.site.root_page.get_children().get(slug="about").specific
    base = server.base
    about.body = [{"type": "text", "value": f'<p><a href="{base}/ok">ok</a> <a href="{base}/missing">missing</a>'
                                            f' <a href="/gone/">gone</a> <a href="{base}/private/x">private</a></p>'},
                  {"type": "call_to_action", "value": {"label": "Go", "url": f"{base}/error"}}]
    about.save_revision(user=None).publish(skip_permission_checks=True)
    services.check_site_links(actor=SYSTEM, website=website, http=linkcheck.HttpChecker(timeout=2))
    rows = {r.url: r for r in BrokenLink.objects.filter(website=website, page=about)}
    assert set(rows) == {f"{base}/missing", f"{base}/error", "/gone/"}
    assert (rows[f"{base}/missing"].status, rows[f"{base}/missing"].kind) == (404, "external")
    assert (rows[f"{base}/error"].status, rows[f"{base}/error"].reason) == (500, "HTTP 500")
    assert (rows["/gone/"].status, rows["/gone/"].kind) == (None, "internal")
    website.refresh_from_db()
    assert website.links_checked_at is not None and rows["/gone/"].found_at == website.links_checked_at
    page = client_for(org.users.fr_admin).get(reverse("sites:links", args=[website.pk])).content.decode()
    assert f"{base}/missing" in page and ">404<" in page
    count = BrokenLink.objects.filter(website=website).count()
    report = client_for(org.users.hub_admin).get(reverse("sites:report")).content.decode()
    row = report[report.index(f'id="site-{website.pk}"'):]
    row = row[: row.index("</tr>")]
    assert f"{count} broken links" in row and reverse("sites:links", args=[website.pk]) in row
    assert "consistent" not in row
    assert client_for(org.users.es_admin).get(reverse("sites:report")).content.decode().count(
        f'id="site-{website.pk}"') == 0  # another spoke does not see France's site in the report
    call_command("sites", "report")
    assert f"{count} broken link(s)" in capsys.readouterr().out
