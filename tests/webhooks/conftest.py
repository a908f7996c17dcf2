"""A real HTTP receiver on 127.0.0.1 (a ``http.server`` thread) that records what it gets and answers as scripted."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    script: list[tuple[int, float, bytes]] = field(default_factory=list)  # (status, delay seconds, body) per call

    def answer(self, *answers: int | tuple) -> None:
        """Queue answers: ``500`` or ``(200, delay)`` or ``(200, 0, b"body")``; then 200 forever."""
        for a in answers:
            a = (a,) if isinstance(a, int) else a
            self.script.append((a[0], a[1] if len(a) > 1 else 0.0, a[2] if len(a) > 2 else b"ok"))


@pytest.fixture
def receiver(settings):
    settings.DANDELION_WEBHOOK_ALLOW_PRIVATE = True  # the receiver is local
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with lock:
                state.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status, delay, answer = state.script.pop(0) if state.script else (200, 0.0, b"ok")
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/dandelion?x=1"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_subscription(org):
    """``make_subscription(unit=..., types=[...], url=...)`` through the service, as the hub admin."""
    from dandelion.webhooks import services

    def make(*, url, unit=None, types=("conversation.assigned",), name="Receiver", actor=None):
        sub, secret = services.create_subscription(actor=actor or org.users.hub_admin, unit=unit or org.france,
                                                   name=name, url=url, event_types=list(types))
        return sub, secret

    return make
