"""A local WebSocket server speaking Jetstream's wire format, for the Bluesky connector's live listening tests.

It is NOT Jetstream and its frames are NOT recorded from the live service (nothing outside this machine is reachable
here): they are built by :func:`commit` / :func:`identity` in the message shapes Jetstream documents
(github.com/bluesky-social/jetstream, "Example events"). Each connection's request path is kept in ``paths`` (the
client's ``wantedCollections`` and ``cursor``); ``backlog`` is sent at every connection (what a replay from the
cursor brings), ``push(frame)`` sends to the open connection, ``drop()`` closes it.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from typing import Any

from websockets.sync.server import serve

_clock = itertools.count(int(time.time() * 1_000_000))


def commit(did: str, rkey: str, text: Any, *, operation: str = "create", collection: str = "app.bsky.feed.post",
           tags: list[str] | None = None, langs: list[str] | None = None, reply_to: str | None = None,
           images: list[str] | None = None, time_us: int | None = None) -> str:
    record: dict[str, Any] = {"$type": collection, "text": text, "createdAt": "2026-12-06T21:00:00.000Z",
                              "langs": langs or ["fr"]}
    if tags:
        record["facets"] = [{"index": {"byteStart": 0, "byteEnd": 1},
                             "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t}]} for t in tags]
    if reply_to:
        ref = {"uri": reply_to, "cid": "bafyreiparent"}
        record["reply"] = {"root": ref, "parent": ref}
    if images is not None:
        record["embed"] = {"$type": "app.bsky.embed.images", "images": [
            {"alt": alt, "image": {"$type": "blob", "ref": {"$link": "bafkreiimage"}, "mimeType": "image/png",
                                   "size": 96}} for alt in images]}
    body: dict[str, Any] = {"rev": "3l3qo2vuowo2b", "operation": operation, "collection": collection, "rkey": rkey,
                            "cid": "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}
    if operation != "delete":
        body["record"] = record
    return json.dumps({"did": did, "time_us": time_us or next(_clock), "kind": "commit", "commit": body})


def identity(did: str) -> str:
    return json.dumps({"did": did, "time_us": next(_clock), "kind": "identity",
                       "identity": {"did": did, "handle": "someone.test", "seq": 1, "time": "2026-12-06T21:00:00Z"}})


class JetstreamServer:
    def __init__(self) -> None:
        self.backlog: list[str | bytes] = []
        self.paths: list[str] = []
        self._pushes: queue.Queue[str | bytes | None] = queue.Queue()
        self.connected = threading.Event()
        self._server = serve(self._handle, "127.0.0.1", 0, compression=None, max_size=None)
        self.port = self._server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/subscribe"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handle(self, connection) -> None:
        self.paths.append(connection.request.path)
        for frame in self.backlog:
            connection.send(frame)
        self.connected.set()
        while True:
            try:
                frame = self._pushes.get(timeout=0.2)
            except queue.Empty:
                continue
            if frame is None:
                self.connected.clear()
                return
            connection.send(frame)

    def push(self, frame: str | bytes) -> None:
        self._pushes.put(frame)

    def drop(self) -> None:
        self._pushes.put(None)

    def stop(self) -> None:
        self.drop()
        self._server.shutdown()
