"""Listening's API and pages beyond the permission matrix: the parse check, series, mentions, a mention to the
inbox, the editor's inline error with its position, bad input never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from dandelion.listening import services
from dandelion.listening.models import ListeningQuery, Mention
from tests.listening.conftest import mention

pytestmark = pytest.mark.django_db


def test_api_check_gives_the_position(world, api_for):
    api = api_for(world.users.fr_cm)
    r = api.post("/api/v1/listening-queries/check/", {"text": "acme AND (globex"}, format="json")
    assert r.status_code == 200
    assert r.json() == {"ok": False, "error": "This opening parenthesis is never closed", "position": 9}
    r = api.post("/api/v1/listening-queries/check/", {"text": "acme -refund"}, format="json")
    assert r.json()["ok"] is True and r.json()["terms"] == ["acme"]


def test_api_create_refuses_with_reason(world, api_for):
    api = api_for(world.users.fr_cm)
    r = api.post("/api/v1/listening-queries/", {"unit": world.france.pk, "name": "n", "text": "NOT acme"},
                 format="json")
    assert r.status_code == 400 and "match almost everything" in str(r.json())
    r = api.post("/api/v1/listening-queries/", {"unit": world.france.pk, "name": "Brand FR", "text": "globex"},
                 format="json")
    assert r.status_code in (400, 409)  # the unique (unit, name) pair


def test_api_series_and_mentions(world, api_for):
    at = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
    api = api_for(world.users.analyst)
    r = api.get(f"/api/v1/listening-queries/{world.query.pk}/series/",
                {"start": "2026-01-05", "end": "2026-01-06", "bucket": "hour"})
    assert r.status_code == 200
    body = r.json()
    assert len(body["labels"]) == 24 and body["volume"][8] == 3 and body["total"] == 3
    assert body["share_of_voice"][0]["query"] == world.query.pk
    r = api.get(f"/api/v1/listening-queries/{world.query.pk}/series/", {"start": "2026-01-05", "bucket": "day",
                                                                        "end": "2026-02-05"})
    assert r.status_code == 200 and r.json()["volume"][0] == 3
    for bad in ({"start": "nonsense"}, {"start": "2026-02-01", "end": "2026-01-01"}, {"bucket": "week"},
                {"start": "1900-01-01"}, {"start": "2020-01-01", "end": "2026-01-01"}):
        assert api.get(f"/api/v1/listening-queries/{world.query.pk}/series/", bad).status_code == 400, bad
    r = api.get(f"/api/v1/listening-queries/{world.query.pk}/mentions/")
    assert r.status_code == 200 and r.json()["count"] == 3
    assert r.json()["results"][0]["text"] == "acme panne #acme"
    del at


def test_api_to_inbox(world, api_for):
    url = f"/api/v1/listening-queries/{world.query.pk}/to-inbox/"
    assert api_for(world.users.analyst).post(url, {"mention": world.mention.pk, "account": world.fr_account.pk},
                                             format="json").status_code == 403
    api = api_for(world.users.fr_cm)
    assert api.post(url, {"mention": 987654, "account": world.fr_account.pk}, format="json").status_code == 404
    assert api.post(url, {"mention": world.mention.pk, "account": world.es_account.pk},
                    format="json").status_code == 400  # an account fr_cm does not see: "does not exist"
    r = api.post(url, {"mention": world.mention.pk, "account": world.fr_account.pk}, format="json")
    assert r.status_code == 201
    assert Mention.objects.get(pk=world.mention.pk).conversation_id == r.json()["conversation"]


def test_editor_shows_the_error_inline(world, client_for):
    c = client_for(world.users.fr_cm)
    r = c.post(reverse("listening:query-create"), {"name": "x", "unit": world.france.pk, "text": 'acme "oops'})
    assert r.status_code == 400
    html = r.content.decode()
    assert "quotation mark is never closed" in html and "at character 6" in html
    assert 'data-position="5"' in html
    r = c.post(reverse("listening:query-check"), {"text": "acme OR"})
    assert 'data-check="error"' in r.content.decode()
    r = c.post(reverse("listening:query-create"), {"name": "Globex", "unit": world.france.pk,
                                                   "text": "globex", "is_active": "on"})
    assert r.status_code == 302
    assert ListeningQuery.objects.filter(name="Globex", unit=world.france).exists()


def test_query_page_has_the_local_chart(world, client_for):
    r = client_for(world.users.analyst).get(world.query.get_absolute_url())
    html = r.content.decode()
    assert r.status_code == 200
    assert "listening/vendor/chart.umd.min.js" in html and "cdn" not in html.lower()
    assert "acme panne #acme" in html
    r = client_for(world.users.analyst).get(reverse("listening:query-series", args=[world.query.pk]),
                                            {"days": "abc"})
    assert r.status_code in (200, 400)


def test_series_rejects_bad_days_without_500(world, client_for):
    c = client_for(world.users.analyst)
    for q in ({"days": "-5"}, {"days": "99999"}, {"bucket": "x"}, {"start": "\x00"}):
        r = c.get(reverse("listening:query-series", args=[world.query.pk]), q)
        assert r.status_code in (200, 400), q


def test_mention_page_is_scoped(world, client_for):
    services.ingest_mentions([mention(world.france, "fr-dm", "private acme", source="inbound")])
    m = Mention.objects.get(source_ref="fr-dm")
    assert client_for(world.users.fr_cm).get(m.get_absolute_url()).status_code == 200
    assert client_for(world.users.es_admin).get(m.get_absolute_url()).status_code == 404
