"""Recurring series of gatherings ("every two months")."""

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse

from dandelion.community import services
from dandelion.community.exceptions import InvalidCommunityData
from dandelion.community.models import Gathering
from dandelion.core.actors import SYSTEM

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def test_add_months_keeps_the_local_time_and_clamps_the_day():
    start = dt.datetime(2027, 1, 31, 9, 30, tzinfo=PARIS)
    assert services.add_months(start, 1) == dt.datetime(2027, 2, 28, 9, 30, tzinfo=PARIS)
    # across the change to summer time: still 9:30 in Paris
    assert services.add_months(dt.datetime(2027, 2, 15, 9, 30, tzinfo=PARIS), 2).astimezone(PARIS).hour == 9
    assert services.add_months(start, 12).year == 2028


def test_series_every_two_months(org):
    start = dt.datetime(2027, 1, 14, 9, 30, tzinfo=PARIS)
    made = services.create_gathering_series(
        actor=org.users.hub_admin, unit=org.hub, title="Community day", starts_at=start,
        ends_at=start + dt.timedelta(hours=7), every_months=2, count=6, capacity=80, place="Paris",
        agenda=[{"starts_at": start, "title": "Welcome"}])
    assert [g.starts_at.astimezone(PARIS).strftime("%m-%d %H:%M") for g in made] == [
        "01-14 09:30", "03-14 09:30", "05-14 09:30", "07-14 09:30", "09-14 09:30", "11-14 09:30"]
    assert len({g.series_key for g in made}) == 1 and made[0].series_key
    assert all(g.ends_at - g.starts_at == dt.timedelta(hours=7) for g in made)
    assert [a.starts_at for a in made[3].agenda.all()] == [made[3].starts_at]  # the agenda moves with it


@pytest.mark.parametrize(("changes", "field"), [
    ({"every_months": 0}, "every_months"), ({"count": 25}, "count"), ({"capacity": 0}, "capacity"),
    ({"ends_at": dt.datetime(2027, 1, 14, 8, 0, tzinfo=PARIS)}, "ends_at")])
def test_bad_series_is_refused_whole(org, changes, field):
    start = dt.datetime(2027, 1, 14, 9, 30, tzinfo=PARIS)
    kwargs = {"actor": SYSTEM, "unit": org.hub, "title": "Community day", "starts_at": start,
              "ends_at": start + dt.timedelta(hours=7), "place": "Paris", **changes}
    with pytest.raises(InvalidCommunityData) as err:
        services.create_gathering_series(**kwargs)
    assert err.value.field == field
    assert Gathering.objects.count() == 0


def test_series_from_the_form_and_the_api(org, client_for, api_for):
    r = client_for(org.users.fr_admin).post(reverse("community:gathering-create"), {
        "unit": org.france.pk, "title": "Rencontre", "starts_at": "2027-03-01T18:00", "ends_at": "2027-03-01T20:00",
        "place": "Lyon", "capacity": 40, "count": 3, "every_months": 2})
    assert r.status_code == 302 and Gathering.objects.filter(title="Rencontre").count() == 3
    api = api_for(org.users.fr_admin)
    body = api.post("/api/v1/community-gatherings/series/", {
        "unit": org.france.pk, "title": "Meetup", "starts_at": "2027-04-01T16:00:00Z",
        "ends_at": "2027-04-01T18:00:00Z", "place": "Lyon", "capacity": 30, "every_months": 3, "count": 4},
        format="json")
    assert body.status_code == 201 and [g["starts_at"][:7] for g in body.json()] == [
        "2027-04", "2027-07", "2027-10", "2028-01"]
    refused = api_for(org.users.es_admin).post("/api/v1/community-gatherings/series/", {
        "unit": org.france.pk, "title": "Meetup", "starts_at": "2027-04-01T16:00:00Z",
        "ends_at": "2027-04-01T18:00:00Z", "place": "Lyon"}, format="json")
    assert refused.status_code == 400  # France is not a unit Spain's admin sees
    assert api.post("/api/v1/community-gatherings/series/", {
        "unit": org.france.pk, "title": "Meetup", "starts_at": "2027-04-01T16:00:00Z",
        "ends_at": "2027-04-01T18:00:00Z", "place": "Lyon", "capacity": 0}, format="json").status_code == 400
