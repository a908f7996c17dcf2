"""The enablement gate: a person whose role requires the current guidelines acknowledged (the community app's
``may_publish``) may draft but not submit or schedule, in the services, the pages and the API."""

import pytest
from django.urls import reverse

from dandelion.community.exceptions import EnablementRequired
from dandelion.community.models import RoleRequirement
from dandelion.orgs import services as org_services
from dandelion.publishing import services
from dandelion.publishing.choices import PostState
from dandelion.publishing.models import Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def gated(pub):
    guideline = org_services.create_guideline(actor=pub.users.hub_admin, title="Guidelines", body="Be kind.")
    guideline = org_services.publish_guideline(actor=pub.users.hub_admin, guideline=guideline)
    RoleRequirement.objects.create(unit=pub.europe, role="community_manager", require_guidelines=True)
    pub.guideline = guideline
    return pub


def _draft(pub):
    return services.create_post(actor=pub.users.fr_cm, unit=pub.france, text="Bonjour à tous",
                                accounts=[pub.fr_account])


def test_drafting_is_allowed_submitting_is_not_until_enabled(gated):
    post = _draft(gated)  # drafting needs no enablement
    with pytest.raises(EnablementRequired) as err:
        services.submit_post(post, actor=gated.users.fr_cm)
    assert err.value.status_code == 403 and "guidelines" in err.value.message
    post.refresh_from_db()
    assert post.state == PostState.DRAFT and post.review_round == 0  # nothing half-done
    org_services.acknowledge_guideline(actor=gated.users.fr_cm, guideline=gated.guideline)
    assert services.submit_post(post, actor=gated.users.fr_cm).state == PostState.APPROVED


def test_scheduling_is_gated_too_and_other_roles_are_not(gated):
    post = _draft(gated)
    org_services.acknowledge_guideline(actor=gated.users.fr_cm, guideline=gated.guideline)
    services.submit_post(post, actor=gated.users.fr_cm)
    # a new version of the guidelines: the community manager must acknowledge it again before scheduling
    newer = org_services.create_guideline(actor=gated.users.hub_admin, title="Guidelines v2", body="Be kinder.")
    org_services.publish_guideline(actor=gated.users.hub_admin, guideline=newer)
    with pytest.raises(EnablementRequired):
        services.schedule_post(post, actor=gated.users.fr_cm)
    # the requirement is for community managers: the spoke admin schedules
    assert services.schedule_post(post, actor=gated.users.fr_admin).state == PostState.SCHEDULED


def test_page_and_api_say_why(gated, client_for, api_for):
    post = _draft(gated)
    c = client_for(gated.users.fr_cm)
    r = c.post(reverse("publishing:post-action", args=[post.pk, "submit"]), follow=True)
    page = r.content.decode()
    assert "You may draft, but not submit or schedule yet" in page and "guidelines" in page
    assert Post.objects.get(pk=post.pk).state == PostState.DRAFT
    r = api_for(gated.users.fr_cm).post(f"/api/v1/posts/{post.pk}/submit/")
    assert r.status_code == 403 and r.json()["code"] == "enablement_required"
    assert Post.objects.get(pk=post.pk).state == PostState.DRAFT


def test_french_message(gated, client_for):
    post = _draft(gated)
    c = client_for(gated.users.fr_cm)
    r = c.post(reverse("publishing:post-action", args=[post.pk, "submit"]), follow=True,
               HTTP_ACCEPT_LANGUAGE="fr")
    assert "Vous pouvez rédiger, mais pas encore soumettre ni programmer" in r.content.decode()
