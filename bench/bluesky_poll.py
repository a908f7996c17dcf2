#!/usr/bin/env python
"""Inbound throughput of the Bluesky connector: events/s polling a REAL local AT Protocol network (@atproto/dev-env,
the tests' fixture ``tests/connectors/blueskynet.py``) holding ``--mentions`` pending notifications.

One command (PostgreSQL and Redis running; the network is installed into ~/.cache on first use)::

    PYTHONPATH=src .venv/bin/python bench/bluesky_poll.py                 # 1,000 pending mentions
    PYTHONPATH=src .venv/bin/python bench/bluesky_poll.py --mentions 300 --repeat 3

Creates a brand and 10 customer accounts, posts ``--mentions`` mentions of the brand (4 threads), waits until the
AppView lists them all, then polls with the ``bluesky`` connector from a cursor older than all of them, page after
page (100 a page, 10 pages a poll, as the polling job does) until nothing more waits: events/s = events / wall time
(login included in the first repeat only: sessions are kept per process). Also times the rate-limit bookkeeping
(reading the ``ratelimit-*`` headers of an answer and deciding whether to wait) per call.

Exit status 0 when every mention was read exactly once.

Status: UNFINISHED. Its first run (2-core shared sandbox, 2026-12-05) started the network (69.5 s) and posted 1,000
mentions (154.4 s); the AppView's table held all 1,000 notifications, but the wait below (counting them through the
PDS's listNotifications) did not reach 1,000 within 300 s, so no throughput figure was measured. Not investigated
yet; no figure is in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from tests.connectors.blueskynet import Network

    from dandelion.connectors import registry
    from dandelion.connectors.base import AccountRef, poll_with_cursor
    from dandelion.connectors.bluesky.session import RateWindow

    started = time.monotonic()
    net = Network.start()
    print(f"network ready in {time.monotonic() - started:.1f} s")
    try:
        brand = net.account("brand")
        customers = [net.account(f"customer{i}") for i in range(10)]
        tokens = {c.did: net.session(c) for c in customers}

        def post(i: int) -> None:
            author = customers[i % len(customers)]
            text = f"@{brand.handle} question {i}: where is my order?"
            end = len(f"@{brand.handle}".encode())
            net.xrpc("POST", "com.atproto.repo.createRecord", token=tokens[author.did], json={
                "repo": author.did, "collection": "app.bsky.feed.post",
                "record": {"$type": "app.bsky.feed.post", "text": text,
                           "createdAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                           "facets": [{"index": {"byteStart": 0, "byteEnd": end}, "features": [
                               {"$type": "app.bsky.richtext.facet#mention", "did": brand.did}]}]}})

        t0 = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(post, range(args.mentions)))
        print(f"{args.mentions} mentions posted in {time.monotonic() - t0:.1f} s")
        brand_token = net.session(brand)

        def indexed() -> int:
            count, cursor = 0, None
            while True:
                params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
                answer = net.http.get(f"{net.pds}/xrpc/app.bsky.notification.listNotifications", params=params,
                                      headers={"Authorization": f"Bearer {brand_token}"}).json()
                count += len(answer.get("notifications") or [])
                cursor = answer.get("cursor")
                if not cursor or not answer.get("notifications"):
                    return count

        net.wait_for(lambda: indexed() >= args.mentions, timeout=300, what="all notifications indexed")
        connector = registry.get("bluesky")
        ref = AccountRef(id=1, network="bluesky", external_id=brand.did, handle=brand.handle,
                         credentials={"app_password": brand.app_password}, config={"service": net.pds},
                         connector="bluesky")
        rates, ok = [], True
        for run in range(args.repeat):
            cursor: dict = {"seen_at": "2000-01-01T00:00:00+00:00", "edge": []}
            seen: list[str] = []
            t0 = time.monotonic()
            polls = 0
            while True:
                result = poll_with_cursor(connector, ref, cursor)
                polls += 1
                seen += [e.external_id for e in result.events]
                cursor = dict(result.cursor)
                if not result.more:
                    break
            elapsed = time.monotonic() - t0
            ok = ok and len(seen) == len(set(seen)) == args.mentions
            rates.append(len(seen) / elapsed)
            print(f"run {run + 1}: {len(seen)} events in {elapsed:.2f} s over {polls} polls "
                  f"({len(seen) / elapsed:.0f} events/s){' (includes the login)' if run == 0 else ''}")
        window = RateWindow()
        headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "2999", "ratelimit-reset": "1900000000",
                   "ratelimit-policy": "3000;w=300"}
        n = 200_000
        t0 = time.perf_counter()
        for _ in range(n):
            window.update(headers)
            window.wait_s()
        per_call_us = (time.perf_counter() - t0) / n * 1e6
        print(f"median {statistics.median(rates):.0f} events/s; rate-limit bookkeeping {per_call_us:.2f} µs per call")
        print(f"all {args.mentions} read exactly once: {ok}")
        return 0 if ok else 1
    finally:
        net.stop()


if __name__ == "__main__":
    sys.exit(main())
