"""Listening at size: ingestion with matching and rollups, a 30-day chart, the detector's minute tick.

PYTHONPATH=src .venv/bin/python bench/listening_at_size.py --db postgres --mentions 200000 --queries 200

A throwaway database (``dandelion_bench_listening`` on PostgreSQL, or a temporary SQLite file) is migrated, then:
1. ``--queries`` queries are made from the commonest words and hashtags of CrisisLex T26 (real tweets; a fixed
   vocabulary without the dataset), each ``word OR #tag`` or ``"two words"``, all active;
2. ``--mentions`` mentions (CrisisLex texts cycled, in time order over 30 days, as a stream) are ingested through
   ``services.ingest_mentions`` in batches of ``--batch`` (store, match against every query, hourly rollups): the
   rate is mentions per second, whole batches, commit included;
3. the 30-day hourly chart of the busiest query (``series.series``) is asked ``--repeat`` times: p50/p95;
4. the minute tick (``services.evaluate_queries``) over every query after a batch: the time of one tick.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import os
import random
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import _benchlib as lib

CRISISLEX = lib.Path(os.environ.get("DANDELION_DATASETS") or lib.REPO.parent / "shared" / "datasets") / \
    "crisislex" / "CrisisLexT26_labeled_all_events_with_snowflake_time.csv"



def texts() -> list[str]:
    if CRISISLEX.exists():
        with CRISISLEX.open(newline="", encoding="utf-8") as fh:
            return [row["text"] for row in csv.DictReader(fh)]
    return [f"storm {i % 50} flood #rain{i % 30} city{i % 70} help" for i in range(5000)]


def make_queries(corpus: list[str], n: int) -> list[str]:
    from dandelion.listening.query import STOP_WORDS

    words: collections.Counter = collections.Counter()
    tags: collections.Counter = collections.Counter()
    for t in corpus:
        for w in re.findall(r"#?\w+", t.lower()):
            if w.startswith("#"):
                tags[w] += 1
            elif len(w) > 3 and w not in STOP_WORDS and not w.isdigit():
                words[w] += 1
    top_words = [w for w, _ in words.most_common(n * 2)]
    top_tags = [t for t, _ in tags.most_common(n)]
    out = []
    for i in range(n):
        if i % 3 == 2 and i + 1 < len(top_words):
            out.append(f'"{top_words[i]} {top_words[i + 1]}"')
        else:
            out.append(f"{top_words[i]} OR {top_tags[i % len(top_tags)]}")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--mentions", type=int, default=200_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    print(lib.machine(), flush=True)
    work = tempfile.mkdtemp(prefix="dbench-listening-")
    if args.db == "postgres":
        url = lib.pg_create("dandelion_bench_listening")
    else:
        url = f"sqlite:///{os.path.join(work, 'db.sqlite3')}"
    var = os.path.join(work, "var")
    os.makedirs(var)
    lib.dandelion(lib.bench_env(url, var), "migrate", "--no-input")
    try:
        lib.django_setup(url, var)
        return run(args)
    finally:
        from django.db import connection

        connection.close()
        if args.db == "postgres":
            lib.pg_drop("dandelion_bench_listening")
        lib.rmtree(work)


def run(args) -> int:
    from django.utils import timezone

    from dandelion.core.actors import SYSTEM
    from dandelion.listening import series, services
    from dandelion.listening.models import ListeningQuery
    from dandelion.orgs.models import OrgUnit

    root = OrgUnit.objects.create(name="Bench hub", slug="bench-hub", kind="hub")
    corpus = texts()
    for i, text in enumerate(make_queries(corpus, args.queries)):
        services.create_query(actor=SYSTEM, unit=root, name=f"q{i}", text=text)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = now - dt.timedelta(days=30)
    rng = random.Random(1)
    services.evaluate_queries(now=start)
    done, matched, t0 = 0, 0, time.perf_counter()
    tick_times = []
    while done < args.mentions:
        n = min(args.batch, args.mentions - done)
        items = [services.MentionInput(
            unit_id=root.pk, unit_path=root.path, source="replay", source_ref=f"b{done + k}",
            text=corpus[(done + k) % len(corpus)], sentiment=rng.choice(("positive", "neutral", "negative")),
            posted_at=start + dt.timedelta(seconds=(done + k) * 30 * 86400 // args.mentions + rng.randrange(600)), author=f"user{rng.randrange(5000)}",
            language="en") for k in range(n)]
        result = services.ingest_mentions(items)
        matched += result.matches
        done += n
        if done % (args.batch * 25) == 0:
            el = time.perf_counter() - t0
            print(f"  {done:,} mentions, {matched:,} matches, {done / el:,.0f} mentions/s", flush=True)
    elapsed = time.perf_counter() - t0
    print(f"ingest: {done:,} mentions ({matched:,} matches over {args.queries} queries) in {elapsed:.1f} s: "
          f"{done / elapsed:,.0f} mentions/s", flush=True)
    # the minute tick after one more batch (its matches to count) and on a quiet minute
    for k in range(3):
        items = [services.MentionInput(unit_id=root.pk, unit_path=root.path, source="replay",
                                       source_ref=f"tick{k}-{j}", text=corpus[j % len(corpus)],
                                       posted_at=now + dt.timedelta(minutes=k)) for j in range(args.batch)]
        services.ingest_mentions(items)
        t = time.perf_counter()
        services.evaluate_queries(now=now + dt.timedelta(minutes=k + 1))
        tick_times.append(time.perf_counter() - t)
    print(f"tick over {args.queries} queries: " + ", ".join(f"{x * 1000:.0f} ms" for x in tick_times), flush=True)
    busiest = ListeningQuery.objects.order_by("-mention_count").first()
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        series.series(busiest, start, now, bucket="hour")
        times.append(time.perf_counter() - t)
    print(f"30-day hourly chart of the busiest query ({busiest.mention_count:,} mentions): "
          f"p50 {lib.pct(times, 50) * 1000:.0f} ms, p95 {lib.pct(times, 95) * 1000:.0f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
