"""The members directory (who runs what, where, knowing what, how to reach them), "ask an expert", and the
enablement check other apps ask (``services.may_publish``)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from dandelion.community import enablement, services
from dandelion.community.exceptions import EnablementRequired, InvalidCommunityData
from dandelion.community.models import CertificationAward, MemberProfile, RoleRequirement
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from tests.permission_matrix import IN_FRANCE, MISSING, PEOPLE, Case, check, outcome


@pytest.fixture
def people(org):
    """France's community manager (visible to France's subtree and above), Spain's admin (to Spain's subtree and
    above), the hub's PR manager (open to the whole community)."""
    u = org.users
    fr = services.update_profile(actor=u.fr_cm, user=u.fr_cm, unit=org.france, headline="Runs @brand_fr",
                                 networks=["facebook", "instagram"], languages=["fr", "en"],
                                 skills=["crisis", "live video"], phone="+33 1 23 45 67 89", chat="@frcm")
    es = services.update_profile(actor=u.es_admin, user=u.es_admin, unit=org.spain, headline="Spain's lead",
                                 networks=["instagram"], languages=["es"], skills=["giveaways"])
    pr = services.update_profile(actor=u.pr, user=u.pr, unit=org.hub, headline="Group PR", networks=["x"],
                                 languages=["en"], skills=["crisis"], visibility="group")
    return SimpleNamespace(fr=fr, es=es, pr=pr)


def names(qs):
    return sorted(p.user.username for p in qs)


def test_scoped_reads_fail_closed(org, people):
    u = org.users
    assert names(services.search_directory(u.hub_admin)) == ["esadmin", "frcm", "pr"]
    assert names(services.search_directory(u.fr_admin)) == ["frcm", "pr"]  # not Spain's
    assert names(services.search_directory(u.es_agent)) == ["esadmin", "pr"]
    # no role reading the community: nothing, not even the entries open to the whole community
    assert names(services.search_directory(u.moderator)) == []
    assert names(services.search_directory(u.nobody)) == []


def test_search_and_exact_filters(org, people):
    hub = org.users.hub_admin
    assert names(services.search_directory(hub, q="crisis")) == ["frcm", "pr"]
    assert names(services.search_directory(hub, q="france crisis")) == ["frcm"]  # every word, unit name included
    assert names(services.search_directory(hub, network="instagram")) == ["esadmin", "frcm"]
    assert names(services.search_directory(hub, language="en")) == ["frcm", "pr"]
    # an exact item, not a substring ("e" is in "en", "es" and "fr"'s unit name)
    assert names(services.search_directory(hub, language="e")) == []
    assert names(services.search_directory(hub, skill="live video")) == ["frcm"]
    assert names(services.search_directory(hub, unit=org.europe)) == ["esadmin", "frcm"]


def test_profile_rules(org, people):
    u = org.users
    with pytest.raises(PermissionDeniedError):  # listing oneself under a unit where one holds no role
        services.update_profile(actor=u.fr_cm, user=u.fr_cm, unit=org.spain)
    with pytest.raises(PermissionDeniedError):  # Spain's admin may not edit France's entries
        services.update_profile(actor=u.es_admin, user=u.fr_cm, headline="x")
    with pytest.raises(InvalidCommunityData) as err:
        services.update_profile(actor=u.fr_cm, user=u.fr_cm, languages=["french"])
    assert err.value.field == "languages"
    edited = services.update_profile(actor=u.fr_admin, user=u.fr_cm, skills=["Crisis", "crisis", " Reels "])
    assert edited.skills == ["crisis", "reels"] and edited.unit == org.france
    assert MemberProfile.objects.filter(user=u.fr_cm).count() == 1


def test_ask_an_expert(org, people):
    u = org.users
    services.update_profile(actor=u.fr_cm, user=u.fr_cm, contact_email="frcm@example.org")
    people.fr.refresh_from_db()
    q = services.ask_expert(people.fr, actor=u.es_agent, title="How do you moderate live videos?")
    assert q.addressed_to == u.fr_cm and q.asker == u.es_agent
    with pytest.raises(InvalidCommunityData):
        services.ask_expert(people.fr, actor=u.fr_cm, title="Myself?")
    services.update_profile(actor=u.fr_cm, user=u.fr_cm, open_to_questions=False)
    people.fr.refresh_from_db()
    with pytest.raises(InvalidCommunityData):
        services.ask_expert(people.fr, actor=u.es_agent, title="Again?")


def test_ask_an_expert_mails_after_commit(org, people, django_capture_on_commit_callbacks, mailoutbox):
    services.update_profile(actor=org.users.fr_cm, user=org.users.fr_cm, contact_email="frcm@example.org")
    people.fr.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        services.ask_expert(people.fr, actor=org.users.pr, title="Live video moderation?", body="Any tips?")
    assert [m.to for m in mailoutbox] == [["frcm@example.org"]]
    assert "Live video moderation?" in mailoutbox[0].subject


def test_directory_pages(org, people, client_for):
    c = client_for(org.users.fr_admin)
    page = c.get(reverse("community:member-list"), {"skill": "crisis"}).content.decode()
    assert "Runs @brand_fr" in page and "Spain&#x27;s lead" not in page and "Spain's lead" not in page
    detail = c.get(people.fr.get_absolute_url()).content.decode()
    assert "+33 1 23 45 67 89" in detail and "France" in detail
    me = client_for(org.users.fr_cm)
    r = me.post(reverse("community:member-edit"), {
        "unit": org.france.pk, "headline": "Runs @brand_fr and @brand_fr_jobs", "networks": "facebook",
        "languages": "fr", "skills": "crisis, reels", "visibility": "group", "open_to_questions": "on"})
    assert r.status_code == 302
    people.fr.refresh_from_db()
    assert people.fr.skills == ["crisis", "reels"] and people.fr.visibility == "group"
    ask = client_for(org.users.es_agent).post(reverse("community:member-ask", args=[people.fr.pk]),
                                              {"title": "Reels in French?"})
    assert ask.status_code == 302 and "/community/questions/" in ask["Location"]


def test_api(org, people, api_for):
    api = api_for(org.users.hub_admin)
    body = api.get("/api/v1/community-members/", {"network": "instagram"}).json()
    assert sorted(r["username"] for r in body["results"]) == ["esadmin", "frcm"]
    mine = api_for(org.users.analyst)
    assert mine.get("/api/v1/community-members/me/").status_code == 404
    created = mine.put("/api/v1/community-members/me/", {"unit": org.hub.pk, "skills": ["reporting"]},
                       format="json")
    assert created.status_code == 200 and created.json()["skills"] == ["reporting"]
    bad = mine.patch("/api/v1/community-members/me/", {"languages": ["english"]}, format="json")
    assert bad.status_code == 400


def test_api_may_publish(org, requirement, api_for):
    api = api_for(org.users.fr_cm)
    mine = api.get("/api/v1/community-members/may-publish/").json()
    assert [(d["unit"], d["allowed"]) for d in mine] == [(org.france.pk, False)]
    assert [m["what"] for m in mine[0]["missing"]] == ["certification", "guidelines"]
    assert mine[0]["path_url"] == requirement.path.get_absolute_url()
    assert api.get("/api/v1/community-members/may-publish/", {"unit": "x"}).status_code == 400
    hub = api_for(org.users.hub_admin).get("/api/v1/community-members/may-publish/", {"unit": org.france.pk})
    assert hub.json()[0]["allowed"] is True  # no requirement for hub admins


def _may_publish_url(w):
    return f"/api/v1/community-members/may-publish/?unit={w.france.pk}"


CASES = [
    Case("member detail (unit visibility)", lambda w: w.people.fr.get_absolute_url(),
         outcome(ok=IN_FRANCE, visible=IN_FRANCE),
         missing_url=lambda w: reverse("community:member-detail", args=[MISSING])),
    Case("api member detail (unit visibility)", lambda w: f"/api/v1/community-members/{w.people.fr.pk}/",
         outcome(ok=IN_FRANCE, visible=IN_FRANCE), api=True,
         missing_url=lambda w: f"/api/v1/community-members/{MISSING}/"),
    Case("api member detail (open to the community)", lambda w: f"/api/v1/community-members/{w.people.pr.pk}/",
         outcome(ok=PEOPLE - {"moderator", "nobody"}, visible=PEOPLE - {"moderator", "nobody"}), api=True,
         missing_url=lambda w: f"/api/v1/community-members/{MISSING}/"),
    # the PR manager is the expert here: asking oneself is a 400
    Case("api ask an expert", lambda w: f"/api/v1/community-members/{w.people.pr.pk}/ask/",
         outcome(ok=PEOPLE - {"moderator", "nobody", "analyst"}, ok_status=201,
                 visible=PEOPLE - {"moderator", "nobody"}, pr=400),
         method="post", api=True, data=lambda w: {"title": "Which hashtags for a recall?"},
         missing_url=lambda w: f"/api/v1/community-members/{MISSING}/ask/"),
    Case("api may-publish", _may_publish_url, outcome(ok=IN_FRANCE, visible=IN_FRANCE), api=True,
         missing_url=lambda w: f"/api/v1/community-members/may-publish/?unit={MISSING}"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, org, people):
    check(case, SimpleNamespace(**vars(org), people=people))


# --- may_publish: the service other apps ask --------------------------------------------------------------------


@pytest.fixture
def requirement(org):
    from dandelion.orgs import services as org_services

    article = services.create_article(actor=SYSTEM, unit=org.hub, title="Publishing basics",
                                      body="Check the tone, the link and the account before publishing.")
    path = enablement.create_learning_path(
        actor=SYSTEM, unit=org.hub, title="Publishing basics", articles=[article],
        quiz=[{"text": "Before publishing, check?", "choices": ["the account", "nothing"], "correct": [0]}])
    guideline = org_services.create_guideline(actor=org.users.hub_admin, title="Guidelines", body="Be kind.")
    guideline = org_services.publish_guideline(actor=org.users.hub_admin, guideline=guideline)
    RoleRequirement.objects.create(unit=org.europe, role="community_manager", certification=path.certification,
                                   require_guidelines=True)
    return SimpleNamespace(path=path, guideline=guideline)


def test_may_publish_until_enabled(org, requirement):
    from dandelion.orgs import services as org_services

    cm = org.users.fr_cm
    decision = services.may_publish(cm, org.france)
    assert not decision and [m.what for m in decision.missing] == ["certification", "guidelines"]
    assert decision.path_url == requirement.path.get_absolute_url() and "Publishing basics" in decision.message
    with pytest.raises(EnablementRequired) as err:
        services.require_publish(cm, org.france)
    assert err.value.status_code == 403 and err.value.path_url == requirement.path.get_absolute_url()

    q = requirement.path.quiz.get()
    assert enablement.take_quiz(requirement.path, actor=cm, answers={q.pk: [1]})[1] is None  # failed: no award
    assert [m.what for m in services.may_publish(cm, org.france).missing] == ["certification", "guidelines"]
    enablement.take_quiz(requirement.path, actor=cm, answers={q.pk: [0]})
    assert [m.what for m in services.may_publish(cm, org.france).missing] == ["guidelines"]
    org_services.acknowledge_guideline(actor=cm, guideline=requirement.guideline)
    assert services.may_publish(cm, org.france).allowed
    services.require_publish(cm, org.france)

    # the certification expires: blocked again
    CertificationAward.objects.filter(user=cm).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert [m.what for m in services.may_publish(cm, org.france).missing] == ["certification"]


def test_may_publish_fails_closed(org, requirement):
    u = org.users
    assert not services.may_publish(u.fr_cm, org.spain)  # no role there
    assert not services.may_publish(u.nobody, org.france)
    assert not services.may_publish(u.moderator, org.france)
    assert not services.may_publish(u.fr_cm, None)
    assert services.may_publish(u.fr_agent, org.france)  # no requirement for helper agents here
    assert services.may_publish(SYSTEM, org.france)


def test_enablement_page(org, requirement, client_for):
    page = client_for(org.users.fr_cm).get(reverse("community:enablement")).content.decode()
    assert "Follow the path" in page and requirement.path.get_absolute_url() in page
    hub = client_for(org.users.hub_admin).get(reverse("community:enablement")).content.decode()
    assert 'id="team-status"' in hub and "frcm" in hub
