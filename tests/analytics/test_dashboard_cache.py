"""The merged period cached under the rollups' version (``reports.merged_dashboard``): a second read is served
from the cache with fewer queries and the same figures; a rewritten day (a late reply, rebuilt) is never hidden
by the cache; viewers with other grants never share an entry; a renamed unit shows at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dandelion.analytics import filters, reports, services
from dandelion.analytics.api.views import _account_labels, _unit_labels
from dandelion.analytics.models import RollupVersion
from dandelion.core.actors import SYSTEM
from tests.analytics.conftest import DAY, at

pytestmark = pytest.mark.django_db

PERIOD = {"start": str(DAY - dt.timedelta(days=6)), "end": str(DAY)}


@pytest.fixture
def rolled(traffic):
    services.rebuild_days(DAY - dt.timedelta(days=7), DAY, actor=SYSTEM)
    return traffic


def _read(user, params=PERIOD):
    scope = filters.resolve(user, params)
    with CaptureQueriesContext(connection) as queries:
        data = reports.merged_dashboard(scope, _unit_labels, _account_labels)
    return data, len(queries)


def test_every_rewrite_of_a_day_bumps_the_version_in_its_transaction(rolled):
    version = RollupVersion.objects.get().version
    services.rebuild_day(DAY, actor=SYSTEM)
    assert RollupVersion.objects.get().version == version + 1
    services.write_day(DAY, {})  # a day emptied also counts
    assert RollupVersion.objects.get().version == version + 2


def test_the_second_read_is_cached_and_equal_to_a_fresh_merge(rolled):
    admin = rolled.users.hub_admin
    first, cold_queries = _read(admin)
    second, warm_queries = _read(admin)
    assert second == first
    assert warm_queries < cold_queries
    fresh = reports.dashboard_for(filters.resolve(admin, PERIOD))
    assert first["current"] == fresh["current"] and first["series"] == fresh["series"]
    assert first["current"]["inbound"] == 5


def test_a_late_reply_rebuilt_is_never_hidden_by_the_cache(rolled):
    from dandelion.inbox.models import Conversation, Message

    admin = rolled.users.hub_admin
    before, _ = _read(admin)
    assert before["current"]["answered"] == 3
    conv = Conversation.objects.get(first_response_at__isnull=True)
    later = at(DAY + dt.timedelta(days=1), 8)
    Conversation.objects.filter(pk=conv.pk).update(first_response_at=later)
    Message.objects.filter(conversation=conv, needs_reply=True).update(replied=True, replied_at=later)
    assert _read(admin)[0]["current"]["answered"] == 3  # the rollups were not recomputed yet: same figures
    services.refresh_recent_days(actor=SYSTEM, today=DAY + dt.timedelta(days=1))
    after, _ = _read(admin)
    assert after["current"]["answered"] == 4 and after["current"]["response_rate"] == 1.0
    assert {u["label"]: u["answered"] for u in after["by_unit"]} == {"France": 3, "Spain": 1}


def test_viewers_with_other_grants_never_share_an_entry(rolled):
    hub, _ = _read(rolled.users.hub_admin)
    fr, _ = _read(rolled.users.fr_admin)
    es, _ = _read(rolled.users.es_admin)
    assert hub["current"]["inbound"] == 5
    assert fr["current"]["inbound"] == 4 and [u["label"] for u in fr["by_unit"]] == ["France"]
    assert es["current"]["inbound"] == 1 and [u["label"] for u in es["by_unit"]] == ["Spain"]
    # filters are part of the key too
    only_es, _ = _read(rolled.users.hub_admin, {**PERIOD, "unit": rolled.spain.pk})
    assert only_es["current"]["inbound"] == 1


def test_a_renamed_unit_shows_at_once_through_the_api(rolled, api_for):
    client = api_for(rolled.users.hub_admin)
    assert {u["label"] for u in client.get("/api/v1/analytics-dashboard/", PERIOD).json()["by_unit"]} == {
        "France", "Spain"}
    rolled.spain.name = "España"
    rolled.spain.save()
    assert {u["label"] for u in client.get("/api/v1/analytics-dashboard/", PERIOD).json()["by_unit"]} == {
        "France", "España"}
