"""The crisis room's pages: the room shows the spike's series (mentions per interval, anchored to the spike), its
mentions, its log and who is on it; the post-mortem downloads as Markdown; the demo seeds one incident."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from dandelion.crisis import services, timeline
from tests.crisis.conftest import T0

pytestmark = pytest.mark.django_db


def test_the_spike_series_counts_the_mentions_per_interval(world):
    data = timeline.series(world.incident, now=T0 + dt.timedelta(hours=2))
    assert data["interval_minutes"] == 5
    assert sum(data["counts"]) == 12
    # one mention a minute from 10:08 (T0 - 12 min) to 10:19: the buckets 10:05, 10:10 and 10:15 hold 2, 5 and 5
    by_label = dict(zip(data["labels"], data["counts"], strict=True))
    assert by_label["2026-03-02T10:05:00+00:00"] == 2 and by_label["2026-03-02T10:10:00+00:00"] == 5
    assert by_label["2026-03-02T10:15:00+00:00"] == 5
    assert data["marks"]["detected"] == T0.isoformat()


def test_the_room_page_shows_the_spike_mentions_log_and_people(world, client_for):
    services.assign_owner(world.incident, actor=world.users.pr, owner=world.users.pr)
    services.add_log_entry(world.incident, actor=world.users.pr, kind="decision", text="Hold the posts <b>now</b>")
    response = client_for(world.users.fr_admin).get(world.incident.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    series = json.loads(html.split('id="crisis-series" type="application/json">')[1].split("</script>")[0])
    assert sum(series["counts"]) == 12
    assert "acme panne #acme" in html and "Hold the posts &lt;b&gt;now&lt;/b&gt;" in html
    assert 'data-owner>pr<' in html and "PR owner" in html
    assert "crisis/crisis.js" in html and "listening/vendor/chart.umd.min.js" in html
    # read-only for a community manager: no forms
    cm_html = client_for(world.users.fr_cm).get(world.incident.get_absolute_url()).content.decode()
    assert reverse("crisis:incident-log", args=[world.incident.pk]) not in cm_html


def test_the_postmortem_downloads_as_markdown(world, client_for):
    services.close_incident(world.incident, actor=world.users.pr, summary="Rumour.")
    response = client_for(world.users.analyst).get(
        reverse("crisis:incident-postmortem", args=[world.incident.pk]) + "?format=md")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/markdown")
    body = response.content.decode()
    assert body.startswith("# Post-mortem: Spike on 'Brand FR'") and "| 12 min |" in body


def test_the_demo_seeds_one_incident_once(org):
    from django.utils import timezone

    from dandelion.core.demo import DemoContext
    from dandelion.crisis import demo
    from dandelion.crisis.models import Incident

    context = DemoContext(now=timezone.now(), units={"group": org.hub}, users={"paula.pr": org.users.pr},
                          hub_admin=org.users.hub_admin)
    demo.seed(context)
    demo.seed(context)
    incident = Incident.objects.get(unit=org.hub)
    assert context.counts["crisis incidents"] == 1
    assert incident.owner == org.users.pr and incident.holding_statement
    assert incident.log.filter(kind="decision").count() == 1
    assert incident.playbook is not None and incident.checklist.count() == 5
    assert incident.checklist.filter(done_at__isnull=False).count() == 1
