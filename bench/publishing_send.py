"""Exactly-once sending at size: N scheduled posts in PostgreSQL, D of them due in the same minute, W worker
processes looping the send job; optionally one worker killed -9 in the middle of the minute.

The "network" is a table of the same PostgreSQL server written on its own autocommit connection (outside the
workers' transactions, as a remote network would be): one row per idempotency key, ``calls`` counting every publish
received for it. Exactly once means: every due variant sent, one network row per due variant, no row for a post not
due; ``calls > 1`` counts re-sends that the idempotency key absorbed (a worker killed after the network accepted the
post). Lateness is the network's receipt time minus the post's due time.

    PYTHONPATH=src python bench/publishing_send.py --posts 100000 --due 2000 --workers 2
    PYTHONPATH=src python bench/publishing_send.py --posts 100000 --due 2000 --workers 2 --kill
    PYTHONPATH=src python bench/publishing_send.py --posts 20000 --due 2000 --workers 2 --via-jobs

``--via-jobs`` measures the production path: the workers run the task queue (``db_worker``, polling every
``--interval`` s), the due posts wake the send job at their second (``jobs.wake_sender``, as scheduling does), a full
batch (500) enqueues the next run at once for the other worker. The inbox copy of the sent posts is a job of its own
that the workers then run too (it does not delay the network's receipt that lateness measures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib

DB = "dandelion_bench_publishing"
NETWORK_DDL = ("CREATE TABLE IF NOT EXISTS bench_network (idem_key text PRIMARY KEY, calls int NOT NULL, "
               "first_at timestamptz NOT NULL, last_at timestamptz NOT NULL)")


def register_benchnet(url: str, latency_ms: float) -> None:
    """The bench's connector: publishes into ``bench_network`` over its own autocommit connection."""
    import psycopg

    from dandelion.connectors.base import AccountRef, Capability, Connector, OutboundPost, SentMessage, utcnow
    from dandelion.connectors.registry import register

    conn = psycopg.connect(url, autocommit=True)

    @register
    class BenchNet(Connector):
        key = "benchnet"
        label = "Bench network"
        capabilities = frozenset({Capability.PUBLISHING})

        def publish(self, account: AccountRef, post: OutboundPost) -> SentMessage:
            if latency_ms:
                time.sleep(latency_ms / 1000)
            conn.execute(
                "INSERT INTO bench_network (idem_key, calls, first_at, last_at) VALUES (%s, 1, now(), now()) "
                "ON CONFLICT (idem_key) DO UPDATE SET calls = bench_network.calls + 1, last_at = now()",
                [post.idempotency_key])
            return SentMessage(external_id=f"bn-{post.idempotency_key}", sent_at=utcnow())

        def delete_post(self, account: AccountRef, external_id: str) -> None:
            return None


def worker(args) -> None:
    lib.django_setup(args.url)
    register_benchnet(args.url, args.latency_ms)
    if args.via_jobs:  # the production path: the database task backend's worker loop running the send job
        from django.core.management import call_command

        from dandelion.core import jobs

        jobs.autodiscover()
        call_command("db_worker", interval=args.interval, queue_name="*", startup_delay=False)
        return
    from dandelion.publishing.services import send_due

    name = f"bench-worker-{os.getpid()}"
    stop = Path(args.stop_file)
    while not stop.exists():
        counts = send_due(limit=args.batch, worker=name)
        if not counts["claimed"] and not counts["recovered"]:
            time.sleep(0.05)


def seed(url: str, posts: int, due: int, due_at: dt.datetime) -> None:
    from django.db import connection

    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import OrgUnit
    from dandelion.publishing.choices import PostState, VariantState
    from dandelion.publishing.models import Post, PostVariant

    root = OrgUnit.objects.create(name="Bench group", slug="bench-group")
    spokes = [OrgUnit.objects.create(name=f"Bench spoke {i}", slug=f"bench-spoke-{i}", parent=root)
              for i in range(4)]
    accounts = [SocialAccount.objects.create(network="webhook", connector="benchnet", handle=f"@bench{i}",
                                             external_id=f"bench-{i}", owner_unit=spokes[i % 4]) for i in range(20)]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    t = time.perf_counter()
    batch = 5000
    import uuid

    for start in range(0, posts, batch):
        n = min(batch, posts - start)
        rows = []
        for i in range(start, start + n):
            when = due_at if i < due else later + dt.timedelta(seconds=(i * 37) % (30 * 86400))
            when = min(when, later + dt.timedelta(days=29)) if i >= due else when
            rows.append(Post(unit=accounts[i % 20].owner_unit, text=f"Bench post {i}", state=PostState.SCHEDULED,
                             scheduled_at=when, schedule_timezone="UTC"))
        made = Post.objects.bulk_create(rows)
        PostVariant.objects.bulk_create([
            PostVariant(post=p, account=accounts[i % 20], state=VariantState.PENDING, due_at=p.scheduled_at,
                        idempotency_key=uuid.uuid4().hex) for i, p in enumerate(made, start=start)])
    with connection.cursor() as cur:
        cur.execute(NETWORK_DDL)
        cur.execute("ANALYZE")
    print(f"  seeded {posts:,} scheduled posts ({due:,} to be due in the same second) in "
          f"{time.perf_counter() - t:.1f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--due", type=int, default=2_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kill", action="store_true", help="kill -9 one worker in the middle of the due minute")
    ap.add_argument("--kill-after", type=float, default=1.0, help="seconds after the due time")
    ap.add_argument("--lease", type=int, default=10, help="claim lease in seconds (dead worker's claims)")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="simulated network latency per publish")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--lead", type=float, default=15.0, help="seconds between starting the workers and the due time")
    ap.add_argument("--via-jobs", action="store_true",
                    help="workers run the task queue (db_worker) and the posts wake the send job at their due time, "
                         "as scheduling does (jobs.wake_sender); without it each worker loops send_due directly")
    ap.add_argument("--interval", type=float, default=0.5, help="db_worker's poll interval (--via-jobs)")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--stop-file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return

    print(lib.machine(), flush=True)
    url = lib.pg_create(DB)
    workdir = tempfile.mkdtemp(prefix="dbench-pub-")
    env = lib.bench_env(url, os.path.join(workdir, "var"), DANDELION_PUBLISH_CLAIM_LEASE_S=str(args.lease),
                        PYTHONPATH=str(lib.REPO / "src"))
    os.makedirs(env["DANDELION_VAR_DIR"], exist_ok=True)
    os.environ.update({k: env[k] for k in ("DANDELION_PUBLISH_CLAIM_LEASE_S",)})
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([sys.executable, "-m", "django", "migrate", "--no-input"], env=env, cwd=lib.REPO,
                       check=True, capture_output=True)
        lib.django_setup(url, env["DANDELION_VAR_DIR"])
        from django.db import connection

        # the due posts are seeded at a marker time, moved to the real due time once the workers are up
        marker = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
        seed(url, args.posts, args.due, marker)
        stop = os.path.join(workdir, "stop")
        for _ in range(args.workers):
            procs.append(subprocess.Popen(
                [sys.executable, __file__, "--worker", "--url", url, "--stop-file", stop, "--batch",
                 str(args.batch), "--latency-ms", str(args.latency_ms), "--interval", str(args.interval)]
                + (["--via-jobs"] if args.via_jobs else []), env=env, cwd=lib.REPO))
        due_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=args.lead)).replace(microsecond=0)
        with connection.cursor() as cur:
            cur.execute("UPDATE publishing_postvariant SET due_at = %s WHERE due_at = %s", [due_at, marker])
            cur.execute("UPDATE publishing_post SET scheduled_at = %s WHERE scheduled_at = %s", [due_at, marker])
        if args.via_jobs:  # what scheduling a post does on commit: the send job deferred to the due second
            from dandelion.publishing.jobs import wake_sender

            assert wake_sender(due_at), "the send job could not be deferred"
        wait = (due_at - dt.datetime.now(dt.UTC)).total_seconds()
        print(f"  {args.workers} workers started; {args.due:,} posts due at {due_at:%H:%M:%S} UTC, in {wait:.1f} s",
              flush=True)
        killed = None
        if args.kill:
            time.sleep(max(0.0, wait + args.kill_after))
            killed = procs[0]
            os.kill(killed.pid, signal.SIGKILL)
            print(f"  killed worker {killed.pid} with SIGKILL {args.kill_after:.1f} s after the due time", flush=True)
        deadline = time.monotonic() + max(0.0, wait) + 120 + args.lease * 3
        with connection.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM publishing_postvariant WHERE state = 'sent'")
                if cur.fetchone()[0] >= args.due:
                    break
                time.sleep(0.2)
            time.sleep(1.0)  # anything sent twice would show now
            cur.execute("SELECT state, count(*) FROM publishing_postvariant GROUP BY state ORDER BY state")
            states = dict(cur.fetchall())
            cur.execute("SELECT count(*), coalesce(sum(calls), 0), count(*) FILTER (WHERE calls > 1) "
                        "FROM bench_network")
            rows, calls, resent = cur.fetchone()
            # the post's time (a recovered variant's due_at moves to its recovery: not a due time)
            cur.execute("SELECT count(*) FROM bench_network n JOIN publishing_postvariant v "
                        "ON v.idempotency_key = n.idem_key JOIN publishing_post p ON p.id = v.post_id "
                        "WHERE p.scheduled_at > %s", [due_at])
            not_due = cur.fetchone()[0]
            cur.execute("SELECT extract(epoch FROM n.first_at - p.scheduled_at) FROM bench_network n "
                        "JOIN publishing_postvariant v ON v.idempotency_key = n.idem_key "
                        "JOIN publishing_post p ON p.id = v.post_id")
            lateness = [float(r[0]) for r in cur.fetchall()]
            cur.execute("SELECT count(*) FROM publishing_post WHERE state = 'published'")
            published = cur.fetchone()[0]
        ok = rows == args.due and states.get("sent", 0) == args.due and not_due == 0 and published == args.due
        print(f"  variants by state: {states}")
        print(f"  network: {rows:,} posts for {args.due:,} due ({calls:,} publish calls, {resent} re-sent with "
              f"the same key and absorbed), {not_due} posts not due; posts published: {published:,}")
        if lateness:
            print(f"  lateness after the due time: p50 {lib.pct(lateness, 50):.2f} s, p95 {lib.pct(lateness, 95):.2f} s,"
                  f" p99 {lib.pct(lateness, 99):.2f} s, max {max(lateness):.2f} s "
                  f"({args.due / max(max(lateness), 1e-9):,.0f} posts/s to drain)")
        print(f"  exactly once: {'OK' if ok else 'FAILED'}" + (f" (worker {killed.pid} killed -9)" if killed else ""))
        if not ok:
            sys.exit(1)
    finally:
        Path(os.path.join(workdir, "stop")).touch()
        lib.stop_processes(procs)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            lib.pg_drop(DB)
        lib.rmtree(workdir)


if __name__ == "__main__":
    main()
