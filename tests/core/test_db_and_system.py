"""core.db helpers (equivalent to the plain queries they replace) and the SYSTEM actor."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from dandelion.core import audit
from dandelion.core.actors import SYSTEM, is_system
from dandelion.core.db import chunked, in_values, is_transient
from dandelion.core.models import AuditEvent
from dandelion.core.permissions import has_perm, require_perm, scope_q
from dandelion.orgs.models import OrgUnit


def test_chunked_cuts_any_iterable():
    assert list(chunked(range(5), 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunked([], 3)) == []
    assert list(chunked((x for x in "abc"), 3)) == [["a", "b", "c"]]
    with pytest.raises(ValueError):
        list(chunked([1], 0))


@pytest.mark.django_db
def test_in_values_reads_what_an_in_filter_reads(org, monkeypatch):
    from dandelion.core import db

    units = list(OrgUnit.objects.order_by("pk"))
    wanted = [u.pk for u in units[:3]] * 2 + [10**9]  # repeats and a missing id
    expected = sorted(OrgUnit.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert sorted(u.pk for u in in_values(OrgUnit.objects.all(), "pk", wanted)) == expected
    monkeypatch.setattr(db, "CHUNK", 1)  # many chunks give the same rows
    assert sorted(u.pk for u in in_values(OrgUnit.objects.all(), "pk", wanted)) == expected
    assert in_values(OrgUnit.objects.all(), "pk", []) == []


def test_is_transient_reads_the_driver_error():
    class DriverError(Exception):
        def __init__(self, sqlstate):
            self.sqlstate = sqlstate

    for state, transient in (("40P01", True), ("40001", True), ("23505", False), (None, False)):
        exc = OperationalError("boom")
        exc.__cause__ = DriverError(state)
        assert is_transient(exc) is transient
    assert not is_transient(OperationalError("no cause"))


@pytest.mark.django_db
def test_system_actor_may_do_anything_and_is_audited_as_system(org):
    assert is_system(SYSTEM) and not is_system(org.users.hub_admin) and not is_system(None)
    assert has_perm(SYSTEM, "assets.change_socialaccount", org.france)
    require_perm(SYSTEM, "orgs.publish_guideline")
    assert scope_q(SYSTEM, OrgUnit) is None
    assert OrgUnit.objects.restrict(SYSTEM).count() == OrgUnit.objects.count()
    row = audit.record(actor=SYSTEM, action="core.test", summary="by the system")
    row = AuditEvent.objects.get(pk=row.pk)
    assert row.actor_id is None and row.actor_repr == "system"
    person = audit.record(actor=org.users.hub_admin, action="core.test", summary="by a person")
    assert person.actor_id == org.users.hub_admin.pk


@pytest.mark.django_db
def test_a_job_acts_as_system_through_the_service(org):
    import datetime as dt

    from django.utils import timezone

    from dandelion.assets.jobs import mark_dormant_accounts_job
    from dandelion.assets.models import SocialAccount

    account = SocialAccount.objects.filter(status="active").first()
    SocialAccount.objects.filter(pk=account.pk).update(last_activity_at=timezone.now() - dt.timedelta(days=400))
    mark_dormant_accounts_job.call()
    row = AuditEvent.objects.filter(action="assets.account.mark_dormant", object_id=str(account.pk)).get()
    assert row.actor_repr == "system" and row.actor_id is None
