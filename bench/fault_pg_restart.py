"""Fault drill: restart PostgreSQL in the middle of webhook ingestion (issue 5).

What it does, on loopback only and against a throwaway database (``dandelion_fault``, dropped at the end):

1. create the database, ``dandelion migrate``, ``dandelion seed-demo``; give one demo account a known webhook secret;
2. start ``dandelion serve`` and ``dandelion worker`` on it;
3. POST ``--events`` signed webhooks (one event each) from this process, and ``pg_ctlcluster <ver> main restart``
   once a third of them are sent;
4. like a real sender, re-send every delivery that was not answered 202 (bounded by ``--deadline``);
5. wait for the worker to process everything, then check: every 202 answer names a delivery that is stored, each
   event is stored exactly once as a message, every non-202 answer was a 503 JSON or a connection error, and every
   stored delivery ends ``done``.

Run (needs root or the postgres user for ``pg_ctlcluster``; restarts the *shared* server, so run it when nobody
else is using PostgreSQL)::

    .venv/bin/python bench/fault_pg_restart.py [--events 300] [--port 8765] [--keep-db]

Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import hmac
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _benchlib as lib

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DB_NAME = "dandelion_fault"
SECRET = "fault-drill-secret"
KEY = "6xX4Mx7P8PdUakoDqJdrhh0pe5ym4p4Wr2ZiwRgTf9E="


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def pg_version() -> str:
    versions = sorted(os.listdir("/etc/postgresql"), key=lambda v: float(v))
    return versions[-1]


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def env_for(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=db_url, DANDELION_ENCRYPTION_KEYS=KEY, SECRET_KEY="fault-drill-not-secret",
               DJANGO_SETTINGS_MODULE="dandelion.config.settings", DANDELION_TASK_BACKEND="database",
               DANDELION_STALE_CLAIM_SECONDS="20", DEBUG="false", ALLOWED_HOSTS="127.0.0.1,localhost")
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


PICK_ACCOUNT = r"""
import django, json
django.setup()
from dandelion.assets.models import SocialAccount
acc = SocialAccount.objects.filter(archived_at__isnull=True, status="active").order_by("pk").first()
acc.connector = "fake"
acc.set_webhook_secret(%r)
acc.save()
print(json.dumps({"id": acc.pk, "network": acc.network}))
"""

STATE = r"""
import django, json, collections
django.setup()
from dandelion.inbox.models import InboundDelivery, Message
from django.db.models import Count
states = collections.Counter(InboundDelivery.objects.values_list("state", flat=True))
dups = list(Message.objects.values("account", "external_id").annotate(n=Count("id")).filter(n__gt=1)
            .values_list("external_id", "n"))
print(json.dumps({
    "states": states,
    "deliveries": {d.pk: [e.get("id") for e in (d.payload or [])] for d in InboundDelivery.objects.all()},
    "messages": list(Message.objects.filter(direction="inbound").values_list("external_id", flat=True)),
    "duplicate_messages": dups,
    "errors": list(InboundDelivery.objects.exclude(error="").values_list("error", flat=True)[:5]),
}))
"""


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def post(port: int, account_id: int, event_id: str, timeout: float = 10.0) -> tuple[object, dict | None]:
    payload = {"events": [{"id": event_id, "kind": "comment", "text": f"Bonjour, ma commande {event_id} ?",
                           "created_at": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
                           "author": {"id": f"a-{event_id}", "name": "Camille", "handle": "@camille"}}]}
    body = json.dumps(payload).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", f"/hooks/{account_id}/", body=body,
                     headers={"Content-Type": "application/json", "X-Dandelion-Signature": sign(body)})
        response = conn.getresponse()
        raw = response.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = {"raw": raw[:200].decode("utf-8", "replace")}
        return response.status, data
    except (OSError, http.client.HTTPException) as exc:
        return f"conn:{type(exc).__name__}", None
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--interval", type=float, default=0.01, help="pause between posts (s)")
    parser.add_argument("--deadline", type=float, default=240.0, help="seconds for re-sends and processing")
    parser.add_argument("--keep-db", action="store_true")
    args = parser.parse_args()
    version = pg_version()
    db_url = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    env = env_for(db_url)
    started = time.monotonic()

    log(f"PostgreSQL {version}: creating {DB_NAME}")
    admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{DB_NAME}"')
    procs: list[subprocess.Popen] = []
    try:
        run([str(BIN / "dandelion"), "migrate", "--noinput"], env)
        run([str(BIN / "dandelion"), "seed-demo"], env)
        account = json.loads(run([str(BIN / "python"), "-c", PICK_ACCOUNT % SECRET], env).strip().splitlines()[-1])
        log(f"account {account['id']} ({account['network']}); starting serve and worker")
        logs = ROOT / "var" / "fault_pg_restart"
        logs.mkdir(parents=True, exist_ok=True)
        for name, cmd in (("serve", ["serve", "--host", "127.0.0.1", "--port", str(args.port)]),
                          ("worker", ["worker", "--tick", "2"])):
            out = open(logs / f"{name}.log", "w")  # noqa: SIM115 - kept open for the child's lifetime
            procs.append(subprocess.Popen([str(BIN / "dandelion"), *cmd], cwd=ROOT, env=env, stdout=out,
                                          stderr=subprocess.STDOUT))
        lib.wait_http(args.port, 60)

        answers: dict[str, list] = collections.defaultdict(list)
        restart_at = args.events // 3
        restart_result: dict = {}

        def restart():
            t0 = time.monotonic()
            done = subprocess.run(["pg_ctlcluster", version, "main", "restart"], capture_output=True, text=True,
                                  check=False)
            restart_result.update(rc=done.returncode, seconds=round(time.monotonic() - t0, 2),
                                  err=done.stderr.strip()[-300:])

        restarter = threading.Thread(target=restart)
        t_send = time.monotonic()
        for i in range(args.events):
            if i == restart_at:
                log(f"restarting PostgreSQL after {i} posts")
                restarter.start()
            event_id = f"pg-{i}"
            answers[event_id].append(post(args.port, account["id"], event_id))
            time.sleep(args.interval)
        restarter.join()
        log(f"first pass: {args.events} posts in {time.monotonic() - t_send:.1f}s; restart {restart_result}")
        first = collections.Counter(str(a[0][0]) for a in answers.values())
        log(f"first-pass answers: {dict(first)}")

        # a real sender re-sends what was not acknowledged
        deadline = time.monotonic() + args.deadline
        while time.monotonic() < deadline:
            missing = [e for e, a in answers.items() if a[-1][0] != 202]
            if not missing:
                break
            for event_id in missing:
                answers[event_id].append(post(args.port, account["id"], event_id))
            time.sleep(0.5)
        resent = sum(len(a) - 1 for a in answers.values())
        log(f"re-sends: {resent}")

        # wait for the worker to process everything
        while True:
            state = json.loads(run([str(BIN / "python"), "-c", STATE], env).strip().splitlines()[-1])
            if set(state["states"]) <= {"done"} or time.monotonic() > deadline:
                break
            time.sleep(2)
        log(f"deliveries by state: {state['states']}")
    finally:
        lib.stop_processes(procs)

    # --- checks ---
    failures = []
    deliveries = {int(k): v for k, v in state["deliveries"].items()}
    for event_id, tries in answers.items():
        for status, data in tries:
            if status == 202:
                if data["delivery"] not in deliveries or deliveries[data["delivery"]] != [event_id]:
                    failures.append(f"{event_id}: 202 for delivery {data['delivery']} that is not stored")
            elif status == 503:
                if (data or {}).get("error") != "unavailable":
                    failures.append(f"{event_id}: 503 without the JSON error body: {data}")
            elif not str(status).startswith("conn:"):
                failures.append(f"{event_id}: unexpected answer {status} {data}")
        if tries[-1][0] != 202:
            failures.append(f"{event_id}: never accepted")
    acknowledged = {d["delivery"] for tries in answers.values() for s, d in tries if s == 202}
    unacknowledged = set(deliveries) - acknowledged
    if unacknowledged:  # stored but the answer was lost (connection dropped after commit): harmless, deduplicated
        log(f"note: {len(unacknowledged)} deliveries stored whose 202 never reached the client")
    counts = collections.Counter(state["messages"])
    if state["duplicate_messages"] or any(n != 1 for n in counts.values()):
        failures.append(f"duplicated messages: {state['duplicate_messages'] or counts.most_common(3)}")
    if set(counts) != set(answers):
        failures.append(f"events missing as messages: {sorted(set(answers) - set(counts))[:10]}")
    if set(state["states"]) != {"done"}:
        failures.append(f"deliveries not all done: {state['states']}; errors: {state['errors']}")
    if restart_result.get("rc"):
        failures.append(f"pg_ctlcluster failed: {restart_result}")

    summary = collections.Counter(str(s) for tries in answers.values() for s, _ in tries)
    log(f"answers over all attempts: {dict(summary)}; deliveries stored: {len(deliveries)}; "
        f"messages: {len(counts)} for {len(answers)} events; total {time.monotonic() - started:.1f}s")
    if not args.keep_db:
        admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    if failures:
        log(f"FAIL ({len(failures)}):")
        for f in failures[:30]:
            print("  - " + f)
        return 1
    log("PASS: every 202 is stored exactly once, the rest were 503 or connection errors, all processed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
