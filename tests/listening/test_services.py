"""Listening's services: queries (checked, audited), ingestion (matching, scoping, idempotency, rollups), the
minute tick (alerts opened, updated, closed; events emitted) and a mention sent to the inbox."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dandelion.core.actors import SYSTEM
from dandelion.core.events import subscribe, unsubscribe
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from dandelion.inbox.models import Conversation
from dandelion.listening import series, services
from dandelion.listening.exceptions import ListeningError, QueryNameTaken
from dandelion.listening.models import Alert, HourlyRollup, ListeningQuery, Mention, MentionMatch
from dandelion.listening.sources import read_inbound_messages
from tests.listening.conftest import mention

pytestmark = pytest.mark.django_db


def test_create_query_checks_permission_text_and_name(org):
    with pytest.raises(PermissionDeniedError):
        services.create_query(actor=org.users.fr_agent, unit=org.france, name="x", text="acme")
    with pytest.raises(PermissionDeniedError):
        services.create_query(actor=org.users.fr_cm, unit=org.spain, name="x", text="acme")
    with pytest.raises(ListeningError, match="character 6"):
        services.create_query(actor=org.users.fr_cm, unit=org.france, name="x", text="acme AND")
    with pytest.raises(ListeningError, match="stop word"):
        services.create_query(actor=org.users.fr_cm, unit=org.france, name="x", text="the")
    q = services.create_query(actor=org.users.fr_cm, unit=org.france, name="Brand", text=" acme ")
    assert q.text == "acme" and q.created_by == org.users.fr_cm
    assert AuditEvent.objects.filter(action="listening.query.create").count() == 1
    with pytest.raises(QueryNameTaken):
        services.create_query(actor=org.users.fr_cm, unit=org.france, name="Brand", text="globex")


def test_update_resets_the_detector_when_the_text_changes(world):
    q = world.query
    q.detector_state = {"level": 5.0}
    q.save()
    services.update_query(q, actor=world.users.fr_admin, name="Renamed")
    assert ListeningQuery.objects.get(pk=q.pk).detector_state == {"level": 5.0}
    services.update_query(q, actor=world.users.fr_admin, text="globex")
    assert ListeningQuery.objects.get(pk=q.pk).detector_state == {}
    with pytest.raises(ListeningError):
        services.update_query(q, actor=world.users.fr_admin, text="(")


def test_ingest_matches_rolls_up_and_is_idempotent(world):
    world.query.refresh_from_db()
    before = world.query.mention_count
    at = dt.datetime(2026, 1, 5, 10, 5, tzinfo=dt.UTC)
    items = [mention(world.hub, "n1", "ACME is down again #acme", at=at, sentiment="negative", author="jane",
                     language="fr", country="fr", author_reach=100),
             mention(world.hub, "n2", "globex is fine", at=at),
             mention(world.hub, "n3", "I love acme", at=at + dt.timedelta(minutes=10), sentiment="positive")]
    result = services.ingest_mentions(items)
    assert (result.created, result.matches) == (3, 4)  # n1, n3 match both queries
    again = services.ingest_mentions(items)
    assert (again.created, again.duplicates) == (0, 3)
    world.query.refresh_from_db()
    assert world.query.mention_count == before + 2
    rollup = HourlyRollup.objects.get(query=world.query, hour=at.replace(minute=0))
    assert (rollup.count, rollup.negative, rollup.positive, rollup.reach) == (2, 1, 1, 100)
    assert rollup.terms["#acme"] == 1 and rollup.terms["@jane"] == 1 and rollup.terms["lang:fr"] == 1
    s = series.series(world.query, at - dt.timedelta(hours=2), at + dt.timedelta(hours=2))
    assert sum(s["volume"]) == 2 and s["sentiment"]["negative"] == 1
    assert {"term": "#acme", "count": 1} in s["top_hashtags"]
    assert s["countries"] == [{"term": "FR", "count": 1}]


def test_inbound_mentions_match_only_queries_of_their_subtree(world):
    services.ingest_mentions([mention(world.france, "m-fr", "acme help", source="inbound")])
    m = Mention.objects.get(source_ref="m-fr")
    assert set(MentionMatch.objects.filter(mention=m).values_list("query_id", flat=True)) == {world.query.pk}


def test_bad_text_is_bounded(world):
    services.ingest_mentions([mention(world.hub, "bad", "acme\x00" + "x" * 20000)])
    m = Mention.objects.get(source_ref="bad")
    assert "\x00" not in m.text and len(m.text) <= services.MAX_TEXT


def test_minute_tick_opens_updates_and_closes_one_alert(world, django_capture_on_commit_callbacks):
    Alert.objects.all().delete()
    received: list = []
    subscribe("test-listening", received.extend)
    try:
        now = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        services.evaluate_queries(now=now - dt.timedelta(minutes=1))
        burst = [mention(world.hub, f"b{i}", "acme outage", at=now - dt.timedelta(seconds=30)) for i in range(40)]
        services.ingest_mentions(burst)
        with django_capture_on_commit_callbacks(execute=True):
            decisions = dict(services.evaluate_queries(now=now))
        assert decisions[world.query.pk].action == "open", decisions
        assert received, "no event after the open"
        alert = Alert.objects.get(query=world.query)
        assert alert.state == "open" and alert.severity >= 3 and alert.peak_count >= 40
        # the spike continues: the same alert is updated, never a second one
        services.ingest_mentions([mention(world.hub, f"c{i}", "acme outage", at=now + dt.timedelta(seconds=30))
                                  for i in range(200)])
        services.evaluate_queries(now=now + dt.timedelta(minutes=1))
        assert Alert.objects.filter(query=world.query).count() == 1
        assert Alert.objects.get(query=world.query).updates >= 1
        # quiet for QUIET_MINUTES: closed
        with django_capture_on_commit_callbacks(execute=True):
            for k in range(2, 95):
                services.evaluate_queries(now=now + dt.timedelta(minutes=k))
        assert Alert.objects.get(query=world.query).state == "closed"
    finally:
        unsubscribe("test-listening")
    names = [e.name for e in received]
    assert "listening.alert_opened" in names and "listening.alert_closed" in names
    opened = next(e for e in received if e.name == "listening.alert_opened" and e.data["query"]["id"] == world.query.pk)
    assert opened.data["text"].startswith("Spike on 'Brand FR'")  # what Slack/Teams display
    assert opened.unit_id == world.france.pk


def test_a_failing_query_does_not_stop_the_others(world, monkeypatch):
    from dandelion.listening import detector

    original = detector.DetectorState.tick

    def tick(self, now):
        if self.level == 42.0:
            raise RuntimeError("boom")
        return original(self, now)

    monkeypatch.setattr(detector.DetectorState, "tick", tick)
    ListeningQuery.objects.filter(pk=world.query.pk).update(detector_state={"level": 42.0})
    services.evaluate_queries(now=timezone.now())
    world.query.refresh_from_db()
    world.es_query.refresh_from_db()
    assert "boom" in world.query.last_error
    assert world.es_query.last_evaluated_at is not None
    assert services.query_health(world.query)["ok"] is False


def test_acknowledge(world):
    with pytest.raises(PermissionDeniedError):
        services.acknowledge_alert(world.alert, actor=world.users.analyst)
    services.acknowledge_alert(world.alert, actor=world.users.pr)
    world.alert.refresh_from_db()
    assert world.alert.acknowledged_by == world.users.pr


def test_mention_to_inbox_and_inbound_source(world):
    with pytest.raises(PermissionDeniedError):
        services.send_mention_to_inbox(world.mention, account=world.fr_account, actor=world.users.analyst)
    conv_id = services.send_mention_to_inbox(world.mention, account=world.fr_account, actor=world.users.fr_cm)
    conversation = Conversation.objects.get(pk=conv_id)
    assert conversation.account == world.fr_account
    assert services.send_mention_to_inbox(world.mention, account=world.fr_account, actor=world.users.fr_cm) == conv_id
    # the inbound message the inbox stored comes back as an inbound mention, once
    assert read_inbound_messages(actor=SYSTEM) >= 1
    assert read_inbound_messages(actor=SYSTEM) == 0
    inbound = Mention.objects.get(source="inbound")
    assert inbound.unit == world.france and inbound.conversation_id == conv_id
