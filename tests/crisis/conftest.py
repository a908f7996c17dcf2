from __future__ import annotations

import datetime as dt

import pytest

from dandelion.core.actors import SYSTEM
from dandelion.crisis import services
from dandelion.listening import services as listening
from dandelion.listening.models import Alert

#: Times are anchored (never "now"), in the middle of an hour: no test depends on the clock or an hour boundary.
T0 = dt.datetime(2026, 3, 2, 10, 20, tzinfo=dt.UTC)


def mention(unit, ref, text, *, at, **kw):
    return listening.MentionInput(unit_id=unit.pk, unit_path=unit.path, source="replay", source_ref=ref, text=text,
                                  posted_at=at, **kw)


@pytest.fixture
def world(org):
    """A French query with a spike (its matches at T0 - 12 min .. T0), its alert, and the alert's incident."""
    org.query = listening.create_query(actor=SYSTEM, unit=org.france, name="Brand FR", text="acme OR #acme")
    org.es_query = listening.create_query(actor=SYSTEM, unit=org.spain, name="Brand ES", text="acme")
    listening.ingest_mentions([mention(org.hub, f"s{i}", "acme panne #acme", at=T0 - dt.timedelta(minutes=12 - i))
                               for i in range(12)])
    org.alert = Alert.objects.create(query=org.query, started_at=T0, last_seen_at=T0, severity=5, peak_count=12,
                                     expected=1.0, window_minutes=15)
    org.incident, _ = services.open_incident_for_alert(org.alert, actor=SYSTEM)
    org.es_alert = Alert.objects.create(query=org.es_query, started_at=T0, last_seen_at=T0, severity=4,
                                        peak_count=12, expected=1.0, window_minutes=15)
    org.es_incident, _ = services.open_incident_for_alert(org.es_alert, actor=SYSTEM)
    return org
