"""Mastodon's streaming API (server-sent events) for the ``mastodon`` connector's ``stream`` and ``stream_search``.

The streaming server answers ``GET /api/v1/streaming/<stream>`` (``user``: the account's notifications and direct
conversations; ``hashtag?tag=x``: public posts with the tag) with ``text/event-stream``: frames of ``event: <type>``
and ``data: <JSON>`` lines ended by a blank line, and ``:thump`` comments as heartbeats (docs.joinmastodon.org
/methods/streaming). Most instances proxy it on their own host; ``streaming_url`` names another one.

``open_streams`` connects every URL (the connection errors of the instance's REST API apply: 401 is permanent, 429
and 5xx transient), then one reader thread per connection parses the frames into ``(event, data)`` pairs on a queue;
``frames`` yields them, and ``None`` about every second when nothing came (the caller's heartbeat and stop check).
A frame is bounded (``MAX_FRAME_BYTES``); a connection silent for longer than ``idle_timeout`` (the server thumps every
15 s or so) or closed by the server ends with a transient ``ConnectorError``: the caller reconnects.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Self

import requests

from dandelion.connectors.errors import ConnectorError
from dandelion.connectors.tolerant import clean_text

#: The largest frame read (a Status is a few KB; an event past this is dropped as an error of the stream).
MAX_FRAME_BYTES = 1_000_000
#: Seconds of silence (no frame, no heartbeat) after which a connection is treated as dropped.
IDLE_TIMEOUT_S = 90.0
TICK_S = 1.0
USER_AGENT = "Dandelion (Mastodon streaming)"


class _Closed:
    """Put on the queue by a reader whose connection ended: ``error`` says how."""

    def __init__(self, error: ConnectorError) -> None:
        self.error = error


def _http_error(response: requests.Response, what: str) -> ConnectorError:
    status = response.status_code
    detail = clean_text(response.text[:300], 300) if not response.raw.closed else ""
    if status == 401:
        return ConnectorError(f"{what}: the Mastodon instance refused the access token ({detail}). Was it revoked? "
                              "Connect the account again.", permanent=True)
    if status == 429 or status >= 500:
        retry = response.headers.get("Retry-After")
        return ConnectorError(f"{what}: the Mastodon streaming server answered HTTP {status}",
                              retry_after=float(retry) if retry and retry.isdigit() else None)
    return ConnectorError(f"{what}: the Mastodon streaming server refused it (HTTP {status}: {detail})",
                          permanent=True)


def _parse(lines: list[bytes]) -> tuple[str, str] | None:
    """One SSE frame's ``(event, data)``; None for a comment-only frame (a heartbeat)."""
    event, data = "message", []
    for line in lines:
        if line.startswith(b":"):
            continue
        name, _, value = line.partition(b":")
        value = value[1:] if value.startswith(b" ") else value
        if name == b"event":
            event = value.decode("utf-8", errors="replace")
        elif name == b"data":
            data.append(value.decode("utf-8", errors="replace"))
    if not data and event == "message":
        return None
    return event, "\n".join(data)


def _pump(response: requests.Response, out: queue.Queue, stop: threading.Event, what: str) -> None:
    buffer, skipping = b"", False
    try:
        while not stop.is_set():
            chunk = response.raw.read1(65536)
            if not chunk:
                out.put(_Closed(ConnectorError(f"{what}: the streaming server closed the connection")))
                return
            buffer += chunk.replace(b"\r\n", b"\n")
            while b"\n\n" in buffer:
                frame, _, buffer = buffer.partition(b"\n\n")
                if skipping:  # the end of an oversized frame: dropped
                    skipping = False
                    continue
                parsed = _parse(frame.split(b"\n"))
                out.put(parsed if parsed is not None else ("", ""))
            if len(buffer) > MAX_FRAME_BYTES:
                if not skipping:
                    out.put(("error", f"a frame over {MAX_FRAME_BYTES} bytes was dropped"))
                buffer, skipping = buffer[-1:], True
    except Exception as exc:  # noqa: BLE001 - any failure of the socket ends this connection, reported
        if not stop.is_set():
            out.put(_Closed(ConnectorError(f"{what}: connection dropped ({clean_text(str(exc), 200)})")))


class Streams:
    """Open SSE connections and their reader threads; a context manager that closes them all."""

    def __init__(self) -> None:
        self.session = requests.Session()
        self.responses: list[requests.Response] = []
        self.queue: queue.Queue = queue.Queue(maxsize=10_000)
        self.halt = threading.Event()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        for response in self.responses:
            with contextlib.suppress(Exception):
                response.close()
        self.session.close()

    def open(self, url: str, token: str, *, timeout: float, idle_timeout: float, what: str) -> None:
        try:
            response = self.session.get(url, stream=True, timeout=(timeout, idle_timeout), headers={
                "Authorization": f"Bearer {token}", "Accept": "text/event-stream", "User-Agent": USER_AGENT})
        except requests.RequestException as exc:
            raise ConnectorError(f"{what}: cannot reach the Mastodon streaming server ({str(exc)[:300]})") from exc
        if response.status_code != 200:
            error = _http_error(response, what)
            response.close()
            raise error
        self.responses.append(response)
        threading.Thread(target=_pump, args=(response, self.queue, self.halt, what), daemon=True,
                         name=f"mastodon-sse-{len(self.responses)}").start()

    def frames(self, stop: threading.Event) -> Iterator[tuple[str, str] | None]:
        """``(event, data)`` as they come; None at least every ``TICK_S`` seconds; ends when ``stop`` is set."""
        while not stop.is_set():
            try:
                item = self.queue.get(timeout=TICK_S)
            except queue.Empty:
                yield None
                continue
            if isinstance(item, _Closed):
                raise item.error
            if item == ("", ""):
                yield None  # a heartbeat
                continue
            yield item


def open_streams(urls: Sequence[str], token: str, *, timeout: float, idle_timeout: float = IDLE_TIMEOUT_S,
                 what: str = "Mastodon streaming") -> Streams:
    """Connect every URL (all or none: a failure closes those opened and raises)."""
    streams = Streams()
    try:
        for url in urls:
            streams.open(url, token, timeout=timeout, idle_timeout=idle_timeout, what=what)
    except BaseException:
        streams.__exit__()
        raise
    return streams
