#!/usr/bin/env python
"""Inbound throughput of the polling connectors: events/s read by one poller from a local Dovecot and a local feed.

One command, loopback only, no database::

    PYTHONPATH=src .venv/bin/python bench/connector_poll.py                  # 1,000 e-mails, a 1,000-entry feed
    PYTHONPATH=src .venv/bin/python bench/connector_poll.py --emails 2000 --batch 200 --entries 500 --repeat 5

E-mail: starts a throwaway Dovecot (the tests' fixture, ``tests/connectors/mailserver.py``), delivers ``--emails``
customer messages (3 KB of text, one in ten with a 40 KB attachment) with ``dovecot-lda``, then polls the mailbox
with the ``email`` connector from an empty cursor, batch after batch (``--batch`` messages each, one IMAP session a
batch, as the polling job does) until the connector says nothing more waits: events/s = messages / wall time.

RSS: serves a feed of ``--entries`` entries from ``http.server`` on 127.0.0.1 and times, ``--repeat`` times each,
(a) a first poll (download + feedparser + events), (b) a poll answered 304 (conditional GET: no parse).

Prints the figures and the machine; exit status 0 when every message and entry was read exactly once.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} × {os.cpu_count()}"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} × {os.cpu_count()}"


def bench_email(n: int, batch: int) -> tuple[float, int]:
    from tests.connectors.mailserver import DovecotServer

    from dandelion.connectors import registry
    from dandelion.connectors.base import AccountRef, poll_with_cursor

    root = Path(tempfile.mkdtemp(prefix="dandelion-bench-dovecot-"))
    user = "support@example.test"
    server = DovecotServer.start(root, {user: "pw"})
    try:
        t0 = time.perf_counter()
        attachment = ("QUJD" * 10_000 + "\r\n").encode()
        now_header = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        for i in range(n):
            body = (f"Bonjour, ma commande {i} n'est pas arrivée. " * 60).encode()
            head = (f"From: Client {i} <client{i}@cust.test>\r\nTo: {user}\r\nSubject: Commande {i}\r\n"
                    f"Message-ID: <bench{i}@cust.test>\r\nDate: {now_header}\r\n"
                    "MIME-Version: 1.0\r\n").encode()
            if i % 10 == 0:
                raw = head + (b"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain; "
                              b"charset=utf-8\r\n\r\n" + body + b"\r\n--B\r\nContent-Type: application/pdf\r\n"
                              b"Content-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: "
                              b"base64\r\n\r\n" + attachment + b"--B--\r\n")
            else:
                raw = head + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + b"\r\n"
            server.deliver(user, raw)
        print(f"  delivered {n} messages with dovecot-lda in {time.perf_counter() - t0:.1f} s")
        ref = AccountRef(id=1, network="email", external_id=user, handle=user, connector="email",
                         credentials={"imap_password": "pw"},
                         config={"imap_host": "127.0.0.1", "imap_port": server.port, "imap_security": "none",
                                 "batch_size": batch, "backfill_days": 365})
        connector = registry.get("email")
        seen: set[str] = set()
        cursor = None
        t0 = time.perf_counter()
        while True:
            result = poll_with_cursor(connector, ref, cursor)
            seen.update(e.external_id for e in result.events)
            cursor = dict(result.cursor)
            if not result.more:
                break
        elapsed = time.perf_counter() - t0
        return elapsed, len(seen)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def bench_rss(entries: int, repeat: int) -> tuple[list[float], list[float], int]:
    from tests.connectors.feedserver import FeedServer, Route, rss

    from dandelion.connectors import registry
    from dandelion.connectors.base import AccountRef, poll_with_cursor

    server = FeedServer().start()
    try:
        server.routes["/feed.xml"] = Route(rss([(f"e{i}", f"Acme story {i}") for i in range(entries)]),
                                           etag='"v1"', modified="Thu, 03 Dec 2026 12:00:00 GMT")
        ref = AccountRef(id=2, network="rss", external_id="feed", handle="News", connector="rss",
                         config={"feed_url": server.url("/feed.xml"), "max_entries": max(entries, 1)})
        connector = registry.get("rss")
        cold, warm, count = [], [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            first = poll_with_cursor(connector, ref, None)
            cold.append(time.perf_counter() - t0)
            count = len(first.events)
            t0 = time.perf_counter()
            again = poll_with_cursor(connector, ref, dict(first.cursor))
            warm.append(time.perf_counter() - t0)
            assert not again.events
        return cold, warm, count
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    print(f"machine: {cpu()}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    ok = True
    print(f"e-mail: {args.emails} messages, batches of {args.batch}")
    elapsed, read = bench_email(args.emails, args.batch)
    ok &= read == args.emails
    print(f"  read {read} in {elapsed:.2f} s: {read / elapsed:,.0f} events/s (IMAP fetch + parse, one poller)")
    print(f"rss: a feed of {args.entries} entries, {args.repeat} runs")
    cold, warm, count = bench_rss(args.entries, args.repeat)
    ok &= count == args.entries
    med = statistics.median(cold)
    print(f"  first poll: median {med * 1000:.0f} ms → {count / med:,.0f} events/s (download + feedparser)")
    print(f"  unchanged feed (304): median {statistics.median(warm) * 1000:.1f} ms, no parse")
    print("PASS" if ok else "FAIL: some items were not read exactly once")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
