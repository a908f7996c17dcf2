#!/usr/bin/env python
"""Inbound throughput of the Mastodon connector: events/s polling a MOCK Mastodon instance (the tests'
``tests/connectors/mastodon_mock.py``: no real Mastodon runs here) holding ``--mentions`` pending mentions.

One command, loopback only, a temporary SQLite database (migrated here, removed at the end)::

    PYTHONPATH=src .venv/bin/python bench/mastodon_poll.py                  # 1,000 pending mentions, 3 repeats
    PYTHONPATH=src .venv/bin/python bench/mastodon_poll.py --mentions 300 --repeat 5

Posts ``--mentions`` mentions of the brand by 10 customers (one in ten a direct message), then measures:

A. the connector alone: ``poll_with_cursor`` from a cursor older than all of them, page after page (40 a page,
   10 pages a poll: the defaults) until nothing more waits; events/s = events / wall time (the mock and the client
   share the 2 cores: the mock's JSON rendering is in the figure);
B. through the poll job: the account registered in Dandelion (a temporary SQLite database), ``poll_account`` (the
   job's unit: connector + deliveries stored) until the backlog is read, then ``process_pending_deliveries`` until
   every event is a message in a conversation; events/s for the poll alone and for poll + processing;
C. the cost of rate-limit handling: the pre-call check of the last ``X-RateLimit-*`` answer per call, and one poll
   refused by a 429 (the error path up to the ``ConnectorError`` with ``retry_after``).

Exit status 0 when every mention was read exactly once and became exactly one message.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO), str(REPO / "bench")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mentions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import _benchlib as lib

    workdir = tempfile.mkdtemp(prefix="dbench-mastodon-")
    db = f"sqlite:///{os.path.join(workdir, 'bench.sqlite3')}"
    env = lib.bench_env(db, os.path.join(workdir, "var"))
    os.makedirs(env["DANDELION_VAR_DIR"], exist_ok=True)
    try:
        t0 = time.perf_counter()
        lib.dandelion(env, "migrate", "--no-input")
        print(f"database migrated in {time.perf_counter() - t0:.1f} s")
        lib.django_setup(db, env["DANDELION_VAR_DIR"])
        return run(args, lib)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(args, lib) -> int:
    from tests.connectors.mastodon_mock import MastodonMock

    from dandelion.connectors import registry
    from dandelion.connectors.base import AccountRef, poll_with_cursor
    from dandelion.connectors.errors import ConnectorError
    from dandelion.connectors.mastodon import client as clients

    mock = MastodonMock(rate_limit=10**9).start()
    brand = mock.account("acme", "Acme")
    token = mock.token_for(brand)
    customers = [mock.account(f"customer{i}", f"Customer {i}") for i in range(10)]
    t0 = time.perf_counter()
    posted = [mock.post(customers[i % 10], f"@acme question {i}: where is my order?",
                        visibility="direct" if i % 10 == 0 else "public")["id"] for i in range(args.mentions)]
    print(f"{args.mentions} mentions on the mock in {time.perf_counter() - t0:.1f} s")
    connector = registry.get("mastodon")
    ok = True

    # A. the connector alone
    rates = []
    for run_no in range(args.repeat):
        clients.forget()
        ref = AccountRef(id=1, network="mastodon", external_id=brand.id, handle="acme", connector="mastodon",
                         credentials={"access_token": token}, config={"instance": mock.url})
        cursor: dict = {"min_id": "0", "dm_min_id": "0"}
        seen: list[str] = []
        polls = 0
        t0 = time.perf_counter()
        while True:
            result = poll_with_cursor(connector, ref, cursor)
            polls += 1
            seen += [e.external_id for e in result.events]
            cursor = dict(result.cursor)
            if not result.more:
                break
        elapsed = time.perf_counter() - t0
        ok = ok and sorted(seen, key=lambda i: (len(i), i)) == posted
        rates.append(len(seen) / elapsed)
        print(f"A. connector run {run_no + 1}: {len(seen)} events in {elapsed:.2f} s over {polls} polls "
              f"({len(seen) / elapsed:.0f} events/s)")
    print(f"A. connector alone: median {statistics.median(rates):.0f} events/s")

    # B. through the poll job, into the inbox
    from dandelion.assets.models import SocialAccount
    from dandelion.inbox.jobs import process_pending_deliveries
    from dandelion.inbox.models import Message
    from dandelion.inbox.polling import poll_account
    from dandelion.orgs.models import OrgUnit

    unit = OrgUnit.objects.create(name="Bench France", slug="bench-france", languages=["fr"])
    account = SocialAccount.objects.create(network="mastodon", connector="mastodon", handle="acme@mock",
                                           external_id=brand.id, owner_unit=unit,
                                           connector_config={"instance": mock.url})
    account.set_credentials({"access_token": token})
    account.poll_state = {"min_id": "0", "dm_min_id": "0"}
    account.save()
    clients.forget()
    t0 = time.perf_counter()
    pages = 0
    while True:  # one job run reads up to 10 pages (10 polls); the next runs go on until nothing is new
        outcome = poll_account(SocialAccount.objects.get(pk=account.pk))
        pages += outcome.pages
        if outcome.error:
            print(f"B. poll failed: {outcome.error}")
            return 1
        if not outcome.events:
            break
    polled = time.perf_counter() - t0
    t1 = time.perf_counter()
    while process_pending_deliveries.call(limit=500)["deliveries"]:
        pass
    processed = time.perf_counter() - t1
    stored = Message.objects.filter(account=account).count()
    ok = ok and stored == args.mentions
    print(f"B. poll job: {args.mentions} events polled and stored as deliveries in {polled:.2f} s over {pages} pages "
          f"({args.mentions / polled:.0f} events/s); processed into {stored} messages in {processed:.2f} s; "
          f"poll + processing {args.mentions / (polled + processed):.0f} events/s")

    # C. rate-limit handling
    client = clients.client_for(99, mock.url, token, timeout=5)
    client.api.ratelimit_remaining, client.api.ratelimit_reset = 250, time.time() + 300
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n):
        client.wait_s()
    per_call_us = (time.perf_counter() - t0) / n * 1e6
    clients.forget()
    ref = AccountRef(id=2, network="mastodon", external_id=brand.id, handle="acme", connector="mastodon",
                     credentials={"access_token": token}, config={"instance": mock.url})
    poll_with_cursor(connector, ref, {"min_id": posted[-1], "dm_min_id": posted[-1]})  # client warm
    refused = []
    for _ in range(20):
        mock.spend_budget(token, remaining=-1, reset_in_s=60)
        clients.client_for(2, mock.url, token, timeout=5).api.ratelimit_reset = None
        t0 = time.perf_counter()
        try:
            poll_with_cursor(connector, ref, {"min_id": posted[-1], "dm_min_id": posted[-1]})
        except ConnectorError as exc:
            ok = ok and not exc.permanent and bool(exc.retry_after)
        refused.append((time.perf_counter() - t0) * 1000)
        clients.forget(2)
    print(f"C. rate limit: pre-call check {per_call_us:.2f} µs per call; a poll refused by a 429 "
          f"{statistics.median(refused):.1f} ms (median of 20, the round trip included)")
    print(f"machine: {lib.machine()}")
    print(f"every mention read exactly once and stored as one message: {ok}")
    mock.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
