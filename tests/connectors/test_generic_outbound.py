"""Generic connector replies, tested against a real local HTTP server (the HTTP seam)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dandelion.connectors import registry
from dandelion.connectors.base import AccountRef, OutboundReply, SentMessage
from dandelion.connectors.errors import ConfigError, ConnectorError
from dandelion.connectors.generic import sign
from dandelion.connectors.generic.outbound import parse_retry_after


class Hook:
    """A scripted reply webhook: answers with ``status``, ``headers`` and ``body``; records requests."""

    def __init__(self) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}
        self.body = b'{"id": "remote-55"}'
        self.delay = 0.0
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.url = ""


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.requests.append((dict(self.headers), self.rfile.read(length)))
            if state.delay:
                threading.Event().wait(state.delay)
            try:
                self.send_response(state.status)
                for name, value in state.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(state.body)))
                self.end_headers()
                self.wfile.write(state.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/reply"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def account_for(url: str | None, **config) -> AccountRef:
    cfg = {"reply_webhook_url": url, **config} if url else config
    return AccountRef(id=3, network="x", external_id="x-3", handle="@brand", config=cfg, webhook_secret="k3y")


REPLY = OutboundReply(text="Merci, on regarde !", in_reply_to="c-1001", kind="reply", idempotency_key="msg-9")


def test_200_returns_sent_message_with_the_remote_id_and_a_signed_body(hook):
    sent = registry.get("generic").send_reply(account_for(hook.url), REPLY)
    assert isinstance(sent, SentMessage) and sent.external_id == "remote-55"
    [(headers, body)] = hook.requests
    assert headers["X-Dandelion-Signature"] == sign(body, "k3y")
    assert json.loads(body) == {
        "type": "reply",
        "account": {"id": 3, "external_id": "x-3", "handle": "@brand"},
        "reply": {
            "kind": "reply",
            "text": "Merci, on regarde !",
            "in_reply_to": "c-1001",
            "recipient_id": None,
            "idempotency_key": "msg-9",
        },
    }


def test_200_without_json_gets_a_generated_id(hook):
    hook.body = b"ok"
    sent = registry.get("generic").send_reply(account_for(hook.url), REPLY)
    assert sent.external_id.startswith("generic-")


def test_429_is_retryable_with_retry_after(hook):
    hook.status, hook.headers = 429, {"Retry-After": "30"}
    with pytest.raises(ConnectorError) as info:
        registry.get("generic").send_reply(account_for(hook.url), REPLY)
    assert info.value.permanent is False and info.value.retry_after == 30.0


def test_503_is_retryable(hook):
    hook.status = 503
    with pytest.raises(ConnectorError) as info:
        registry.get("generic").send_reply(account_for(hook.url), REPLY)
    assert info.value.permanent is False and info.value.retry_after is None


@pytest.mark.parametrize("status", [400, 401, 404, 302])
def test_4xx_and_redirects_are_permanent(hook, status):
    hook.status, hook.headers = status, {"Location": "http://127.0.0.1:9/elsewhere"}
    with pytest.raises(ConnectorError) as info:
        registry.get("generic").send_reply(account_for(hook.url), REPLY)
    assert info.value.permanent is True
    assert len(hook.requests) == 1  # the redirect was not followed


def test_timeout_is_retryable(hook):
    hook.delay = 1.0
    with pytest.raises(ConnectorError) as info:
        registry.get("generic").send_reply(account_for(hook.url, reply_timeout_s=0.2), REPLY)
    assert info.value.permanent is False


def test_unreachable_host_is_retryable():
    with pytest.raises(ConnectorError) as info:
        registry.get("generic").send_reply(account_for("http://127.0.0.1:9/nothing-listens"), REPLY)
    assert info.value.permanent is False


def test_without_reply_url_it_cannot_reply():
    generic = registry.get("generic")
    assert not generic.supports("reply", account_for(None).config)
    with pytest.raises(ConnectorError) as info:
        generic.send_reply(account_for(None), REPLY)
    assert info.value.permanent is True


def test_config_validation():
    generic = registry.get("generic")
    with pytest.raises(ConfigError) as info:
        generic.validate_config({"reply_webhook_url": "ftp://files"})
    assert "reply_webhook_url" in info.value.errors
    with pytest.raises(ConfigError):
        generic.validate_config({"reply_timeout_s": 0})
    assert generic.validate_config({}) == {"reply_timeout_s": 10.0}


def test_retry_after_parsing():
    import datetime as dt

    now = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:00 GMT", now=now) == 60.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
