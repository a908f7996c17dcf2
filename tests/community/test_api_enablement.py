"""The REST API of the waiting list, learning paths and certifications: the permission matrix and the behaviour."""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from dandelion.community import enablement
from dandelion.community.models import CertificationAward
from dandelion.core.actors import SYSTEM
from tests.permission_matrix import ADMINS_OF_FRANCE, MISSING, PEOPLE, Case, check, outcome

MEMBERS = PEOPLE - {"moderator", "nobody"}
QUIZ_TAKERS = MEMBERS - {"analyst"}
ENABLEMENT_ADMINS = ADMINS_OF_FRANCE | {"es_admin", "fr_cm"}


@pytest.fixture
def path(kb):
    return enablement.create_learning_path(
        actor=SYSTEM,
        unit=kb.group.unit,
        title="Publishing basics",
        articles=[kb.group],
        certification_name="Certified publisher",
        quiz=[
            {"text": "Escalate within?", "choices": ["15 minutes", "a day"], "correct": [0]},
            {"text": "Thank the customer?", "choices": ["yes", "no"], "correct": [0]},
        ],
    )


CASES = [
    Case(
        "api waiting list",
        lambda w: f"/api/v1/community-gatherings/{w.kb.gathering.pk}/waiting-list/",
        outcome(ok=MEMBERS, visible=MEMBERS),
        api=True,
        missing_url=lambda w: f"/api/v1/community-gatherings/{MISSING}/waiting-list/",
    ),
    Case("api path list", lambda w: "/api/v1/community-paths/", outcome(ok=PEOPLE), api=True),
    Case(
        "api path detail",
        lambda w: f"/api/v1/community-paths/{w.path.pk}/",
        outcome(ok=MEMBERS, visible=MEMBERS),
        api=True,
        missing_url=lambda w: f"/api/v1/community-paths/{MISSING}/",
    ),
    Case(
        "api take quiz",
        lambda w: f"/api/v1/community-paths/{w.path.pk}/quiz/",
        outcome(ok=QUIZ_TAKERS, visible=MEMBERS),
        method="post",
        api=True,
        data=lambda w: {"answers": {str(q.pk): [0] for q in w.path.quiz.all()}},
        missing_url=lambda w: f"/api/v1/community-paths/{MISSING}/quiz/",
    ),
    Case(
        "api certification list", lambda w: "/api/v1/community-certifications/", outcome(ok=PEOPLE), api=True
    ),
    Case(
        "api my certifications",
        lambda w: "/api/v1/community-certifications/mine/",
        outcome(ok=PEOPLE),
        api=True,
    ),
    Case(
        "api who is certified where",
        lambda w: "/api/v1/community-certifications/holders/",
        outcome(ok=ENABLEMENT_ADMINS, visible=PEOPLE),
        api=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, org, kb, path):
    check(case, SimpleNamespace(**vars(org), kb=kb, path=path))


def _api(user):
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_rsvp_waiting_list_and_cancel_through_the_api(org, kb):
    u = org.users
    g = kb.gathering  # capacity 2
    for who in (u.fr_cm, u.fr_agent, u.es_agent, u.fr_agent2):
        assert _api(who).post(f"/api/v1/community-gatherings/{g.pk}/register/").status_code == 201
    mine = _api(u.fr_agent2).get(f"/api/v1/community-gatherings/{g.pk}/waiting-list/").json()
    assert mine["my_status"] == "waitlisted" and mine["my_position"] == 2 and mine["waiting"] is None
    full = _api(u.hub_admin).get(f"/api/v1/community-gatherings/{g.pk}/waiting-list/").json()
    assert [w["user"] for w in full["waiting"]] == ["esagent", "fragent2"] and full["going"] == 2
    assert _api(u.fr_cm).post(f"/api/v1/community-gatherings/{g.pk}/cancel/").json()["status"] == "cancelled"
    after = _api(u.fr_agent2).get(f"/api/v1/community-gatherings/{g.pk}/waiting-list/").json()
    assert after["my_position"] == 1
    assert (
        _api(u.es_agent).get(f"/api/v1/community-gatherings/{g.pk}/waiting-list/").json()["my_status"]
        == "going"
    )


def test_quiz_never_shows_answers_and_certifies(org, kb, path):
    u = org.users
    detail = _api(u.fr_agent).get(f"/api/v1/community-paths/{path.pk}/").json()
    assert "correct" not in str(detail) and detail["certification"]["name"] == "Certified publisher"
    assert [s["title"] for s in detail["steps"]] == [kb.group.title]
    ids = [q["id"] for q in detail["quiz"]]
    failed = (
        _api(u.fr_agent)
        .post(
            f"/api/v1/community-paths/{path.pk}/quiz/",
            {"answers": {str(ids[0]): [1], str(ids[1]): [0]}},
            format="json",
        )
        .json()
    )
    assert failed == {"score": 50, "passed": False, "award": None}
    passed = (
        _api(u.fr_agent)
        .post(
            f"/api/v1/community-paths/{path.pk}/quiz/", {"answers": {str(i): [0] for i in ids}}, format="json"
        )
        .json()
    )
    assert passed["passed"] and passed["award"]["certification_name"] == "Certified publisher"
    mine = _api(u.fr_agent).get("/api/v1/community-certifications/mine/").json()
    assert [a["certification_name"] for a in mine] == ["Certified publisher"] and mine[0]["is_valid"]
    bad = _api(u.fr_agent).post(
        f"/api/v1/community-paths/{path.pk}/quiz/", {"answers": {"x": [0]}}, format="json"
    )
    assert bad.status_code == 400


def test_questions_ask_answer_accept_through_the_api(org):
    u = org.users
    q = _api(u.fr_agent).post("/api/v1/community-questions/", {"title": "Night moderation?"}, format="json")
    assert q.status_code == 201
    qid = q.json()["id"]
    a = _api(u.es_agent).post(
        f"/api/v1/community-questions/{qid}/answers/", {"body": "A rota."}, format="json"
    )
    assert a.status_code == 201
    assert (
        _api(u.es_agent)
        .post(f"/api/v1/community-questions/{qid}/accept/", {"answer": a.json()["id"]}, format="json")
        .status_code
        == 403
    )
    accepted = _api(u.fr_agent).post(
        f"/api/v1/community-questions/{qid}/accept/", {"answer": a.json()["id"]}, format="json"
    )
    assert accepted.status_code == 200 and accepted.json()["is_accepted"]


def test_the_hub_sees_who_is_certified_where(org, kb, path):
    u = org.users
    enablement.take_quiz(path, actor=u.fr_cm, answers={q.pk: [0] for q in path.quiz.all()})
    rows = _api(u.hub_admin).get("/api/v1/community-certifications/holders/").json()
    by_user = {r["user"]: r for r in rows}
    assert {"frcm", "esagent", "fradmin"} <= set(by_user)
    assert [c["certification_name"] for c in by_user["frcm"]["certifications"]] == ["Certified publisher"]
    assert by_user["esagent"]["certifications"] == []
    spoke = {r["user"] for r in _api(u.fr_admin).get("/api/v1/community-certifications/holders/").json()}
    assert "frcm" in spoke and "esagent" not in spoke
    only_spain = (
        _api(u.hub_admin).get(f"/api/v1/community-certifications/holders/?unit={org.spain.pk}").json()
    )
    assert {r["unit"] for r in only_spain} == {org.spain.pk}
    assert CertificationAward.objects.filter(user=u.fr_cm).count() == 1
