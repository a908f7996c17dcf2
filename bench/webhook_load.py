#!/usr/bin/env python
"""Webhook load: sustained signed ``POST /hooks/<account>/`` from a second process, receipt → visible in the queue.

One command, loopback only, bounded in count and in time, against a throwaway database::

    .venv/bin/python bench/webhook_load.py                        # PostgreSQL, 300 req/s for 45 s
    .venv/bin/python bench/webhook_load.py --rate 300 --duration 60 --web 2 --workers 2
    .venv/bin/python bench/webhook_load.py --db sqlite --rate 100 --duration 30

What it does:

1. creates ``dandelion_bench_webhook`` on PostgreSQL 127.0.0.1:5432 (or a temporary SQLite file), ``migrate`` +
   ``seed-demo``; four demo accounts of single-language units (France/fr, Spain/es, Poland/pl, UK/en) get the
   ``generic`` connector and a known webhook secret; the right queue of each is its unit's *helpers* team (the
   default route for a message in the unit's language);
2. starts ``--web`` × ``dandelion serve`` (waitress, one port each) and ``--workers`` × ``dandelion worker`` (the
   embedded database task backend unless ``DANDELION_TASK_BACKEND`` says otherwise);
3. a second process (``--child load``) sends ``rate × duration`` signed webhooks, one event each, open loop: request
   *i* is due at ``t0 + i / rate`` and sent by the next free thread of a fixed pool, over keep-alive connections,
   round-robin over the web processes; it stops at the last request or at ``duration + 10 s``, whichever first;
4. meanwhile this process polls the database every ``--poll`` seconds for new inbound messages and records when each
   is first visible *with its conversation in a team queue*;
5. drains (bounded by ``--drain``), then checks and prints: answers by status, achieved rate, HTTP latency,
   **receipt → visible in the queue** p50/p95/p99/max (client send time → first seen by the poller, so it includes up
   to one poll interval), the server-side part (``InboundDelivery.received_at`` → ``Message.received_at``), how many
   landed in the expected team, and *lost*: every 202 must map to exactly one stored message (a delivery still
   pending at the end of the drain is reported as backlog; a message stored whose 202 never reached the sender is
   counted separately).

Target (issue 5): p99 ≤ 1 s at 300 req/s, 0 lost. Exit status 0 when both hold.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import hmac
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib

DB_NAME = "dandelion_bench_webhook"
SECRET = "bench-webhook-secret"
UNITS = {"france": "fr", "spain": "es", "poland": "pl", "uk": "en"}

# A small corpus per language, so the language detector sees real sentences and routing uses the default route.
CORPUS = {
    "fr": ["Bonjour, ma commande {n} n'est toujours pas arrivée, pouvez-vous vérifier s'il vous plaît ?",
           "Je n'arrive pas à me connecter à mon compte depuis ce matin, que dois-je faire ?",
           "Merci beaucoup pour votre aide rapide, le problème de la commande {n} est résolu !",
           "Pourquoi ma facture du mois dernier est-elle aussi élevée ? Je voudrais une explication."],
    "es": ["Hola, mi pedido {n} todavía no ha llegado, ¿pueden revisarlo por favor?",
           "No puedo entrar en mi cuenta desde esta mañana, ¿qué tengo que hacer?",
           "Muchas gracias por la ayuda tan rápida, el problema del pedido {n} está resuelto.",
           "¿Por qué la factura del mes pasado es tan alta? Quisiera una explicación."],
    "pl": ["Dzień dobry, moje zamówienie {n} nadal nie dotarło, czy możecie to sprawdzić?",
           "Od rana nie mogę zalogować się na swoje konto, co mam zrobić?",
           "Bardzo dziękuję za szybką pomoc, problem z zamówieniem {n} został rozwiązany.",
           "Dlaczego rachunek za zeszły miesiąc jest tak wysoki? Proszę o wyjaśnienie."],
    "en": ["Hello, my order {n} still has not arrived, could you please check what is going on?",
           "I cannot log in to my account since this morning, what should I do?",
           "Thank you so much for the quick help, the problem with order {n} is solved!",
           "Why is my bill for last month so high? I would like an explanation please."],
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- child: account setup (inside the throwaway database's environment) ------------------------------------------

def child_setup() -> None:
    """Give one account per unit of UNITS the generic connector and SECRET; print accounts and expected teams."""
    lib.django_setup()
    from dandelion.assets.models import SocialAccount
    from dandelion.orgs.models import Team

    out = []
    for slug, lang in UNITS.items():
        acc = (SocialAccount.objects.filter(archived_at__isnull=True, status="active", owner_unit__slug=slug)
               .order_by("pk").first())
        team = Team.objects.get(unit__slug=slug, kind="helpers", is_active=True)
        acc.connector = "generic"
        acc.set_webhook_secret(SECRET)
        acc.save()
        out.append({"id": acc.pk, "network": acc.network, "unit": slug, "language": lang, "team": team.pk,
                    "team_name": team.name})
    print(json.dumps(out), flush=True)


# --- child: the load generator (the second process) --------------------------------------------------------------

def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def build(acc: dict, event_id: str, rng: random.Random) -> tuple[int, str, bytes, str]:
    """(account id, event id, body, signature) of a one-event webhook in the account's language."""
    event = {"id": event_id, "kind": rng.choice(["comment", "mention", "dm"]),
             "text": rng.choice(CORPUS[acc["language"]]).format(n=rng.randrange(10_000, 99_999)),
             "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
             "in_reply_to": f"post-{acc['id']}-{rng.randrange(20)}",
             "author": {"id": f"u-{acc['id']}-{rng.randrange(3000)}", "name": f"Customer {rng.randrange(3000)}",
                        "language": acc["language"]}}
    body = json.dumps({"events": [event]}).encode()
    return acc["id"], event_id, body, sign(body)


def warm_up(ports: list[int], accounts: list[dict], poller, count: int, timeout: float) -> float:
    """Send ``count`` webhooks one by one and wait until the worker has made them visible (loads the models)."""
    rng = random.Random(1)
    t = time.time()
    ids = []
    for i in range(count):
        account_id, event_id, body, signature = build(accounts[i % len(accounts)], f"warm-{i}", rng)
        conn = http.client.HTTPConnection("127.0.0.1", ports[i % len(ports)], timeout=30)
        conn.request("POST", f"/hooks/{account_id}/", body=body,
                     headers={"Content-Type": "application/json", "X-Dandelion-Signature": signature})
        if conn.getresponse().status != 202:
            raise SystemExit("warm-up webhook not accepted")
        conn.close()
        ids.append(event_id)
    while time.time() - t < timeout and not set(ids) <= set(poller.seen):
        time.sleep(0.2)
    return time.time() - t


def child_load(ports: list[int], accounts: list[dict], rate: float, duration: float, threads: int,
               out_file: str) -> None:
    """Open-loop sender: ``rate × duration`` requests, each due at t0 + i/rate; writes one JSON line per request."""
    total = int(rate * duration)
    rng = random.Random(5)
    plan = [build(accounts[i % len(accounts)], f"wh-{i}", rng) for i in range(total)]  # no JSON/HMAC work later
    results: list[dict | None] = [None] * total
    lock = threading.Lock()
    cursor = [0]
    t0 = time.time() + 0.5
    hard_stop = t0 + duration + 10

    def sender(k: int) -> None:
        conns: dict[int, http.client.HTTPConnection] = {}
        while True:
            with lock:
                i = cursor[0]
                cursor[0] += 1
            if i >= total:
                break
            due = t0 + i / rate
            now = time.time()
            if now > hard_stop:
                results[i] = {"i": i, "status": "not_sent"}
                continue
            if due > now:
                time.sleep(due - now)
            account_id, event_id, body, signature = plan[i]
            port = ports[i % len(ports)]
            sent = time.time()
            status: object
            data = None
            try:
                conn = conns.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conns[port] = conn
                conn.request("POST", f"/hooks/{account_id}/", body=body,
                             headers={"Content-Type": "application/json", "X-Dandelion-Signature": signature})
                resp = conn.getresponse()
                raw = resp.read()
                status = resp.status
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = None
            except (OSError, http.client.HTTPException) as exc:
                status = f"conn:{type(exc).__name__}"
                conns.pop(port, None)
            results[i] = {"i": i, "event": event_id, "account": account_id, "due": due, "sent": sent,
                          "answered": time.time(), "status": status,
                          "delivery": (data or {}).get("delivery") if isinstance(data, dict) else None}
        for c in conns.values():
            c.close()

    pool = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=max(1.0, hard_stop + 35 - time.time()))
    with open(out_file, "w") as fh:
        fh.writelines(json.dumps(r or {"status": "not_sent"}) + "\n" for r in results)
    print(json.dumps({"t0": t0, "requests": total}), flush=True)


# --- parent: visibility poller ------------------------------------------------------------------------------------

class Poller(threading.Thread):
    """Polls the database for inbound messages; records when each is first seen with a team on its conversation."""

    SQL = ("SELECT m.id, m.external_id, c.team_id FROM inbox_message m "
           "JOIN inbox_conversation c ON c.id = m.conversation_id "
           "WHERE m.id > {last} AND m.direction = 'inbound' ORDER BY m.id LIMIT 5000")
    RECHECK = ("SELECT m.id, c.team_id FROM inbox_message m JOIN inbox_conversation c ON c.id = m.conversation_id "
               "WHERE c.team_id IS NOT NULL AND m.id IN ({ids})")

    def __init__(self, connect, interval: float):
        super().__init__(daemon=True)
        self.connect, self.interval = connect, interval
        self.seen: dict[str, tuple[float, int]] = {}  # external id → (first time visible in a team queue, team)
        self.stop = threading.Event()
        self.polls = 0

    def run(self) -> None:
        conn = self.connect()
        last = 0
        no_team: dict[int, str] = {}
        while not self.stop.is_set():
            t = time.time()
            cur = conn.cursor()
            cur.execute(self.SQL.format(last=int(last)))
            rows = cur.fetchall()
            if no_team:
                cur.execute(self.RECHECK.format(ids=",".join(str(i) for i in no_team)))
                for mid, team in cur.fetchall():
                    self.seen.setdefault(no_team.pop(mid), (t, team))
            for mid, ext, team in rows:
                last = max(last, mid)
                if team is None:
                    no_team[mid] = ext
                else:
                    self.seen.setdefault(ext, (t, team))
            cur.close()
            conn.commit()  # end the read transaction: the next poll sees a fresh snapshot
            self.polls += 1
            self.stop.wait(max(0.0, self.interval - (time.time() - t)))
        conn.close()


def db_connector(kind: str, url: str):
    if kind == "postgres":
        import psycopg

        return lambda: psycopg.connect(url)
    import sqlite3

    path = url.removeprefix("sqlite:///")
    return lambda: sqlite3.connect(path, timeout=30, check_same_thread=False)


SERVER_SIDE = r"""
import json, sys
from _benchlib import django_setup
django_setup()
from dandelion.inbox.models import InboundDelivery, Message
from django.db.models import Count
deliveries = {d["id"]: d for d in InboundDelivery.objects.values("id", "received_at", "state", "payload")}
msgs = list(Message.objects.filter(direction="inbound").values("external_id", "received_at", "conversation__team_id",
                                                              "language"))
out = {"deliveries": {}, "messages": {}, "states": {}}
for d in deliveries.values():
    out["states"][d["state"]] = out["states"].get(d["state"], 0) + 1
    out["deliveries"][d["id"]] = {"received": d["received_at"].timestamp(), "state": d["state"],
                                  "events": [e.get("id") for e in d["payload"] or []]}
for m in msgs:
    out["messages"].setdefault(m["external_id"], []).append(
        {"received": m["received_at"].timestamp(), "team": m["conversation__team_id"], "language": m["language"]})
print(json.dumps(out))
"""


def _cpu(pid: int | str, children: bool = False) -> float:
    """CPU seconds (user + system) of process ``pid`` from /proc (Linux), with its reaped children's if asked."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_by_role(procs: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of each role's processes, PostgreSQL's included: every live ``postgres`` process plus
    what the postmaster reaped (backends of closed connections)."""
    import resource

    out = {role: sum(_cpu(pid) for pid in pids) for role, pids in procs.items()}
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if comm == "postgres":
                postgres += _cpu(entry.name, children=True)
    out["postgresql"] = postgres
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["sender (load process)"] = children.ru_utime + children.ru_stime
    me = resource.getrusage(resource.RUSAGE_SELF)
    out["bench (visibility poller)"] = me.ru_utime + me.ru_stime
    return out


def start(args_: list[str], env: dict, log_path: Path) -> subprocess.Popen:
    out = open(log_path, "w")  # noqa: SIM115 - kept open for the child's lifetime
    return subprocess.Popen([lib.DANDELION, *args_], cwd=lib.REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument("--rate", type=float, default=300.0, help="requests per second (default 300)")
    ap.add_argument("--duration", type=float, default=45.0, help="seconds of sustained load (default 45)")
    ap.add_argument("--threads", type=int, default=32, help="sender threads in the load process (default 32)")
    ap.add_argument("--web", type=int, default=1, help="dandelion serve processes (default 1)")
    ap.add_argument("--web-threads", type=int, default=8, help="waitress threads per serve process (default 8)")
    ap.add_argument("--workers", type=int, default=1, help="dandelion worker processes (default 1)")
    ap.add_argument("--worker-interval", type=float, default=0.5, help="worker poll interval, s (default 0.5)")
    ap.add_argument("--port", type=int, default=8811, help="first port (default 8811)")
    ap.add_argument("--poll", type=float, default=0.05, help="visibility poll interval, s (default 0.05)")
    ap.add_argument("--drain", type=float, default=300.0, help="max seconds to wait for processing after the load")
    ap.add_argument("--warmup", type=int, default=20, help="unmeasured webhooks first (default 20)")
    ap.add_argument("--keep", action="store_true", help="keep the throwaway database and logs")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child == "setup":
        child_setup()
        return 0
    if args.child == "load":
        spec = json.loads(args.spec)
        child_load(spec["ports"], spec["accounts"], args.rate, args.duration, args.threads, spec["out"])
        return 0
    if args.duration * args.rate > 200_000 or args.duration > 600:
        lib.die("bounded: at most 200,000 requests and 600 s")

    workdir = tempfile.mkdtemp(prefix="dbench-webhook-")
    var_dir = os.path.join(workdir, "var")
    os.makedirs(var_dir)
    url = lib.pg_create(DB_NAME) if args.db == "postgres" else f"sqlite:///{workdir}/webhook.sqlite3"
    env = lib.bench_env(url, var_dir, ALLOWED_HOSTS="127.0.0.1,localhost", DANDELION_TASK_BACKEND=os.environ.get(
        "DANDELION_TASK_BACKEND", "database"))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(lib.REPO / "bench"), os.environ.get("PYTHONPATH")) if p)
    print(f"machine: {lib.machine()}")
    print(f"database: {args.db} ({url.rsplit('/', 1)[-1]}); backend {env['DANDELION_TASK_BACKEND']}; "
          f"{args.web} web x {args.web_threads} threads, {args.workers} worker(s), poll {args.worker_interval} s")
    procs: list[subprocess.Popen] = []
    code = 1
    try:
        t = time.perf_counter()
        lib.dandelion(env, "migrate", "--no-input")
        lib.dandelion(env, "seed-demo")
        out = subprocess.run([lib.PYTHON, __file__, "--child", "setup"], env=env, cwd=lib.REPO, capture_output=True,
                             text=True, check=True)
        accounts = json.loads(out.stdout.strip().splitlines()[-1])
        log(f"database ready in {time.perf_counter() - t:.1f} s; accounts: "
            + ", ".join(f"#{a['id']} {a['unit']}/{a['language']} → {a['team_name']}" for a in accounts))
        ports = [args.port + k for k in range(args.web)]
        logs = Path(workdir)
        for k, port in enumerate(ports):
            procs.append(start(["serve", "--host", "127.0.0.1", "--port", str(port), "--threads",
                                str(args.web_threads)], env, logs / f"serve{k}.log"))
        for k in range(args.workers):
            procs.append(start(["worker", "--interval", str(args.worker_interval)], env, logs / f"worker{k}.log"))
        for port in ports:
            lib.wait_http(port, 60)
        time.sleep(2)  # let the workers start polling

        poller = Poller(db_connector(args.db, url), args.poll)
        poller.start()
        if args.warmup:
            log(f"warm-up: {args.warmup} webhooks processed in {warm_up(ports, accounts, poller, args.warmup, 120):.1f} s"
                " (not measured)")
        results_file = os.path.join(workdir, "results.jsonl")
        spec = json.dumps({"ports": ports, "accounts": accounts, "out": results_file})
        log(f"load: {int(args.rate * args.duration)} requests at {args.rate:g}/s for {args.duration:g} s "
            f"from a second process ({args.threads} threads)")
        roles = {"web": [p.pid for p in procs[:args.web]], "worker": [p.pid for p in procs[args.web:]]}
        cpu_before, wall_before = cpu_by_role(roles), time.time()
        load = subprocess.run([lib.PYTHON, __file__, "--child", "load", "--spec", spec, "--rate", str(args.rate),
                               "--duration", str(args.duration), "--threads", str(args.threads)],
                              env=env, cwd=lib.REPO, capture_output=True, text=True, timeout=args.duration + 120,
                              check=False)
        if load.returncode:
            raise SystemExit(f"load generator failed:\n{load.stderr[-3000:]}")
        t0 = json.loads(load.stdout.strip().splitlines()[-1])["t0"]
        with open(results_file) as fh:
            results = [json.loads(line) for line in fh]
        accepted = {r["event"]: r for r in results if r.get("status") == 202}
        log(f"load done; draining (at most {args.drain:g} s)")
        deadline = time.time() + args.drain
        while time.time() < deadline and not set(accepted) <= set(poller.seen):
            time.sleep(0.5)
        time.sleep(max(0.5, 3 * args.poll))
        poller.stop.set()
        poller.join(10)
        drained = time.time()
        cpu_after = cpu_by_role(roles)
        wall, cores = drained - wall_before, os.cpu_count() or 1
        used = {role: cpu_after[role] - cpu_before[role] for role in cpu_after}
        print(f"CPU from the load's start to the drain ({wall:.1f} s × {cores} cores = {wall * cores:.0f} core-s): "
              + ", ".join(f"{role} {sec:.1f} s ({sec / (wall * cores):.0%})" for role, sec in used.items())
              + f"; busy {sum(used.values()) / (wall * cores):.0%}")
        server = json.loads(subprocess.run([lib.PYTHON, "-c", SERVER_SIDE], env=env, cwd=lib.REPO,
                                           capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
        code = report(args, results, accepted, poller, server, accounts, t0, drained)
    finally:
        lib.stop_processes(procs)
        if not args.keep:
            if args.db == "postgres":
                lib.pg_drop(DB_NAME)
            lib.rmtree(workdir)
        else:
            print(f"kept: {url} and logs in {workdir}")
    return code


def report(args, results, accepted, poller, server, accounts, t0, drained) -> int:
    statuses = collections.Counter(str(r.get("status")) for r in results)
    sent = [r for r in results if "sent" in r]
    span = (max(r["sent"] for r in sent) - min(r["sent"] for r in sent)) if len(sent) > 1 else float("nan")
    lag = [max(0.0, r["sent"] - r["due"]) for r in sent]
    http_ms = [1000 * (r["answered"] - r["sent"]) for r in sent]
    print(f"\nrequests: {len(results)}; answers: {dict(statuses)}; achieved {(len(sent) - 1) / span:,.0f} req/s over "
          f"{span:.1f} s (target {args.rate:g}/s); send lag behind schedule p50 {1000 * lib.pct(lag, 50):.0f} ms "
          f"p99 {1000 * lib.pct(lag, 99):.0f} ms")
    print(f"HTTP answer time (send → 202): p50 {lib.pct(http_ms, 50):.0f} ms, p95 {lib.pct(http_ms, 95):.0f} ms, "
          f"p99 {lib.pct(http_ms, 99):.0f} ms, max {max(http_ms):.0f} ms")

    e2e = [1000 * (poller.seen[e][0] - r["sent"]) for e, r in accepted.items() if e in poller.seen]
    messages = server["messages"]
    deliveries = {int(k): v for k, v in server["deliveries"].items()}
    srv = []
    for e, r in accepted.items():
        d = deliveries.get(r["delivery"])
        if d and messages.get(e):
            srv.append(1000 * (messages[e][0]["received"] - d["received"]))
    if e2e:
        print(f"receipt → visible in a team queue (client send → first seen by the poller, {len(e2e)} messages, "
              f"poll {1000 * args.poll:.0f} ms): p50 {lib.pct(e2e, 50):.0f} ms, p95 {lib.pct(e2e, 95):.0f} ms, "
              f"p99 {lib.pct(e2e, 99):.0f} ms, max {max(e2e):.0f} ms")
    if srv:
        print(f"server side (delivery received_at → message row inserted): p50 {lib.pct(srv, 50):.0f} ms, "
              f"p99 {lib.pct(srv, 99):.0f} ms, max {max(srv):.0f} ms")

    expected_team = {a["id"]: a["team"] for a in accounts}
    seen_times = sorted(poller.seen[e][0] for e in accepted if e in poller.seen)
    if len(seen_times) > 1:
        print(f"processing: {len(seen_times)} messages became visible over {seen_times[-1] - seen_times[0]:.1f} s = "
              f"{(len(seen_times) - 1) / (seen_times[-1] - seen_times[0]):,.0f} msg/s")
    def delivery_of(r):
        return deliveries.get(r["delivery"], {})

    bad_202 = [e for e, r in accepted.items() if e not in delivery_of(r).get("events", [])]  # 202 but not stored
    backlog = [e for e, r in accepted.items() if e not in bad_202 and not messages.get(e)
               and delivery_of(r).get("state") in ("pending", "processing")]  # stored, not processed yet
    lost = [e for e, r in accepted.items() if e not in bad_202 and e not in backlog and not messages.get(e)]
    duplicated = [e for e in accepted if len(messages.get(e, [])) > 1]
    not_seen = [e for e in accepted if e not in poller.seen]
    right = sum(1 for e, r in accepted.items() if messages.get(e) and messages[e][0]["team"] == expected_team[
        r["account"]])
    wrong = collections.Counter((messages[e][0]["language"], messages[e][0]["team"]) for e, r in accepted.items()
                                if messages.get(e) and messages[e][0]["team"] != expected_team[r["account"]])
    unacked = {e for e in messages if not e.startswith("warm-")} - set(accepted)
    exactly_once = sum(1 for e in accepted if len(messages.get(e, [])) == 1)
    print(f"202 answers: {len(accepted)}; stored as exactly one message: {exactly_once}; "
          f"lost: {len(lost) + len(bad_202)} (202 for an unstored delivery: {len(bad_202)}, delivery done without the "
          f"message: {len(lost)}); duplicated: {len(duplicated)}; stored but not yet processed at the end of the "
          f"drain: {len(backlog)}; "
          f"messages without a 202 (answer lost on the wire): {len(unacked)}; not seen in a queue by the end of the "
          f"drain: {len(not_seen)}; deliveries by state: {server['states']}")
    print(f"in the expected team queue (the unit's helpers team): {right}/{len(accepted)}"
          + (f"; elsewhere (language, team): {dict(wrong.most_common(5))}" if wrong else ""))
    print(f"poller: {poller.polls} polls; drained {drained - t0:.1f} s after the first request")
    p99 = lib.pct(e2e + [float("inf")] * len(not_seen), 99)  # a message never seen counts as slower than any
    if not_seen:
        print(f"{len(not_seen)} accepted messages not visible by the end of the drain: p99 over all 202s is "
              f"{'beyond the drain' if p99 == float('inf') else f'{p99:.0f} ms'}")
    achieved = (len(sent) - 1) / span if len(sent) > 1 else 0
    ok = (not lost and not duplicated and not not_seen and not bad_202 and p99 <= 1000
          and statuses.get("202", 0) == len(results) and achieved >= 0.95 * args.rate)
    print(f"target p99 ≤ 1 s at {args.rate:g} req/s, 0 lost: {'MET' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
