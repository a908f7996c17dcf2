import datetime as dt

import pytest
from django.utils import timezone

from dandelion.community import services
from dandelion.community.choices import RegistrationStatus
from dandelion.community.exceptions import AlreadyRegistered, InvalidCommunityData
from dandelion.community.models import Article, Registration
from dandelion.core.actors import SYSTEM
from dandelion.core.exceptions import PermissionDeniedError
from dandelion.core.models import AuditEvent
from tests.factories import UserFactory


def test_articles_are_read_by_their_subtree_and_the_units_above(kb, org):
    u = org.users
    seen = lambda user: set(Article.objects.restrict(user, "view").values_list("title", flat=True))
    assert seen(u.fr_cm) == {kb.group.title, kb.fr.title}
    assert seen(u.es_agent) == {kb.group.title, kb.es.title}
    assert seen(u.hub_admin) == {kb.group.title, kb.fr.title, kb.es.title}
    assert seen(u.moderator) == set()
    assert seen(u.nobody) == set()
    # writes stay on the unit's subtree: France's CM may not change the group-wide article
    assert not Article.objects.restrict(u.fr_cm, "change").filter(pk=kb.group.pk).exists()
    with pytest.raises(PermissionDeniedError):
        services.update_article(kb.group, actor=u.fr_cm, title="Hijacked")


def test_edit_keeps_versions_and_audits(kb, org):
    article = services.update_article(kb.fr, actor=org.users.fr_cm, body="Nouveau texte.", change_note="refonte")
    assert article.version == 2
    assert list(article.versions.values_list("number", flat=True)) == [2, 1]
    assert article.versions.get(number=1).body.startswith("Toujours remercier")
    assert AuditEvent.objects.filter(action="community.article.update", object_id=str(article.pk)).exists()
    same = services.update_article(article, actor=org.users.fr_cm, review_by=dt.date(2020, 1, 1))
    assert same.version == 2 and same.stale  # no text change, no new version; past review date: stale
    assert Article.objects.stale().filter(pk=article.pk).exists()


def test_feedback_counts_one_vote_per_person(kb, org):
    services.give_feedback(kb.group, actor=org.users.fr_cm, useful=True)
    services.give_feedback(kb.group, actor=org.users.fr_cm, useful=False)
    services.give_feedback(kb.group, actor=org.users.es_agent, useful=True)
    kb.group.refresh_from_db()
    assert (kb.group.useful_count, kb.group.not_useful_count) == (1, 1)


def test_accept_answer_only_by_asker_and_answer_to_article(kb, org):
    with pytest.raises(PermissionDeniedError):
        services.accept_answer(kb.answer, actor=org.users.es_agent)
    services.accept_answer(kb.answer, actor=org.users.fr_cm)
    kb.question.refresh_from_db()
    assert kb.question.is_answered
    other = services.answer_question(kb.question, actor=org.users.fr_agent, body="Use keyword filters.")
    services.accept_answer(other, actor=org.users.fr_cm)  # the asker changes their mind: one accepted answer
    assert list(kb.question.answers.filter(is_accepted=True)) == [other]
    article = services.answer_to_article(other, actor=org.users.fr_cm, unit=org.france)
    assert article.source_answer == other and article.title == kb.question.title
    assert "keyword filters" in article.body


def test_gathering_validation(org):
    now = timezone.now()
    with pytest.raises(InvalidCommunityData) as err:
        services.create_gathering(actor=SYSTEM, unit=org.hub, title="x", starts_at=now, ends_at=now + dt.timedelta(
            hours=1), capacity=0, place="Paris")
    assert err.value.field == "capacity"
    with pytest.raises(InvalidCommunityData) as err:
        services.create_gathering(actor=SYSTEM, unit=org.hub, title="x", starts_at=now, ends_at=now, place="Paris")
    assert err.value.field == "ends_at"


def test_waiting_list_and_promotion(kb, org):
    u = org.users
    g = kb.gathering  # capacity 2
    r1 = services.register_for_gathering(g, actor=u.fr_cm)
    r2 = services.register_for_gathering(g, actor=u.es_agent)
    r3 = services.register_for_gathering(g, actor=u.fr_agent)
    r4 = services.register_for_gathering(g, actor=u.analyst)
    assert [r.status for r in (r1, r2, r3, r4)] == ["going", "going", "waitlisted", "waitlisted"]
    assert services.waiting_position(r4) == 2
    with pytest.raises(AlreadyRegistered):
        services.register_for_gathering(g, actor=u.fr_cm)
    services.cancel_registration(r1, actor=u.fr_cm)
    r3.refresh_from_db()
    r4.refresh_from_db()
    assert r3.status == RegistrationStatus.GOING and r3.promoted_at is not None
    assert r4.status == RegistrationStatus.WAITLISTED and services.waiting_position(r4) == 1
    assert Registration.objects.filter(gathering=g, status="going").count() == 2
    # raising the capacity fills the new places from the waiting list
    services.update_gathering(g, actor=SYSTEM, capacity=3)
    r4.refresh_from_db()
    assert r4.status == RegistrationStatus.GOING
    # someone else's registration: only the gathering's managers may cancel it
    with pytest.raises(PermissionDeniedError):
        services.cancel_registration(r4, actor=u.es_agent)


def test_people_without_a_role_may_not_register(kb):
    with pytest.raises(PermissionDeniedError):
        services.register_for_gathering(kb.gathering, actor=UserFactory())
