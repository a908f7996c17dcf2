#!/usr/bin/env python
"""Live connections (issue 17): how fast a pushed item is seen, and how much a stream can carry, per connector.

One command, loopback only, no database::

    PYTHONPATH=src .venv/bin/python bench/streams.py                # defaults below
    PYTHONPATH=src .venv/bin/python bench/streams.py --frames 50000 --pushes 30

A. e-mail, IMAP IDLE against a real local Dovecot (the tests' ``mailserver.DovecotServer``): ``--pushes`` messages
   delivered one by one with ``dovecot-lda``; latency = from the end of the delivery to the ``StreamBatch(poll=True)``
   the connector yields (what makes the listener poll);
B. Mastodon, the user stream of the MOCK streaming server (``tests/connectors/mastodon_stream_mock.py``, not
   Mastodon): ``--frames`` mention notifications pushed in Mastodon's SSE format; events/s read, parsed and
   validated by the connector (the mock's writing shares the cores);
C. Bluesky, Jetstream's format from a local WebSocket server (``tests/connectors/jetstream_server.py``, not
   Jetstream): ``--frames`` post creates, one in 50 containing the followed term; messages/s filtered by one
   connection (Jetstream sends every post of the network: this is the rate one connection keeps up with).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]


def setup_django() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
    django.setup()


def bench_idle(pushes: int) -> dict:
    from tests.connectors.mailserver import DovecotServer

    from dandelion.connectors import registry
    from dandelion.connectors.base import AccountRef

    root = Path(tempfile.mkdtemp(prefix="bench-dovecot-"))
    server = DovecotServer.start(root, {"bench@example.test": "secret"})
    try:
        account = AccountRef(id=1, network="email", external_id="bench@example.test", handle="bench@example.test",
                             credentials={"imap_password": "secret"}, connector="email",
                             config={"imap_host": "127.0.0.1", "imap_port": server.port, "imap_security": "none"})
        stop = threading.Event()
        stream = registry.get("email").stream(account, stop=stop)
        next(stream)  # connected
        latencies = []
        for i in range(pushes):
            raw = (f"From: c{i}@cust.test\r\nTo: bench@example.test\r\nSubject: n{i}\r\nMessage-ID: <b{i}@x>\r\n\r\n"
                   f"body {i}\r\n").encode()
            server.deliver("bench@example.test", raw)
            delivered = time.perf_counter()
            for batch in stream:
                if batch.poll:
                    latencies.append((time.perf_counter() - delivered) * 1000)
                    break
        stop.set()
        latencies.sort()
        return {"pushes": pushes, "p50_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1), "max_ms": round(latencies[-1], 1)}
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def bench_mastodon(frames: int) -> dict:
    from tests.connectors.mastodon_stream_mock import MastodonStreamingMock

    from dandelion.connectors import registry
    from dandelion.connectors.base import AccountRef

    mock = MastodonStreamingMock(rate_limit=100_000).start()
    try:
        brand, customer = mock.account("acme"), mock.account("camille")
        brand.token = mock.token_for(brand)
        status = mock.post(customer, "@acme ma commande n'est pas arrivée, pouvez-vous regarder ?")
        notification = next(n for n in mock.notifications.values() if n["to"] == brand.id)
        template = mock.notification_entity(notification)
        account = AccountRef(id=2, network="mastodon", external_id=brand.id, handle="acme", connector="mastodon",
                             credentials={"access_token": brand.token}, config={"instance": mock.url})
        stop = threading.Event()
        stream = registry.get("mastodon").stream(account, stop=stop)
        next(stream)
        mock.wait_for_streams(1)
        base = int(status["id"])
        frames_bytes = []
        for i in range(frames):
            entity = dict(template, id=str(10_000 + i), status=dict(template["status"], id=str(base + 1 + i)))
            frames_bytes.append(f"event: notification\ndata: {json.dumps(entity)}\n\n".encode())
        started = time.perf_counter()
        threading.Thread(target=lambda: [mock.push_raw(f"user:{brand.id}", f) for f in frames_bytes],
                         daemon=True).start()
        seen = 0
        for batch in stream:
            seen += len(batch.events)
            if seen >= frames:
                break
        elapsed = time.perf_counter() - started
        stop.set()
        return {"frames": frames, "seconds": round(elapsed, 2), "events_per_s": round(frames / elapsed)}
    finally:
        mock.stop()


def bench_jetstream(frames: int) -> dict:
    from tests.connectors.jetstream_server import JetstreamServer, commit

    from dandelion.connectors import registry
    from dandelion.connectors.base import AccountRef

    server = JetstreamServer()
    try:
        did = "did:plc:bench0000000000000000000"
        server.backlog = [commit(did, f"3k{i:08d}", f"post {i} " + ("mon colis" if i % 50 == 0 else "autre chose")
                                 + " lorem ipsum dolor sit amet" * 3) for i in range(frames)]
        last = f"at://{did}/app.bsky.feed.post/3k{(frames - 1) // 50 * 50:08d}"
        account = AccountRef(id=3, network="bluesky", external_id="did:plc:brand", handle="brand.test",
                             connector="bluesky", config={"jetstream_url": server.url})
        stop = threading.Event()
        started = time.perf_counter()
        matched = 0
        for batch in registry.get("bluesky").stream_search(account, ["colis"], stop=stop):
            matched += len(batch.events)
            if any(e.external_id == last for e in batch.events):
                break
        elapsed = time.perf_counter() - started
        stop.set()
        return {"frames": frames, "matched": matched, "seconds": round(elapsed, 2),
                "messages_per_s": round(frames / elapsed)}
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pushes", type=int, default=20)
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--mastodon-frames", type=int, default=2_000)
    args = parser.parse_args()
    setup_django()
    import logging

    logging.disable(logging.INFO)
    results = {"A. e-mail IMAP IDLE push latency": bench_idle(args.pushes),
               "B. Mastodon user stream (mock)": bench_mastodon(args.mastodon_frames),
               "C. Bluesky Jetstream format (local server)": bench_jetstream(args.frames)}
    for name, figures in results.items():
        print(f"{name}: {figures}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
