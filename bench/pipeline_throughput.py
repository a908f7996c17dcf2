#!/usr/bin/env python
"""Inbound pipeline throughput: messages/s through normalise → dedup → understand → route → persist.

One command, bounded (a fixed message set, each phase capped by ``--timeout``), local only::

    .venv/bin/python bench/pipeline_throughput.py                 # SQLite and PostgreSQL, 1 and 2 workers
    .venv/bin/python bench/pipeline_throughput.py --db postgres --workers 2 --repeat 2

Messages: the real tweets of ``twcs_combined_10k.csv`` (9,991: 5,491 customer tweets, 4,500 brand replies, threaded),
each brand mapped to one seeded demo account; without the dataset, ``--messages`` records of the demo generator.
``--repeat N`` replays the set N times under fresh external ids (bigger runs).

Per database (a throwaway clone of a migrated + seeded template; PostgreSQL ``dandelion_bench_*``, SQLite temp file):

1. store: ``services.store_delivery(enqueue=False)``, ``--per-delivery`` events each (timed, not in the figure);
2. pipeline: W worker OS processes, each looping ``jobs.claim_deliveries(limit=BATCH_LIMIT)`` +
   ``jobs.process_deliveries`` (the code of ``process_pending_deliveries``, without the task-queue re-enqueue) until
   nothing is claimable or waiting; timed from a common start signal to the last worker's end; checked: every
   message stored exactly once (brand answers whose message is not stored yet wait, ``DANDELION_ECHO_WAITS``
   shortened to 0.5 s and 1 s here, then those answering a post outside the set are skipped);
3. limits, on the same messages, in the same run: understanding alone (``get_analyzer().analyze`` on the texts the
   pipeline analyses, in the same batches), and a raw ``Message.objects.bulk_create`` of the same rows.

The pipeline's time ends when the last worker finds nothing left. Its last part stores nothing: brand answers to a
post outside the set wait (twice, 0.5 s then 1 s here) for a message that never comes before they are skipped; the
"no drain" column divides the same messages by the time before that wait (the last batch that stored a message),
which is what a steady stream sees (the waits overlap other work there). ``--repeat`` makes that tail smaller.

The ratio printed is pipeline / understanding-alone, both expressed in messages of the set per second (the
understanding ceiling is "every other step free"): against one process of understanding (``ratio``), and, for W
workers, against W processes of understanding run at once on the same texts (``ratio W``): what W busy cores of the
machine really give, measured in the same run rather than assumed to be W times one (on a shared virtual machine
they are not).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib

# --- child modes (run inside a throwaway database's environment) -----------------------------------------------


def child_store(events_file: str, per_delivery: int) -> None:
    lib.django_setup()
    from django.db import transaction

    from dandelion.assets.models import SocialAccount
    from dandelion.inbox.services import store_delivery

    with open(events_file, "rb") as fh:
        items = pickle.load(fh)  # [(account index, InboundEvent)]
    accounts = list(SocialAccount.objects.filter(archived_at__isnull=True).select_related("owner_unit").order_by("pk"))
    by_account: dict[int, list] = {}
    for idx, event in items:
        by_account.setdefault(idx % len(accounts), []).append(event)
    t = time.perf_counter()
    n = 0
    # deliveries interleaved across accounts, as traffic arrives
    queues = {k: [v[i:i + per_delivery] for i in range(0, len(v), per_delivery)] for k, v in by_account.items()}
    while queues:
        for k in list(queues):
            chunk = queues[k].pop(0)
            with transaction.atomic():
                store_delivery(accounts[k], chunk, source="bench", enqueue=False)
            n += 1
            if not queues[k]:
                del queues[k]
    print(json.dumps({"deliveries": n, "events": len(items), "seconds": time.perf_counter() - t}), flush=True)


def _backend_pid(connection) -> int | None:
    """The PostgreSQL server process serving this connection (local server only), else None."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def _proc_cpu(pid: int | None) -> float | None:
    """CPU seconds (user + system) a local process has used so far, from /proc; None where unreadable."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_understand(events_file: str, part: int, of: int, batch_events: int) -> None:
    """Understanding alone in one of ``of`` processes started together: every ``of``-th inbound text."""
    lib.django_setup()
    from dandelion.understanding.analyzer import get_analyzer

    with open(events_file, "rb") as fh:
        items = pickle.load(fh)
    mine = [item for i, item in enumerate(x for x in items if not x[1].from_account) if i % of == part]
    get_analyzer().analyze(["warm up"])  # load the model before the clock starts
    print("ready", flush=True)
    sys.stdin.readline()  # the common start signal
    start, cpu0 = time.time(), time.process_time()
    out = understanding_alone(mine, batch_events)
    print(json.dumps({**out, "start": start, "end": time.time(), "cpu": time.process_time() - cpu0}), flush=True)


def child_worker(limit: int) -> None:
    lib.django_setup()
    from django.db import connection

    from dandelion.inbox import jobs, pipeline
    from dandelion.understanding.analyzer import get_analyzer

    get_analyzer().analyze(["warm up"])  # load the model before the clock starts
    connection.ensure_connection()
    spent = {"understand": 0.0, "texts": 0}
    real_understand = pipeline.understand

    def timed_understand(events, account=None, **kwargs):  # measurement only: same call, timed
        t0 = time.perf_counter()
        try:
            return real_understand(events, account, **kwargs)
        finally:
            spent["understand"] += time.perf_counter() - t0
            spent["texts"] += len(events)

    pipeline.understand = timed_understand
    # the worker's CPU in the batch's bulk writes (row building and COPY / UPDATE statements), by process_time
    from dandelion.core import bulk

    spent["writes_cpu"] = 0.0

    def cpu_timed(fn):
        def timed(*args, **kwargs):
            t0 = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent["writes_cpu"] += time.process_time() - t0
        return timed

    real_insert, real_update = bulk.insert_rows, bulk.update_rows
    for module in (bulk, pipeline):  # the pipeline imported them by name; the SLA clocks import them from bulk
        module.insert_rows, module.update_rows = cpu_timed(real_insert), cpu_timed(real_update)
    backend = _backend_pid(connection)
    print("ready", flush=True)
    sys.stdin.readline()  # the common start signal
    cpu0, server0 = time.process_time(), _proc_cpu(backend)
    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    start = time.time()
    last_stored = start  # the end of the last batch that stored messages (what follows is the echo waits' drain)
    batches = created = dups = deliveries = 0
    from dandelion.inbox.choices import DeliveryState
    from dandelion.inbox.models import InboundDelivery

    while True:
        claimed = jobs.claim_deliveries(limit=limit)
        if not claimed:
            # brand answers waiting for their message (DANDELION_ECHO_WAITS, shortened here) are due soon
            if InboundDelivery.objects.filter(state=DeliveryState.PENDING).exists():
                time.sleep(0.05)
                continue
            break
        result = jobs.process_deliveries(claimed)
        batches += 1
        deliveries += len(claimed)
        created += result.created
        dups += result.duplicates
        if result.created:
            last_stored = time.time()
    end = time.time()
    spent["cpu"] = time.process_time() - cpu0
    server1 = _proc_cpu(backend)
    spent["server_cpu"] = server1 - server0 if server0 is not None and server1 is not None else None
    if profiler is not None:
        import pstats

        profiler.disable()
        path = f"{os.environ['BENCH_PROFILE']}.{os.getpid()}"
        profiler.dump_stats(path)
        with open(path + ".txt", "w") as fh:
            pstats.Stats(path, stream=fh).sort_stats("cumulative").print_stats(45)
            pstats.Stats(path, stream=fh).sort_stats("tottime").print_stats(30)
    print(json.dumps({"start": start, "end": end, "last_stored": last_stored, "batches": batches, "deliveries": deliveries, "created": created,
                      "duplicates": dups, **spent}), flush=True)


def child_check_and_raw(expected_ids_file: str) -> None:
    """Check the pipeline's output, then time a raw bulk insert of the same message rows (new external ids)."""
    lib.django_setup()
    from django.db import transaction
    from django.db.models import Count

    from dandelion.inbox.choices import DeliveryState
    from dandelion.inbox.models import InboundDelivery, Message

    with open(expected_ids_file, "rb") as fh:
        expected: set[str] = pickle.load(fh)
    stored = []
    ids = sorted(expected)
    for i in range(0, len(ids), 900):
        stored += list(Message.objects.filter(external_id__in=ids[i:i + 900]).values_list("external_id", flat=True))
    dup_keys = Message.objects.values("account", "external_id").annotate(n=Count("id")).filter(n__gt=1).count()
    states = dict(InboundDelivery.objects.values_list("state").annotate(n=Count("id")))
    check = {"expected": len(expected), "stored_distinct": len(set(stored) & expected),
             "stored_rows": len(stored), "duplicate_keys": dup_keys, "delivery_states": states,
             "orphan_echoes_not_stored": len(expected - set(stored)),
             "pending_left": states.get(DeliveryState.PENDING, 0) + states.get(DeliveryState.PROCESSING, 0)}
    rows = list(Message.objects.exclude(external_id__isnull=True))  # the throwaway database holds only these
    copies = []
    for m in rows:
        m.pk = None
        m.external_id = f"{m.external_id}~raw"
        copies.append(m)
    t = time.perf_counter()
    with transaction.atomic():
        Message.objects.bulk_create(copies, batch_size=500)
    raw = time.perf_counter() - t
    print(json.dumps({"check": check, "raw_rows": len(copies), "raw_seconds": raw}), flush=True)


# --- the parent ---------------------------------------------------------------------------------------------------


def load_events(args) -> tuple[list, str]:
    """[(account index, InboundEvent)] and a description of the source."""
    from dandelion.connectors.replay.sources import open_replay

    if lib.TWCS.exists() and not args.demo:
        records = list(open_replay("twcs", str(lib.TWCS)))
        brands = sorted({r.account_handle for r in records if r.account_handle})
        index = {b: i for i, b in enumerate(brands)}
        base = []
        for r in records:
            idx = index[r.account_handle] if r.account_handle else zlib.crc32(r.event.author.external_id.encode()) % 997
            base.append((idx, r.event))
        source = f"twcs_combined_10k.csv ({len(base)} records, {len(brands)} brands)"
    else:
        import itertools

        records = list(itertools.islice(open_replay("demo", seed=1), args.messages))
        base = [(zlib.crc32((r.account_handle or r.event.author.external_id).encode()) % 997, r.event) for r in records]
        source = f"demo generator, seed 1 ({len(base)} records)"
    items = []
    for rep in range(args.repeat):
        if rep == 0:
            items += base
            continue
        sfx = f"~{rep}"
        for idx, e in base:
            items.append((idx, replace(e, external_id=e.external_id + sfx,
                                       in_reply_to=(e.in_reply_to + sfx) if e.in_reply_to else None,
                                       author=replace(e.author, external_id=e.author.external_id + sfx))))
    return items, source + (f" x{args.repeat}" if args.repeat > 1 else "")


def understanding_alone(items, batch_events: int) -> dict:
    """analyze() on the texts the pipeline analyses (inbound, first occurrence), in batches like the pipeline's."""
    from dandelion.understanding.analyzer import get_analyzer

    analyzer = get_analyzer()
    analyzer.analyze(["warm up"])
    inbound = [e for _, e in items if not e.from_account]
    t = time.perf_counter()
    for i in range(0, len(inbound), batch_events):
        chunk = inbound[i:i + batch_events]
        analyzer.analyze([e.text for e in chunk], language_hints=[e.author.language for e in chunk])
    return {"texts": len(inbound), "seconds": time.perf_counter() - t}


def run_child(env, *args, timeout) -> dict:
    out = subprocess.run([lib.PYTHON, __file__, *args], check=False, env=env, cwd=lib.REPO, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode:
        raise SystemExit(f"child {args} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_together(env, arg_lists: list[list[str]], timeout: float) -> list[dict]:
    """Start one child per argument list, let them all load, start them at once, and return their reports."""
    procs = [subprocess.Popen([lib.PYTHON, __file__, *args], env=env, cwd=lib.REPO, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for args in arg_lists]
    for p in procs:
        line = p.stdout.readline()
        if line.strip() != "ready":
            p.wait(5)
            raise SystemExit(f"child {p.args[2:]} failed to start: {line}{p.stderr.read()[-3000:]}")
    for p in procs:  # start them all, then wait
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    deadline = time.time() + timeout
    for p in procs:
        try:
            out, err = p.communicate(timeout=max(1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise SystemExit(f"children {p.args[2:4]} did not finish within {timeout} s") from None
        if p.returncode:
            raise SystemExit(f"child {p.args[2:]} failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def understanding_together(env, events_file: str, processes: int, batch_events: int, timeout: float) -> dict:
    """Understanding alone in ``processes`` processes at once, each on its share of the texts: what W cores of
    this machine give when all are busy (shared caches, memory bandwidth, a hypervisor's neighbours)."""
    results = run_together(env, [["--child", "understand", "--events-file", events_file, "--part", str(k), "--of",
                                  str(processes), "--limit", str(batch_events)] for k in range(processes)], timeout)
    return {"texts": sum(r["texts"] for r in results),
            "seconds": max(r["end"] for r in results) - min(r["start"] for r in results)}


def run_pipeline(env, workers: int, limit: int, timeout: float) -> dict:
    results = run_together(env, [["--child", "worker", "--limit", str(limit)] for _ in range(workers)], timeout)
    start = min(r["start"] for r in results)
    end = max(r["end"] for r in results)
    return {"seconds": end - start, "workers": results,
            "drain": end - max(r["last_stored"] for r in results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    ap.add_argument("--per-delivery", type=int, default=10, help="events per stored delivery (default 10)")
    ap.add_argument("--limit", type=int, default=None, help="deliveries claimed per batch (default jobs.BATCH_LIMIT)")
    ap.add_argument("--repeat", type=int, default=1, help="replay the message set N times (fresh ids)")
    ap.add_argument("--messages", type=int, default=10_000, help="demo-generator records when no dataset")
    ap.add_argument("--demo", action="store_true", help="use the demo generator even if the dataset exists")
    ap.add_argument("--timeout", type=float, default=600, help="cap per phase, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway databases")
    ap.add_argument("--profile", help="cProfile each worker into PROFILE.<pid> (+ .txt summary)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--events-file", help=argparse.SUPPRESS)
    ap.add_argument("--part", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--of", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child == "store":
        return child_store(args.events_file, args.per_delivery)
    if args.child == "worker":
        return child_worker(args.limit)
    if args.child == "understand":
        return child_understand(args.events_file, args.part, args.of, args.limit)
    if args.child == "check":
        return child_check_and_raw(args.events_file)

    if args.profile:
        os.environ["BENCH_PROFILE"] = os.path.abspath(args.profile)
    # brand answers whose message is not stored yet wait and are tried again (30 s, 2 min, 10 min in production);
    # here twice, after 0.5 s and 1 s, so that the run ends and those that never find a message are counted
    os.environ.setdefault("DANDELION_ECHO_WAITS", "0.5,1")
    workdir = tempfile.mkdtemp(prefix="dbench-pipe-")
    lib.django_setup(f"sqlite:///{workdir}/parent-unused.sqlite3", os.path.join(workdir, "var-parent"))
    from dandelion.inbox.jobs import BATCH_LIMIT

    limit = args.limit or BATCH_LIMIT
    worker_counts = [int(x) for x in args.workers.split(",")]
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    print(f"machine: {lib.machine()}")
    items, source = load_events(args)
    n = len(items)
    inbound_n = sum(1 for _, e in items if not e.from_account)
    print(f"messages: {source}; {n} events ({inbound_n} inbound analysed, {n - inbound_n} brand echoes); "
          f"{args.per_delivery} events/delivery, claim limit {limit} deliveries")
    events_file = os.path.join(workdir, "events.pickle")
    with open(events_file, "wb") as fh:
        pickle.dump(items, fh)
    ids_file = os.path.join(workdir, "ids.pickle")
    with open(ids_file, "wb") as fh:
        pickle.dump({e.external_id for _, e in items}, fh)

    # limit 1: understanding alone, same texts, batches of what one claim holds
    und = understanding_alone(items, limit * args.per_delivery)
    und_msgs = n / und["seconds"]
    print(f"understanding alone: {und['texts']} texts in {und['seconds']:.2f} s = {und['texts'] / und['seconds']:,.0f}"
          f" texts/s -> ceiling {und_msgs:,.0f} msg/s of this set (1 process)")
    und_of = {1: und_msgs}  # W processes at once: what W busy cores of this machine really give
    for w in sorted(x for x in set(worker_counts) if x > 1):
        together = understanding_together(dict(os.environ), events_file, w, limit * args.per_delivery, args.timeout)
        und_of[w] = n / together["seconds"]
        print(f"understanding alone, {w} processes at once: {together['texts']} texts in {together['seconds']:.2f} s "
              f"= {together['texts'] / together['seconds']:,.0f} texts/s -> ceiling {und_of[w]:,.0f} msg/s "
              f"({und_of[w] / und_msgs:.2f}x one process)", flush=True)

    rows = []
    try:
        for kind in kinds:
            tpl_url, var_dir = lib.setup_template(kind, workdir)
            for w in worker_counts:
                name = f"dandelion_bench_pipe_{kind}_{w}"
                url = lib.clone(kind, tpl_url, name, workdir)
                env = lib.bench_env(url, var_dir)
                st = run_child(env, "--child", "store", "--events-file", events_file, "--per-delivery",
                               str(args.per_delivery), timeout=args.timeout)
                pipe = run_pipeline(env, w, limit, args.timeout)
                chk = run_child(env, "--child", "check", "--events-file", ids_file, timeout=args.timeout)
                rate = n / pipe["seconds"]
                und_in_pipe = sum(r["understand"] for r in pipe["workers"])
                raw_rate = chk["raw_rows"] / chk["raw_seconds"]
                ceiling = und_of[w]  # w processes analysing at once, measured
                row = {"db": kind, "workers": w, "msgs": n, "pipeline_s": pipe["seconds"], "pipeline_rate": rate,
                       "store_rate": st["events"] / st["seconds"], "raw_rate": raw_rate,
                       "understanding_rate": und_msgs, "understanding_w": ceiling, "ratio_1": rate / und_msgs,
                       "ratio_w": rate / ceiling,
                       "understand_share": und_in_pipe / (pipe["seconds"] * w), "check": chk["check"],
                       "batches": [r["batches"] for r in pipe["workers"]],
                       "created": sum(r["created"] for r in pipe["workers"])}
                rows.append(row)
                c = chk["check"]
                ok = c["stored_rows"] == c["stored_distinct"] and c["duplicate_keys"] == 0 and not c["pending_left"]
                row["drain_s"] = pipe["drain"]
                row["worker_cpu_ms"] = 1000 * sum(r["cpu"] for r in pipe["workers"]) / n
                server = [r["server_cpu"] for r in pipe["workers"]]
                row["server_cpu_ms"] = 1000 * sum(server) / n if None not in server else None
                row["understand_ms"] = 1000 * und_in_pipe / n
                row["writes_ms"] = 1000 * sum(r["writes_cpu"] for r in pipe["workers"]) / n
                row["busy_rate"] = n / (pipe["seconds"] - pipe["drain"])
                print(f"[{kind} x{w}] pipeline {n} msgs in {pipe['seconds']:.2f} s = {rate:,.0f} msg/s "
                      f"(the last {pipe['drain']:.2f} s stored nothing: brand answers waiting for a message that "
                      f"never comes, DANDELION_ECHO_WAITS; without that drain {row['busy_rate']:,.0f} msg/s) "
                      f"(batches per worker {row['batches']}; time in understand {row['understand_share']:.0%}); "
                      f"store_delivery {row['store_rate']:,.0f} ev/s; raw bulk_create {chk['raw_rows']} rows "
                      f"{raw_rate:,.0f} rows/s; ratio pipeline/understanding-alone {row['ratio_1']:.2f} "
                      f"(vs {w} processes of understanding at once {row['ratio_w']:.2f}); "
                      f"check {'OK' if ok else 'FAILED'} {json.dumps(c)}", flush=True)
                server_ms = "n/a" if row["server_cpu_ms"] is None else f"{row['server_cpu_ms']:.3f}"
                print(f"[{kind} x{w}] CPU per message of the set: workers {row['worker_cpu_ms']:.3f} ms (of which "
                      f"understanding {row['understand_ms']:.3f} ms, bulk writes {row['writes_ms']:.3f} ms), their "
                      f"database server processes {server_ms} ms", flush=True)
                if not args.keep and kind == "postgres":
                    lib.pg_drop(name)
            if not args.keep and kind == "postgres":
                lib.pg_drop("dandelion_bench_tpl")
    finally:
        if not args.keep:
            lib.rmtree(workdir)
    print("\nsummary (msg/s; targets: pipeline >= 0.7 x understanding alone, >= 2,000 msg/s on PostgreSQL)")
    print("(understand: one process; understand W: W processes at once, measured; ratio W: pipeline / understand W)")
    print(f"{'db':9} {'W':>2} {'pipeline':>9} {'understand':>10} {'ratio':>6} {'understand W':>12} {'ratio W':>7} "
          f"{'raw insert':>10} {'store':>7} {'no drain':>8}")
    for r in rows:
        print(f"{r['db']:9} {r['workers']:>2} {r['pipeline_rate']:>9,.0f} {r['understanding_rate']:>10,.0f} "
              f"{r['ratio_1']:>6.2f} {r['understanding_w']:>12,.0f} {r['ratio_w']:>7.2f} {r['raw_rate']:>10,.0f} "
              f"{r['store_rate']:>7,.0f} {r['busy_rate']:>8,.0f}")


if __name__ == "__main__":
    main()
