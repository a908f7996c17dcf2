"""A MOCK Mastodon streaming server: ``mastodon_mock.MastodonMock`` (itself a mock of the REST API, not Mastodon) plus
``GET /api/v1/streaming/user`` and ``GET /api/v1/streaming/hashtag?tag=x`` answering ``text/event-stream`` the way
Mastodon's streaming server does (docs.joinmastodon.org/methods/streaming): chunked, frames of ``event:`` and
``data:`` lines ended by a blank line, ``:thump`` heartbeats. No real Mastodon runs here, so this is what the
``mastodon`` connector's streaming is tested against.

What the mock pushes, as Mastodon does: a new mention → ``notification`` on the mentioned account's ``user`` streams;
a direct status → ``conversation`` on each participant's; any status → ``update`` on its author's own ``user``
stream (the home timeline) and, when public with tags, on those tags' hashtag streams. Tests add hostile frames with
``push_raw(stream, frame)`` and cut every open stream with ``drop_streams()`` (the client must reconnect).
"""

from __future__ import annotations

import json
import queue
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.connectors.mastodon_mock import MastodonMock, _Handler

HEARTBEAT_S = 0.5


class _Subscriber:
    def __init__(self, stream: str, viewer: str | None) -> None:
        self.stream, self.viewer = stream, viewer
        self.queue: queue.Queue[bytes | None] = queue.Queue()


class MastodonStreamingMock(MastodonMock):
    """The REST mock with a streaming server (see the module)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.subscribers: list[_Subscriber] = []
        self.stream_connections = 0
        self.stream_status: int | None = None  # an HTTP status the next stream requests answer (fault injection)

    @staticmethod
    def handler_base() -> type:
        return _StreamingHandler

    def stop(self) -> None:
        self.drop_streams()
        super().stop()

    # --- what tests drive ----------------------------------------------------------------------------------------
    def push_raw(self, stream: str, frame: bytes) -> None:
        """Send ``frame`` (bytes as they go on the wire) to every open stream named ``stream`` (``user:<id>``,
        ``hashtag:<tag>``)."""
        with self.lock:
            for sub in self.subscribers:
                if sub.stream == stream:
                    sub.queue.put(frame)

    def drop_streams(self) -> None:
        with self.lock:
            for sub in self.subscribers:
                sub.queue.put(None)
            self.subscribers.clear()

    def wait_for_streams(self, count: int, timeout: float = 5.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.subscribers) >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"{count} stream(s) expected, {len(self.subscribers)} open")

    # --- pushing what happens -------------------------------------------------------------------------------------
    def _event(self, stream: str, event: str, payload: Any) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.push_raw(stream, f"event: {event}\ndata: {data}\n\n".encode())

    def _create_status(self, author: str, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        before = set(self.notifications)
        status = super()._create_status(author, params, **kwargs)
        self._event(f"user:{author}", "update", self.status_entity(status, author))
        for nid in sorted(set(self.notifications) - before, key=int):
            notification = self.notifications[nid]
            self._event(f"user:{notification['to']}", "notification", self.notification_entity(notification))
        if status["visibility"] == "direct":
            for conv in self.conversations.values():
                if conv["last"] == status["id"]:
                    self._event(f"user:{conv['viewer']}", "conversation", self.conversation_entity(conv))
        if status["visibility"] == "public":
            for tag in status["tags"]:
                self._event(f"hashtag:{tag}", "update", self.status_entity(status, None))
        return status


class _StreamingHandler(_Handler):
    state: MastodonStreamingMock

    def do_GET(self):
        split = urlsplit(self.path)
        if not split.path.startswith("/api/v1/streaming/"):
            return super().do_GET()
        state = self.state
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.startswith("Bearer ") else None
        with state.lock:
            state.requests.append(("GET", split.path))
            viewer = state.tokens.get(token or "") if token not in state.revoked else None
            fault, state.stream_status = state.stream_status, None
        if fault is not None:
            return self._send(fault, {"error": f"injected {fault}"})
        if viewer is None:
            return self._send(401, {"error": "Error: Missing access token"})
        name = split.path[len("/api/v1/streaming/"):].rstrip("/")
        if name == "user":
            stream = f"user:{viewer}"
        elif name == "hashtag":
            tag = (parse_qs(split.query).get("tag") or [""])[0].lower()
            if not tag:
                return self._send(400, {"error": "Missing tag name parameter"})
            stream = f"hashtag:{tag}"
        else:
            return self._send(404, {"error": "Unknown stream type"})
        sub = _Subscriber(stream, viewer)
        with state.lock:
            state.subscribers.append(sub)
            state.stream_connections += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "private, no-store")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        try:
            self._chunk(b":)\n")
            while True:
                try:
                    frame = sub.queue.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    frame = b":thump\n"
                if frame is None:
                    break
                self._chunk(frame)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        finally:
            with state.lock:
                if sub in state.subscribers:
                    state.subscribers.remove(sub)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


try:
    import pytest
except ImportError:  # pragma: no cover
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def mastodon_streaming_mock():
        """A fresh MOCK Mastodon instance with a MOCK streaming server (not Mastodon: see this module)."""
        mock = MastodonStreamingMock().start()
        yield mock
        mock.stop()
