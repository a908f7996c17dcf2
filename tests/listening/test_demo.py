"""The demo organisation's listening part: a real replayed crisis that raised an alert, idempotent."""

from __future__ import annotations

import pytest

from dandelion.core.demo import seed_demo
from dandelion.listening.models import Alert, HourlyRollup, ListeningQuery
from tests.conftest import require_datasets

pytestmark = pytest.mark.django_db


@pytest.mark.datasets
def test_demo_replays_a_crisis_that_raises_an_alert(monkeypatch):
    path = require_datasets("crisislex", "CrisisLexT26_labeled_all_events_with_snowflake_time.csv")
    monkeypatch.setenv("DANDELION_DATASETS", str(path.parent.parent))
    demo = seed_demo()
    query = ListeningQuery.objects.get(name="Rail incident watch")
    assert demo.counts["listening mentions"] > 500
    assert query.mention_count > 300
    assert HourlyRollup.objects.filter(query=query).count() > 10
    assert Alert.objects.filter(query=query).exists()
    seed_demo()  # again: nothing added
    assert ListeningQuery.objects.filter(name="Rail incident watch").count() == 1
    assert ListeningQuery.objects.get(pk=query.pk).mention_count == query.mention_count
