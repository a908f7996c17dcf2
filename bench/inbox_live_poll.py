#!/usr/bin/env python
"""The live inbox queue: 200 open conversations, 50 agents polling; server time of each poll, p50/p95.

One command, local only, against a throwaway PostgreSQL database (``dandelion_bench_livepoll``, dropped at the end)::

    PYTHONPATH=src .venv/bin/python bench/inbox_live_poll.py
    PYTHONPATH=src .venv/bin/python bench/inbox_live_poll.py --conversations 200 --agents 50 --rounds 4

Steps:

1. ``migrate`` + ``seed-demo`` (the demo organisation);
2. ``--conversations`` customer messages to one helpers team's account, each from its own author, through the real
   inbound pipeline (``pipeline.ingest_events``: routing, SLA clocks, assignment), so the team's queue holds that
   many open conversations; ``--agents`` helper agents added to that team (memberships written directly: a
   benchmark shortcut);
3. measurement, in this process through Django's test client (URL routing, middleware, view, templates; no
   network): every agent opens the queue page once (``/inbox/?tab=team-<id>``, the full page), then ``--rounds``
   rounds in which every agent sends the live poll (the same URL with ``HX-Request`` and ``HX-Trigger:
   queue-live``: the table and every tab's count), round-robin as 50 browsers polling would. The wall time of each
   request is its server time; SQL statements per poll are counted.

Target (issue 16): p95 ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib

DB_NAME = "dandelion_bench_livepoll"
TARGET_MS = 150.0


def log(msg: str) -> None:
    print(f"  {msg}", flush=True)


def populate(conversations: int, agents: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from dandelion.assets.models import SocialAccount
    from dandelion.inbox import connect, pipeline
    from dandelion.orgs.choices import Role, TeamKind
    from dandelion.orgs.models import Membership, Team

    team = Team.objects.filter(kind=TeamKind.HELPERS, is_active=True).order_by("pk").first()
    account = SocialAccount.objects.filter(owner_unit=team.unit).order_by("pk").first()
    now = timezone.now()
    language = (team.languages or ["en"])[0]
    events = [connect.event_from_dict({
        "id": f"bench-live-{i}", "kind": "comment", "text": f"Hello, where is my order {10000 + i}? It is late.",
        "created_at": (now - dt.timedelta(seconds=conversations - i)).isoformat(),
        "author": {"id": f"bench-author-{i}", "name": f"Customer {i}", "handle": f"@customer{i}",
                   "language": language}}) for i in range(conversations)]
    for start in range(0, len(events), 100):
        pipeline.ingest_events(account, events[start:start + 100], now=now)
    from django.db.models import Count

    from dandelion.inbox.models import Conversation

    # the team the routing rules gave them to (the demo routes by language): the agents' queue
    landed = (Conversation.objects.filter(messages__external_id__startswith="bench-live-", team__isnull=False)
              .values("team").annotate(n=Count("id")).order_by("-n").first())
    team = Team.objects.get(pk=landed["team"])
    User = get_user_model()
    users = []
    for i in range(agents):
        user, _ = User.objects.get_or_create(username=f"bench-agent-{i}")
        Membership.objects.get_or_create(user=user, unit=team.unit, team=team, role=Role.HELPER_AGENT)
        users.append(user)
    return team, account, users


def measure(team, users, rounds: int) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    url = f"/inbox/?tab=team-{team.pk}"
    clients = []
    for user in users:
        c = Client()
        c.force_login(user)
        clients.append(c)
    full, polls, queries, cpu, sql_ms = [], [], [], [], []
    for c in clients:
        t = time.perf_counter()
        r = c.get(url)
        full.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
    for _ in range(rounds):
        for c in clients:
            with CaptureQueriesContext(connection) as ctx:
                t, p = time.perf_counter(), time.process_time()
                r = c.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-live")
                polls.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - p) * 1000)
            assert r.status_code == 200 and b'hx-swap-oob="true"' in r.content
            queries.append(len(ctx.captured_queries))
            sql_ms.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    return {"full": full, "polls": polls, "queries": queries, "cpu": cpu, "sql": sql_ms}


def explain(team, users) -> None:
    """Database server time of one live poll: each of its statements under ``EXPLAIN (ANALYZE)``, best of 3
    (planning + execution), slowest first."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    url = f"/inbox/?tab=team-{team.pk}"
    c = Client()
    c.force_login(users[0])
    with CaptureQueriesContext(connection) as ctx:
        c.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-live")
    rows = []
    with connection.cursor() as cur:
        for q in ctx.captured_queries:
            times = []
            for _ in range(3):
                cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + q["sql"])
                plan = cur.fetchone()[0][0]
                times.append(plan["Planning Time"] + plan["Execution Time"])
            rows.append((min(times), q["sql"][:100]))
    rows.sort(reverse=True)
    print(f"\ndatabase server time of one poll: {sum(t for t, _ in rows):.1f} ms over {len(rows)} statements")
    for t, sql in rows[:5]:
        print(f"  {t:6.2f} ms  {sql}")


def profile(team, users, n: int = 40) -> None:
    """cProfile of ``n`` live polls: where the server time goes (top 25 by cumulative time)."""
    import cProfile
    import pstats

    from django.test import Client

    url = f"/inbox/?tab=team-{team.pk}"
    c = Client()
    c.force_login(users[0])
    c.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-live")
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        c.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER="queue-live")
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=200)
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=4, help="polls per agent")
    ap.add_argument("--keep", action="store_true", help="keep the database")
    ap.add_argument("--reuse", action="store_true", help="measure on the database a --keep run left (no setup)")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile of 40 polls")
    ap.add_argument("--explain", action="store_true", help="also print the database server time of one poll")
    args = ap.parse_args()
    if not 1 <= args.conversations <= 10_000 or not 1 <= args.agents <= 500 or not 1 <= args.rounds <= 50:
        lib.die("bounded: 1..10,000 conversations, 1..500 agents, 1..50 rounds")
    url = f"{lib.PG_ADMIN_URL}/{DB_NAME}"
    workdir = tempfile.mkdtemp(prefix="dbench-livepoll-")
    var_dir = os.path.join(workdir, "var")
    os.makedirs(var_dir)
    print(f"machine: {lib.machine()}")
    try:
        if not args.reuse:
            log(f"migrated + seeded in {lib.create_seeded(DB_NAME, url, var_dir):.1f} s")
        lib.django_setup(url, var_dir)
        import logging

        logging.getLogger("axes").setLevel(logging.WARNING)  # one login line per agent otherwise
        t = time.perf_counter()
        team, account, users = populate(args.conversations, args.agents)
        from dandelion.inbox.models import Conversation

        open_in_team = Conversation.objects.filter(team=team, status="open").count()
        log(f"{args.conversations} messages ingested on {account.handle} in {time.perf_counter() - t:.1f} s; "
            f"team {team.name}: {open_in_team} open conversations, {len(users)} agents")
        res = measure(team, users, args.rounds)
        if args.profile:
            profile(team, users)
        if args.explain:
            explain(team, users)
        polls, full = res["polls"], res["full"]
        print(f"\nserver time per request (Django test client, in process), target p95 ≤ {TARGET_MS:.0f} ms:")
        print(f"  queue page (full), {len(full)} requests: p50 {lib.pct(full, 50):.1f} ms, "
              f"p95 {lib.pct(full, 95):.1f} ms, max {max(full):.1f} ms")
        print(f"  live poll (table + tab counts), {len(polls)} requests: p50 {lib.pct(polls, 50):.1f} ms, "
              f"p95 {lib.pct(polls, 95):.1f} ms, max {max(polls):.1f} ms; "
              f"SQL statements per poll: {min(res['queries'])}–{max(res['queries'])}")
        print(f"  live poll CPU of this process (Python: view, ORM, templates): p50 {lib.pct(res['cpu'], 50):.1f} ms, "
              f"p95 {lib.pct(res['cpu'], 95):.1f} ms; SQL time as the client saw it: p50 {lib.pct(res['sql'], 50):.1f} "
              f"ms, p95 {lib.pct(res['sql'], 95):.1f} ms")
        met = lib.pct(polls, 95) <= TARGET_MS and lib.pct(full, 95) <= TARGET_MS
        print("target " + ("met" if met else "missed"))
        return 0 if met else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            lib.pg_drop(DB_NAME)
        lib.rmtree(workdir)


if __name__ == "__main__":
    sys.exit(main())
