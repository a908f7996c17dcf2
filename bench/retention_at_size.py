#!/usr/bin/env python
"""How fast retention works off a backlog of processed webhook deliveries, and what it leaves alone.

One command, local only, against a throwaway database (``dandelion_bench_tpl`` on PostgreSQL, dropped at the end,
or a temporary SQLite file)::

    PYTHONPATH=src .venv/bin/python bench/retention_at_size.py [--db postgres|sqlite] [--rows 100000]

Fills ``inbox_inbounddelivery`` with ``--rows`` deliveries whose bodies are real webhook bodies (ten events of the
twcs set each, as the pipeline benchmark sends them; a generated text without ``../shared``): 90 % processed and
older than the retention, 5 % processed and recent, 5 % pending and old (work still to do). Then, per chunk size
(alternated over ``--repeat`` rounds, the table filled afresh for each), one retention run bounded to the old rows
(``core.retention.purge(only=["inbox.deliveries"])``), timed: rows deleted per second, the longest transaction
(one chunk), and a check that exactly the old processed rows went. The default run bound
(``DANDELION_RETENTION_MAX_ROWS``, 1,000,000 rows an hour: 300 webhooks a second sustained) must take a small part
of the hour.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--rows", type=int, default=100_000, help="deliveries in the table (default 100,000)")
    ap.add_argument("--chunks", default="1000,10000", help="chunk sizes compared (default 1000,10000)")
    ap.add_argument("--repeat", type=int, default=2, help="rounds of the alternating chunk sizes (default 2)")
    args = ap.parse_args()
    print(lib.machine(), flush=True)
    work = tempfile.mkdtemp(prefix="dbench-retention-")
    url, var = lib.setup_template(args.db, work)
    try:
        lib.django_setup(url, var)
        import django

        django.setup()
        return run(args.rows, [int(c) for c in args.chunks.split(",")], args.repeat)
    finally:
        from django.db import connection

        connection.close()
        if args.db == "postgres":
            lib.pg_drop("dandelion_bench_tpl")
        lib.rmtree(work)


def bodies(n: int = 200) -> list[str]:
    """Webhook bodies of ten events each (real tweets when the dataset is there)."""
    if lib.TWCS.exists():
        texts = [line.strip() for line in lib.TWCS.read_text(encoding="utf-8").splitlines()[1:2001]]
    else:
        texts = [f"My order {i} has still not arrived, can you help me please? It was due last week." for i in
                 range(2000)]
    out = []
    for b in range(n):
        events = [{"id": f"e{b}-{i}", "kind": "mention", "text": texts[(b * 10 + i) % len(texts)],
                   "created_at": "2026-11-01T10:00:00+00:00",
                   "author": {"id": f"a{b}-{i}", "name": "Camille Client", "handle": f"@a{b}_{i}"}}
                  for i in range(10)]
        out.append(json.dumps({"events": events}))
    return out


def fill(n: int, account, samples: list[str], now) -> tuple[int, int]:
    """The table afresh: (old processed rows, rows that must stay)."""
    import datetime as dt

    from django.db import connection

    from dandelion.core.bulk import insert_rows
    from dandelion.inbox.models import InboundDelivery

    with connection.cursor() as cur:
        cur.execute("DELETE FROM inbox_inbounddelivery")
    old_at, recent_at = now - dt.timedelta(days=30), now - dt.timedelta(days=1)
    old = 0
    rows = []
    for i in range(n):
        kind = i % 20
        state, at = ("pending", old_at) if kind == 0 else ("done", recent_at) if kind == 1 else ("done", old_at)
        old += state == "done" and at == old_at
        body = samples[i % len(samples)]
        rows.append(InboundDelivery(account=account, body=body, payload=json.loads(body)["events"], state=state,
                                    event_count=10, received_at=at, processed_at=at))
        if len(rows) == 5000:
            insert_rows(InboundDelivery, rows)
            rows = []
    if rows:
        insert_rows(InboundDelivery, rows)
    with connection.cursor() as cur:  # received_at is set on insert (auto_now_add): age the rows afterwards
        cur.execute("UPDATE inbox_inbounddelivery SET received_at = processed_at")
        cur.execute("ANALYZE inbox_inbounddelivery" if connection.vendor == "postgresql" else "ANALYZE")
    return old, n - old


def run(n: int, chunks: list[int], repeat: int) -> int:
    from django.db import connection
    from django.utils import timezone

    from dandelion.assets.models import SocialAccount
    from dandelion.core import retention
    from dandelion.inbox.models import InboundDelivery

    account = SocialAccount.objects.order_by("pk").first()
    samples = bodies()
    print(f"deliveries: {n:,} rows, bodies of {sum(map(len, samples)) // len(samples):,} bytes on average "
          f"({'twcs' if lib.TWCS.exists() else 'generated'}); {connection.vendor}", flush=True)
    failed = 0
    lines = []
    real = retention._delete_chunk
    for rnd in range(repeat):
        for chunk in chunks:
            now = timezone.now()
            t = time.perf_counter()
            old, keep = fill(n, account, samples, now)
            filled = time.perf_counter() - t
            longest = 0.0

            def timed(qs, size, real=real):
                nonlocal longest
                t0 = time.perf_counter()
                out = real(qs, size)
                longest = max(longest, time.perf_counter() - t0)
                return out

            retention._delete_chunk = timed
            try:
                t = time.perf_counter()
                outcome = retention.purge(now=now, max_rows=old, chunk=chunk, only=["inbox.deliveries"])[0]
                took = time.perf_counter() - t
            finally:
                retention._delete_chunk = real
            left = InboundDelivery.objects.count()
            pending = InboundDelivery.objects.filter(state="pending").count()
            ok = outcome.deleted == old and left == keep and pending == len(range(0, n, 20))
            failed += not ok
            line = (f"round {rnd + 1} chunk {chunk:>6,}: deleted {outcome.deleted:,} of {old:,} old rows in "
                    f"{took:.2f} s = {outcome.deleted / took:,.0f} rows/s; longest transaction {longest * 1000:.0f} ms;"
                    f" {left:,} rows left (expected {keep:,}) {'OK' if ok else 'WRONG'}  (fill {filled:.1f} s)")
            print(line, flush=True)
            lines.append(line)
    print("summary")
    for chunk in chunks:
        rates = [float(x.split("= ")[1].split(" rows/s")[0].replace(",", "")) for x in lines
                 if f"chunk {chunk:>6,}:" in x]
        print(f"  chunk {chunk:>6,}: {min(rates):,.0f}-{max(rates):,.0f} rows/s "
              f"(an hourly run of 1,000,000 rows: {1_000_000 / max(min(rates), 1):.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
