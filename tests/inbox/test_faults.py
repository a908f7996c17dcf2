"""Fault tests (issue 5): what the inbox promises when things break.

1. A worker killed with SIGKILL in the middle of a batch, while 10% of the events are delivered twice: after
   recovery (stale claims re-claimed) every event is stored exactly once. Real OS processes share the database:
   on PostgreSQL the pytest-django test database; on SQLite (whose test database lives in memory) a file copy of
   it, which this test process also switches to for the duration of the test.
2. The database going away while a webhook is being stored: the answer is a 503 JSON (never a 202 for an event
   that is not saved), nothing is stored, and once the database is back the same delivery gets its 202 and is
   processed. (The real PostgreSQL restart is ``bench/fault_pg_restart.py``: restarting the shared server here
   would break the rest of the PostgreSQL run.)
3. A connector answering 429 / 5xx: the reply is retried with exponential backoff, ``Retry-After`` honoured; a
   permanent error (401, credentials revoked) marks the message failed and shows on the account's health in the
   registry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import ClassVar

import pytest
from django.db import InterfaceError, OperationalError, connection, connections
from django.db.models import Count
from django.utils import timezone

from dandelion.assets.choices import HealthFlag
from dandelion.assets.models import SocialAccount
from dandelion.connectors import fake
from dandelion.inbox import jobs, services
from dandelion.inbox.choices import DeliveryState, DeliveryStatus, EventKind
from dandelion.inbox.jobs import (
    deliver_reply,
    process_pending_deliveries,
    retry_pending_replies,
    run_moderation,
)
from dandelion.inbox.models import Conversation, ConversationEvent, InboundDelivery, Message
from tests.factories import SocialAccountFactory
from tests.inbox.conftest import event

REPO_ROOT = Path(__file__).resolve().parents[2]


# --- 1. SIGKILL mid-batch with redeliveries --------------------------------------------------------------------------

#: The worker process: the real ``process_pending_deliveries`` job (claim → pipeline per network → done), with the
#: pipeline wrapped so that it says when it is mid-batch (after its second group is stored: the accounts here are on
#: three networks, so a group is an account) and then stalls there until it is killed.
WORKER_SCRIPT = r"""
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dandelion.config.settings")
import django
django.setup()
from dandelion.inbox import jobs

real_group = jobs._ingest_group  # one network's batch, committed (stored, deferred answers, deliveries done)
groups = []

def ingest_group(group, **kwargs):
    result = real_group(group, **kwargs)
    groups.append(group[0].account.network)
    if len(groups) == int(os.environ["FAULT_PAUSE_AFTER_GROUP"]):
        print("MIDWAY", len(groups), result.created, flush=True)
        time.sleep(600)
    return result

jobs._ingest_group = ingest_group
print("STARTED", os.getpid(), flush=True)
print("RESULT", jobs.process_pending_deliveries.call(), flush=True)
"""


def _is_sqlite() -> bool:
    return connection.vendor == "sqlite"


@contextlib.contextmanager
def shared_database(tmp_path: Path):
    """Yield a ``DATABASE_URL`` that another OS process can open and that this process's ORM also uses.

    PostgreSQL: the test database itself. SQLite: the in-memory test database is copied to a file (sqlite3 backup
    API, schema and the committed fixtures included) and Django's connection is pointed at that file until the
    block exits; the in-memory connection is then put back untouched (and flushed by pytest-django as usual)."""
    settings_dict = connection.settings_dict
    if not _is_sqlite():
        user = settings_dict.get("USER") or "postgres"
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        yield f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"
        return
    path = tmp_path / "shared.sqlite3"
    connection.ensure_connection()
    memory, memory_name = connection.connection, settings_dict["NAME"]
    target = sqlite3.connect(path)
    memory.backup(target)
    target.close()
    connection.connection = None
    settings_dict["NAME"] = str(path)
    try:
        connection.ensure_connection()
        yield f"sqlite:///{path}"
    finally:
        with contextlib.suppress(Exception):
            connection.connection.close()
        connection.connection = memory
        settings_dict["NAME"] = memory_name


def _subprocess_env(database_url: str, **extra: str) -> dict[str, str]:
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="dandelion.config.settings",
        DANDELION_ENCRYPTION_KEYS=",".join(settings.DANDELION_ENCRYPTION_KEYS),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")])),
        **extra,
    )
    env.pop("DANDELION_STALE_CLAIM_SECONDS", None)
    return env


def _read_line_with(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:  # the worker exited
            break
        seen.append(line)
        if line.startswith(prefix):
            return line
    proc.kill()
    out, err = proc.communicate(timeout=10)
    pytest.fail(f"worker never printed {prefix!r} within {timeout}s; stdout={''.join(seen) + out!r} "
                f"stderr={err[-3000:]!r}")


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_with_redeliveries_stores_every_event_once(inbox, post_hook, settings, tmp_path):
    extra = SocialAccountFactory(owner_unit=inbox.france, network="tiktok", handle="@brand_fr_tt",
                                 external_id="tt-fr", languages=["fr"], country="FR", connector="fake")
    accounts = [inbox.fr_account, inbox.es_account, extra]
    per_account, per_delivery = 30, 5
    originals = {a.pk: [event(f"Bonjour, commande {a.pk}-{i} pas arrivée ?", id=f"k{a.pk}-{i}",
                              author=f"u{a.pk}-{i % 7}", language="fr")
                        for i in range(per_account)] for a in accounts}
    distinct = sum(len(v) for v in originals.values())
    # 10% of the events are delivered a second time: half before the worker starts (same batch), half while it
    # is stuck mid-batch (they wait, pending, for whoever processes next)
    twice = {a.pk: evs[::10] for a, evs in zip(accounts, originals.values(), strict=True)}
    early_dups = {pk: evs[: len(evs) // 2 + 1] for pk, evs in twice.items()}
    late_dups = {pk: [e for e in evs if e not in early_dups[pk]] for pk, evs in twice.items()}
    assert sum(map(len, twice.values())) == distinct // 10

    with shared_database(tmp_path) as database_url:
        for i in range(0, per_account, per_delivery):  # interleaved: the batch holds every account's deliveries
            for account in accounts:
                r = post_hook(account, {"events": originals[account.pk][i:i + per_delivery]})
                assert r.status_code == 202, r.content
        for account in accounts:
            for e in early_dups[account.pk]:
                assert post_hook(account, {"events": [e]}).status_code == 202
        batch = list(InboundDelivery.objects.values_list("pk", flat=True))
        stored = len(batch)

        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER_SCRIPT], cwd=REPO_ROOT, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=_subprocess_env(database_url, FAULT_PAUSE_AFTER_GROUP="2"))
        try:
            _read_line_with(worker, "MIDWAY", timeout=90)
            # mid-batch: redeliveries keep arriving while the worker holds its claims
            for account in accounts:
                for e in late_dups[account.pk]:
                    assert post_hook(account, {"events": [e]}).status_code == 202
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(timeout=30) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.communicate(timeout=30)

        # the state the kill left: the whole batch claimed by a dead worker; the two account groups it finished are
        # stored and marked done (each in one transaction with its messages), the third is not started
        done_groups = InboundDelivery.objects.filter(account__in=accounts[:2], pk__in=batch)
        assert set(done_groups.values_list("state", flat=True)) == {DeliveryState.DONE}
        stuck = InboundDelivery.objects.filter(state=DeliveryState.PROCESSING)
        assert stuck.count() == stored - done_groups.count() > 0
        assert stuck.filter(claimed_by="").count() == 0
        partial = Message.objects.count()
        assert 0 < partial < distinct

        # a live worker, while the dead one's claims are fresh, processes only what is not claimed
        settings.DANDELION_STALE_CLAIM_SECONDS = 300
        fresh = process_pending_deliveries.call()
        assert fresh["deliveries"] == sum(map(len, late_dups.values()))
        assert InboundDelivery.objects.filter(state=DeliveryState.PROCESSING).count() == stuck.count()

        # recovery: the dead worker's claims go stale and are re-claimed, the batch re-runs, nothing is doubled
        settings.DANDELION_STALE_CLAIM_SECONDS = 1
        time.sleep(1.2)
        for _ in range(5):
            if process_pending_deliveries.call()["deliveries"] == 0:
                break
        states = Counter(InboundDelivery.objects.values_list("state", flat=True))
        assert states == {DeliveryState.DONE: InboundDelivery.objects.count()}, states
        assert InboundDelivery.objects.count() == stored + sum(map(len, late_dups.values()))
        per_key = Message.objects.values("network", "external_id").annotate(n=Count("id"))
        assert {row["n"] for row in per_key} == {1}
        assert Message.objects.count() == distinct == len(per_key)
        expected = {(a.network, e["id"]) for a in accounts for e in originals[a.pk]}
        assert set(Message.objects.values_list("network", "external_id")) == expected
        # and every message is threaded once: one conversation per root, no orphan duplicates
        assert Conversation.objects.count() == distinct


# --- 2. the database goes away while a webhook is stored -------------------------------------------------------------


def _refuse(sql_prefix: str, exc: Exception):
    """An execute wrapper that fails every statement starting with ``sql_prefix`` (``""``: every statement)."""

    def wrapper(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(sql_prefix):
            raise exc
        return execute(sql, params, many, context)

    return wrapper


def _nothing_stored():
    assert InboundDelivery.objects.count() == 0 and Message.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where, exc", [
    ("", OperationalError("could not connect to server: Connection refused")),  # down from the first query
    ("INSERT", OperationalError("terminating connection due to administrator command")),  # dies at the insert
    ("INSERT", InterfaceError("connection already closed")),  # a closed connection: InterfaceError
], ids=["down", "insert-operational", "insert-interface"])
def test_database_down_while_storing_is_503_and_nothing_stored_then_202(inbox, post_hook, where, exc):
    payload = {"events": [event("Bonjour, toujours rien ?", id="db-1", language="fr")]}
    with connection.execute_wrapper(_refuse(where, exc)):
        r = post_hook(inbox.fr_account, payload)
    assert r.status_code == 503, r.content
    assert r["Content-Type"] == "application/json" and r.json()["error"] == "unavailable"
    _nothing_stored()
    # the database is back: the sender's retry is accepted, stored once, and processed
    r = post_hook(inbox.fr_account, payload)
    assert r.status_code == 202 and InboundDelivery.objects.get().pk == r.json()["delivery"]
    process_pending_deliveries.call()
    assert InboundDelivery.objects.get().state == DeliveryState.DONE
    assert Message.objects.filter(external_id="db-1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_commit_failure_is_503_never_202_for_an_unsaved_delivery(inbox, post_hook, monkeypatch):
    """The insert succeeds but the COMMIT fails (the server restarts at that instant): the row is rolled back, so
    the answer must be 503, and the processing job enqueued on commit must not run."""
    kicked = []
    monkeypatch.setattr(jobs, "kick_processing", lambda: kicked.append(1))

    def failing_commit():
        raise OperationalError("server closed the connection unexpectedly")

    payload = {"events": [event("Bonjour ?", id="c-1", language="fr")]}
    wrapper = connections["default"]
    wrapper._commit = failing_commit  # instance attribute over DatabaseWrapper._commit
    try:
        r = post_hook(inbox.fr_account, payload)
    finally:
        del wrapper._commit
    assert r.status_code == 503 and r.json()["error"] == "unavailable"
    assert kicked == []
    _nothing_stored()
    r = post_hook(inbox.fr_account, payload)
    assert r.status_code == 202 and kicked == [1]
    assert InboundDelivery.objects.get().pk == r.json()["delivery"]


@pytest.mark.django_db(transaction=True)
def test_a_stored_webhook_costs_one_transaction_and_one_slot_statement(inbox, post_hook):
    """Every webhook asks for the processing job's slot: one statement (insert, or replace a lost run's stale
    slot), not a transaction of four; and the delivery's own transaction has no savepoint inside another."""
    from django.test.utils import CaptureQueriesContext

    from dandelion.core import jobs as core_jobs
    from dandelion.core.jobs import take_slot
    from dandelion.core.models import JobSlot
    from dandelion.inbox.jobs import PROCESS_SLOT

    assert take_slot("probe") is True and take_slot("probe") is False
    JobSlot.objects.filter(name="probe").update(
        enqueued_at=timezone.now() - dt.timedelta(seconds=JobSlot.STALE_AFTER + 1))
    assert take_slot("probe") is True and take_slot("probe") is False  # a lost run's slot is replaced once
    assert JobSlot.objects.filter(name="probe").count() == 1
    if connection.vendor == "sqlite":  # the path of SQLite before 3.35 (no RETURNING): the same answers
        from unittest import mock

        with mock.patch.object(core_jobs, "_sqlite_returns", return_value=False):
            assert take_slot("old-sqlite") is True and take_slot("old-sqlite") is False
            JobSlot.objects.filter(name="old-sqlite").update(
                enqueued_at=timezone.now() - dt.timedelta(seconds=JobSlot.STALE_AFTER + 1))
            assert take_slot("old-sqlite") is True and take_slot("old-sqlite") is False

    JobSlot.objects.filter(name=PROCESS_SLOT).delete()
    r = post_hook(inbox.fr_account, {"events": [event("Bonjour ?", id="s-1", language="fr")]})
    assert r.status_code == 202 and JobSlot.objects.filter(name=PROCESS_SLOT).exists()  # a run is now waiting
    with CaptureQueriesContext(connection) as q:
        r = post_hook(inbox.fr_account, {"events": [event("Toujours là ?", id="s-2", language="fr")]})
    assert r.status_code == 202 and InboundDelivery.objects.count() == 2
    sql = [x["sql"].upper() for x in q]
    assert len([x for x in sql if "JOBSLOT" in x]) == 1, sql
    assert not any(x.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")) for x in sql), sql


@pytest.mark.django_db(transaction=True)
def test_database_down_while_processing_loses_nothing(inbox, post_hook, settings):
    """The worker's side of a restart: the job dies on a database error mid-run; the claim goes stale and the
    next run processes the delivery once."""
    r = post_hook(inbox.fr_account, {"events": [event("Allô ?", id="w-1", language="fr"),
                                                event("Allô ??", id="w-2", language="fr")]})
    assert r.status_code == 202
    down = []

    def goes_down_at_first_insert(execute, sql, params, many, context):
        if down or sql.lstrip().upper().startswith("INSERT"):
            down.append(sql)
            raise OperationalError("the database system is shutting down")
        return execute(sql, params, many, context)

    # even recording the failure fails: the job dies
    with connection.execute_wrapper(goes_down_at_first_insert), pytest.raises(OperationalError):
        process_pending_deliveries.call()
    delivery = InboundDelivery.objects.get()
    assert delivery.state == DeliveryState.PROCESSING and delivery.claimed_by  # a claim nobody will finish
    assert Message.objects.count() == 0
    assert process_pending_deliveries.call()["deliveries"] == 0  # fresh claim: respected
    settings.DANDELION_STALE_CLAIM_SECONDS = 0
    assert process_pending_deliveries.call()["deliveries"] == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DONE
    assert sorted(Message.objects.values_list("external_id", flat=True)) == ["w-1", "w-2"]


# --- 3. connectors answering 429 / 5xx / 401 -------------------------------------------------------------------------


class _ScriptedNetwork(http.server.BaseHTTPRequestHandler):
    """A loopback stand-in for a network's reply endpoint: answers the scripted statuses in order."""

    script: ClassVar[list[tuple[int, dict[str, str], bytes]]] = []
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        type(self).received.append(json.loads(self.rfile.read(length)))
        status, headers, body = type(self).script.pop(0)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def network():
    _ScriptedNetwork.script, _ScriptedNetwork.received = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ScriptedNetwork)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, _ScriptedNetwork
    server.shutdown()
    server.server_close()


@pytest.fixture
def conversation(inbox, deliver):
    deliver(inbox.fr_account, event("Bonjour, ma commande n'est toujours pas arrivée ?", id="q1", author="u-1",
                                    language="fr"))
    return Conversation.objects.get()


def _on_generic(account, server):
    account.connector = "generic"
    account.connector_config = {"reply_webhook_url": f"http://127.0.0.1:{server.server_port}/replies",
                                "reply_timeout_s": 5.0}
    account.save(update_fields=["connector", "connector_config"])


def _due_now(message):
    Message.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def _close_to(actual: dt.datetime, expected: dt.datetime, slack: float = 5.0) -> bool:
    return abs((actual - expected).total_seconds()) <= slack


@pytest.mark.django_db
def test_429_and_5xx_are_retried_with_backoff_and_retry_after(inbox, conversation, network):
    server, remote = network
    _on_generic(inbox.fr_account, server)
    remote.script = [
        (429, {"Retry-After": "120"}, b"slow down"),   # Retry-After longer than the backoff: honoured
        (503, {}, b"unavailable"),                      # no Retry-After: exponential backoff
        (502, {"Retry-After": "1"}, b"bad gateway"),    # Retry-After shorter than the backoff: backoff wins
        (200, {"Content-Type": "application/json"}, b'{"id": "remote-42"}'),
    ]
    msg = services.reply_to_conversation(conversation, text="Bonjour, nous regardons.", actor=inbox.users.fr_agent)

    def attempt(expected_delay: float | None):
        before = timezone.now()
        outcome = deliver_reply.call(msg.pk)
        msg.refresh_from_db()
        if expected_delay is not None:
            assert outcome == "retry" and msg.delivery_status == DeliveryStatus.PENDING
            assert _close_to(msg.next_attempt_at, before + dt.timedelta(seconds=expected_delay)), \
                (msg.next_attempt_at - before)
            assert retry_pending_replies.call() == 0  # not due yet: nothing is sent early
            _due_now(msg)
        return outcome

    attempt(120)                                                   # 429, Retry-After: 120
    assert msg.delivery_attempts == 1 and "HTTP 429" in msg.delivery_error
    attempt(jobs.backoff(2, base=15.0, cap=1800.0).total_seconds())  # 503: 30 s
    attempt(jobs.backoff(3, base=15.0, cap=1800.0).total_seconds())  # 502: 60 s (> Retry-After: 1)
    assert retry_pending_replies.call() == 1                       # due: the periodic retry sends it
    msg.refresh_from_db()
    assert msg.delivery_status == DeliveryStatus.SENT and msg.external_id == "remote-42"
    assert msg.delivery_attempts == 4 and msg.delivery_error == "" and msg.next_attempt_at is None
    # every attempt carried the same idempotency key, so the network can drop a resend of a delivered reply
    assert {r["reply"]["idempotency_key"] for r in remote.received} == {f"dandelion-message-{msg.pk}"}
    assert len(remote.received) == 4 and remote.script == []
    inbox.fr_account.refresh_from_db()
    assert HealthFlag.CONNECTOR_ERROR not in inbox.fr_account.health_flags()  # temporary errors are no health issue


@pytest.mark.django_db
def test_temporary_errors_give_up_after_max_attempts(inbox, conversation):
    fake.FakeConnector.fail_next(jobs.MAX_SEND_ATTEMPTS, retry_after=None, message="HTTP 500")
    msg = services.reply_to_conversation(conversation, text="Réponse", actor=inbox.users.fr_agent)
    delays = []
    for _ in range(jobs.MAX_SEND_ATTEMPTS - 1):
        before = timezone.now()
        assert deliver_reply.call(msg.pk) == "retry"
        msg.refresh_from_db()
        delays.append(round((msg.next_attempt_at - before).total_seconds()))
        _due_now(msg)
    assert delays == [15, 30, 60, 120, 240]  # exponential backoff
    assert deliver_reply.call(msg.pk) == "failed"
    msg.refresh_from_db()
    assert msg.delivery_status == DeliveryStatus.FAILED and msg.delivery_attempts == jobs.MAX_SEND_ATTEMPTS
    assert "HTTP 500" in msg.delivery_error and msg.next_attempt_at is None
    failed = ConversationEvent.objects.get(kind=EventKind.REPLIED, data__failed=True)
    assert failed.data["permanent"] is False
    assert retry_pending_replies.call() == 0  # a failed message is not retried for ever


@pytest.mark.django_db
def test_permanent_error_fails_the_message_and_shows_on_the_account_health(inbox, conversation, network,
                                                                           client_for, api_for):
    server, remote = network
    _on_generic(inbox.fr_account, server)
    remote.script = [(401, {}, b'{"error": "invalid_token", "detail": "credentials revoked"}')]
    account = SocialAccount.objects.get(pk=inbox.fr_account.pk)
    assert HealthFlag.CONNECTOR_ERROR not in account.health_flags()
    msg = services.reply_to_conversation(conversation, text="Bonjour", actor=inbox.users.fr_agent)
    assert deliver_reply.call(msg.pk) == "failed"
    msg.refresh_from_db()
    assert msg.delivery_status == DeliveryStatus.FAILED and "HTTP 401" in msg.delivery_error
    assert msg.delivery_attempts == 1 and len(remote.received) == 1  # permanent: not retried
    assert retry_pending_replies.call() == 0
    assert ConversationEvent.objects.get(kind=EventKind.REPLIED, data__failed=True).data["permanent"] is True

    account.refresh_from_db()
    assert "HTTP 401" in account.last_error and account.last_error_at is not None
    assert HealthFlag.CONNECTOR_ERROR in account.health_flags()
    assert list(SocialAccount.objects.with_health(HealthFlag.CONNECTOR_ERROR)) == [account]
    # visible in the registry: the API and the account page
    admin = inbox.users.hub_admin
    body = api_for(admin).get(f"/api/v1/accounts/{account.pk}/").json()
    assert HealthFlag.CONNECTOR_ERROR in body["health_flags"] and "HTTP 401" in body["last_error"]
    listed = api_for(admin).get("/api/v1/accounts/", {"health": HealthFlag.CONNECTOR_ERROR}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["id"] for row in rows] == [account.pk]
    page = client_for(admin).get(f"/assets/accounts/{account.pk}/")
    assert page.status_code == 200 and b"HTTP 401" in page.content and b"Connector error" in page.content


@pytest.mark.django_db
def test_moderation_retries_temporary_and_flags_permanent_errors(inbox, conversation):
    message = Message.objects.get(external_id="q1")
    fake.FakeConnector.fail_next(1, retry_after=42.0, message="HTTP 429")
    assert run_moderation.call(message.pk, "hide") == "retry"
    inbox.fr_account.refresh_from_db()
    assert inbox.fr_account.last_error == ""
    fake.FakeConnector.fail_next(1, permanent=True, message="HTTP 403 permission revoked")
    assert run_moderation.call(message.pk, "hide") == "failed"
    inbox.fr_account.refresh_from_db()
    assert "permission revoked" in inbox.fr_account.last_error
    assert HealthFlag.CONNECTOR_ERROR in inbox.fr_account.health_flags()
    assert run_moderation.call(message.pk, "hide") == "done"
    assert fake.STORE.calls == ["hide", "hide", "hide"]
