"""The waiting list: promotion once, by e-mail in the person's language; capacity cuts refused; the guest form's
rate limit."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from dandelion.community import services
from dandelion.community.choices import RegistrationStatus
from dandelion.community.exceptions import InvalidCommunityData
from dandelion.community.models import Registration
from dandelion.core.actors import SYSTEM
from dandelion.core.models import AuditEvent, UserProfile


def _day(org, capacity=1, **kw):
    start = timezone.now() + dt.timedelta(days=3)
    return services.create_gathering(
        actor=SYSTEM,
        unit=org.hub,
        title="Community day",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        place="Paris",
        capacity=capacity,
        **kw,
    )


def test_full_gathering_queues_in_order_and_promotes_the_first_in_french(
    org, mailoutbox, django_capture_on_commit_callbacks
):
    u = org.users
    g = _day(org, capacity=1)
    first = services.register_for_gathering(g, actor=u.fr_cm)
    w1 = services.register_for_gathering(g, actor=u.fr_agent)
    w2 = services.register_for_gathering(g, actor=u.es_agent)
    assert (first.status, w1.status, w2.status) == ("going", "waitlisted", "waitlisted")
    assert services.waiting_position(w1) == 1 and services.waiting_position(w2) == 2
    u.fr_agent.email = "agent@fr.example"
    u.fr_agent.save()
    UserProfile.objects.update_or_create(user=u.fr_agent, defaults={"language": "fr"})
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(first, actor=u.fr_cm)
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert w1.status == "going" and w1.promoted_at and w2.status == "waitlisted"
    assert services.waiting_position(w2) == 1
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["agent@fr.example"]
    assert "place" in mailoutbox[0].subject and "Bonjour" in mailoutbox[0].body
    # cancelling again promotes nobody twice
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(first, actor=u.fr_cm)
    assert len(mailoutbox) == 1
    assert AuditEvent.objects.filter(action="community.registration.promote").count() == 1


def test_capacity_changes_promote_or_refuse(org):
    u = org.users
    g = _day(org, capacity=2)
    for who in (u.fr_cm, u.fr_agent, u.es_agent):
        services.register_for_gathering(g, actor=who)
    with pytest.raises(InvalidCommunityData, match="2 places are already taken"):
        services.update_gathering(g, actor=SYSTEM, capacity=1)
    g.refresh_from_db()
    assert g.capacity == 2
    services.update_gathering(g, actor=SYSTEM, capacity=3)
    assert Registration.objects.filter(gathering=g, status=RegistrationStatus.GOING).count() == 3
    with pytest.raises(InvalidCommunityData, match="capacity"):
        services.update_gathering(g, actor=SYSTEM, capacity=0)


def test_a_stale_promotion_is_a_no_op(org, mailoutbox, django_capture_on_commit_callbacks, monkeypatch):
    """Two transactions reach the same waiting registration: the conditional update lets only one promote it."""
    u = org.users
    g = _day(org, capacity=1)
    first = services.register_for_gathering(g, actor=u.fr_cm)
    waiting = services.register_for_gathering(g, actor=u.fr_agent)
    Registration.objects.filter(pk=first.pk).update(status=RegistrationStatus.CANCELLED)
    # "the other transaction" promoted it already, after this one listed its candidates
    real_filter = Registration.objects.filter

    def racing_filter(*args, **kw):
        qs = real_filter(*args, **kw)
        if kw.get("status") == RegistrationStatus.WAITLISTED and "gathering" in kw:
            rows = list(qs.order_by("registered_at", "id"))
            real_filter(pk=waiting.pk).update(status=RegistrationStatus.GOING)
            return type("Rows", (), {"order_by": lambda self, *a: rows})()
        return qs

    monkeypatch.setattr(Registration.objects, "filter", racing_filter)
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services._fill_places(g)
    assert promoted == [] and mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_promote_once(org, mailoutbox):
    if connection.vendor != "postgresql":
        pytest.skip("row locks across connections: PostgreSQL")
    u = org.users
    g = _day(org, capacity=1)
    first = services.register_for_gathering(g, actor=u.fr_cm)
    waiting = services.register_for_gathering(g, actor=u.fr_agent)
    barrier = threading.Barrier(2)

    def cancel():
        try:
            barrier.wait()
            services.cancel_registration(first, actor=u.fr_cm)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    waiting.refresh_from_db()
    assert waiting.status == "going"
    assert AuditEvent.objects.filter(action="community.registration.promote").count() == 1


def test_the_guest_form_is_rate_limited(org, client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.DANDELION_COMMUNITY_GUEST_FORM_RATE = (2, 600)
    g = _day(org, capacity=5, open_to_guests=True)
    url = reverse("community:guest-register", args=[g.pk])
    for i in range(2):
        assert client.post(url, {"name": "P", "email": f"p{i}@x.example"}).status_code == 200
    response = client.post(url, {"name": "P", "email": "p9@x.example"})
    assert response.status_code == 429 and b"guest-limited" in response.content
    cache.clear()
