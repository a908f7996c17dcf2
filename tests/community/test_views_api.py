import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from dandelion.community import enablement
from dandelion.community.exceptions import EnablementRequired, InvalidCommunityData
from dandelion.community.models import Gathering, RoleRequirement
from dandelion.core.actors import SYSTEM


def test_search_page_ranks_highlights_and_explains_empty_queries(kb, org, client_for):
    c = client_for(org.users.fr_cm)
    page = c.get(reverse("community:article-list"), {"q": "escalate viral"}).content.decode()
    assert "Crisis escalation checklist" in page and "<mark>" in page
    partial = c.get(reverse("community:article-list"), {"q": "the and"}, HTTP_HX_REQUEST="true").content.decode()
    assert "only common words or operators" in partial and "<html" not in partial


def test_api_search_and_empty_query(kb, org, api_for):
    api = api_for(org.users.fr_cm)
    body = api.get("/api/v1/community-articles/search/", {"q": "moderation spam"}).json()
    assert body["hits"][0]["kind"] == "answer" and "<mark>" in body["hits"][0]["headline"]
    bad = api.get("/api/v1/community-articles/search/", {"q": "AND OR"})
    assert bad.status_code == 400 and "common words" in str(bad.json())


def test_article_pages(kb, org, client_for):
    c = client_for(org.users.fr_cm)
    response = c.post(reverse("community:article-create"), {
        "unit": org.france.pk, "title": "Checklist avant publication", "body": "# Titre\n\n<script>x</script>**gras**",
        "kind": "checklist", "language": "fr", "status": "published", "tags": "publication, qualité"})
    assert response.status_code == 302
    page = c.get(response["Location"]).content.decode()
    assert "<strong>gras</strong>" in page and "<script>x" not in page
    c.post(response["Location"] + "feedback/", {"useful": "1"})
    assert "You found it useful" in c.get(response["Location"]).content.decode()


def test_question_flow_pages(kb, org, client_for):
    asker = client_for(org.users.fr_cm)
    assert asker.post(kb.question.get_absolute_url(), {"body": "Hide the comment."}).status_code == 302
    asker.post(reverse("community:answer-accept", args=[kb.answer.pk]))
    kb.answer.refresh_from_db()
    assert kb.answer.is_accepted
    r = asker.post(reverse("community:answer-to-article", args=[kb.answer.pk]),
                   {"title": "Trolls on live videos", "unit": org.france.pk})
    assert r.status_code == 302 and "Trolls on live videos" in asker.get(r["Location"]).content.decode()


def test_register_then_calendars(kb, org, client_for):
    c = client_for(org.users.fr_cm)
    r = c.post(reverse("community:gathering-register", args=[kb.gathering.pk]))
    assert r.status_code == 302
    assert "You are registered" in c.get(kb.gathering.get_absolute_url()).content.decode()
    for url in (reverse("community:gathering-ics", args=[kb.gathering.pk]), reverse("community:my-calendar")):
        response = c.get(url)
        assert response["Content-Type"].startswith("text/calendar")
        cal = Calendar.from_ical(response.content)
        events = [e for e in cal.walk("VEVENT")]
        assert [str(e["SUMMARY"]) for e in events] == ["Community day"]
        assert events[0].decoded("DTSTART") == kb.gathering.starts_at.replace(microsecond=0)
        assert str(events[0]["LOCATION"]) == "Paris"
    # the member's feed holds only their gatherings
    assert b"VEVENT" not in client_for(org.users.es_agent).get(reverse("community:my-calendar")).content


def test_gathering_form_refuses_bad_input(org, client_for):
    c = client_for(org.users.fr_admin)
    start = timezone.now() + dt.timedelta(days=3)
    r = c.post(reverse("community:gathering-create"), {
        "unit": org.france.pk, "title": "Meetup", "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "capacity": 0, "place": "Lyon"})
    assert r.status_code == 200
    assert "must end after it starts" in r.content.decode()
    assert not Gathering.objects.filter(title="Meetup").exists()


def test_role_requirement_blocks_until_certified(kb, org):
    cm = org.users.fr_cm
    path = enablement.create_learning_path(
        actor=SYSTEM, unit=org.hub, title="Publishing basics", articles=[kb.group],
        quiz=[{"text": "Escalate a viral complaint within?", "choices": ["15 minutes", "a day"], "correct": [0]}])
    RoleRequirement.objects.create(unit=org.hub, role="community_manager", certification=path.certification,
                                   require_guidelines=False)
    with pytest.raises(EnablementRequired) as err:
        enablement.require_enabled(cm, org.france)
    assert "Publishing basics" in err.value.message and err.value.path_url == path.get_absolute_url()
    enablement.require_enabled(org.users.fr_agent, org.france)  # helper agents have no requirement here
    q = path.quiz.get()
    score, award = enablement.take_quiz(path, actor=cm, answers={q.pk: [1]})
    assert (score, award) == (0, None)
    score, award = enablement.take_quiz(path, actor=cm, answers={q.pk: [0]})
    assert score == 100 and award.is_valid
    enablement.require_enabled(cm, org.france)
    award.expires_at = timezone.now() - dt.timedelta(days=1)
    award.save()
    with pytest.raises(EnablementRequired):  # certifications expire
        enablement.require_enabled(cm, org.france)


@pytest.mark.parametrize("quiz", [[], [{"text": "Q", "choices": ["a", "b"], "correct": []}],
                                  [{"text": "Q", "choices": ["a"], "correct": [0]}],
                                  [{"text": "Q", "choices": ["a", "b"], "correct": [5]}]])
def test_quiz_without_a_correct_answer_is_refused(kb, org, quiz):
    with pytest.raises(InvalidCommunityData):
        enablement.create_learning_path(actor=SYSTEM, unit=org.hub, title="P", articles=[], quiz=quiz)
