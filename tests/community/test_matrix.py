"""The permission matrix of the community's pages and endpoints (tests/permission_matrix.py)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.permission_matrix import ADMINS_OF_FRANCE, IN_FRANCE, MISSING, PEOPLE, Case, check, outcome

MEMBERS = PEOPLE - {"moderator", "nobody"}  # everyone with a role that reads the community
FR_WRITERS = ADMINS_OF_FRANCE | {"fr_cm"}
QUESTION_MODERATORS = {"hub_admin", "europe_admin", "fr_admin", "es_admin"}


def _future(days=20, hours=0):
    return (timezone.now() + dt.timedelta(days=days, hours=hours)).isoformat()


def _article_data(unit):
    return {"unit": unit, "title": "Live video moderation", "body": "Pin a comment.", "language": "en"}


CASES = [
    Case("article detail", lambda w: w.kb.fr.get_absolute_url(), outcome(ok=IN_FRANCE),
         missing_url=lambda w: reverse("community:article-detail", args=[MISSING])),
    Case("group-wide article detail", lambda w: w.kb.group.get_absolute_url(),
         outcome(ok=MEMBERS, visible=MEMBERS),
         missing_url=lambda w: reverse("community:article-detail", args=[MISSING])),
    Case("article edit page", lambda w: reverse("community:article-edit", args=[w.kb.fr.pk]),
         outcome(ok=FR_WRITERS), missing_url=lambda w: reverse("community:article-edit", args=[MISSING])),
    Case("api article detail", lambda w: f"/api/v1/community-articles/{w.kb.fr.pk}/", outcome(ok=IN_FRANCE),
         api=True, missing_url=lambda w: f"/api/v1/community-articles/{MISSING}/"),
    Case("api create article", lambda w: "/api/v1/community-articles/",
         outcome(ok=FR_WRITERS, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: _article_data(w.france.pk), missing_data=lambda w: _article_data(MISSING)),
    Case("api create article, invalid", lambda w: "/api/v1/community-articles/",
         outcome(ok=FR_WRITERS | {"es_admin"}, ok_status=400, visible=PEOPLE), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, "title": "", "body": ""}),
    Case("api update article", lambda w: f"/api/v1/community-articles/{w.kb.fr.pk}/",
         outcome(ok=FR_WRITERS), method="patch", api=True, data=lambda w: {"title": "Nouveau titre"},
         missing_url=lambda w: f"/api/v1/community-articles/{MISSING}/"),
    Case("api feedback", lambda w: f"/api/v1/community-articles/{w.kb.fr.pk}/feedback/", outcome(ok=IN_FRANCE),
         method="post", api=True, data=lambda w: {"useful": True},
         missing_url=lambda w: f"/api/v1/community-articles/{MISSING}/feedback/"),
    Case("api search", lambda w: "/api/v1/community-articles/search/?q=escalate", outcome(ok=PEOPLE), api=True),
    Case("question detail", lambda w: w.kb.question.get_absolute_url(), outcome(ok=MEMBERS, visible=MEMBERS),
         missing_url=lambda w: reverse("community:question-detail", args=[MISSING])),
    Case("api accept answer", lambda w: f"/api/v1/community-questions/{w.kb.question.pk}/accept/",
         outcome(ok=QUESTION_MODERATORS | {"fr_cm"}, visible=MEMBERS), method="post", api=True,
         data=lambda w: {"answer": w.kb.answer.pk},
         missing_url=lambda w: f"/api/v1/community-questions/{MISSING}/accept/"),
    Case("api answer", lambda w: f"/api/v1/community-questions/{w.kb.question.pk}/answers/",
         outcome(ok=MEMBERS - {"analyst"}, ok_status=201, visible=MEMBERS), method="post", api=True,
         data=lambda w: {"body": "Use a keyword filter."},
         missing_url=lambda w: f"/api/v1/community-questions/{MISSING}/answers/"),
    Case("gathering detail", lambda w: w.kb.gathering.get_absolute_url(), outcome(ok=MEMBERS, visible=MEMBERS),
         missing_url=lambda w: reverse("community:gathering-detail", args=[MISSING])),
    Case("gathering ics", lambda w: reverse("community:gathering-ics", args=[w.kb.gathering.pk]),
         outcome(ok=MEMBERS, visible=MEMBERS),
         missing_url=lambda w: reverse("community:gathering-ics", args=[MISSING])),
    Case("api register", lambda w: f"/api/v1/community-gatherings/{w.kb.gathering.pk}/register/",
         outcome(ok=MEMBERS, ok_status=201, visible=MEMBERS), method="post", api=True,
         missing_url=lambda w: f"/api/v1/community-gatherings/{MISSING}/register/"),
    Case("api create gathering", lambda w: "/api/v1/community-gatherings/",
         outcome(ok=FR_WRITERS, ok_status=201, visible=PEOPLE, es_admin=400), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, "title": "Meetup", "starts_at": _future(), "place": "Lyon",
                         "ends_at": _future(hours=2), "capacity": 30},
         missing_data=lambda w: {"unit": MISSING, "title": "Meetup", "starts_at": _future(), "place": "Lyon",
                                 "ends_at": _future(hours=2), "capacity": 30}),
    Case("api create gathering, capacity 0", lambda w: "/api/v1/community-gatherings/",
         outcome(ok=FR_WRITERS | {"es_admin"}, ok_status=400, visible=PEOPLE), method="post", api=True,
         data=lambda w: {"unit": w.france.pk, "title": "Meetup", "starts_at": _future(), "place": "Lyon",
                         "ends_at": _future(hours=2), "capacity": 0}),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_matrix(case, org, kb):
    check(case, SimpleNamespace(**vars(org), kb=kb))
