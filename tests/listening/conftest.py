from __future__ import annotations

import datetime as dt

import pytest

from dandelion.core.actors import SYSTEM
from dandelion.listening import services
from dandelion.listening.models import Alert, ListeningQuery


@pytest.fixture
def world(org):
    org.query = services.create_query(actor=SYSTEM, unit=org.france, name="Brand FR", text="acme OR #acme")
    org.es_query = services.create_query(actor=SYSTEM, unit=org.spain, name="Brand ES", text="acme")
    services.ingest_mentions([mention(org.hub, f"r{i}", "acme panne #acme") for i in range(3)])
    org.mention = org.query.matches.first().mention
    org.alert = Alert.objects.create(query=org.query, started_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC),
                                     last_seen_at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC), severity=5,
                                     peak_count=40, expected=2.0, window_minutes=15)
    org.query = ListeningQuery.objects.get(pk=org.query.pk)
    return org


def mention(unit, ref, text, *, source="replay", at=None, **kw):
    return services.MentionInput(unit_id=unit.pk, unit_path=unit.path, source=source, source_ref=ref, text=text,
                                 posted_at=at or dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC), **kw)
