"""IMAP IDLE against the real Dovecot of the e-mail tests: new mail is pushed (no poll interval waited), IDLE is
renewed, the listener stores what the push announces through the polling cursor, reconnects after failures and
shows permanent ones on the account's health."""

from __future__ import annotations

import threading
import time

import pytest
from tests.connectors.streamtools import run_listener
from tests.connectors.test_email_dovecot import (  # noqa: F401 - the e-mail tests' helpers and fixtures
    PASSWORD,
    email_account,
    mail,
    mailbox,
    ref,
)
from tests.inbox.conftest import _analyzer, _fake_store, inbox  # noqa: F401 - fixtures shared with the inbox tests

from dandelion.connectors import registry
from dandelion.connectors.base import StreamingConnector
from dandelion.connectors.errors import ConfigError, ConnectorError


def _later(seconds: float, fn, *args) -> threading.Timer:
    timer = threading.Timer(seconds, fn, args)
    timer.start()
    return timer


def test_idle_pushes_new_mail_and_survives_renewal(dovecot, mailbox):
    connector = registry.get("email")
    assert isinstance(connector, StreamingConnector)
    account = ref(dovecot, user=mailbox, idle_renew_s=1)
    stop = threading.Event()
    stream = connector.stream(account, stop=stop)
    assert next(stream).poll  # once connected: a poll to catch up
    started = time.monotonic()
    _later(0.3, dovecot.deliver, mailbox, mail(body="first push")[1])
    pushes, heartbeats = 0, 0
    for batch in stream:
        if batch.poll:
            pushes += 1
            break
        heartbeats += 1
    first_latency = time.monotonic() - started
    assert pushes == 1 and first_latency < 5, first_latency  # Dovecot's fallback check is 30 s: this is a push
    time.sleep(1.5)  # past idle_renew_s: the next wait renews IDLE (DONE, then IDLE again) on the same connection
    for _batch in stream:
        heartbeats += 1
        if heartbeats > 1:
            break
    _later(0.2, dovecot.deliver, mailbox, mail(body="after renewal")[1])
    second = time.monotonic()
    for batch in stream:
        if batch.poll or time.monotonic() - second > 6:
            break
    assert batch.poll and time.monotonic() - second < 5
    stop.set()
    assert [b for b in stream if b.poll] == []  # the generator ends once stopped
    assert heartbeats >= 1


def test_idle_stops_promptly_and_maps_errors(dovecot, mailbox):
    connector = registry.get("email")
    stop = threading.Event()
    stream = connector.stream(ref(dovecot, user=mailbox), stop=stop)
    next(stream)
    _later(0.5, stop.set)
    started = time.monotonic()
    rest = list(stream)
    assert time.monotonic() - started < 3 and all(not b.poll for b in rest)
    with pytest.raises(ConnectorError) as refused:
        next(connector.stream(ref(dovecot, user=mailbox, password="wrong"), stop=threading.Event()))
    assert refused.value.permanent
    with pytest.raises(ConnectorError) as down:
        next(connector.stream(ref(dovecot, user=mailbox, imap_port=1, timeout_s=2.0), stop=threading.Event()))
    assert not down.value.permanent
    assert not connector.stream_enabled({"idle": False}) and connector.stream_enabled({})
    with pytest.raises(ConfigError) as bad:
        connector.validate_config({"imap_host": "127.0.0.1", "idle_renew_s": 1800})
    assert "idle_renew_s" in bad.value.errors


# --- end to end through Dandelion -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_pushed_mail_reaches_the_queue_without_waiting_for_the_poll(inbox, email_account, dovecot):
    from dandelion.inbox import streaming
    from dandelion.inbox.jobs import process_pending_deliveries
    from dandelion.inbox.models import Conversation, InboundDelivery, Message

    earlier_id, raw = mail(subject="Avant", body="arrivé avant l'écoute")
    dovecot.deliver(email_account.external_id, raw)
    pushed_id, raw = mail(subject="Colis", body="Bonjour, où est mon colis ?")
    _later(1.0, dovecot.deliver, email_account.external_id, raw)
    stats, elapsed = run_listener(lambda stop: streaming.listen(email_account.pk, stop=stop), module=streaming,
                                  until=lambda: InboundDelivery.objects.filter(body__contains=pushed_id).exists())
    process_pending_deliveries.call()
    assert Message.objects.filter(external_id=earlier_id).exists()  # the catch-up poll at connection
    conversation = Conversation.objects.get(messages__external_id=pushed_id)
    assert conversation.team == inbox.fr_team and elapsed < 10
    assert stats.connections == 1 and stats.polls >= 2 and stats.errors == 0
    email_account.refresh_from_db()
    assert email_account.poll_state["last_uid"] == 2  # the same cursor as the periodic poll: nothing read twice
    from dandelion.inbox.polling import poll_account

    assert poll_account(email_account.pk).events == 0


@pytest.mark.django_db
def test_listener_backs_off_on_transient_errors_and_shows_permanent_ones(inbox, email_account, dovecot):
    from dandelion.assets import services as assets
    from dandelion.inbox import streaming

    config = dict(email_account.connector_config, imap_port=1, timeout_s=1.0)
    type(email_account).objects.filter(pk=email_account.pk).update(connector_config=config)
    stop = threading.Event()
    _later(1.5, stop.set)
    stats = streaming.listen(email_account.pk, stop=stop, backoff_base_s=0.2)
    assert 2 <= stats.connections <= 5 and stats.errors == stats.connections  # 0.2, 0.4, 0.8 s...: backing off
    email_account.refresh_from_db()
    assert email_account.last_error == ""  # a dropped connection alone is not shown on the health

    config.update(imap_port=dovecot.port, timeout_s=10.0)
    type(email_account).objects.filter(pk=email_account.pk).update(connector_config=config)
    assets.set_account_credentials(email_account, credentials={"imap_password": "wrong"}, expires_at=None,
                                   actor=inbox.users.hub_admin)
    stop = threading.Event()
    _later(1.0, stop.set)
    stats = streaming.listen(email_account.pk, stop=stop, permanent_retry_s=60)
    email_account.refresh_from_db()
    assert stats.connections == 1 and "live connection" in email_account.last_error
    assert "login refused" in email_account.last_error

    assets.set_account_credentials(email_account, credentials={"imap_password": PASSWORD}, expires_at=None,
                                   actor=inbox.users.hub_admin)
    type(email_account).objects.filter(pk=email_account.pk).update(
        connector_config=dict(config, idle=False))
    assert streaming.streamable_accounts([email_account.pk]) == []  # idle off: polled only
    stats = streaming.listen(email_account.pk, stop=threading.Event())
    assert stats.connections == 0


@pytest.mark.django_db
def test_stream_command_refuses_accounts_that_cannot_stream(inbox):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="cannot stream"):
        call_command("stream", "--account", str(inbox.fr_account.pk), "--seconds", "0")


def test_mail_arriving_while_idle_is_not_running_is_not_lost(dovecot, mailbox):
    # Dovecot announces it after IDLE's continuation; servers announcing it with the continuation are handled too
    # (``_Idler.missed``), which Dovecot cannot show here
    stop = threading.Event()
    stream = registry.get("email").stream(ref(dovecot, user=mailbox), stop=stop)
    assert next(stream).poll  # connected (EXAMINE done); IDLE starts at the next step
    dovecot.deliver(mailbox, mail(body="between EXAMINE and IDLE")[1])  # before IDLE: announced as it starts
    started = time.monotonic()
    for batch in stream:
        if batch.poll or time.monotonic() - started > 5:
            break
    stop.set()
    assert batch.poll and time.monotonic() - started < 3
