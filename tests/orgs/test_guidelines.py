"""Guidelines end to end: draft → publish → banner → acknowledge → report."""

import pytest
from django.urls import reverse

from dandelion.orgs.models import Guideline

pytestmark = pytest.mark.django_db

BANNER = b"guideline-banner"


def test_publish_banner_acknowledge_report(org, client_for):
    hub, agent, fr_admin = (client_for(org.users.hub_admin), client_for(org.users.fr_agent),
                            client_for(org.users.fr_admin))
    resp = hub.post(reverse("orgs:guideline-create"),
                    {"title": "Guidelines", "body": "# Rules\n\n<script>alert(1)</script>Be **kind**."})
    draft = Guideline.objects.get()
    assert resp.status_code == 302 and draft.version is None
    assert BANNER not in agent.get(reverse("orgs:guideline-list")).content  # drafts raise no banner
    assert agent.get(draft.get_absolute_url()).status_code == 404  # nor can anyone but the hub read them
    assert fr_admin.post(reverse("orgs:guideline-publish", args=[draft.pk])).status_code == 404
    assert hub.post(reverse("orgs:guideline-publish", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert draft.version == 1

    page = agent.get(reverse("orgs:guideline-list")).content
    assert BANNER in page
    detail = agent.get(draft.get_absolute_url()).content.decode()
    assert "<strong>kind</strong>" in detail and "<script>" not in detail.split("<article")[1].split("</article>")[0]
    assert "I have read and acknowledge" in detail

    resp = agent.post(reverse("orgs:guideline-acknowledge", args=[draft.pk]), HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and b"acknowledged" in resp.content and b"<html" not in resp.content
    assert BANNER not in agent.get(reverse("orgs:guideline-list")).content

    report = fr_admin.get(reverse("orgs:guideline-report", args=[draft.pk])).content.decode()
    assert "fragent2" in report and "frcm" in report and "fradmin" in report
    assert ">fragent<" not in report and "esagent" not in report  # acknowledged / out of scope
    report = hub.get(reverse("orgs:guideline-report", args=[draft.pk]) + f"?unit={org.spain.pk}").content.decode()
    assert "esagent" in report and "fragent2" not in report
    assert fr_admin.get(reverse("orgs:guideline-report", args=[draft.pk]) + f"?unit={org.spain.pk}").status_code == 404


def test_moderator_sees_and_acknowledges_guidelines(org, client_for, guideline):
    mod = client_for(org.users.moderator)
    assert BANNER in mod.get(guideline.get_absolute_url()).content
    assert mod.post(reverse("orgs:guideline-acknowledge", args=[guideline.pk])).status_code == 302
    assert guideline.acknowledgements.filter(user=org.users.moderator).exists()


def test_nobody_without_a_role_gets_no_banner(org, client_for, guideline):
    assert BANNER not in client_for(org.users.nobody).get(reverse("orgs:tree")).content
    assert client_for(org.users.nobody).get(guideline.get_absolute_url()).status_code == 404


def test_drafts_edit_and_discard(org, client_for, guideline):
    hub = client_for(org.users.hub_admin)
    resp = hub.get(reverse("orgs:guideline-create"))
    assert b"Be kind" in resp.content  # starts from the current version
    hub.post(reverse("orgs:guideline-create"), {"title": "v2", "body": "new"})
    draft = Guideline.objects.get(version__isnull=True)
    assert hub.post(reverse("orgs:guideline-edit", args=[draft.pk]),
                    {"title": "v2", "body": "newer"}).status_code == 302
    draft.refresh_from_db()
    assert draft.body == "newer"
    assert hub.get(reverse("orgs:guideline-edit", args=[guideline.pk])).status_code == 302  # frozen
    assert hub.post(reverse("orgs:guideline-discard", args=[draft.pk])).status_code == 302
    assert not Guideline.objects.filter(pk=draft.pk).exists()
